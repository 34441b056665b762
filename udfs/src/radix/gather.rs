//! Rows of one radix partition gathered from runs of sorted input batches: fixed-width columns
//! are copied run by run into one growing buffer (no array or batch per run), in 4 bytes a
//! value where [`compact`](super::compact) allows; other columns are kept as slices and
//! concatenated once.

use datafusion::arrow::array::BooleanBufferBuilder;
use datafusion::arrow::array::{Array, ArrayData, ArrayRef, RecordBatch, make_array};
use datafusion::arrow::buffer::{Buffer, NullBuffer};
use datafusion::arrow::compute::concat;
use datafusion::arrow::datatypes::ToByteSlice;
use datafusion::arrow::datatypes::{DataType, SchemaRef};
use datafusion::common::Result;

use super::compact::{self, Encoding};

/// One input batch's columns, ready to be copied from run by run.
pub(super) struct Source<'a> {
    columns: Vec<SourceColumn<'a>>,
}

enum SourceColumn<'a> {
    Fixed {
        width: usize,
        values: &'a [u8],
        nulls: Option<&'a NullBuffer>,
        /// The values in 4 bytes each, when the column's compact encoding holds them all.
        compact: Option<(Encoding, &'a [u8])>,
    },
    Other(&'a ArrayRef),
}

impl<'a> Source<'a> {
    /// `batch`'s columns; `data` are their `ArrayData`, `compact` their compact values (see
    /// [`Scratch::encode`]).
    pub(super) fn new(
        batch: &'a RecordBatch,
        data: &'a [ArrayData],
        compact: &'a [Option<(Encoding, Vec<u32>)>],
    ) -> Self {
        let columns = batch
            .columns()
            .iter()
            .zip(data)
            .zip(compact)
            .map(
                |((array, data), compact)| match fixed_width(array.data_type()) {
                    Some(width) if data.buffers().len() == 1 => SourceColumn::Fixed {
                        width,
                        values: &data.buffers()[0].as_slice()[data.offset() * width..],
                        nulls: array.nulls(),
                        compact: compact
                            .as_ref()
                            .map(|(e, values)| (*e, values.as_slice().to_byte_slice())),
                    },
                    _ => SourceColumn::Other(array),
                },
            )
            .collect();
        Self { columns }
    }
}

/// Buffers for the compact values of each batch's columns, reused from batch to batch.
#[derive(Default)]
pub(super) struct Scratch {
    spare: Vec<Vec<u32>>,
    compact: Vec<Option<(Encoding, Vec<u32>)>>,
}

impl Scratch {
    /// The compact values of `batch`'s columns (`None` where a column is kept as read).
    pub(super) fn encode(&mut self, batch: &RecordBatch) -> &[Option<(Encoding, Vec<u32>)>] {
        let used = self.compact.drain(..).flatten().map(|(_, bytes)| bytes);
        self.spare.extend(used);
        for column in batch.columns() {
            let encoding = Encoding::candidate(column.data_type());
            let mut bytes = self.spare.pop().unwrap_or_default();
            if compact::encode(column, encoding, &mut bytes) {
                self.compact.push(Some((encoding, bytes)));
            } else {
                self.spare.push(bytes);
                self.compact.push(None);
            }
        }
        &self.compact
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
        /// How `values` holds them: compact or as read.
        encoding: Encoding,
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

    /// Whether `source`'s rows can join the rows gathered so far: a compact column takes
    /// only compact values (the first rows of a batch decide how it is held).
    pub(super) fn accepts(&self, source: &Source) -> bool {
        self.columns
            .iter()
            .zip(&source.columns)
            .all(|(c, s)| match (c, s) {
                (GatherColumn::Fixed { encoding, .. }, SourceColumn::Fixed { compact, .. }) => {
                    *encoding == Encoding::Raw || compact.is_some_and(|(e, _)| e == *encoding)
                }
                _ => true,
            })
    }

    /// Bytes the gathered rows hold.
    pub(super) fn bytes(&self) -> usize {
        self.columns
            .iter()
            .map(|c| match c {
                GatherColumn::Fixed { values, nulls, .. } => {
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
                    SourceColumn::Fixed { width, compact, .. } => {
                        let (encoding, width) = match compact {
                            Some((encoding, _)) => (*encoding, 4),
                            None => (Encoding::Raw, *width),
                        };
                        GatherColumn::Fixed {
                            encoding,
                            values: Vec::with_capacity(capacity * width),
                            nulls: None,
                        }
                    }
                    SourceColumn::Other(_) => GatherColumn::Other(Vec::new()),
                })
                .collect();
        }
        let len = end - start;
        for (column, from) in self.columns.iter_mut().zip(&source.columns) {
            match (column, from) {
                (
                    GatherColumn::Fixed {
                        encoding,
                        values,
                        nulls,
                    },
                    SourceColumn::Fixed {
                        width,
                        values: raw,
                        nulls: raw_nulls,
                        compact,
                    },
                ) => {
                    match compact {
                        Some((_, bytes)) if *encoding != Encoding::Raw => {
                            values.extend_from_slice(&bytes[start * 4..end * 4]);
                        }
                        _ => values.extend_from_slice(&raw[start * width..end * width]),
                    }
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
        let columns = std::mem::take(&mut self.columns);
        let encodings: Vec<Encoding> = columns
            .iter()
            .map(|c| match c {
                GatherColumn::Fixed { encoding, .. } => *encoding,
                GatherColumn::Other(_) => Encoding::Raw,
            })
            .collect();
        let schema = compact::stored_schema(schema, &encodings);
        let columns = columns
            .into_iter()
            .zip(schema.fields())
            .map(|(column, field)| -> Result<ArrayRef> {
                Ok(match column {
                    GatherColumn::Fixed { values, nulls, .. } => {
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
        Ok(Some(RecordBatch::try_new(schema, columns)?))
    }
}
