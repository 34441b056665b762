//! Numbers and text as the page shows them: thousands separators, a readable number of
//! digits, percentages, ISO dates, and HTML escaping.

use super::table::Value;

/// `text` safe inside HTML text and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// An integer with thousands separators: `1,234,567`.
pub fn int(value: i64) -> String {
    let digits = value.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if value < 0 {
        out.push('-');
    }
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A number with thousands separators and `decimals` decimals: `12,345.68`.
pub fn fixed(value: f64, decimals: usize) -> String {
    if !value.is_finite() {
        return if value.is_nan() {
            "NaN".into()
        } else if value > 0.0 {
            "∞".into()
        } else {
            "-∞".into()
        };
    }
    let text = format!("{:.*}", decimals, value.abs());
    let (whole, fraction) = text.split_once('.').unwrap_or((&text, ""));
    let negative = value < 0.0 && text.chars().any(|c| c.is_ascii_digit() && c != '0');
    let mut out = String::new();
    if negative {
        out.push('-');
    }
    let whole: i64 = whole.parse().unwrap_or(0);
    out.push_str(&int(whole));
    if !fraction.is_empty() {
        out.push('.');
        out.push_str(fraction);
    }
    out
}

/// A number with about four significant digits (at least none, at most six decimals):
/// `1,234,568`, `123.5`, `0.01234`.
pub fn number(value: f64) -> String {
    let magnitude = value.abs();
    let decimals = if magnitude == 0.0 || magnitude >= 1000.0 {
        0
    } else {
        // Four significant digits, up to six decimals.
        (3 - magnitude.log10().floor() as i64).clamp(0, 6) as usize
    };
    let text = fixed(value, decimals);
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        text
    }
}

/// A share (0..1) as a percentage with one decimal: `12.3%`.
pub fn percent(share: f64) -> String {
    format!("{}%", fixed(share * 100.0, 1))
}

/// A result value as a table cell shows it: integers with separators, floats with a readable
/// number of digits, text as it is, NULL as empty.
pub fn value(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::Int(v) => int(*v),
        Value::Float(v) => number(*v),
        Value::Text(v) => v.clone(),
        Value::Bool(v) => v.to_string(),
        Value::List(items) => items.iter().map(self::value).collect::<Vec<_>>().join(", "),
    }
}

/// A byte count: `512 B`, `1.5 KiB`, `12.3 MiB`.
pub fn bytes(count: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if count < 1024 {
        return format!("{count} B");
    }
    let mut size = count as f64 / 1024.0;
    let mut unit = 0;
    while size >= 1024.0 && unit + 1 < UNITS.len() {
        size /= 1024.0;
        unit += 1;
    }
    format!("{size:.1} {}", UNITS[unit])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_separators_and_digits() {
        assert_eq!(int(0), "0");
        assert_eq!(int(999), "999");
        assert_eq!(int(1000), "1,000");
        assert_eq!(int(-1234567), "-1,234,567");
        assert_eq!(fixed(12345.678, 2), "12,345.68");
        assert_eq!(fixed(-0.001, 2), "0.00");
        assert_eq!(fixed(-1234.5, 1), "-1,234.5");
        assert_eq!(number(1234567.8), "1,234,568");
        assert_eq!(number(123.456), "123.5");
        assert_eq!(number(0.0123456), "0.01235");
        assert_eq!(number(2.0), "2");
        assert_eq!(number(0.0), "0");
        assert_eq!(percent(0.1234), "12.3%");
        assert_eq!(bytes(1536), "1.5 KiB");
        assert_eq!(
            escape("<a href=\"x\">'&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
    }
}
