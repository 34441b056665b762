//! The report's chart types, each drawn from plain numbers: grouped bars, heatmaps, lines,
//! a squarified treemap and box plots. Every data mark carries a tooltip; a chart returns its
//! SVG text.

use super::format::number;
use super::palette;
use super::svg::{Margins, Scale, Svg, x_axis, y_axis};

/// The width every chart is drawn at (the page is readable at 1280 px and prints on A4).
pub const WIDTH: f64 = 900.0;

/// Formats an axis value.
pub type Label<'a> = &'a dyn Fn(f64) -> String;
/// The tooltip of the mark at (row or category, column or series).
pub type Tooltip<'a> = &'a dyn Fn(usize, usize) -> String;

/// Horizontal bars, one group per category and one bar per series in it.
pub struct Bars<'a> {
    pub categories: &'a [String],
    pub series: Vec<(String, Vec<f64>)>,
    pub axis_title: &'a str,
    pub label: Label<'a>,
    pub tooltip: Tooltip<'a>,
}

/// Draws `bars`.
pub fn bars(bars: &Bars<'_>) -> String {
    let per_series = 13.0;
    let group = per_series * bars.series.len() as f64 + 10.0;
    let m = Margins {
        left: 180.0,
        right: 30.0,
        top: 34.0,
        bottom: 46.0,
    };
    let height = m.top + m.bottom + group * bars.categories.len() as f64;
    let values = bars.series.iter().flat_map(|(_, v)| v.iter().copied());
    let (low, high) = values
        .filter(|v| v.is_finite())
        .fold((0.0f64, 0.0f64), |(l, h), v| (l.min(v), h.max(v)));
    let scale = Scale::nice(low, high, m.left, WIDTH - m.right);
    let mut svg = Svg::new(WIDTH, height);
    let names: Vec<String> = bars.series.iter().map(|(n, _)| n.clone()).collect();
    svg.series_legend(m.left, 16.0, &names);
    let zero = scale.at(0.0);
    for (c, category) in bars.categories.iter().enumerate() {
        let top = m.top + group * c as f64;
        svg.text(
            m.left - 8.0,
            top + group / 2.0 + 1.0,
            category,
            "end",
            "label",
        );
        for (s, (_, values)) in bars.series.iter().enumerate() {
            let value = values.get(c).copied().unwrap_or(f64::NAN);
            let value = if value.is_finite() { value } else { 0.0 };
            let x = scale.at(value);
            svg.rect(
                x.min(zero),
                top + 5.0 + per_series * s as f64,
                (x - zero).abs(),
                per_series - 2.0,
                palette::category(s),
                &(bars.tooltip)(c, s),
            );
        }
    }
    x_axis(
        &mut svg,
        &scale,
        height - m.bottom + 4.0,
        bars.axis_title,
        bars.label,
    );
    svg.line((zero, m.top), (zero, height - m.bottom + 4.0), "#666", "");
    svg.finish()
}

/// A grid of coloured cells (rows top to bottom, columns left to right); a cell without a
/// value is not drawn.
pub struct Heatmap<'a> {
    pub rows: &'a [String],
    pub columns: &'a [String],
    pub values: &'a [Vec<Option<f64>>],
    /// Text inside each cell (empty for none).
    pub cell_text: Option<&'a [Vec<String>]>,
    pub row_title: &'a str,
    pub column_title: &'a str,
    pub legend_title: &'a str,
    pub tooltip: Tooltip<'a>,
    /// The largest cell height in pixels.
    pub max_cell_height: f64,
    /// The values the colours span [default: the data's range].
    pub domain: Option<(f64, f64)>,
}

/// Draws `heatmap`.
pub fn heatmap(map: &Heatmap<'_>) -> String {
    let widest_row = map
        .rows
        .iter()
        .map(|r| r.chars().count())
        .max()
        .unwrap_or(0) as f64;
    let widest_column = map
        .columns
        .iter()
        .map(|c| c.chars().count())
        .max()
        .unwrap_or(0) as f64;
    let left = (7.0 * widest_row + 40.0).max(70.0);
    let columns = map.columns.len().max(1) as f64;
    let cell_w = (WIDTH - left - 20.0) / columns;
    // Column labels wider than their cells are slanted.
    let slanted = widest_column * 6.5 > cell_w;
    let m = Margins {
        left,
        right: 20.0,
        top: 50.0,
        bottom: if slanted {
            30.0 + 5.0 * widest_column
        } else {
            48.0
        },
    };
    let cell_h = cell_w.clamp(12.0, map.max_cell_height);
    let height = m.top + m.bottom + cell_h * map.rows.len() as f64;
    let finite = map
        .values
        .iter()
        .flatten()
        .flatten()
        .filter(|v| v.is_finite());
    let (low, high) = map.domain.unwrap_or_else(|| {
        finite.fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), v| {
            (l.min(*v), h.max(*v))
        })
    });
    let span = if high > low { high - low } else { 1.0 };
    let mut svg = Svg::new(WIDTH, height);
    if low.is_finite() {
        svg.colour_legend(m.left, 18.0, map.legend_title, low, high);
    }
    let label_every = (14.0 / cell_w).ceil().max(1.0) as usize;
    for (c, column) in map.columns.iter().enumerate() {
        if slanted {
            let x = m.left + cell_w * (c as f64 + 0.5) + 4.0;
            svg.slanted_text(x, height - m.bottom + 14.0, column);
        } else if c % label_every == 0 {
            let x = m.left + cell_w * (c as f64 + 0.5);
            svg.text(x, height - m.bottom + 16.0, column, "middle", "label");
        }
    }
    let row_every = (12.0 / cell_h).ceil().max(1.0) as usize;
    for (r, row) in map.rows.iter().enumerate() {
        let y = m.top + cell_h * r as f64;
        if r % row_every == 0 {
            svg.text(m.left - 6.0, y + cell_h / 2.0 + 4.0, row, "end", "label");
        }
        for (c, value) in map.values[r].iter().enumerate() {
            let Some(value) = value else { continue };
            let t = (value - low) / span;
            let x = m.left + cell_w * c as f64;
            svg.rect(
                x,
                y,
                cell_w - 0.5,
                cell_h - 0.5,
                &palette::sequential(t),
                &(map.tooltip)(r, c),
            );
            let text = map
                .cell_text
                .and_then(|t| t.get(r).and_then(|row| row.get(c)))
                .filter(|t| !t.is_empty());
            if let Some(text) = text {
                let fits = (text.chars().count() as f64) * 6.0 < cell_w;
                if fits && cell_h >= 14.0 {
                    svg.text_filled(
                        x + cell_w / 2.0,
                        y + cell_h / 2.0 + 4.0,
                        text,
                        "cell",
                        palette::text_on_sequential(t),
                    );
                }
            }
        }
    }
    svg.text(
        (m.left + WIDTH - m.right) / 2.0,
        height - 10.0,
        map.column_title,
        "middle",
        "axis-title",
    );
    svg.vertical_text(
        14.0,
        m.top + cell_h * map.rows.len() as f64 / 2.0,
        map.row_title,
    );
    svg.finish()
}

/// One line of a line chart: points with a tooltip each.
pub struct Line {
    pub name: String,
    pub points: Vec<(f64, f64)>,
    pub tooltips: Vec<String>,
}

/// A vertical guide at `x` with a label (a threshold, a marked share).
pub struct Guide {
    pub x: f64,
    pub label: String,
}

/// Lines over a numeric or categorical x axis.
pub struct Lines<'a> {
    pub lines: Vec<Line>,
    pub x_title: &'a str,
    pub y_title: &'a str,
    pub x_label: Label<'a>,
    pub y_label: Label<'a>,
    /// Categorical x axis: the label of each integer position.
    pub x_categories: Option<&'a [String]>,
    /// Start the y axis at 0 even when the data do not.
    pub y_from_zero: bool,
    /// Draw the diagonal y = x and start every line at (0, 0) (a Lorenz curve).
    pub diagonal: bool,
    pub guides: Vec<Guide>,
}

/// Draws `chart`.
pub fn lines(chart: &Lines<'_>) -> String {
    let m = Margins {
        left: 80.0,
        right: 30.0,
        top: 34.0,
        bottom: 50.0,
    };
    let height = 380.0;
    let points = chart.lines.iter().flat_map(|l| l.points.iter());
    let finite: Vec<(f64, f64)> = points
        .filter(|(x, y)| x.is_finite() && y.is_finite())
        .copied()
        .collect();
    let fold = |f: fn(&(f64, f64)) -> f64| {
        finite
            .iter()
            .map(f)
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), v| {
                (l.min(v), h.max(v))
            })
    };
    let (x_low, x_high) = fold(|p| p.0);
    let (mut y_low, y_high) = fold(|p| p.1);
    if chart.y_from_zero {
        y_low = y_low.min(0.0);
    }
    let mut svg = Svg::new(WIDTH, height);
    if finite.is_empty() {
        svg.text(WIDTH / 2.0, height / 2.0, "no data", "middle", "note");
        return svg.finish();
    }
    let x_scale = match chart.x_categories {
        Some(categories) => Scale::new(
            -0.3,
            categories.len().saturating_sub(1) as f64 + 0.3,
            m.left,
            WIDTH - m.right,
        ),
        None => Scale::nice(x_low, x_high, m.left, WIDTH - m.right),
    };
    let y_scale = Scale::nice(y_low, y_high, height - m.bottom, m.top);
    y_axis(
        &mut svg,
        &y_scale,
        (m.left, WIDTH - m.right, 16.0),
        chart.y_title,
        chart.y_label,
    );
    let axis_y = height - m.bottom;
    match chart.x_categories {
        Some(categories) => {
            svg.line((m.left, axis_y), (WIDTH - m.right, axis_y), "#666", "");
            for (i, category) in categories.iter().enumerate() {
                svg.text(
                    x_scale.at(i as f64),
                    axis_y + 16.0,
                    category,
                    "middle",
                    "label",
                );
            }
            let middle = (m.left + WIDTH - m.right) / 2.0;
            svg.text(middle, axis_y + 34.0, chart.x_title, "middle", "axis-title");
        }
        None => x_axis(&mut svg, &x_scale, axis_y, chart.x_title, chart.x_label),
    }
    if chart.diagonal {
        let low = x_scale.d0.max(y_scale.d0);
        let high = x_scale.d1.min(y_scale.d1);
        let from = (x_scale.at(low), y_scale.at(low));
        svg.line(from, (x_scale.at(high), y_scale.at(high)), "#999", "4 3");
    }
    for (i, guide) in chart.guides.iter().enumerate() {
        let x = x_scale.at(guide.x);
        svg.line((x, m.top), (x, axis_y), "#555", "2 3");
        // Labels step down so that guides close together stay readable.
        let y = m.top + 12.0 + 14.0 * (i % 4) as f64;
        svg.text(x + 4.0, y, &guide.label, "start", "label");
    }
    let names: Vec<String> = chart.lines.iter().map(|l| l.name.clone()).collect();
    if names.len() > 1 {
        svg.series_legend(m.left, 16.0, &names);
    }
    let dashes = ["", "6 3", "2 2", "8 3 2 3"];
    for (i, line) in chart.lines.iter().enumerate() {
        let colour = palette::category(i);
        let origin = chart.diagonal.then_some((0.0, 0.0));
        let placed: Vec<(f64, f64)> = origin
            .iter()
            .chain(&line.points)
            .filter(|(x, y)| x.is_finite() && y.is_finite())
            .map(|(x, y)| (x_scale.at(*x), y_scale.at(*y)))
            .collect();
        let dash = dashes[(i / palette::CATEGORICAL.len()) % dashes.len()];
        svg.polyline(&placed, colour, 2.0, dash);
        let radius = if line.points.len() > 40 { 2.0 } else { 3.5 };
        for ((x, y), tooltip) in line.points.iter().zip(&line.tooltips) {
            if x.is_finite() && y.is_finite() {
                svg.dot(x_scale.at(*x), y_scale.at(*y), radius, colour, tooltip);
            }
        }
    }
    svg.finish()
}

/// One rectangle of a treemap.
pub struct Tile {
    pub label: String,
    pub area: f64,
    pub colour_value: f64,
    pub tooltip: String,
}

/// A squarified treemap (Bruls, Huizing and van Wijk 2000) of `tiles` with positive area,
/// coloured by `colour_value` on viridis.
pub fn treemap(tiles: &[Tile], legend_title: &str) -> String {
    let height = 440.0;
    let top = 44.0;
    let mut svg = Svg::new(WIDTH, height);
    let mut order: Vec<&Tile> = tiles.iter().filter(|t| t.area > 0.0).collect();
    order.sort_by(|a, b| {
        b.area
            .total_cmp(&a.area)
            .then_with(|| a.label.cmp(&b.label))
    });
    let total: f64 = order.iter().map(|t| t.area).sum();
    if order.is_empty() || total <= 0.0 {
        svg.text(WIDTH / 2.0, height / 2.0, "no data", "middle", "note");
        return svg.finish();
    }
    let (low, high) = order
        .iter()
        .map(|t| t.colour_value)
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), v| {
            (l.min(v), h.max(v))
        });
    if low.is_finite() {
        svg.colour_legend(0.0, 16.0, legend_title, low, high);
    }
    let span = if high > low { high - low } else { 1.0 };
    let scale = WIDTH * (height - top) / total;
    let areas: Vec<f64> = order.iter().map(|t| t.area * scale).collect();
    let rects = squarify(&areas, (0.0, top, WIDTH, height - top));
    for (tile, (x, y, w, h)) in order.iter().zip(rects) {
        let t = (tile.colour_value - low) / span;
        svg.rect(
            x,
            y,
            w - 1.0,
            h - 1.0,
            &palette::sequential(t),
            &tile.tooltip,
        );
        if w > 7.0 * tile.label.chars().count() as f64 && h > 18.0 {
            let fill = palette::text_on_sequential(t);
            svg.text_filled(x + w / 2.0, y + h / 2.0 + 4.0, &tile.label, "cell", fill);
        }
    }
    svg.finish()
}

/// Rectangles (x, y, w, h) of `areas` (sorted largest first, summing to the frame's area)
/// laid out in rows whose aspect ratios stay close to 1.
fn squarify(areas: &[f64], frame: (f64, f64, f64, f64)) -> Vec<(f64, f64, f64, f64)> {
    let (mut x, mut y, mut w, mut h) = frame;
    let mut out = Vec::with_capacity(areas.len());
    let mut start = 0;
    while start < areas.len() {
        let side = w.min(h);
        let worst = |row: &[f64]| {
            let sum: f64 = row.iter().sum();
            let (min, max) = row
                .iter()
                .fold((f64::INFINITY, 0.0f64), |(l, h), a| (l.min(*a), h.max(*a)));
            ((side * side * max) / (sum * sum)).max((sum * sum) / (side * side * min))
        };
        let mut end = start + 1;
        while end < areas.len() && worst(&areas[start..=end]) <= worst(&areas[start..end]) {
            end += 1;
        }
        let row = &areas[start..end];
        let sum: f64 = row.iter().sum();
        let thickness = if side > 0.0 { sum / side } else { 0.0 };
        let mut offset = 0.0;
        for area in row {
            let length = if thickness > 0.0 {
                area / thickness
            } else {
                0.0
            };
            if w >= h {
                out.push((x, y + offset, thickness, length));
            } else {
                out.push((x + offset, y, length, thickness));
            }
            offset += length;
        }
        if w >= h {
            x += thickness;
            w -= thickness;
        } else {
            y += thickness;
            h -= thickness;
        }
        start = end;
    }
    out
}

/// The five numbers of one box: whiskers at `low` and `high`, the box from `q1` to `q3`.
pub struct BoxStats {
    pub low: f64,
    pub q1: f64,
    pub median: f64,
    pub q3: f64,
    pub high: f64,
}

/// Horizontal box plots, one per category.
pub fn boxes(
    categories: &[String],
    stats: &[BoxStats],
    axis_title: &str,
    tooltip: &dyn Fn(usize) -> String,
) -> String {
    let row = 26.0;
    let m = Margins {
        left: 180.0,
        right: 30.0,
        top: 14.0,
        bottom: 46.0,
    };
    let height = m.top + m.bottom + row * categories.len() as f64;
    let (low, high) = stats
        .iter()
        .flat_map(|s| [s.low, s.high])
        .filter(|v| v.is_finite())
        .fold((0.0f64, f64::NEG_INFINITY), |(l, h), v| {
            (l.min(v), h.max(v))
        });
    let scale = Scale::nice(low, high.max(low), m.left, WIDTH - m.right);
    let mut svg = Svg::new(WIDTH, height);
    for (i, (category, s)) in categories.iter().zip(stats).enumerate() {
        let mid = m.top + row * i as f64 + row / 2.0;
        svg.text(m.left - 8.0, mid + 4.0, category, "end", "label");
        svg.line((scale.at(s.low), mid), (scale.at(s.q1), mid), "#444", "");
        svg.line((scale.at(s.q3), mid), (scale.at(s.high), mid), "#444", "");
        for whisker in [s.low, s.high] {
            let x = scale.at(whisker);
            svg.line((x, mid - 5.0), (x, mid + 5.0), "#444", "");
        }
        let (x1, x3) = (scale.at(s.q1), scale.at(s.q3));
        svg.rect(
            x1,
            mid - 8.0,
            (x3 - x1).max(1.0),
            16.0,
            palette::category(0),
            &tooltip(i),
        );
        let xm = scale.at(s.median);
        svg.line((xm, mid - 8.0), (xm, mid + 8.0), "#ffffff", "");
    }
    x_axis(
        &mut svg,
        &scale,
        height - m.bottom + 4.0,
        axis_title,
        &|v| number(v),
    );
    svg.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn squarified_tiles_fill_the_frame_with_their_areas() {
        let areas = [6.0, 6.0, 4.0, 3.0, 2.0, 2.0, 1.0];
        let rects = squarify(&areas, (0.0, 0.0, 6.0, 4.0));
        for (area, (_, _, w, h)) in areas.iter().zip(&rects) {
            assert!((w * h - area).abs() < 1e-9, "{area} vs {w} x {h}");
        }
        for (x, y, w, h) in &rects {
            assert!(*x >= -1e-9 && *y >= -1e-9 && x + w <= 6.0 + 1e-9 && y + h <= 4.0 + 1e-9);
        }
        // The paper's example: the first row holds the two 6s side by side.
        assert_eq!(rects[0], (0.0, 0.0, 3.0, 2.0));
        assert_eq!(rects[1], (0.0, 2.0, 3.0, 2.0));
    }

    #[test]
    fn charts_draw_one_mark_per_value() {
        let categories = vec!["a".to_string(), "b".to_string()];
        let svg = bars(&Bars {
            categories: &categories,
            series: vec![("x".into(), vec![1.0, 2.0]), ("y".into(), vec![0.5, -1.0])],
            axis_title: "share",
            label: &|v| number(v),
            tooltip: &|c, s| format!("{c} {s}"),
        });
        assert_eq!(svg.matches("class=\"mark\"").count(), 4);
        let values = vec![vec![Some(1.0), None], vec![Some(2.0), Some(3.0)]];
        let svg = heatmap(&Heatmap {
            rows: &categories,
            columns: &categories,
            values: &values,
            cell_text: None,
            row_title: "r",
            column_title: "c",
            legend_title: "v",
            tooltip: &|r, c| format!("{r},{c}"),
            max_cell_height: 30.0,
            domain: None,
        });
        assert_eq!(svg.matches("class=\"mark\"").count(), 3);
        assert!(svg.contains("<title>1,1</title>"));
    }
}
