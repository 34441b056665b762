//! Rows of one radix partition gathered from runs of sorted input batches: fixed-width columns
//! are copied run by run into one growing buffer (no array or batch per run), other columns
//! are kept as slices and concatenated once.

use std::sync::Arc;

use datafusion::arrow::array::BooleanBufferBuilder;
use datafusion::arrow::array::{Array, ArrayData, ArrayRef, RecordBatch, make_array};
use datafusion::arrow::buffer::{Buffer, NullBuffer};
use datafusion::arrow::compute::concat;
use datafusion::arrow::datatypes::{DataType, SchemaRef};
use datafusion::common::Result;

/// One input batch's columns, ready to be copied from run by run.
pub(super) struct Source<'a> {
    columns: Vec<SourceColumn<'a>>,
}

enum SourceColumn<'a> {
    Fixed {
        width: usize,
        values: &'a [u8],
        nulls: Option<&'a NullBuffer>,
    },
    Other(&'a ArrayRef),
}

impl<'a> Source<'a> {
    pub(super) fn new(batch: &'a RecordBatch, data: &'a [ArrayData]) -> Self {
        let columns = batch
            .columns()
            .iter()
            .zip(data)
            .map(|(array, data)| match fixed_width(array.data_type()) {
                Some(width) if data.buffers().len() == 1 => SourceColumn::Fixed {
                    width,
                    values: &data.buffers()[0].as_slice()[data.offset() * width..],
                    nulls: array.nulls(),
                },
                _ => SourceColumn::Other(array),
            })
            .collect();
        Self { columns }
    }
}

/// Byte width of the types copied as raw values.
fn fixed_width(data_type: &DataType) -> Option<usize> {
    match data_type {
        DataType::Boolean => None,
        t if t.is_primitive() => t.primitive_width(),
        _ => None,
    }
}

/// The rows gathered so far for one radix partition.
#[derive(Default)]
pub(super) struct Gather {
    columns: Vec<GatherColumn>,
    rows: usize,
}

enum GatherColumn {
    Fixed {
        values: Vec<u8>,
        /// Validity, once a run with NULLs has arrived (earlier rows valid).
        nulls: Option<BooleanBufferBuilder>,
    },
    Other(Vec<ArrayRef>),
}

impl Gather {
    pub(super) fn rows(&self) -> usize {
        self.rows
    }

    /// Bytes the gathered rows hold.
    pub(super) fn bytes(&self) -> usize {
        self.columns
            .iter()
            .map(|c| match c {
                GatherColumn::Fixed { values, nulls } => {
                    values.capacity() + nulls.as_ref().map_or(0, |n| n.capacity() / 8)
                }
                GatherColumn::Other(slices) => {
                    slices.iter().map(|s| s.get_array_memory_size()).sum()
                }
            })
            .sum()
    }

    /// Copies rows `start..end` of `source`.
    pub(super) fn append(&mut self, source: &Source, start: usize, end: usize, capacity: usize) {
        if self.columns.is_empty() {
            self.columns = source
                .columns
                .iter()
                .map(|c| match c {
                    SourceColumn::Fixed { width, .. } => GatherColumn::Fixed {
                        values: Vec::with_capacity(capacity * width),
                        nulls: None,
                    },
                    SourceColumn::Other(_) => GatherColumn::Other(Vec::new()),
                })
                .collect();
        }
        let len = end - start;
        for (column, from) in self.columns.iter_mut().zip(&source.columns) {
            match (column, from) {
                (
                    GatherColumn::Fixed { values, nulls },
                    SourceColumn::Fixed {
                        width,
                        values: raw,
                        nulls: raw_nulls,
                    },
                ) => {
                    values.extend_from_slice(&raw[start * width..end * width]);
                    match (raw_nulls, nulls.as_mut()) {
                        (Some(raw_nulls), _) => {
                            let builder = nulls.get_or_insert_with(|| {
                                let mut b = BooleanBufferBuilder::new(capacity.max(self.rows));
                                b.append_n(self.rows, true);
                                b
                            });
                            builder.append_buffer(&raw_nulls.inner().slice(start, len));
                        }
                        (None, Some(builder)) => builder.append_n(len, true),
                        (None, None) => {}
                    }
                }
                (GatherColumn::Other(slices), SourceColumn::Other(array)) => {
                    slices.push(array.slice(start, len));
                }
                _ => {}
            }
        }
        self.rows += len;
    }

    /// The gathered rows as one batch of `schema`, leaving this gather empty.
    pub(super) fn finish(&mut self, schema: &SchemaRef) -> Result<Option<RecordBatch>> {
        if self.rows == 0 {
            return Ok(None);
        }
        let rows = std::mem::take(&mut self.rows);
        let columns = std::mem::take(&mut self.columns)
            .into_iter()
            .zip(schema.fields())
            .map(|(column, field)| -> Result<ArrayRef> {
                Ok(match column {
                    GatherColumn::Fixed { values, nulls } => {
                        let nulls = nulls.map(|mut b| NullBuffer::new(b.finish()));
                        let data = ArrayData::builder(field.data_type().clone())
                            .len(rows)
                            .add_buffer(Buffer::from_vec(values))
                            .nulls(nulls)
                            .build()?;
                        make_array(data)
                    }
                    GatherColumn::Other(slices) => {
                        let parts: Vec<&dyn Array> = slices.iter().map(|s| s.as_ref()).collect();
                        concat(&parts)?
                    }
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Some(RecordBatch::try_new(Arc::clone(schema), columns)?))
    }
}
