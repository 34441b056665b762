//! The HTML page: one file with its styles, charts, data and a small script, and no reference
//! to anything outside it.

use std::collections::HashMap;
use std::fmt::Write;

use super::format::{bytes, escape, int, value};
use super::runner::{QueryData, QueryKey};
use super::sections::{Figure, SectionId};
use super::table::Value;

/// A file a table reads.
#[derive(Debug, Clone)]
pub struct InputFile {
    pub table: String,
    pub location: String,
    pub size: u64,
}

/// What the page says before its sections.
#[derive(Debug, Clone)]
pub struct Summary {
    pub as_of: String,
    pub overview: Option<QueryData>,
    /// Why the report has little to show (no purchase before as_of), if so.
    pub notice: Option<String>,
    pub files: Vec<InputFile>,
    /// The parameters given with --param.
    pub params: Vec<(String, String)>,
}

/// The finished page.
pub fn render(summary: &Summary, sections: &[(SectionId, Vec<Figure>)]) -> String {
    let mut html = String::with_capacity(256 * 1024);
    let _ = write!(
        html,
        r#"<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="seglake {version}">
<title>Customer segmentation report as of {as_of}</title>
<style>{STYLE}</style></head>
<body><main>
<header><h1>Customer segmentation report</h1>
<p class="subtitle">as of {as_of} · seglake {version}</p></header>
<pre id="script-errors" hidden></pre>
"#,
        version = crate::VERSION,
        as_of = escape(&summary.as_of),
    );
    summary_section(&mut html, summary);
    html.push_str(r#"<nav id="contents"><h2>Contents</h2><ol>"#);
    for (id, figures) in sections {
        let _ = write!(
            html,
            r##"<li><a href="#{}">{}</a><ul>"##,
            id.name(),
            escape(id.title())
        );
        for figure in figures {
            let _ = write!(
                html,
                r##"<li><a href="#{}">{}</a></li>"##,
                figure.id,
                escape(&figure.title)
            );
        }
        html.push_str("</ul></li>");
    }
    html.push_str("</ol></nav>\n");
    // A query's result shown by several figures is embedded once, with the first of them.
    let mut embedded = Embedded::new();
    for (number, (id, figures)) in sections.iter().enumerate() {
        let _ = write!(
            html,
            r#"<section id="{}" class="report-section"><h2>{}. {}</h2>"#,
            id.name(),
            number + 1,
            escape(id.title())
        );
        for figure in figures {
            figure_html(&mut html, figure, &mut embedded);
        }
        html.push_str("</section>\n");
    }
    let _ = write!(
        html,
        r#"<footer>Made by seglake {} from its saved queries; each chart's data table names the
command that gives the same numbers.</footer></main>
<script>{SCRIPT}</script>
</body></html>
"#,
        crate::VERSION
    );
    html
}

fn summary_section(html: &mut String, summary: &Summary) {
    html.push_str(r#"<section id="summary"><h2>Summary</h2>"#);
    if let Some(notice) = &summary.notice {
        let _ = write!(html, r#"<p class="notice">{}</p>"#, escape(notice));
    }
    html.push_str(r#"<dl class="facts">"#);
    let mut fact = |name: &str, text: String| {
        let _ = write!(
            html,
            "<div><dt>{}</dt><dd>{}</dd></div>",
            escape(name),
            escape(&text)
        );
    };
    fact("as of", summary.as_of.clone());
    if let Some(overview) = &summary.overview {
        let t = &overview.table;
        let cell = |name: &str| {
            t.column(name)
                .ok()
                .and_then(|c| t.rows.first().map(|r| r[c].clone()))
                .unwrap_or(Value::Null)
        };
        fact("customers", value(&cell("customers")));
        fact("orders", value(&cell("orders")));
        let revenue = cell("revenue")
            .number()
            .map_or(String::new(), |v| super::format::fixed(v, 2));
        fact("revenue", revenue);
        let aov = cell("average_order_value")
            .number()
            .map_or(String::new(), |v| super::format::fixed(v, 2));
        fact("average order value", aov);
        let day = |v: Value| v.text().chars().take(10).collect::<String>();
        fact(
            "period",
            format!(
                "{} to {}",
                day(cell("first_order")),
                day(cell("last_order"))
            ),
        );
    }
    fact("engine", format!("seglake {}", crate::VERSION));
    if !summary.params.is_empty() {
        let params: Vec<String> = summary
            .params
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        fact("parameters", params.join(", "));
    }
    let total: u64 = summary.files.iter().map(|f| f.size).sum();
    fact(
        "input files",
        format!(
            "{} files, {}",
            int(summary.files.len() as i64),
            bytes(total)
        ),
    );
    html.push_str("</dl>");
    if !summary.files.is_empty() {
        html.push_str(
            r#"<details class="data"><summary>Input files</summary><table><thead><tr><th>table</th><th>file</th><th>size</th></tr></thead><tbody>"#,
        );
        for file in &summary.files {
            let _ = write!(
                html,
                r#"<tr><td>{}</td><td>{}</td><td class="num">{}</td></tr>"#,
                escape(&file.table),
                escape(&file.location),
                bytes(file.size)
            );
        }
        html.push_str("</tbody></table></details>");
    }
    html.push_str("</section>\n");
}

/// Where each embedded result is: (query, params) to (figure id, figure title).
type Embedded = HashMap<QueryKey, (String, String)>;

fn figure_html(html: &mut String, figure: &Figure, embedded: &mut Embedded) {
    let _ = write!(
        html,
        r#"<figure class="chart" id="{}" data-marks="{}"><h3>{}</h3>"#,
        figure.id,
        figure.marks,
        escape(&figure.title)
    );
    if let Some(why) = &figure.unavailable {
        let _ = write!(
            html,
            r#"<p class="unavailable">Not shown: {}</p></figure>"#,
            escape(why)
        );
        return;
    }
    let _ = write!(
        html,
        r#"<p class="guide">{}</p>{}"#,
        escape(&figure.guide),
        figure.body
    );
    if let Some(data) = &figure.data {
        let key = (data.query.clone(), data.params.clone());
        match embedded.get(&key) {
            Some((id, title)) => {
                let _ = write!(
                    html,
                    r##"<p class="same-data">Data: as for <a href="#{id}">{}</a> <button type="button" class="csv" data-source="data-{id}" data-file="{}.csv">Download CSV</button></p>"##,
                    escape(title),
                    figure.id
                );
            }
            None => {
                data_table(html, &figure.id, data);
                embedded.insert(key, (figure.id.clone(), figure.title.clone()));
            }
        }
    }
    html.push_str("</figure>\n");
}

fn data_table(html: &mut String, id: &str, data: &QueryData) {
    let t = &data.table;
    let _ = write!(
        html,
        r#"<details class="data"><summary>Data: {} rows from the saved query {}</summary><p class="command"><code>{}</code> <button type="button" class="csv" data-source="data-{id}" data-file="{id}.csv">Download CSV</button></p><div class="wide"><table><thead><tr>"#,
        int(t.rows.len() as i64),
        escape(&data.query),
        escape(&data.command()),
    );
    for column in &t.columns {
        let _ = write!(html, "<th>{}</th>", escape(column));
    }
    html.push_str("</tr></thead><tbody>");
    for row in &t.rows {
        html.push_str("<tr>");
        for cell in row {
            let class = match cell {
                Value::Int(_) | Value::Float(_) => r#" class="num""#,
                _ => "",
            };
            let _ = write!(html, "<td{class}>{}</td>", escape(&value(cell)));
        }
        html.push_str("</tr>");
    }
    html.push_str("</tbody></table></div></details>");
    // The exact values, for the CSV download and for whoever reads the file; `</` cannot end
    // the script element early.
    let params: serde_json::Map<String, serde_json::Value> = data
        .params
        .iter()
        .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
        .collect();
    let json = format!(
        r#"{{"query":{},"params":{},"data":{}}}"#,
        serde_json::Value::String(data.query.clone()),
        serde_json::Value::Object(params),
        t.to_json()
    );
    let _ = write!(
        html,
        r#"<script type="application/json" class="figure-data" id="data-{id}">{}</script>"#,
        json.replace("</", "<\\/")
    );
}

const STYLE: &str = r#"
:root { color-scheme: light; }
body { margin: 0; background: #fff; color: #1a1a1a; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif; }
main { max-width: 960px; margin: 0 auto; padding: 24px 32px 48px; }
h1 { font-size: 28px; margin: 0; }
h2 { font-size: 21px; margin: 36px 0 8px; border-bottom: 2px solid #0072B2; padding-bottom: 4px; }
h3 { font-size: 16px; margin: 20px 0 2px; }
.subtitle { color: #555; margin: 2px 0 0; }
.notice { background: #fff4d6; border-left: 4px solid #E69F00; padding: 8px 12px; }
.unavailable { color: #555; font-style: italic; background: #f4f4f4; padding: 8px 12px; }
.guide { color: #444; margin: 0 0 6px; }
.facts { display: grid; grid-template-columns: repeat(auto-fill, minmax(200px, 1fr)); gap: 8px 16px; margin: 8px 0; }
.facts div { background: #f6f8fa; padding: 8px 10px; border-radius: 4px; }
.facts dt { color: #555; font-size: 13px; } .facts dd { margin: 0; font-size: 17px; font-weight: 600; }
nav ol { padding-left: 22px; } nav ul { padding-left: 16px; font-size: 14px; }
figure { margin: 0 0 24px; } svg { max-width: 100%; height: auto; display: block; }
svg text { font-size: 12px; fill: #1a1a1a; } svg text.axis-title { font-size: 13px; fill: #333; }
svg text.cell { font-size: 11px; } svg text.note { font-size: 14px; fill: #666; }
svg .mark:hover { stroke: #000; stroke-width: 1.5; }
svg.inline-bar { display: inline-block; vertical-align: middle; max-width: none; }
table { border-collapse: collapse; font-size: 13px; margin: 6px 0; }
th, td { border-bottom: 1px solid #e3e3e3; padding: 3px 8px; text-align: left; white-space: nowrap; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.wide { overflow-x: auto; }
details.data summary { cursor: pointer; color: #0072B2; }
.command code { font-size: 12px; background: #f4f4f4; padding: 2px 4px; }
ul.rules { columns: 2; font-size: 13px; color: #333; }
footer { margin-top: 40px; color: #666; font-size: 13px; }
#script-errors { color: #a00; }
@media print {
  main { max-width: none; padding: 0; }
  nav { break-after: page; }
  figure { break-inside: avoid; }
  details.data, button { display: none; }
  .wide { overflow: visible; }
}
"#;

const SCRIPT: &str = r#"
(function () {
  "use strict";
  var errors = [];
  function report(message) {
    errors.push(String(message));
    var box = document.getElementById("script-errors");
    box.textContent = errors.join("\n");
    box.hidden = false;
    document.body.setAttribute("data-script-errors", String(errors.length));
  }
  window.addEventListener("error", function (e) { report(e.message); });
  function cell(v) {
    if (v === null || v === undefined) return "";
    var s = String(v);
    return /[",\r\n]/.test(s) ? '"' + s.replace(/"/g, '""') + '"' : s;
  }
  function csv(data) {
    var lines = [data.columns.map(cell).join(",")];
    data.rows.forEach(function (row) { lines.push(row.map(cell).join(",")); });
    return lines.join("\r\n") + "\r\n";
  }
  try {
    document.querySelectorAll("button.csv").forEach(function (button) {
      button.addEventListener("click", function () {
        var source = document.getElementById(button.getAttribute("data-source"));
        var blob = new Blob([csv(JSON.parse(source.textContent).data)], { type: "text/csv" });
        var link = document.createElement("a");
        link.href = URL.createObjectURL(blob);
        link.download = button.getAttribute("data-file");
        document.body.appendChild(link);
        link.click();
        link.remove();
        setTimeout(function () { URL.revokeObjectURL(link.href); }, 1000);
      });
    });
    document.querySelectorAll("script.figure-data").forEach(function (data) {
      JSON.parse(data.textContent);
    });
    var figures = document.querySelectorAll("figure.chart"), drawn = 0;
    figures.forEach(function (figure) {
      if (figure.querySelector(".unavailable")) return;
      var marks = figure.querySelectorAll(".mark").length;
      var expected = figure.getAttribute("data-marks");
      if (String(marks) !== expected || marks === 0) {
        report(figure.id + ": " + marks + " marks drawn, " + expected + " expected");
      } else {
        drawn++;
      }
    });
    document.body.setAttribute("data-rendered", drawn + "/" + figures.length);
  } catch (e) {
    report(e.message);
  }
})();
"#;
