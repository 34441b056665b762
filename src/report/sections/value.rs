//! Revenue concentration: the Lorenz/Pareto curve with the top 20% and the value tiers.

use super::{Figure, checked, drawn};
use crate::report::charts::{self, Guide, Line, Lines};
use crate::report::format::{fixed, int, number, percent};
use crate::report::runner::Runner;

pub async fn concentration(runner: &mut Runner<'_>) -> Figure {
    let (id, title) = ("concentration", "Revenue concentration (Lorenz curve)");
    let outcome = runner.run("revenue_concentration", &[]).await;
    let empty = "No customer signed up before as_of";
    let data = match checked(id, title, outcome, empty) {
        Ok(data) => data,
        Err(figure) => return *figure,
    };
    let top20 = data
        .table
        .numbers("cumulative_customer_share")
        .ok()
        .and_then(|x| {
            let y = data.table.numbers("cumulative_revenue_share").ok()?;
            x.iter()
                .zip(&y)
                .find(|(x, _)| x.is_some_and(|x| x >= 0.2 - 1e-12))
                .and_then(|(_, y)| *y)
        });
    let guide = match top20 {
        Some(share) => format!(
            "Customers ranked by spend, highest first: the curve is their cumulative share of \
             revenue; the top 20% bring {}. The dashed diagonal is equal spend; the dotted \
             lines end the value tiers.",
            percent(share)
        ),
        None => "Customers ranked by spend, highest first: the curve is their cumulative share \
                 of revenue."
            .into(),
    };
    drawn(id, title, &guide, data, |data| {
        let t = &data.table;
        let x = t.numbers("cumulative_customer_share")?;
        let y = t.numbers("cumulative_revenue_share")?;
        let percentile = t.numbers("percentile")?;
        let customers = t.numbers("customers")?;
        let revenue = t.numbers("revenue")?;
        let tiers = t.texts("tier")?;
        let nan = |v: &Option<f64>| v.unwrap_or(f64::NAN);
        let points: Vec<(f64, f64)> = x.iter().zip(&y).map(|(x, y)| (nan(x), nan(y))).collect();
        let tooltips = (0..t.rows.len())
            .map(|i| {
                format!(
                    "top {}% of customers: {} of revenue · percentile {}: {} customers, revenue {} ({} tier)",
                    number(nan(&x[i]) * 100.0),
                    percent(nan(&y[i])),
                    int(nan(&percentile[i]) as i64),
                    int(nan(&customers[i]) as i64),
                    fixed(nan(&revenue[i]), 2),
                    tiers[i]
                )
            })
            .collect();
        let mut guides = Vec::new();
        for i in 1..tiers.len() {
            if tiers[i] != tiers[i - 1] {
                guides.push(Guide {
                    x: nan(&x[i - 1]),
                    label: format!("{} | {}", tiers[i - 1], tiers[i]),
                });
            }
        }
        if let Some(share) = top20 {
            guides.push(Guide {
                x: 0.2,
                label: format!("top 20%: {}", percent(share)),
            });
        }
        Ok(charts::lines(&Lines {
            lines: vec![Line {
                name: "cumulative share of revenue".into(),
                points,
                tooltips,
            }],
            x_title: "share of customers, highest spend first (%)",
            y_title: "cumulative share of revenue (%)",
            x_label: &|v| format!("{}%", number(v * 100.0)),
            y_label: &|v| format!("{}%", number(v * 100.0)),
            x_categories: None,
            y_from_zero: true,
            diagonal: true,
            guides,
        }))
    })
}
