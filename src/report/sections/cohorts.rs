//! Cohort retention, segment migration and lifecycle stages.

use std::collections::BTreeMap;

use super::{Dates, Figure, checked, drawn};
use crate::report::charts::{self, Bars, Heatmap};
use crate::report::format::{int, number, percent};
use crate::report::runner::Runner;

pub async fn retention(runner: &mut Runner<'_>) -> Figure {
    let (id, title) = ("cohorts", "Retention by monthly cohort");
    let empty = "No customer has a purchase before as_of";
    let data = match checked(id, title, runner.run("retention", &[]).await, empty) {
        Ok(data) => data,
        Err(figure) => return *figure,
    };
    let guide = "Each row is the customers whose first purchase fell in that month; each cell \
                 the share of them who bought again that many months later (lighter is more).";
    drawn(id, title, guide, data, |data| {
        let t = &data.table;
        let cohorts = t.texts("cohort")?;
        let sizes = t.numbers("cohort_customers")?;
        let months = t.numbers("months_since")?;
        let active = t.numbers("active_customers")?;
        let rate = t.numbers("retention_rate")?;
        let mut rows: Vec<String> = cohorts.clone();
        rows.dedup();
        let width = months.iter().flatten().fold(0.0f64, |a, b| a.max(*b)) as usize + 1;
        let row_of: BTreeMap<&str, usize> = rows
            .iter()
            .enumerate()
            .map(|(i, c)| (c.as_str(), i))
            .collect();
        let mut values = vec![vec![None; width]; rows.len()];
        let mut cells = vec![vec![String::new(); width]; rows.len()];
        let mut index = vec![vec![0; width]; rows.len()];
        for i in 0..t.rows.len() {
            let (Some(&r), Some(m)) = (row_of.get(cohorts[i].as_str()), months[i]) else {
                continue;
            };
            let m = m as usize;
            values[r][m] = Some(rate[i].unwrap_or(f64::NAN));
            cells[r][m] = rate[i].map_or(String::new(), |v| format!("{:.0}%", v * 100.0));
            index[r][m] = i;
        }
        let labels: Vec<String> = rows.iter().map(|c| c.chars().take(7).collect()).collect();
        let columns: Vec<String> = (0..width).map(|m| m.to_string()).collect();
        let tooltip = |r: usize, m: usize| {
            let i = index[r][m];
            format!(
                "cohort {} ({} customers), month {m}: {} active, retention {}",
                labels[r],
                int(sizes[i].unwrap_or(0.0) as i64),
                int(active[i].unwrap_or(0.0) as i64),
                rate[i].map_or("–".into(), percent)
            )
        };
        Ok(charts::heatmap(&Heatmap {
            rows: &labels,
            columns: &columns,
            values: &values,
            cell_text: Some(&cells),
            row_title: "cohort (month of first purchase)",
            column_title: "months since first purchase",
            legend_title: "retention rate",
            tooltip: &tooltip,
            max_cell_height: 22.0,
            domain: Some((0.0, 1.0)),
        }))
    })
}

pub async fn migration(runner: &mut Runner<'_>, dates: &Dates) -> Vec<Figure> {
    let (id, title) = ("migration", "Segment migration");
    let extra = [
        ("from_date", dates.from_date.to_string()),
        ("to_date", dates.as_of.to_string()),
    ];
    let empty = "No customer signed up before the migration's start";
    let moves = match checked(
        id,
        title,
        runner.run("segment_migration", &extra).await,
        empty,
    ) {
        Err(figure) => *figure,
        Ok(data) => {
            let from = data
                .params
                .iter()
                .find(|(k, _)| k == "from_date")
                .map_or(String::new(), |(_, v)| v.clone());
            let guide = format!(
                "Rows are the segments on {from}, columns those on as_of; each cell is the share \
                 of the row's customers who moved there (rows add up to 100%)."
            );
            drawn(id, title, &guide, data, |data| {
                let t = &data.table;
                let from = t.texts("from_segment")?;
                let to = t.texts("to_segment")?;
                let customers = t.numbers("customers")?;
                let share = t.numbers("share")?;
                let mut rows: Vec<String> = from.clone();
                rows.sort();
                rows.dedup();
                let mut columns: Vec<String> = to.clone();
                columns.sort();
                columns.dedup();
                let mut values = vec![vec![None; columns.len()]; rows.len()];
                let mut index = vec![vec![0; columns.len()]; rows.len()];
                let mut cells = vec![vec![String::new(); columns.len()]; rows.len()];
                for i in 0..t.rows.len() {
                    let r = rows.binary_search(&from[i]).unwrap_or(0);
                    let c = columns.binary_search(&to[i]).unwrap_or(0);
                    values[r][c] = Some(share[i].unwrap_or(f64::NAN));
                    cells[r][c] = share[i].map_or(String::new(), |v| format!("{:.0}%", v * 100.0));
                    index[r][c] = i;
                }
                let tooltip = |r: usize, c: usize| {
                    let i = index[r][c];
                    format!(
                        "{} → {}: {} customers, {} of {}",
                        from[i],
                        to[i],
                        int(customers[i].unwrap_or(0.0) as i64),
                        share[i].map_or("–".into(), percent),
                        from[i]
                    )
                };
                Ok(charts::heatmap(&Heatmap {
                    rows: &rows,
                    columns: &columns,
                    values: &values,
                    cell_text: Some(&cells),
                    row_title: "segment before",
                    column_title: "segment at as_of",
                    legend_title: "share of the row's customers",
                    tooltip: &tooltip,
                    max_cell_height: 30.0,
                    domain: Some((0.0, 1.0)),
                }))
            })
        }
    };
    let (id, title) = ("lifecycle", "Lifecycle stages");
    let empty = "No customer signed up before as_of";
    let stages = match checked(id, title, runner.run("lifecycle_stages", &[]).await, empty) {
        Err(figure) => *figure,
        Ok(data) => {
            let guide = "Customers per lifecycle stage at as_of (see `seglake functions \
                         lifecycle_stage` for the rules).";
            drawn(id, title, guide, data, |data| {
                let t = &data.table;
                let stages = t.texts("stage")?;
                let customers = t.numbers("customers")?;
                let share = t.numbers("share")?;
                Ok(charts::bars(&Bars {
                    categories: &stages,
                    series: vec![(
                        "customers".into(),
                        customers.iter().map(|v| v.unwrap_or(0.0)).collect(),
                    )],
                    axis_title: "customers",
                    label: &|v| number(v),
                    tooltip: &|c, _| {
                        format!(
                            "{}: {} customers ({})",
                            stages[c],
                            int(customers[c].unwrap_or(0.0) as i64),
                            share[c].map_or("–".into(), percent)
                        )
                    },
                }))
            })
        }
    };
    vec![moves, stages]
}
