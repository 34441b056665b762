//! Inline SVG, written by hand: a canvas whose data marks all carry a tooltip (`<title>`),
//! linear scales with round ticks, axes and a colour legend. No gradients, fonts or external
//! references: the page draws the same offline and in print.

use std::fmt::Write;

use super::format::{escape, number};
use super::palette;

/// The plot area's margins inside a chart: left (labels), right, top, bottom (axis title).
#[derive(Debug, Clone, Copy)]
pub struct Margins {
    pub left: f64,
    pub right: f64,
    pub top: f64,
    pub bottom: f64,
}

/// An SVG being drawn.
#[derive(Debug)]
pub struct Svg {
    width: f64,
    height: f64,
    body: String,
}

impl Svg {
    /// A canvas of `width` x `height` pixels.
    pub fn new(width: f64, height: f64) -> Self {
        Self {
            width,
            height,
            body: String::new(),
        }
    }

    /// A data mark: a rectangle with `tooltip`.
    pub fn rect(&mut self, x: f64, y: f64, w: f64, h: f64, fill: &str, tooltip: &str) {
        let _ = write!(
            self.body,
            r#"<rect class="mark" x="{x:.1}" y="{y:.1}" width="{:.1}" height="{:.1}" fill="{fill}"><title>{}</title></rect>"#,
            w.max(0.0),
            h.max(0.0),
            escape(tooltip)
        );
    }

    /// A data mark: a dot with `tooltip`.
    pub fn dot(&mut self, cx: f64, cy: f64, r: f64, fill: &str, tooltip: &str) {
        let _ = write!(
            self.body,
            r#"<circle class="mark" cx="{cx:.1}" cy="{cy:.1}" r="{r:.1}" fill="{fill}"><title>{}</title></circle>"#,
            escape(tooltip)
        );
    }

    /// A rectangle that is not data (a legend swatch, a background).
    pub fn plain_rect(&mut self, x: f64, y: f64, w: f64, h: f64, fill: &str, stroke: &str) {
        let _ = write!(
            self.body,
            r#"<rect x="{x:.1}" y="{y:.1}" width="{:.1}" height="{:.1}" fill="{fill}" stroke="{stroke}"/>"#,
            w.max(0.0),
            h.max(0.0)
        );
    }

    /// A line through `points`, with an optional dash pattern.
    pub fn polyline(&mut self, points: &[(f64, f64)], stroke: &str, width: f64, dash: &str) {
        let mut coordinates = String::new();
        for (x, y) in points {
            let _ = write!(coordinates, "{x:.1},{y:.1} ");
        }
        let dash = if dash.is_empty() {
            String::new()
        } else {
            format!(r#" stroke-dasharray="{dash}""#)
        };
        let _ = write!(
            self.body,
            r#"<polyline points="{}" fill="none" stroke="{stroke}" stroke-width="{width}"{dash}/>"#,
            coordinates.trim_end()
        );
    }

    /// A straight line.
    pub fn line(&mut self, from: (f64, f64), to: (f64, f64), stroke: &str, dash: &str) {
        self.polyline(&[from, to], stroke, 1.0, dash);
    }

    /// Text; `anchor` is start, middle or end; `class` one of the page's text classes
    /// (`label`, `axis-title`, `cell`, `note`).
    pub fn text(&mut self, x: f64, y: f64, text: &str, anchor: &str, class: &str) {
        let _ = write!(
            self.body,
            r#"<text x="{x:.1}" y="{y:.1}" text-anchor="{anchor}" class="{class}">{}</text>"#,
            escape(text)
        );
    }

    /// Text in a colour (cell labels on dark fills).
    pub fn text_filled(&mut self, x: f64, y: f64, text: &str, class: &str, fill: &str) {
        let _ = write!(
            self.body,
            r#"<text x="{x:.1}" y="{y:.1}" text-anchor="middle" class="{class}" style="fill:{fill}">{}</text>"#,
            escape(text)
        );
    }

    /// Text rotated 45 degrees, ending at (x, y) (long column labels).
    pub fn slanted_text(&mut self, x: f64, y: f64, text: &str) {
        let _ = write!(
            self.body,
            r#"<text x="{x:.1}" y="{y:.1}" text-anchor="end" class="label" transform="rotate(-45 {x:.1} {y:.1})">{}</text>"#,
            escape(text)
        );
    }

    /// Vertical text (a y axis title), centred on (x, y).
    pub fn vertical_text(&mut self, x: f64, y: f64, text: &str) {
        let _ = write!(
            self.body,
            r#"<text x="{x:.1}" y="{y:.1}" text-anchor="middle" class="axis-title" transform="rotate(-90 {x:.1} {y:.1})">{}</text>"#,
            escape(text)
        );
    }

    /// A horizontal colour legend for a viridis scale from `low` to `high`, at (x, y).
    pub fn colour_legend(&mut self, x: f64, y: f64, title: &str, low: f64, high: f64) {
        const STEPS: usize = 24;
        const WIDTH: f64 = 180.0;
        self.text(x, y - 4.0, title, "start", "label");
        for i in 0..STEPS {
            let t = (i as f64 + 0.5) / STEPS as f64;
            let step = WIDTH / STEPS as f64;
            self.plain_rect(
                x + i as f64 * step,
                y,
                step + 0.3,
                10.0,
                &palette::sequential(t),
                "none",
            );
        }
        self.text(x, y + 22.0, &number(low), "start", "label");
        self.text(x + WIDTH, y + 22.0, &number(high), "end", "label");
    }

    /// A legend of series colours, one entry per name, in a row from (x, y).
    pub fn series_legend(&mut self, x: f64, y: f64, names: &[String]) {
        let mut at = x;
        for (i, name) in names.iter().enumerate() {
            self.plain_rect(at, y - 9.0, 12.0, 12.0, palette::category(i), "none");
            self.text(at + 16.0, y, name, "start", "label");
            at += 28.0 + 7.0 * name.chars().count() as f64;
        }
    }

    /// The finished `<svg>` element.
    pub fn finish(self) -> String {
        format!(
            r#"<svg viewBox="0 0 {w} {h}" width="{w}" height="{h}" role="img">{}</svg>"#,
            self.body,
            w = self.width,
            h = self.height
        )
    }
}

/// A linear map from a data domain to pixels.
#[derive(Debug, Clone, Copy)]
pub struct Scale {
    pub d0: f64,
    pub d1: f64,
    pub r0: f64,
    pub r1: f64,
}

impl Scale {
    /// The scale from `[d0, d1]` (widened when empty) to `[r0, r1]`.
    pub fn new(d0: f64, d1: f64, r0: f64, r1: f64) -> Self {
        let (d0, d1) = if (d1 - d0).abs() < f64::EPSILON * d0.abs().max(1.0) {
            (d0 - 1.0, d1 + 1.0)
        } else {
            (d0, d1)
        };
        Self { d0, d1, r0, r1 }
    }

    /// The scale over `[low, high]` extended to round ticks.
    pub fn nice(low: f64, high: f64, r0: f64, r1: f64) -> Self {
        // A value a rounding error past a round tick (a share of 1.0000000001) adds no step.
        let slack = (high - low).abs() * 1e-9;
        let ticks = ticks(low + slack, high - slack, 5);
        let d0 = ticks.first().copied().unwrap_or(low).min(low);
        let d1 = ticks.last().copied().unwrap_or(high).max(high);
        Self::new(d0, d1, r0, r1)
    }

    /// The pixel position of `value`.
    pub fn at(&self, value: f64) -> f64 {
        self.r0 + (value - self.d0) / (self.d1 - self.d0) * (self.r1 - self.r0)
    }

    /// Round values across the domain for axis labels.
    pub fn ticks(&self, count: usize) -> Vec<f64> {
        ticks(self.d0, self.d1, count)
    }
}

/// About `count` round values (1, 2 or 5 times a power of ten apart) covering `[low, high]`.
pub fn ticks(low: f64, high: f64, count: usize) -> Vec<f64> {
    if !low.is_finite() || !high.is_finite() || count == 0 {
        return vec![];
    }
    let (low, high) = if high > low {
        (low, high)
    } else {
        (low - 1.0, low + 1.0)
    };
    // The round step nearest to an even split (as d3's ticks choose it).
    let raw = (high - low) / count as f64;
    let power = 10f64.powf(raw.log10().floor());
    let error = raw / power;
    let step = power
        * if error >= 50f64.sqrt() {
            10.0
        } else if error >= 10f64.sqrt() {
            5.0
        } else if error >= 2f64.sqrt() {
            2.0
        } else {
            1.0
        };
    let first = (low / step).floor() as i64;
    let last = (high / step).ceil() as i64;
    (first..=last).map(|i| i as f64 * step).collect()
}

/// Draws an x axis along `y` for `scale` with labels formatted by `label`, and its title.
pub fn x_axis(svg: &mut Svg, scale: &Scale, y: f64, title: &str, label: &dyn Fn(f64) -> String) {
    svg.line((scale.r0, y), (scale.r1, y), "#666", "");
    for tick in scale.ticks(6) {
        if tick < scale.d0 - 1e-9 || tick > scale.d1 + 1e-9 {
            continue;
        }
        let x = scale.at(tick);
        svg.line((x, y), (x, y + 4.0), "#666", "");
        svg.text(x, y + 16.0, &label(tick), "middle", "label");
    }
    svg.text(
        (scale.r0 + scale.r1) / 2.0,
        y + 34.0,
        title,
        "middle",
        "axis-title",
    );
}

/// Draws a y axis along `x` for `scale` with gridlines to `x_end`, and its title at `title_x`.
pub fn y_axis(
    svg: &mut Svg,
    scale: &Scale,
    (x, x_end, title_x): (f64, f64, f64),
    title: &str,
    label: &dyn Fn(f64) -> String,
) {
    svg.line((x, scale.r0), (x, scale.r1), "#666", "");
    for tick in scale.ticks(5) {
        if tick < scale.d0 - 1e-9 || tick > scale.d1 + 1e-9 {
            continue;
        }
        let y = scale.at(tick);
        svg.line((x, y), (x_end, y), "#e3e3e3", "");
        svg.text(x - 6.0, y + 4.0, &label(tick), "end", "label");
    }
    svg.vertical_text(title_x, (scale.r0 + scale.r1) / 2.0, title);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_round_and_cover_the_range() {
        assert_eq!(
            ticks(0.0, 1.0, 5),
            vec![0.0, 0.2, 0.4, 0.6000000000000001, 0.8, 1.0]
        );
        // Just above 1 extends by one step, not to 1.5.
        assert_eq!(*ticks(0.0, 1.003, 5).last().unwrap(), 1.2000000000000002);
        assert_eq!(
            ticks(3.0, 97.0, 5),
            vec![0.0, 20.0, 40.0, 60.0, 80.0, 100.0]
        );
        assert_eq!(ticks(5.0, 5.0, 4).len(), 5);
        assert!(ticks(f64::NAN, 1.0, 5).is_empty());
        let scale = Scale::nice(3.0, 97.0, 0.0, 100.0);
        assert_eq!((scale.d0, scale.d1), (0.0, 100.0));
        assert_eq!(scale.at(50.0), 50.0);
    }

    #[test]
    fn every_mark_has_a_tooltip() {
        let mut svg = Svg::new(100.0, 50.0);
        svg.rect(0.0, 0.0, 10.0, 10.0, "#000", "a <b>");
        svg.dot(5.0, 5.0, 2.0, "#000", "c");
        svg.plain_rect(0.0, 0.0, 1.0, 1.0, "#fff", "none");
        let text = svg.finish();
        assert_eq!(text.matches("class=\"mark\"").count(), 2);
        assert!(text.contains("<title>a &lt;b&gt;</title>"));
    }
}
