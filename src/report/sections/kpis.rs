//! The KPI table per segment (kpi_dashboard), with a small bar in every numeric cell.

use std::fmt::Write;

use super::{Figure, checked, drawn};
use crate::report::format::{escape, percent, value};
use crate::report::runner::Runner;
use crate::report::table::Value;

/// Columns shown as labels rather than as quantities with bars.
const LABELS: [&str; 2] = ["segment", "kmeans_cluster"];

pub async fn dashboard(runner: &mut Runner<'_>) -> Figure {
    let (id, title) = ("kpis", "Headline KPIs per segment");
    let empty = "No customer has a purchase in the year before as_of";
    let data = match checked(id, title, runner.run("kpi_dashboard", &[]).await, empty) {
        Ok(data) => data,
        Err(figure) => return *figure,
    };
    let guide = "One row per RFM segment with the KPIs of the year before as_of; each bar is \
                 the value against the column's largest (orange: negative).";
    drawn(id, title, guide, data, |data| {
        let t = &data.table;
        let numeric: Vec<bool> = t
            .columns
            .iter()
            .enumerate()
            .map(|(c, name)| {
                !LABELS.contains(&name.as_str())
                    && t.rows
                        .iter()
                        .any(|r| matches!(r[c], Value::Int(_) | Value::Float(_)))
            })
            .collect();
        let largest: Vec<f64> = (0..t.columns.len())
            .map(|c| {
                t.rows
                    .iter()
                    .filter_map(|r| r[c].number())
                    .fold(0.0f64, |m, v| m.max(v.abs()))
            })
            .collect();
        let mut html = String::from(r#"<div class="wide"><table class="kpis"><thead><tr>"#);
        for name in &t.columns {
            let _ = write!(html, "<th>{}</th>", escape(&name.replace('_', " ")));
        }
        html.push_str("</tr></thead><tbody>");
        let segment = t.column("segment").unwrap_or(0);
        for row in &t.rows {
            html.push_str("<tr>");
            for (c, cell) in row.iter().enumerate() {
                let shown = match cell.number() {
                    Some(v) if is_ratio(&t.columns[c]) => percent(v),
                    _ => value(cell),
                };
                let shown = escape(&shown);
                match cell.number() {
                    Some(v) if numeric[c] => {
                        let width = if largest[c] > 0.0 {
                            48.0 * v.abs() / largest[c]
                        } else {
                            0.0
                        };
                        let fill = if v < 0.0 { "#D55E00" } else { "#0072B2" };
                        let tip = format!("{}: {} {shown}", value(&row[segment]), t.columns[c]);
                        let _ = write!(
                            html,
                            r#"<td class="num"><svg width="50" height="9" class="inline-bar"><rect class="mark" x="0" y="1" width="{width:.1}" height="7" fill="{fill}"><title>{}</title></rect></svg> {shown}</td>"#,
                            escape(&tip)
                        );
                    }
                    _ => {
                        let class = if numeric[c] { " class=\"num\"" } else { "" };
                        let _ = write!(html, "<td{class}>{shown}</td>");
                    }
                }
            }
            html.push_str("</tr>");
        }
        html.push_str("</tbody></table></div>");
        Ok(html)
    })
}

/// Columns that hold a share or rate (shown as percentages).
fn is_ratio(column: &str) -> bool {
    column.ends_with("_share") || column.ends_with("_rate") || column == "gross_margin"
}
