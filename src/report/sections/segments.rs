//! RFM segments: shares of customers and revenue, the recency x frequency grid with the map's
//! rules, and the treemap.

use std::collections::BTreeMap;

use super::{Figure, checked, drawn};
use crate::report::charts::{self, Bars, Heatmap, Tile};
use crate::report::format::{escape, fixed, int, number, percent};
use crate::report::runner::{QueryData, Runner};

const NO_BUYERS: &str = "No customer has a purchase before as_of, so there is nothing to segment";

pub async fn share(runner: &mut Runner<'_>) -> Figure {
    let (id, title) = (
        "segments-share",
        "Share of customers and of revenue per segment",
    );
    let data = match checked(
        id,
        title,
        runner.run("rfm_segment_summary", &[]).await,
        NO_BUYERS,
    ) {
        Ok(data) => data,
        Err(figure) => return *figure,
    };
    let guide = "Each segment's bars compare its share of the customers with its share of the \
                 revenue: a revenue bar longer than its customer bar marks a segment worth more \
                 than its size.";
    drawn(id, title, guide, data, |data| {
        let t = &data.table;
        let segments = t.texts("segment")?;
        let customers = t.numbers("customers")?;
        let customer_share = t.numbers("customer_share")?;
        let revenue = t.numbers("revenue")?;
        let revenue_share = t.numbers("revenue_share")?;
        let nan = |v: &Option<f64>| v.unwrap_or(f64::NAN);
        Ok(charts::bars(&Bars {
            categories: &segments,
            series: vec![
                (
                    "share of customers".into(),
                    customer_share.iter().map(nan).collect(),
                ),
                (
                    "share of revenue".into(),
                    revenue_share.iter().map(nan).collect(),
                ),
            ],
            axis_title: "share (%)",
            label: &|v| format!("{}%", number(v * 100.0)),
            tooltip: &|c, s| {
                if s == 0 {
                    format!(
                        "{}: {} of customers ({} customers)",
                        segments[c],
                        percent(nan(&customer_share[c])),
                        int(nan(&customers[c]) as i64)
                    )
                } else {
                    format!(
                        "{}: {} of revenue ({})",
                        segments[c],
                        percent(nan(&revenue_share[c])),
                        fixed(nan(&revenue[c]), 2)
                    )
                }
            },
        }))
    })
}

pub async fn grid(runner: &mut Runner<'_>) -> Vec<Figure> {
    let id = "grid";
    let title = "Customers per recency x frequency score";
    let data = match checked(id, title, runner.run("rfm_grid", &[]).await, NO_BUYERS) {
        Ok(data) => data,
        Err(figure) => return vec![*figure],
    };
    let unassigned: f64 = data
        .table
        .numbers("unassigned")
        .map(|v| v.iter().flatten().sum())
        .unwrap_or(0.0);
    let guide = format!(
        "Rows are recency scores (top: bought most recently), columns frequency scores (right: \
         most purchases); each cell is labelled with the segment the map gives it. {} customers \
         fall under no rule of the map (its fallback).",
        int(unassigned as i64)
    );
    let by_customers = drawn(id, title, &guide, data.clone(), |d| {
        draw_grid(d, "customers")
    });
    let monetary = drawn(
        "grid-monetary",
        "Mean monetary value per recency x frequency score",
        "The same grid coloured by the mean spend of the cell's customers (grey: no customer).",
        data,
        |d| draw_grid(d, "mean_monetary"),
    );
    vec![by_customers, monetary]
}

fn draw_grid(data: &QueryData, colour_by: &str) -> Result<String, String> {
    let t = &data.table;
    let r = t.numbers("r_score")?;
    let f = t.numbers("f_score")?;
    let segments = t.texts("segment")?;
    let rules = t.texts("rule")?;
    let customers = t.numbers("customers")?;
    let monetary = t.numbers("mean_monetary")?;
    let colour = t.numbers(colour_by)?;
    let score = |v: &Option<f64>| v.map_or(0, |v| v as i64);
    let bins = r.iter().chain(&f).map(score).max().unwrap_or(0).max(1) as usize;
    let mut values = vec![vec![None; bins]; bins];
    let mut text = vec![vec![String::new(); bins]; bins];
    let mut index = vec![vec![usize::MAX; bins]; bins];
    for i in 0..t.rows.len() {
        let (rs, fs) = (score(&r[i]), score(&f[i]));
        if rs < 1 || fs < 1 {
            continue;
        }
        let (row, col) = (bins - rs as usize, fs as usize - 1);
        // An empty cell still shows its segment; it is drawn grey when coloured by a mean.
        values[row][col] = Some(colour[i].unwrap_or(f64::NAN));
        text[row][col] = segments[i].clone();
        index[row][col] = i;
    }
    let rows: Vec<String> = (1..=bins).rev().map(|s| format!("R {s}")).collect();
    let columns: Vec<String> = (1..=bins).map(|s| format!("F {s}")).collect();
    let tooltip = |row: usize, col: usize| {
        let i = index[row][col];
        if i == usize::MAX {
            return String::new();
        }
        format!(
            "R {} F {}: {} ({}) · {} customers · mean monetary {}",
            score(&r[i]),
            score(&f[i]),
            segments[i],
            rules[i],
            int(customers[i].unwrap_or(0.0) as i64),
            monetary[i].map_or("–".into(), |m| fixed(m, 2))
        )
    };
    let legend = if colour_by == "customers" {
        "customers"
    } else {
        "mean monetary value"
    };
    let svg = charts::heatmap(&Heatmap {
        rows: &rows,
        columns: &columns,
        values: &values,
        cell_text: Some(&text),
        row_title: "recency score",
        column_title: "frequency score",
        legend_title: legend,
        tooltip: &tooltip,
        max_cell_height: 56.0,
        domain: None,
    });
    // The map's rules, once per segment, in the grid's order.
    let mut listed: BTreeMap<&str, &str> = BTreeMap::new();
    for (segment, rule) in segments.iter().zip(&rules) {
        listed.entry(segment.as_str()).or_insert(rule.as_str());
    }
    let mut list = String::from(r#"<ul class="rules">"#);
    for (segment, rule) in listed {
        list.push_str(&format!(
            "<li><b>{}</b>: {}</li>",
            escape(segment),
            escape(rule)
        ));
    }
    list.push_str("</ul>");
    Ok(svg + &list)
}

pub async fn treemap(runner: &mut Runner<'_>) -> Figure {
    let (id, title) = ("treemap", "Segments by size and value");
    let data = match checked(
        id,
        title,
        runner.run("rfm_segment_summary", &[]).await,
        NO_BUYERS,
    ) {
        Ok(data) => data,
        Err(figure) => return *figure,
    };
    let guide = "Each rectangle's area is the segment's number of customers; its colour the \
                 revenue per customer (lighter is more).";
    drawn(id, title, guide, data, |data| {
        let t = &data.table;
        let segments = t.texts("segment")?;
        let customers = t.numbers("customers")?;
        let revenue = t.numbers("revenue")?;
        let tiles: Vec<Tile> = segments
            .iter()
            .enumerate()
            .map(|(i, segment)| {
                let n = customers[i].unwrap_or(0.0);
                let revenue = revenue[i].unwrap_or(0.0);
                let per_customer = if n > 0.0 { revenue / n } else { f64::NAN };
                Tile {
                    label: segment.clone(),
                    area: n,
                    colour_value: per_customer,
                    tooltip: format!(
                        "{segment}: {} customers · revenue {} · {} per customer",
                        int(n as i64),
                        fixed(revenue, 2),
                        fixed(per_customer, 2)
                    ),
                }
            })
            .collect();
        Ok(charts::treemap(&tiles, "revenue per customer"))
    })
}
