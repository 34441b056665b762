//! `lifecycle_stage(first_purchase, last_purchase, purchases_365d, spend_365d, as_of [, ...])`.

use std::sync::Arc;

use datafusion::arrow::array::{Array, AsArray, StringArray};
use datafusion::arrow::datatypes::{
    DataType, Field, FieldRef, Float64Type, Int64Type, TimestampMicrosecondType,
};
use datafusion::common::{ScalarValue, exec_err, plan_err};
use datafusion::error::Result;
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDFImpl, Signature,
    TypeSignature, Volatility,
};
use datafusion_macros::user_doc;

use super::rules::{Thresholds, stage};
use crate::common::args;
use crate::rfm::periods::day_of_micros;

const SYNTAX: &str = "lifecycle_stage(first_purchase, last_purchase, purchases_365d, spend_365d, \
                      as_of [, thresholds])";

const NAMES: [&str; 6] = [
    "first_purchase",
    "last_purchase",
    "purchases_365d",
    "spend_365d",
    "as_of",
    "thresholds",
];

/// The fields a thresholds struct may have.
const THRESHOLDS: [&str; 5] = [
    "new_days",
    "active_days",
    "at_risk_days",
    "loyal_purchases",
    "loyal_spend",
];

#[user_doc(
    doc_section(label = "Customer segmentation functions"),
    description = "The lifecycle stage of a customer as of a date: `prospect` (no purchase \
    before as_of), `new` (first purchase at most new_days = 30 days before), `loyal` (last \
    purchase at most active_days = 90 days before, and at least loyal_purchases = 5 purchases \
    or loyal_spend = 500 spend in the last 365 days), `active` (last purchase at most 90 days \
    before), `at_risk` (last purchase 91 to at_risk_days = 180 days before) or `churned` \
    (longer ago). Rules are tried in that order; days are whole days between dates. A first \
    purchase at or after as_of counts as none; a NULL last purchase is taken to be the first; \
    NULL purchases_365d or spend_365d count as 0 (no purchases in the window, as after a LEFT \
    JOIN); a NULL as_of gives NULL. Any threshold can be changed alone, by name, in a constant \
    struct: `lifecycle_stage(first, last, n, spend, as_of, named_struct('active_days', 60))` \
    (a struct because DataFusion's named arguments cannot skip a parameter).",
    syntax_example = "lifecycle_stage(first_purchase, last_purchase, purchases_365d, spend_365d, as_of [, thresholds => named_struct('new_days', 30, 'active_days', 90, 'at_risk_days', 180, 'loyal_purchases', 5, 'loyal_spend', 500)])",
    sql_example = r#"```sql
> SELECT c.customer_id,
         lifecycle_stage(r['first_purchase'], r['last_purchase'], r['frequency'], r['monetary'],
                         DATE '2024-01-01') AS stage
  FROM customers c
  LEFT JOIN (SELECT customer_id, rfm(order_ts, amount, DATE '2024-01-01') AS r
             FROM transactions GROUP BY customer_id) USING (customer_id)
  ORDER BY c.customer_id;
+-------------+----------+
| customer_id | stage    |
+-------------+----------+
| 1           | at_risk  |
| 2           | churned  |
| 3           | active   |
| 4           | churned  |
| 5           | prospect |
+-------------+----------+
```"#,
    argument(
        name = "first_purchase",
        description = "The customer's first purchase: a timestamp or date."
    ),
    argument(
        name = "last_purchase",
        description = "The customer's last purchase before as_of."
    ),
    argument(
        name = "purchases_365d",
        description = "Purchases in the 365 days before as_of."
    ),
    argument(
        name = "spend_365d",
        description = "Spend in the 365 days before as_of."
    ),
    argument(
        name = "as_of",
        description = "The date the stage is for: a timestamp, date or date text."
    ),
    argument(
        name = "thresholds",
        description = "A constant struct with any of new_days (30), active_days (90), \
        at_risk_days (180, at least active_days), loyal_purchases (5) and loyal_spend (500)."
    )
)]
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct LifecycleStage {
    signature: Signature,
}

impl Default for LifecycleStage {
    fn default() -> Self {
        Self::new()
    }
}

impl LifecycleStage {
    pub fn new() -> Self {
        Self {
            signature: Signature {
                type_signature: TypeSignature::UserDefined,
                volatility: Volatility::Immutable,
                parameter_names: Some(NAMES.map(String::from).to_vec()),
            },
        }
    }
}

/// The thresholds of a call: defaults, changed by the fields of the constant thresholds struct.
fn thresholds(values: &[Option<&ScalarValue>], given: usize) -> Result<Thresholds> {
    let mut t = Thresholds::default();
    if given < 6 {
        return Ok(t);
    }
    let fields = match values.get(5).copied().flatten() {
        Some(ScalarValue::Struct(fields)) => fields.clone(),
        Some(ScalarValue::Null) => return Ok(t),
        _ => {
            return plan_err!(
                "{SYNTAX}: thresholds must be a constant struct, e.g. named_struct('active_days', 60)"
            );
        }
    };
    for (field, column) in fields.fields().iter().zip(fields.columns()) {
        let name = field.name().as_str();
        let value = ScalarValue::try_from_array(column, 0)?;
        match name {
            "loyal_spend" => match args::float(SYNTAX, name, &value)? {
                Some(v) if v >= 0.0 => t.loyal_spend = v,
                other => return plan_err!("{SYNTAX}: {name} must be 0 or more, got {other:?}"),
            },
            "new_days" | "active_days" | "at_risk_days" | "loyal_purchases" => {
                let v = match args::int(SYNTAX, name, &value)? {
                    Some(v) if v >= 0 => v,
                    other => return plan_err!("{SYNTAX}: {name} must be 0 or more, got {other:?}"),
                };
                match name {
                    "new_days" => t.new_days = v,
                    "active_days" => t.active_days = v,
                    "at_risk_days" => t.at_risk_days = v,
                    _ => t.loyal_purchases = v,
                }
            }
            other => {
                return plan_err!(
                    "{SYNTAX}: unknown threshold '{other}': expected {}",
                    THRESHOLDS.join(", ")
                );
            }
        }
    }
    if t.at_risk_days < t.active_days {
        return plan_err!(
            "{SYNTAX}: at_risk_days ({}) must be at least active_days ({})",
            t.at_risk_days,
            t.active_days
        );
    }
    Ok(t)
}

impl ScalarUDFImpl for LifecycleStage {
    fn name(&self) -> &str {
        "lifecycle_stage"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        args::count(SYNTAX, arg_types.len(), 5, 6)?;
        arg_types
            .iter()
            .enumerate()
            .map(|(i, t)| match i {
                0 | 1 => args::timestamp(SYNTAX, NAMES[i], t, false),
                4 => args::timestamp(SYNTAX, NAMES[i], t, true),
                2 => args::integer(SYNTAX, NAMES[i], t),
                3 => args::number(SYNTAX, NAMES[i], t),
                _ => match t {
                    DataType::Struct(_) | DataType::Null => Ok(t.clone()),
                    other => plan_err!(
                        "{SYNTAX}: thresholds must be a struct such as \
                         named_struct('active_days', 60), got {other}"
                    ),
                },
            })
            .collect()
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        // Literal thresholds are checked while planning; a named_struct(...) call is folded
        // into a constant later and checked when the function runs.
        if args.scalar_arguments.get(5).copied().flatten().is_some() {
            thresholds(args.scalar_arguments, args.arg_fields.len())?;
        }
        Ok(Arc::new(Field::new(self.name(), DataType::Utf8, true)))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let constants: Vec<Option<&ScalarValue>> = args
            .args
            .iter()
            .map(|a| match a {
                ColumnarValue::Scalar(v) => Some(v),
                ColumnarValue::Array(_) => None,
            })
            .collect();
        let t = thresholds(&constants, args.args.len())?;
        let arrays = crate::common::args::arrays(&args.args[..5], args.number_rows)?;
        let first = arrays[0].as_primitive::<TimestampMicrosecondType>();
        let last = arrays[1].as_primitive::<TimestampMicrosecondType>();
        let purchases = arrays[2].as_primitive::<Int64Type>();
        let spend = arrays[3].as_primitive::<Float64Type>();
        let as_of = arrays[4].as_primitive::<TimestampMicrosecondType>();
        let mut stages = Vec::with_capacity(first.len());
        for i in 0..first.len() {
            if as_of.is_null(i) {
                stages.push(None);
                continue;
            }
            let as_of_micros = as_of.value(i);
            let as_of_day = day_of_micros(as_of_micros);
            let bought = first.is_valid(i) && first.value(i) < as_of_micros;
            let since_first = bought.then(|| as_of_day - day_of_micros(first.value(i)));
            let last_ts = if last.is_valid(i) {
                last.value(i)
            } else {
                first.value(i)
            };
            let since_last = as_of_day - day_of_micros(last_ts);
            if bought && since_last < 0 {
                return exec_err!(
                    "{SYNTAX}: last_purchase is after as_of (row {i}); give the last purchase \
                     before as_of, e.g. rfm(order_ts, amount, as_of)['last_purchase']"
                );
            }
            let count = if purchases.is_valid(i) {
                purchases.value(i)
            } else {
                0
            };
            let amount = if spend.is_valid(i) {
                spend.value(i)
            } else {
                0.0
            };
            stages.push(Some(stage(since_first, since_last, count, amount, &t)));
        }
        Ok(ColumnarValue::Array(Arc::new(StringArray::from(stages))))
    }

    fn documentation(&self) -> Option<&Documentation> {
        self.doc()
    }
}
