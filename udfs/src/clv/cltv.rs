//! `cltv(model, gg_model, frequency, recency, T, monetary_value [, options])`: discounted
//! customer lifetime value.

use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, Field, FieldRef};
use datafusion::common::{ScalarValue, plan_err};
use datafusion::error::Result;
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDFImpl, Signature,
    TypeSignature, Volatility,
};
use datafusion_macros::user_doc;

use super::expected_spend::{check_frequency, gamma_gamma};
use super::model::ModelKind;
use super::purchase_model::{PURCHASE_MODELS, PurchaseModels};
use super::rows::{arrays, coerce, map_numbers_on_cores, model, null_model, nulls};
use super::transactions_model::check_customer;
use crate::common::args;
use crate::math::lifetime_value::{PERIODS, discounted_value_of, horizons, periods_per_month};

const SYNTAX: &str = "cltv(model, gg_model, frequency, recency, T, monetary_value [, options])";
const NAMES: [&str; 7] = [
    "model",
    "gg_model",
    "frequency",
    "recency",
    "T",
    "monetary_value",
    "options",
];
const OPTIONS: [&str; 3] = ["months", "discount_rate", "period"];

#[user_doc(
    doc_section(label = "Customer lifetime value functions"),
    description = "Discounted customer lifetime value with exactly lifetimes' \
    customer_lifetime_value formula: the sum over months i = 1..months of expected_spend * \
    (E[X(i*f)] - E[X((i-1)*f)]) / (1 + discount_rate)^i, where E[X(t)] is expected_purchases \
    under the BG/NBD or Pareto/NBD model and f the model periods per month (day 30, week \
    4.345, month 1, hour 720). Options, each optional, in one constant struct (DataFusion's \
    named arguments cannot skip a parameter): months (12), discount_rate (0.01 a month), period \
    ('day', the unit of frequency, recency and T; 'week', 'month' or 'hour'), e.g. \
    `cltv(m, gg, f, r, t, mv, named_struct('period', 'week'))`. NULL model or inputs give NULL; \
    impossible inputs are errors; unknown options are plan-time errors.",
    syntax_example = "cltv(model, gg_model, frequency, recency, T, monetary_value [, options => named_struct('months', 12, 'discount_rate', 0.01, 'period', 'day')])",
    sql_example = r#"```sql
> WITH m AS (SELECT bgnbd_fit(frequency, recency, t) AS bg,
                    gammagamma_fit(frequency, monetary_value) AS gg FROM cdnow_summary)
  SELECT customer_id,
         round(cltv(bg, gg, frequency, recency, t, monetary_value,
                    named_struct('period', 'week')), 2) AS clv_12m
  FROM cdnow_summary CROSS JOIN m WHERE customer_id <= 3 ORDER BY customer_id;
+-------------+---------+
| customer_id | clv_12m |
+-------------+---------+
| 1           | 36.28   |
| 2           | 4.64    |
| 3           | 8.34    |
+-------------+---------+
```"#,
    argument(
        name = "model",
        description = "A model from bgnbd_fit, mbgnbd_fit or paretonbd_fit."
    ),
    argument(name = "gg_model", description = "A model from gammagamma_fit."),
    argument(name = "frequency", description = "Repeat purchases."),
    argument(name = "recency", description = "Age at the last purchase."),
    argument(name = "T", description = "Age at the end of observation."),
    argument(
        name = "monetary_value",
        description = "Mean spend of the repeat purchases."
    ),
    argument(
        name = "options",
        description = "A constant struct with any of months (whole, 1 or more), discount_rate \
        (monthly, 0 or more) and period ('day', 'week', 'month', 'hour')."
    )
)]
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct Cltv {
    signature: Signature,
}

impl Default for Cltv {
    fn default() -> Self {
        Self::new()
    }
}

impl Cltv {
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

/// The horizon, discounting and time unit of a call.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Options {
    months: u32,
    discount_rate: f64,
    periods_per_month: f64,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            months: 12,
            discount_rate: 0.01,
            periods_per_month: 30.0,
        }
    }
}

/// Reads the options struct, if given.
fn options(value: Option<&ScalarValue>) -> Result<Options> {
    let mut options = Options::default();
    let fields = match value {
        None | Some(ScalarValue::Null) => return Ok(options),
        Some(ScalarValue::Struct(fields)) => fields.clone(),
        Some(_) => {
            return plan_err!(
                "{SYNTAX}: options must be a constant struct, e.g. named_struct('period', 'week')"
            );
        }
    };
    for (field, column) in fields.fields().iter().zip(fields.columns()) {
        let name = field.name().as_str();
        let value = ScalarValue::try_from_array(column, 0)?;
        match name {
            "months" => match args::int(SYNTAX, name, &value)?.map(u32::try_from) {
                Some(Ok(months)) if months >= 1 => options.months = months,
                _ => return plan_err!("{SYNTAX}: months must be a whole number, 1 or more"),
            },
            "discount_rate" => match args::float(SYNTAX, name, &value)? {
                Some(d) if d >= 0.0 && d.is_finite() => options.discount_rate = d,
                other => {
                    return plan_err!("{SYNTAX}: discount_rate must be 0 or more, got {other:?}");
                }
            },
            "period" => {
                let period = args::string(SYNTAX, name, &value)?.unwrap_or_default();
                match periods_per_month(&period) {
                    Some(f) => options.periods_per_month = f,
                    None => {
                        return plan_err!(
                            "{SYNTAX}: unknown period '{period}': expected {}",
                            PERIODS.join(", ")
                        );
                    }
                }
            }
            other => {
                return plan_err!(
                    "{SYNTAX}: unknown option '{other}': expected {}",
                    OPTIONS.join(", ")
                );
            }
        }
    }
    Ok(options)
}

impl ScalarUDFImpl for Cltv {
    fn name(&self) -> &str {
        "cltv"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        args::count(SYNTAX, arg_types.len(), 6, 7)?;
        if let Some(t) = arg_types.get(6)
            && !matches!(t, DataType::Struct(_) | DataType::Null)
        {
            return plan_err!(
                "{SYNTAX}: options must be a struct such as named_struct('period', 'week'), got {t}"
            );
        }
        coerce(
            SYNTAX,
            &NAMES,
            arg_types,
            &[(0, PURCHASE_MODELS), (1, &[ModelKind::GammaGamma])],
            6,
        )
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Float64)
    }

    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        // Literal options are checked while planning; a named_struct(...) call is folded into
        // a constant later and checked when the function runs.
        options(args.scalar_arguments.get(6).copied().flatten())?;
        Ok(Arc::new(Field::new(self.name(), DataType::Float64, true)))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        if null_model(&args, &[0, 1]) {
            return Ok(nulls(args.number_rows));
        }
        let options = match args.args.get(6) {
            Some(ColumnarValue::Scalar(value)) => options(Some(value))?,
            Some(ColumnarValue::Array(_)) => {
                return plan_err!("{SYNTAX}: options must be a constant struct");
            }
            None => Options::default(),
        };
        let arrays = arrays(&args.args[..6], args.number_rows)?;
        let models = PurchaseModels::new(SYNTAX, &arrays[0], args.arg_fields[0].data_type())?;
        let spend_models = model(SYNTAX, &arrays, 1, ModelKind::GammaGamma)?;
        let horizons = horizons(options.months, options.periods_per_month);
        map_numbers_on_cores(&arrays[2..], |i, [x, t_x, age, m]| {
            let (Some(model), Some(gg)) = (models.row(i), spend_models.row::<3>(i)) else {
                return Ok(None);
            };
            check_customer(SYNTAX, x, t_x, age)?;
            check_frequency(SYNTAX, x)?;
            let spend = gamma_gamma(gg).expected_spend(x, m);
            let mut expected = vec![0.0; horizons.len()];
            model.expected_purchases_many(&horizons, x, t_x, age, &mut expected);
            Ok(Some(discounted_value_of(
                spend,
                options.discount_rate,
                options.periods_per_month,
                &horizons,
                &expected,
            )))
        })
    }

    fn documentation(&self) -> Option<&Documentation> {
        self.doc()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{ArrayRef, Float64Array, StringArray, StructArray};

    fn options_of(fields: Vec<(&str, ArrayRef)>) -> Result<Options> {
        let columns = fields
            .into_iter()
            .map(|(name, array)| {
                (
                    Arc::new(Field::new(name, array.data_type().clone(), true)),
                    array,
                )
            })
            .collect::<Vec<_>>();
        options(Some(&ScalarValue::Struct(Arc::new(StructArray::from(
            columns,
        )))))
    }

    #[test]
    fn options_change_one_at_a_time() {
        let week = options_of(vec![("period", Arc::new(StringArray::from(vec!["week"])))]);
        assert_eq!(
            week.unwrap(),
            Options {
                periods_per_month: 4.345,
                ..Options::default()
            }
        );
        let rate = options_of(vec![(
            "discount_rate",
            Arc::new(Float64Array::from(vec![0.02])),
        )]);
        assert_eq!(rate.unwrap().discount_rate, 0.02);
    }

    #[test]
    fn unknown_options_are_errors() {
        let err = options_of(vec![("horizon", Arc::new(Float64Array::from(vec![1.0])))])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("unknown option 'horizon': expected months, discount_rate, period"),
            "{err}"
        );
        let err = options_of(vec![(
            "period",
            Arc::new(StringArray::from(vec!["fortnight"])),
        )])
        .unwrap_err()
        .to_string();
        assert!(err.contains("expected day, week, month, hour"), "{err}");
    }
}
