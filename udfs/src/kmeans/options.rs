//! `kmeans_fit`'s options struct: every option can be set alone, e.g.
//! `named_struct('seed', 7)`, because DataFusion 55's named arguments cannot skip a parameter.

use datafusion::common::{ScalarValue, plan_err};
use datafusion::error::Result;

use crate::common::args;
use crate::math::kmeans::KMeansOptions;

/// The options' names, in the order the documentation lists them.
pub const OPTIONS: [&str; 5] = ["standardize", "seed", "n_init", "max_iter", "tol"];

/// Reads the options struct (NULL or absent: the defaults). `k` is not an option: it is the
/// second argument, so that it can come from a column (`GROUP BY k`).
///
/// # Errors
/// A plan error for an unknown option or a value out of range, naming it.
pub fn options(syntax: &str, value: Option<&ScalarValue>) -> Result<KMeansOptions> {
    let mut options = KMeansOptions::default();
    let fields = match value {
        None | Some(ScalarValue::Null) => return Ok(options),
        Some(ScalarValue::Struct(fields)) => fields.clone(),
        Some(other) => {
            return plan_err!(
                "{syntax}: options must be a constant struct such as named_struct('seed', 7), \
                 got {}",
                other.data_type()
            );
        }
    };
    for (field, column) in fields.fields().iter().zip(fields.columns()) {
        let name = field.name().as_str();
        let value = ScalarValue::try_from_array(column, 0)?;
        let whole = |min: i64, max: i64| -> Result<i64> {
            match args::int(syntax, name, &value)? {
                Some(v) if (min..=max).contains(&v) => Ok(v),
                other => plan_err!(
                    "{syntax}: {name} must be a whole number from {min} to {max}, got {}",
                    other.map_or("NULL".to_string(), |v| v.to_string())
                ),
            }
        };
        match name {
            "standardize" => match args::bool(syntax, name, &value)? {
                Some(b) => options.standardize = b,
                None => return plan_err!("{syntax}: standardize must be true or false, got NULL"),
            },
            "seed" => options.seed = whole(0, i64::MAX)? as u64,
            "n_init" => options.n_init = whole(1, 1000)? as u32,
            "max_iter" => options.max_iter = whole(1, 100_000)? as u32,
            "tol" => match args::float(syntax, name, &value)? {
                Some(t) if t >= 0.0 && t.is_finite() => options.tol = t,
                other => {
                    return plan_err!(
                        "{syntax}: tol must be 0 or more, got {}",
                        other.map_or("NULL".to_string(), |v| v.to_string())
                    );
                }
            },
            "k" => {
                return plan_err!(
                    "{syntax}: k is the second argument, not an option: kmeans_fit(features, \
                     k, options)"
                );
            }
            other => {
                return plan_err!(
                    "{syntax}: unknown option '{other}': expected {}",
                    OPTIONS.join(", ")
                );
            }
        }
    }
    Ok(options)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use datafusion::arrow::array::{ArrayRef, BooleanArray, Float64Array, Int64Array, StructArray};
    use datafusion::arrow::datatypes::Field;

    use super::*;

    fn of(fields: Vec<(&str, ArrayRef)>) -> Result<KMeansOptions> {
        let fields = fields
            .into_iter()
            .map(|(n, a)| (Arc::new(Field::new(n, a.data_type().clone(), true)), a))
            .collect::<Vec<_>>();
        options(
            "kmeans_fit(features [, k [, options]])",
            Some(&ScalarValue::Struct(Arc::new(StructArray::from(fields)))),
        )
    }

    #[test]
    fn each_option_alone() {
        let seed = of(vec![("seed", Arc::new(Int64Array::from(vec![7])))]).unwrap();
        assert_eq!(
            seed,
            KMeansOptions {
                seed: 7,
                ..KMeansOptions::default()
            }
        );
        let raw = of(vec![(
            "standardize",
            Arc::new(BooleanArray::from(vec![false])),
        )])
        .unwrap();
        assert!(!raw.standardize && raw.n_init == 10);
        let tol = of(vec![("tol", Arc::new(Float64Array::from(vec![0.0])))]).unwrap();
        assert_eq!(tol.tol, 0.0);
        assert_eq!(options("f", None).unwrap(), KMeansOptions::default());
    }

    #[test]
    fn bad_options_are_named() {
        let err = of(vec![("n_init", Arc::new(Int64Array::from(vec![0])))]).unwrap_err();
        assert!(
            err.to_string()
                .contains("n_init must be a whole number from 1 to 1000, got 0")
        );
        let err = of(vec![("seeds", Arc::new(Int64Array::from(vec![0])))]).unwrap_err();
        assert!(
            err.to_string().contains(
                "unknown option 'seeds': expected standardize, seed, n_init, max_iter, tol"
            )
        );
        let err = of(vec![("k", Arc::new(Int64Array::from(vec![3])))]).unwrap_err();
        assert!(err.to_string().contains("k is the second argument"));
        let err = options("f", Some(&ScalarValue::Int64(Some(1)))).unwrap_err();
        assert!(
            err.to_string()
                .contains("options must be a constant struct")
        );
    }
}
