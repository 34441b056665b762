//! The REPL's table on a terminal: floats with a readable number of digits, numbers aligned
//! right, and a result wider than the screen shown with its middle columns hidden (as the
//! DuckDB CLI does) instead of wrapping every line. `\format table-full` shows exact values
//! and every column, as `--format table` does outside the REPL.

use datafusion::arrow::array::{Array, AsArray, RecordBatch};
use datafusion::arrow::datatypes::{DataType, Float32Type, Float64Type, SchemaRef};
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use datafusion::error::Result;

/// The rendered table and what it leaves out.
pub struct Rendered {
    pub text: String,
    /// The names of the hidden columns, in order.
    pub hidden: Vec<String>,
}

/// Renders `batches` (already cut to the rows to show) for a terminal `width` columns wide.
///
/// # Errors
/// When a column cannot be formatted.
pub fn render(schema: &SchemaRef, batches: &[RecordBatch], width: usize) -> Result<Rendered> {
    let options = FormatOptions::default().with_null("NULL");
    let names: Vec<String> = schema.fields().iter().map(|f| f.name().clone()).collect();
    let numeric: Vec<bool> = schema
        .fields()
        .iter()
        .map(|f| f.data_type().is_numeric())
        .collect();
    let mut cells: Vec<Vec<String>> = vec![Vec::new(); names.len()];
    for batch in batches {
        for (c, array) in batch.columns().iter().enumerate() {
            cells[c].extend(column_text(array.as_ref(), &options)?);
        }
    }
    let widths: Vec<usize> = names
        .iter()
        .zip(&cells)
        .map(|(name, column)| {
            column
                .iter()
                .map(|c| c.chars().count())
                .chain([name.chars().count()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let shown = fit(&widths, width);
    let hidden: Vec<String> = (0..names.len())
        .filter(|c| !shown.contains(&Some(*c)))
        .map(|c| names[c].clone())
        .collect();
    let column_width = |slot: &Option<usize>| slot.map_or(1, |c| widths[c]);
    let mut text = String::new();
    let border: String = shown
        .iter()
        .map(|slot| format!("+{}", "-".repeat(column_width(slot) + 2)))
        .collect::<String>()
        + "+\n";
    text.push_str(&border);
    let line = |text: &mut String, value: &dyn Fn(usize) -> String| {
        for slot in &shown {
            let cell = match slot {
                Some(c) => value(*c),
                None => "…".to_string(),
            };
            let pad = column_width(slot).saturating_sub(cell.chars().count());
            let right = slot.is_some_and(|c| numeric[c]);
            if right {
                text.push_str(&format!("| {}{cell} ", " ".repeat(pad)));
            } else {
                text.push_str(&format!("| {cell}{} ", " ".repeat(pad)));
            }
        }
        text.push_str("|\n");
    };
    line(&mut text, &|c| names[c].clone());
    text.push_str(&border);
    let rows = cells.first().map_or(0, Vec::len);
    (0..rows).for_each(|row| line(&mut text, &|c| cells[c][row].clone()));
    if rows > 0 {
        text.push_str(&border);
    }
    Ok(Rendered { text, hidden })
}

/// The columns to show (None stands for the hidden middle) so that the table fits `width`:
/// all when they fit, else as many from both ends as fit, alternating left and right.
fn fit(widths: &[usize], width: usize) -> Vec<Option<usize>> {
    let total: usize = widths.iter().map(|w| w + 3).sum::<usize>() + 1;
    if total <= width || widths.len() <= 2 {
        return (0..widths.len()).map(Some).collect();
    }
    // The "…" column takes 4 characters, the closing border 1. Columns are taken from both
    // ends in turn; when one side's next column does not fit, the other side may still.
    let mut used = 1 + 4;
    let (mut left, mut right) = (0, widths.len());
    let mut take_left = true;
    let mut blocked = [false, false];
    while left < right && !(blocked[0] && blocked[1]) {
        let side = usize::from(!take_left);
        if !blocked[side] {
            let next = if take_left { left } else { right - 1 };
            if used + widths[next] + 3 > width {
                blocked[side] = true;
            } else {
                used += widths[next] + 3;
                if take_left {
                    left += 1;
                } else {
                    right -= 1;
                }
            }
        }
        take_left = !take_left;
    }
    // At least the first and the last column, however narrow the screen.
    let left = left.max(1);
    let right = right.min(widths.len() - 1).max(left);
    (0..left)
        .map(Some)
        .chain([None])
        .chain((right..widths.len()).map(Some))
        .collect()
}

fn column_text(array: &dyn Array, options: &FormatOptions<'_>) -> Result<Vec<String>> {
    let float = |v: Option<f64>| v.map_or_else(|| "NULL".to_string(), readable);
    Ok(match array.data_type() {
        DataType::Float64 => array
            .as_primitive::<Float64Type>()
            .iter()
            .map(float)
            .collect(),
        DataType::Float32 => array
            .as_primitive::<Float32Type>()
            .iter()
            .map(|v| float(v.map(f64::from)))
            .collect(),
        _ => {
            let formatter = ArrayFormatter::try_new(array, options)?;
            (0..array.len())
                .map(|i| formatter.value(i).to_string())
                .collect()
        }
    })
}

/// A float with about six significant digits (at least two decimals above 1, so amounts keep
/// their cents), trailing zeros dropped; very small or large magnitudes in scientific form.
pub fn readable(value: f64) -> String {
    if !value.is_finite() {
        return if value.is_nan() {
            "NaN".into()
        } else if value > 0.0 {
            "inf".into()
        } else {
            "-inf".into()
        };
    }
    let magnitude = value.abs();
    if magnitude != 0.0 && !(1e-5..1e15).contains(&magnitude) {
        return format!("{value:.5e}");
    }
    let decimals = if magnitude >= 1.0 {
        let digits = magnitude.log10().floor() as i64 + 1;
        (6 - digits).max(2) as usize
    } else if magnitude == 0.0 {
        0
    } else {
        (5 - magnitude.log10().floor() as i64) as usize
    };
    let text = format!("{value:.decimals$}");
    let text = if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        text
    };
    if text == "-0" { "0".into() } else { text }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use datafusion::arrow::array::{Float64Array, StringArray};
    use datafusion::arrow::datatypes::{Field, Schema};

    use super::*;

    #[test]
    fn floats_keep_six_significant_digits_and_cents() {
        assert_eq!(readable(0.5934065934065934), "0.593407");
        assert_eq!(readable(1289.7936363636363), "1289.79");
        assert_eq!(readable(280091.64), "280091.64");
        assert_eq!(readable(405.0), "405");
        assert_eq!(readable(-0.0000123456789), "-0.0000123457");
        assert_eq!(readable(1.5e-9), "1.50000e-9");
        assert_eq!(readable(0.0), "0");
        assert_eq!(readable(f64::NAN), "NaN");
    }

    #[test]
    fn wide_tables_hide_middle_columns() {
        assert_eq!(fit(&[3, 3, 3], 80), vec![Some(0), Some(1), Some(2)]);
        // 10 columns of 8: 11 each with borders; 40 wide holds two from each end... minus "…".
        let shown = fit(&[8; 10], 40);
        assert_eq!(shown, vec![Some(0), Some(1), None, Some(9)]);
        let shown = fit(&[30, 30, 30], 20);
        assert_eq!(shown, vec![Some(0), None, Some(2)]);
        // A wide second column does not keep a narrow third one off the screen.
        let shown = fit(&[5, 40, 5, 8], 60);
        assert_eq!(shown, vec![Some(0), None, Some(2), Some(3)]);
    }

    #[test]
    fn numbers_align_right_and_hidden_columns_are_named() {
        let schema = Arc::new(Schema::new(vec![
            Field::new("segment", DataType::Utf8, true),
            Field::new("share", DataType::Float64, true),
            Field::new("note", DataType::Utf8, true),
            Field::new("last", DataType::Utf8, true),
        ]));
        let batch = RecordBatch::try_new(
            schema.clone(),
            vec![
                Arc::new(StringArray::from(vec!["champions", "new"])),
                Arc::new(Float64Array::from(vec![Some(0.123456789), None])),
                Arc::new(StringArray::from(vec!["x".repeat(50), "y".into()])),
                Arc::new(StringArray::from(vec!["a", "b"])),
            ],
        )
        .unwrap();
        let all = render(&schema, std::slice::from_ref(&batch), 200).unwrap();
        assert!(all.hidden.is_empty());
        assert!(
            all.text.contains("| champions | 0.123457 |"),
            "{}",
            all.text
        );
        assert!(
            all.text.contains("| new       |     NULL |"),
            "{}",
            all.text
        );
        let narrow = render(&schema, &[batch], 40).unwrap();
        assert_eq!(narrow.hidden, vec!["note".to_string()]);
        assert!(
            narrow.text.lines().all(|l| l.chars().count() <= 40),
            "{}",
            narrow.text
        );
        assert!(narrow.text.contains("| … |"), "{}", narrow.text);
    }
}
