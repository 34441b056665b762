//! Customer lifetime value: its spread and total per segment, and the BG/NBD matrices of
//! P(alive) and expected purchases over frequency x recency.

use super::{Figure, checked, drawn};
use crate::report::charts::{self, Bars, BoxStats, Heatmap};
use crate::report::format::{fixed, int, number, percent};
use crate::report::runner::{QueryData, Runner};

const NO_BUYERS: &str = "No customer has a purchase before as_of";

pub async fn figures(runner: &mut Runner<'_>) -> Vec<Figure> {
    let mut figures = vec![distribution(runner).await, totals(runner).await];
    let (id, title) = ("alive-matrix", "Probability alive by frequency and recency");
    match checked(id, title, runner.run("alive_matrix", &[]).await, NO_BUYERS) {
        Err(figure) => figures.push(*figure),
        Ok(data) => {
            let guide = "BG/NBD's probability that a customer of the largest age (T) is still \
                         active, by their repeat purchases and the age at their last one: \
                         customers who bought often but not lately are the likeliest lost.";
            figures.push(drawn(id, title, guide, data.clone(), |d| {
                matrix(d, "p_alive", "P(alive)", Some((0.0, 1.0)))
            }));
            let guide = "BG/NBD's expected purchases in the next period for the same customers.";
            figures.push(drawn(
                "expected-matrix",
                "Expected purchases next period by frequency and recency",
                guide,
                data,
                |d| matrix(d, "expected_purchases", "expected purchases", None),
            ));
        }
    }
    figures
}

async fn distribution(runner: &mut Runner<'_>) -> Figure {
    let (id, title) = ("clv-distribution", "CLV distribution per segment");
    let data = match checked(
        id,
        title,
        runner.run("cltv_distribution", &[]).await,
        NO_BUYERS,
    ) {
        Ok(data) => data,
        Err(figure) => return *figure,
    };
    let guide = "Each box spans the middle half of the segment's customers' CLV (25% to 75%), \
                 the white line is the median, the whiskers reach 5% and 95%.";
    drawn(id, title, guide, data, |data| {
        let t = &data.table;
        let segments = t.texts("segment")?;
        let columns = [
            "p05_cltv",
            "p25_cltv",
            "median_cltv",
            "p75_cltv",
            "p95_cltv",
        ];
        let mut q = Vec::new();
        for column in columns {
            q.push(t.numbers(column)?);
        }
        let customers = t.numbers("customers")?;
        let mean = t.numbers("mean_cltv")?;
        let at = |c: usize, i: usize| q[c][i].unwrap_or(f64::NAN);
        let stats: Vec<BoxStats> = (0..segments.len())
            .map(|i| BoxStats {
                low: at(0, i),
                q1: at(1, i),
                median: at(2, i),
                q3: at(3, i),
                high: at(4, i),
            })
            .collect();
        let tooltip = |i: usize| {
            format!(
                "{} ({} customers): median {} · 25%-75% {} to {} · 5%-95% {} to {} · mean {}",
                segments[i],
                int(customers[i].unwrap_or(0.0) as i64),
                fixed(at(2, i), 2),
                fixed(at(1, i), 2),
                fixed(at(3, i), 2),
                fixed(at(0, i), 2),
                fixed(at(4, i), 2),
                mean[i].map_or("–".into(), |v| fixed(v, 2))
            )
        };
        Ok(charts::boxes(
            &segments,
            &stats,
            "CLV per customer",
            &tooltip,
        ))
    })
}

async fn totals(runner: &mut Runner<'_>) -> Figure {
    let (id, title) = ("clv-total", "Total CLV per segment");
    let data = match checked(
        id,
        title,
        runner.run("cltv_by_segment", &[]).await,
        NO_BUYERS,
    ) {
        Ok(data) => data,
        Err(figure) => return *figure,
    };
    let guide = "The discounted value each segment's customers are expected to bring over the \
                 horizon (BG/NBD and Gamma-Gamma).";
    drawn(id, title, guide, data, |data| {
        let t = &data.table;
        let segments = t.texts("segment")?;
        let total = t.numbers("total_cltv")?;
        let mean = t.numbers("mean_cltv")?;
        let share = t.numbers("cltv_share")?;
        let customers = t.numbers("customers")?;
        Ok(charts::bars(&Bars {
            categories: &segments,
            series: vec![(
                "total CLV".into(),
                total.iter().map(|v| v.unwrap_or(0.0)).collect(),
            )],
            axis_title: "total CLV",
            label: &|v| number(v),
            tooltip: &|c, _| {
                format!(
                    "{}: total {} ({} of all) · {} customers · mean {}",
                    segments[c],
                    total[c].map_or("–".into(), |v| fixed(v, 2)),
                    share[c].map_or("–".into(), percent),
                    int(customers[c].unwrap_or(0.0) as i64),
                    mean[c].map_or("–".into(), |v| fixed(v, 2))
                )
            },
        }))
    })
}

fn matrix(
    data: &QueryData,
    column: &str,
    legend: &str,
    domain: Option<(f64, f64)>,
) -> Result<String, String> {
    let t = &data.table;
    let frequency = t.numbers("frequency")?;
    let recency = t.numbers("recency")?;
    let value = t.numbers(column)?;
    let key = |v: &Option<f64>| v.map_or(String::new(), number);
    let mut rows: Vec<f64> = frequency.iter().flatten().copied().collect();
    rows.sort_by(|a, b| b.total_cmp(a));
    rows.dedup();
    let mut columns: Vec<f64> = recency.iter().flatten().copied().collect();
    columns.sort_by(f64::total_cmp);
    columns.dedup();
    let mut values = vec![vec![None; columns.len()]; rows.len()];
    let mut index = vec![vec![0; columns.len()]; rows.len()];
    for i in 0..t.rows.len() {
        let (Some(f), Some(r)) = (frequency[i], recency[i]) else {
            continue;
        };
        let row = rows.iter().position(|v| *v == f).unwrap_or(0);
        let col = columns.iter().position(|v| *v == r).unwrap_or(0);
        values[row][col] = Some(value[i].unwrap_or(f64::NAN));
        index[row][col] = i;
    }
    let row_labels: Vec<String> = rows.iter().map(|v| number(*v)).collect();
    let column_labels: Vec<String> = columns.iter().map(|v| format!("{v:.0}")).collect();
    let tooltip = |r: usize, c: usize| {
        let i = index[r][c];
        format!(
            "frequency {}, recency {}: {legend} {}",
            key(&frequency[i]),
            key(&recency[i]),
            value[i].map_or("–".into(), |v| fixed(v, 4))
        )
    };
    Ok(charts::heatmap(&Heatmap {
        rows: &row_labels,
        columns: &column_labels,
        values: &values,
        cell_text: None,
        row_title: "frequency (repeat purchases)",
        column_title: "recency (age at last purchase, periods)",
        legend_title: legend,
        tooltip: &tooltip,
        max_cell_height: 14.0,
        domain,
    }))
}
