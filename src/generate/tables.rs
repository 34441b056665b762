//! The canonical lake's tables as Arrow: schemas, and record batches from simulated rows.

use std::sync::Arc;

use datafusion::arrow::array::{
    ArrayRef, Float64Array, Int32Array, Int64Array, RecordBatch, StringArray,
    TimestampMicrosecondArray,
};
use datafusion::arrow::compute::{SortOptions, sort_to_indices, take_record_batch};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use datafusion::error::Result;

use super::simulate::{Campaign, Rows};

/// The tables of the canonical lake, in the order they are written.
pub const TABLES: [&str; 6] = [
    "customers",
    "transactions",
    "events",
    "campaigns",
    "campaign_contacts",
    "surveys",
];

fn ts() -> DataType {
    DataType::Timestamp(TimeUnit::Microsecond, None)
}

fn schema(fields: Vec<(&str, DataType, bool)>) -> SchemaRef {
    Arc::new(Schema::new(
        fields
            .into_iter()
            .map(|(name, data_type, nullable)| Field::new(name, data_type, nullable))
            .collect::<Vec<_>>(),
    ))
}

/// The schema of a canonical table (shared/domain.md §2).
pub fn table_schema(table: &str) -> SchemaRef {
    use DataType::{Float64, Int32, Int64, Utf8};
    match table {
        "customers" => schema(vec![
            ("customer_id", Int64, false),
            ("signup_ts", ts(), false),
            ("birth_year", Int32, false),
            ("gender", Utf8, false),
            ("income_band", Utf8, false),
            ("education", Utf8, false),
            ("region", Utf8, false),
            ("city", Utf8, false),
            ("acquisition_channel", Utf8, false),
            ("referred_by", Int64, true),
        ]),
        "transactions" => schema(vec![
            ("order_id", Int64, false),
            ("customer_id", Int64, false),
            ("order_ts", ts(), false),
            ("amount", Float64, false),
            ("cost", Float64, false),
            ("channel", Utf8, false),
            ("category", Utf8, false),
        ]),
        "events" => schema(vec![
            ("customer_id", Int64, false),
            ("event_ts", ts(), false),
            ("event_type", Utf8, false),
            ("channel", Utf8, false),
        ]),
        "campaigns" => schema(vec![
            ("campaign_id", Int64, false),
            ("name", Utf8, false),
            ("channel", Utf8, false),
            ("start_ts", ts(), false),
            ("end_ts", ts(), false),
            ("cost", Float64, false),
        ]),
        "campaign_contacts" => schema(vec![
            ("campaign_id", Int64, false),
            ("customer_id", Int64, false),
            ("sent_ts", ts(), false),
            ("responded_ts", ts(), true),
            ("converted_ts", ts(), true),
            ("revenue", Float64, false),
        ]),
        "surveys" => schema(vec![
            ("customer_id", Int64, false),
            ("survey_ts", ts(), false),
            ("nps", Int32, false),
            ("satisfaction", Int32, false),
            ("lifestyle", Utf8, false),
            ("values", Utf8, false),
            ("benefit_sought", Utf8, false),
        ]),
        _ => truth_schema(),
    }
}

/// The schema of `_truth/customers.parquet`.
pub fn truth_schema() -> SchemaRef {
    use DataType::{Float64, Int64, Utf8};
    schema(vec![
        ("customer_id", Int64, false),
        ("persona", Utf8, false),
        ("purchase_rate", Float64, false),
        ("dropout_probability", Float64, false),
        ("spend_rate", Float64, false),
        ("mean_spend", Float64, false),
        ("first_purchase_ts", ts(), true),
        ("dropout_ts", ts(), true),
    ])
}

fn ints(v: Vec<i64>) -> ArrayRef {
    Arc::new(Int64Array::from(v))
}

fn times(v: Vec<i64>) -> ArrayRef {
    Arc::new(TimestampMicrosecondArray::from(v))
}

fn maybe_times(v: Vec<Option<i64>>) -> ArrayRef {
    Arc::new(TimestampMicrosecondArray::from(v))
}

fn floats(v: Vec<f64>) -> ArrayRef {
    Arc::new(Float64Array::from(v))
}

fn texts(v: Vec<&'static str>) -> ArrayRef {
    Arc::new(StringArray::from(v))
}

/// Sorts a batch by one timestamp column, stably, so lakes look like time-ordered exports.
fn sorted_by(batch: RecordBatch, column: &str) -> Result<RecordBatch> {
    let Ok(index) = batch.schema().index_of(column) else {
        return Ok(batch);
    };
    let options = SortOptions {
        descending: false,
        nulls_first: true,
    };
    let indices = sort_to_indices(batch.column(index), Some(options), None)?;
    Ok(take_record_batch(&batch, &indices)?)
}

/// The record batches of one chunk: one per table in [`TABLES`] order (without campaigns),
/// then the truth.
pub fn chunk_batches(rows: Rows) -> Result<Vec<(&'static str, RecordBatch)>> {
    let Rows {
        customers: c,
        transactions: t,
        events: e,
        contacts: k,
        surveys: s,
        truth: r,
    } = rows;
    let customers = RecordBatch::try_new(
        table_schema("customers"),
        vec![
            ints(c.customer_id),
            times(c.signup_ts),
            Arc::new(Int32Array::from(c.birth_year)),
            texts(c.gender),
            texts(c.income_band),
            texts(c.education),
            texts(c.region),
            texts(c.city),
            texts(c.acquisition_channel),
            Arc::new(Int64Array::from(c.referred_by)),
        ],
    )?;
    let transactions = RecordBatch::try_new(
        table_schema("transactions"),
        vec![
            ints(t.order_id),
            ints(t.customer_id),
            times(t.order_ts),
            floats(t.amount),
            floats(t.cost),
            texts(t.channel),
            texts(t.category),
        ],
    )?;
    let events = RecordBatch::try_new(
        table_schema("events"),
        vec![
            ints(e.customer_id),
            times(e.event_ts),
            texts(e.event_type),
            texts(e.channel),
        ],
    )?;
    let contacts = RecordBatch::try_new(
        table_schema("campaign_contacts"),
        vec![
            ints(k.campaign_id),
            ints(k.customer_id),
            times(k.sent_ts),
            maybe_times(k.responded_ts),
            maybe_times(k.converted_ts),
            floats(k.revenue),
        ],
    )?;
    let surveys = RecordBatch::try_new(
        table_schema("surveys"),
        vec![
            ints(s.customer_id),
            times(s.survey_ts),
            Arc::new(Int32Array::from(s.nps)),
            Arc::new(Int32Array::from(s.satisfaction)),
            texts(s.lifestyle),
            texts(s.values),
            texts(s.benefit_sought),
        ],
    )?;
    let truth = RecordBatch::try_new(
        truth_schema(),
        vec![
            ints(r.customer_id),
            texts(r.persona),
            floats(r.purchase_rate),
            floats(r.dropout_probability),
            floats(r.spend_rate),
            floats(r.mean_spend),
            maybe_times(r.first_purchase_ts),
            maybe_times(r.dropout_ts),
        ],
    )?;
    Ok(vec![
        ("customers", customers),
        ("transactions", sorted_by(transactions, "order_ts")?),
        ("events", sorted_by(events, "event_ts")?),
        ("campaign_contacts", sorted_by(contacts, "sent_ts")?),
        ("surveys", sorted_by(surveys, "survey_ts")?),
        ("_truth", truth),
    ])
}

/// The campaigns table.
pub fn campaigns_batch(campaigns: &[Campaign]) -> Result<RecordBatch> {
    Ok(RecordBatch::try_new(
        table_schema("campaigns"),
        vec![
            ints(campaigns.iter().map(|c| c.id).collect()),
            Arc::new(StringArray::from_iter_values(
                campaigns.iter().map(|c| c.name.as_str()),
            )),
            texts(campaigns.iter().map(|c| c.channel).collect()),
            times(campaigns.iter().map(|c| c.start).collect()),
            times(campaigns.iter().map(|c| c.end).collect()),
            floats(campaigns.iter().map(|c| c.cost).collect()),
        ],
    )?)
}
