//! Result formats: a table for people; CSV, TSV, JSON, NDJSON and Parquet for pipelines.
//!
//! Results are streamed batch by batch to the writer, so a pipeline can write a result far
//! larger than memory. Only the `table` format holds rows, and at most `maxrows` of them.

use std::fmt;
use std::io::Write;
use std::str::FromStr;

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use datafusion::arrow::util::pretty::{
    pretty_format_batches_with_options, pretty_format_batches_with_schema,
};
use datafusion::arrow::{csv, json};
use datafusion::error::Result;
use datafusion::execution::SendableRecordBatchStream;
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::parquet::basic::Compression;
use datafusion::parquet::file::properties::WriterProperties;
use futures::StreamExt;

/// How results are printed or written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    /// An aligned text table, truncated to --maxrows rows.
    Table,
    /// Comma-separated values with a header line.
    Csv,
    /// Tab-separated values with a header line.
    Tsv,
    /// One JSON array of objects.
    Json,
    /// One JSON object per line.
    Ndjson,
    /// Apache Parquet (needs --output or \o: it is not for a terminal).
    Parquet,
}

impl OutputFormat {
    pub const ALL: [OutputFormat; 6] = [
        Self::Table,
        Self::Csv,
        Self::Tsv,
        Self::Json,
        Self::Ndjson,
        Self::Parquet,
    ];

    /// The format a file name's extension stands for, if any.
    pub fn from_file_name(name: &str) -> Option<Self> {
        let (_, ext) = name.rsplit_once('.')?;
        match ext.to_ascii_lowercase().as_str() {
            "parquet" | "parq" | "pq" => Some(Self::Parquet),
            "csv" => Some(Self::Csv),
            "tsv" => Some(Self::Tsv),
            "json" => Some(Self::Json),
            "ndjson" | "jsonl" => Some(Self::Ndjson),
            "txt" => Some(Self::Table),
            _ => None,
        }
    }

    /// True for formats that are binary and must not go to a terminal.
    pub fn is_binary(self) -> bool {
        self == Self::Parquet
    }
}

impl fmt::Display for OutputFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Table => "table",
            Self::Csv => "csv",
            Self::Tsv => "tsv",
            Self::Json => "json",
            Self::Ndjson => "ndjson",
            Self::Parquet => "parquet",
        })
    }
}

impl FromStr for OutputFormat {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|f| f.to_string().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| {
                format!("unknown format '{s}': expected table, csv, tsv, json, ndjson or parquet")
            })
    }
}

/// How many rows the `table` format shows; the rest are counted, not printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MaxRows {
    Unlimited,
    Limited(usize),
}

impl MaxRows {
    /// `0` means no limit.
    pub fn from_count(count: usize) -> Self {
        if count == 0 {
            Self::Unlimited
        } else {
            Self::Limited(count)
        }
    }
}

/// What was written: all rows of the result, and how many of them were shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct WriteSummary {
    pub rows: usize,
    pub shown: usize,
}

impl WriteSummary {
    pub fn hidden(&self) -> usize {
        self.rows - self.shown
    }
}

/// Streams a result to `out` in `format`.
///
/// # Errors
/// When the stream fails (the query's own error) or the output cannot be written.
pub async fn write_stream(
    mut stream: SendableRecordBatchStream,
    format: OutputFormat,
    max_rows: MaxRows,
    out: &mut (dyn Write + Send),
) -> Result<WriteSummary> {
    let schema = stream.schema();
    let mut writer = BatchWriter::new(format, schema, max_rows, out)?;
    while let Some(batch) = stream.next().await {
        writer.write(&batch?)?;
    }
    writer.finish()
}

/// Writes already collected batches; for results made in memory (e.g. `\d`).
///
/// # Errors
/// When the output cannot be written.
pub fn write_batches(
    schema: SchemaRef,
    batches: &[RecordBatch],
    format: OutputFormat,
    max_rows: MaxRows,
    out: &mut (dyn Write + Send),
) -> Result<WriteSummary> {
    let mut writer = BatchWriter::new(format, schema, max_rows, out)?;
    for batch in batches {
        writer.write(batch)?;
    }
    writer.finish()
}

/// CSV and TSV have no nested values: lists, structs and maps are written as the text the
/// table format shows (`[1, 2]`, `{r: 5, f: 4}`); NULL stays an empty field.
fn nested_as_text(batch: &RecordBatch) -> Result<RecordBatch> {
    let is_nested = |t: &DataType| t.is_nested();
    let schema = batch.schema();
    if !schema.fields().iter().any(|f| is_nested(f.data_type())) {
        return Ok(batch.clone());
    }
    let options = FormatOptions::default();
    let mut fields = Vec::with_capacity(schema.fields().len());
    let mut columns: Vec<ArrayRef> = Vec::with_capacity(schema.fields().len());
    for (field, column) in schema.fields().iter().zip(batch.columns()) {
        if !is_nested(field.data_type()) {
            fields.push(field.as_ref().clone());
            columns.push(Arc::clone(column));
            continue;
        }
        let formatter = ArrayFormatter::try_new(column.as_ref(), &options)?;
        let text: StringArray = (0..column.len())
            .map(|i| column.is_valid(i).then(|| formatter.value(i).to_string()))
            .collect();
        fields.push(Field::new(
            field.name(),
            DataType::Utf8,
            field.is_nullable(),
        ));
        columns.push(Arc::new(text));
    }
    Ok(RecordBatch::try_new(
        Arc::new(Schema::new(fields)),
        columns,
    )?)
}

enum Encoder<'a> {
    Table {
        schema: SchemaRef,
        kept: Vec<RecordBatch>,
        max_rows: MaxRows,
        out: &'a mut (dyn Write + Send),
    },
    Csv(csv::Writer<&'a mut (dyn Write + Send)>),
    Json(json::ArrayWriter<&'a mut (dyn Write + Send)>),
    Ndjson(json::LineDelimitedWriter<&'a mut (dyn Write + Send)>),
    Parquet(ArrowWriter<&'a mut (dyn Write + Send)>),
}

struct BatchWriter<'a> {
    encoder: Encoder<'a>,
    summary: WriteSummary,
}

impl<'a> BatchWriter<'a> {
    fn new(
        format: OutputFormat,
        schema: SchemaRef,
        max_rows: MaxRows,
        out: &'a mut (dyn Write + Send),
    ) -> Result<Self> {
        let encoder = match format {
            OutputFormat::Table => Encoder::Table {
                schema,
                kept: vec![],
                max_rows,
                out,
            },
            OutputFormat::Csv | OutputFormat::Tsv => {
                let delimiter = if format == OutputFormat::Tsv {
                    b'\t'
                } else {
                    b','
                };
                let mut writer = csv::WriterBuilder::new()
                    .with_header(true)
                    .with_delimiter(delimiter)
                    .build(out);
                // The header is written with the first batch, so an empty result still has one.
                writer.write(&nested_as_text(&RecordBatch::new_empty(schema))?)?;
                Encoder::Csv(writer)
            }
            OutputFormat::Json => Encoder::Json(
                json::WriterBuilder::new()
                    .with_explicit_nulls(true)
                    .build(out),
            ),
            OutputFormat::Ndjson => Encoder::Ndjson(
                json::WriterBuilder::new()
                    .with_explicit_nulls(true)
                    .build(out),
            ),
            OutputFormat::Parquet => {
                let props = WriterProperties::builder()
                    .set_compression(Compression::SNAPPY)
                    .build();
                Encoder::Parquet(ArrowWriter::try_new(out, schema, Some(props))?)
            }
        };
        Ok(Self {
            encoder,
            summary: WriteSummary::default(),
        })
    }

    fn write(&mut self, batch: &RecordBatch) -> Result<()> {
        let rows = batch.num_rows();
        self.summary.rows += rows;
        match &mut self.encoder {
            Encoder::Table { kept, max_rows, .. } => {
                let room = match max_rows {
                    MaxRows::Unlimited => rows,
                    MaxRows::Limited(limit) => limit.saturating_sub(self.summary.shown),
                };
                let take = room.min(rows);
                if take > 0 {
                    kept.push(batch.slice(0, take));
                }
                self.summary.shown += take;
                return Ok(());
            }
            Encoder::Csv(writer) => writer.write(&nested_as_text(batch)?)?,
            Encoder::Json(writer) => writer.write(batch)?,
            Encoder::Ndjson(writer) => writer.write(batch)?,
            Encoder::Parquet(writer) => writer.write(batch)?,
        }
        self.summary.shown += rows;
        Ok(())
    }

    fn finish(self) -> Result<WriteSummary> {
        match self.encoder {
            Encoder::Table {
                schema, kept, out, ..
            } => {
                let table = if kept.is_empty() {
                    pretty_format_batches_with_schema(schema, &[])?.to_string()
                } else {
                    let options = FormatOptions::default()
                        .with_display_error(true)
                        .with_null("NULL");
                    pretty_format_batches_with_options(&kept, &options)?.to_string()
                };
                writeln!(out, "{table}")?;
                out.flush()?;
            }
            Encoder::Csv(writer) => writer.into_inner().flush()?,
            Encoder::Json(mut writer) => {
                writer.finish()?;
                writeln!(writer.into_inner())?;
            }
            Encoder::Ndjson(mut writer) => writer.finish()?,
            Encoder::Parquet(writer) => {
                writer.close()?;
            }
        }
        Ok(self.summary)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use datafusion::arrow::array::{Int64Array, StringArray};
    use datafusion::arrow::datatypes::{DataType, Field, Schema};

    use super::*;

    fn sample() -> (SchemaRef, RecordBatch) {
        let schema = Arc::new(Schema::new(vec![
            Field::new("id", DataType::Int64, false),
            Field::new("segment", DataType::Utf8, true),
        ]));
        let batch = RecordBatch::try_new(
            schema.clone(),
            vec![
                Arc::new(Int64Array::from(vec![1, 2, 3])),
                Arc::new(StringArray::from(vec![
                    Some("champions"),
                    None,
                    Some("at, risk"),
                ])),
            ],
        )
        .unwrap();
        (schema, batch)
    }

    fn render(format: OutputFormat, max_rows: MaxRows, empty: bool) -> (String, WriteSummary) {
        let (schema, batch) = sample();
        let batches = if empty { vec![] } else { vec![batch] };
        let mut out = Vec::new();
        let summary = write_batches(schema, &batches, format, max_rows, &mut out).unwrap();
        (String::from_utf8(out).unwrap(), summary)
    }

    #[test]
    fn csv_quotes_and_keeps_header_when_empty() {
        let (text, summary) = render(OutputFormat::Csv, MaxRows::Limited(1), false);
        assert_eq!(text, "id,segment\n1,champions\n2,\n3,\"at, risk\"\n");
        assert_eq!(summary, WriteSummary { rows: 3, shown: 3 });
        assert_eq!(
            render(OutputFormat::Csv, MaxRows::Unlimited, true).0,
            "id,segment\n"
        );
    }

    #[test]
    fn csv_writes_lists_and_structs_as_text() {
        use datafusion::arrow::array::{Int64Builder, ListBuilder, StructArray};
        let mut sizes = ListBuilder::new(Int64Builder::new());
        sizes.values().append_value(120);
        sizes.values().append_value(80);
        sizes.append(true);
        sizes.append(false);
        let scores = StructArray::from(vec![(
            Arc::new(Field::new("r", DataType::Int64, false)),
            Arc::new(Int64Array::from(vec![5, 1])) as ArrayRef,
        )]);
        let batch = RecordBatch::try_from_iter(vec![
            ("sizes", Arc::new(sizes.finish()) as ArrayRef),
            ("s", Arc::new(scores) as ArrayRef),
        ])
        .unwrap();
        let mut out = Vec::new();
        write_batches(
            batch.schema(),
            std::slice::from_ref(&batch),
            OutputFormat::Csv,
            MaxRows::Unlimited,
            &mut out,
        )
        .unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "sizes,s\n\"[120, 80]\",{r: 5}\n,{r: 1}\n"
        );
    }

    #[test]
    fn tsv_uses_tabs() {
        let (text, _) = render(OutputFormat::Tsv, MaxRows::Unlimited, false);
        assert_eq!(text.lines().next(), Some("id\tsegment"));
    }

    #[test]
    fn json_has_explicit_nulls() {
        let (text, _) = render(OutputFormat::Json, MaxRows::Unlimited, false);
        assert_eq!(
            text,
            "[{\"id\":1,\"segment\":\"champions\"},{\"id\":2,\"segment\":null},\
             {\"id\":3,\"segment\":\"at, risk\"}]\n"
        );
        assert_eq!(
            render(OutputFormat::Json, MaxRows::Unlimited, true).0,
            "[]\n"
        );
    }

    #[test]
    fn ndjson_is_one_object_per_line() {
        let (text, _) = render(OutputFormat::Ndjson, MaxRows::Unlimited, false);
        assert_eq!(text.lines().count(), 3);
        assert_eq!(text.lines().nth(1), Some("{\"id\":2,\"segment\":null}"));
    }

    #[test]
    fn table_truncates_and_counts() {
        let (text, summary) = render(OutputFormat::Table, MaxRows::Limited(2), false);
        assert_eq!(summary, WriteSummary { rows: 3, shown: 2 });
        assert_eq!(summary.hidden(), 1);
        assert!(text.contains("| 2  | NULL      |"), "{text}");
        assert!(!text.contains("at, risk"), "{text}");
    }

    #[test]
    fn empty_table_shows_its_columns() {
        let (text, _) = render(OutputFormat::Table, MaxRows::Unlimited, true);
        assert!(text.contains("| id | segment |"), "{text}");
    }

    #[test]
    fn parquet_round_trips() {
        let (schema, batch) = sample();
        let mut out = Vec::new();
        write_batches(
            schema,
            std::slice::from_ref(&batch),
            OutputFormat::Parquet,
            MaxRows::Unlimited,
            &mut out,
        )
        .unwrap();
        let mut file = tempfile::tempfile().unwrap();
        file.write_all(&out).unwrap();
        let reader =
            datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReader::try_new(file, 1024)
                .unwrap();
        let read: Vec<RecordBatch> = reader.map(|b| b.unwrap()).collect();
        assert_eq!(read, vec![batch]);
    }

    #[test]
    fn formats_from_names() {
        assert_eq!("CSV".parse(), Ok(OutputFormat::Csv));
        assert!(
            "xls"
                .parse::<OutputFormat>()
                .unwrap_err()
                .contains("ndjson")
        );
        assert_eq!(
            OutputFormat::from_file_name("out.parquet"),
            Some(OutputFormat::Parquet)
        );
        assert_eq!(
            OutputFormat::from_file_name("out.jsonl"),
            Some(OutputFormat::Ndjson)
        );
        assert_eq!(OutputFormat::from_file_name("out"), None);
    }
}
