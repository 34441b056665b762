//! The REPL's variables: `\set NAME VALUE`, bound to `$NAME` in SQL as a typed value (through
//! DataFusion's placeholders, the binding saved queries' parameters use; never pasted into the
//! SQL text), and given to `\run` for a parameter of the same name.

use std::collections::{BTreeMap, HashMap};

use chrono::{NaiveDate, NaiveDateTime};
use datafusion::common::ParamValues;
use datafusion::common::metadata::ScalarAndMetadata;
use datafusion::error::{DataFusionError, Result};
use datafusion::logical_expr::LogicalPlan;

use crate::library::{ParamType, SavedQuery};

/// A variable's type and its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Variable {
    pub kind: ParamType,
    pub text: String,
}

/// The variables set in a session.
#[derive(Debug, Default, Clone)]
pub struct Variables {
    values: BTreeMap<String, Variable>,
}

/// True for names a variable can have: letters, digits and `_`, not starting with a digit.
pub fn is_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

impl Variables {
    /// Sets `name` to `raw`, typed by its form: `'text'` (quotes removed; '' is a quote),
    /// `true`/`false`, an integer, a number, a date `2024-07-01`, a timestamp
    /// `2024-07-01 12:00:00`, or else text as written.
    pub fn set(&mut self, name: &str, raw: &str) -> &Variable {
        let variable = infer(raw);
        self.values.insert(name.to_string(), variable);
        &self.values[name]
    }

    /// Removes `name`; false when it was not set.
    pub fn unset(&mut self, name: &str) -> bool {
        self.values.remove(name).is_some()
    }

    /// The variable names, for completion.
    pub fn names(&self) -> Vec<String> {
        self.values.keys().cloned().collect()
    }

    /// One line per variable: `as_of = 2024-07-01 (DATE)`.
    pub fn listing(&self) -> String {
        if self.values.is_empty() {
            return "no variables (\\set NAME VALUE sets one)\n".into();
        }
        self.values
            .iter()
            .map(|(name, v)| format!("{name} = {} ({})\n", v.text, v.kind))
            .collect()
    }

    /// `plan` with its `$NAME` placeholders bound to the variables.
    ///
    /// # Errors
    /// A placeholder no variable is set for, naming it.
    pub fn bind(&self, plan: LogicalPlan) -> Result<LogicalPlan> {
        let wanted = plan.get_parameter_types()?;
        if wanted.is_empty() {
            return Ok(plan);
        }
        let mut bound = HashMap::new();
        let mut names: Vec<&String> = wanted.keys().collect();
        names.sort();
        for id in names {
            let name = id.trim_start_matches('$');
            let variable = self.values.get(name).ok_or_else(|| {
                DataFusionError::Plan(format!(
                    "{id} is not set: \\set {name} VALUE sets it (\\set lists the variables)"
                ))
            })?;
            let value = variable
                .kind
                .parse_value(&variable.text)
                .map_err(|e| DataFusionError::Plan(format!("{id}: {e}")))?;
            bound.insert(name.to_string(), ScalarAndMetadata::from(value));
        }
        plan.with_param_values(ParamValues::Map(bound))
    }

    /// `given` with a value for each further parameter of `query` that a variable of the same
    /// name is set for (the given ones win).
    pub fn run_params(
        &self,
        query: &SavedQuery,
        given: &[(String, String)],
    ) -> Vec<(String, String)> {
        let mut params = given.to_vec();
        for param in &query.params {
            if given.iter().any(|(k, _)| *k == param.name) {
                continue;
            }
            if let Some(variable) = self.values.get(&param.name) {
                params.push((param.name.clone(), variable.text.clone()));
            }
        }
        params
    }
}

fn infer(raw: &str) -> Variable {
    let raw = raw.trim();
    let typed = |kind, text: &str| Variable {
        kind,
        text: text.to_string(),
    };
    if raw.len() >= 2 && raw.starts_with('\'') && raw.ends_with('\'') {
        return typed(ParamType::Text, &raw[1..raw.len() - 1].replace("''", "'"));
    }
    if raw.eq_ignore_ascii_case("true") || raw.eq_ignore_ascii_case("false") {
        return typed(ParamType::Boolean, &raw.to_ascii_lowercase());
    }
    if raw.parse::<i64>().is_ok() {
        return typed(ParamType::Int, raw);
    }
    if raw.parse::<f64>().is_ok_and(f64::is_finite) {
        return typed(ParamType::Double, raw);
    }
    if NaiveDate::parse_from_str(raw, "%Y-%m-%d").is_ok() {
        return typed(ParamType::Date, raw);
    }
    let timestamp = ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f"]
        .iter()
        .any(|f| NaiveDateTime::parse_from_str(raw, f).is_ok());
    if timestamp {
        return typed(ParamType::Timestamp, raw);
    }
    typed(ParamType::Text, raw)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_typed_by_their_form() {
        let cases = [
            ("2024-07-01", ParamType::Date, "2024-07-01"),
            (
                "2024-07-01 12:30:00",
                ParamType::Timestamp,
                "2024-07-01 12:30:00",
            ),
            ("5", ParamType::Int, "5"),
            ("-0.25", ParamType::Double, "-0.25"),
            ("TRUE", ParamType::Boolean, "true"),
            ("'it''s 5'", ParamType::Text, "it's 5"),
            ("'5'", ParamType::Text, "5"),
            ("rfm_package", ParamType::Text, "rfm_package"),
            ("NaN", ParamType::Text, "NaN"),
        ];
        for (raw, kind, text) in cases {
            assert_eq!(
                infer(raw),
                Variable {
                    kind,
                    text: text.into()
                },
                "{raw}"
            );
        }
        assert!(is_name("as_of") && is_name("_x1") && !is_name("1x") && !is_name("a-b"));
    }

    #[test]
    fn listing_and_unset() {
        let mut vars = Variables::default();
        assert!(vars.listing().starts_with("no variables"));
        vars.set("k", "4");
        vars.set("as_of", "2024-07-01");
        assert_eq!(vars.listing(), "as_of = 2024-07-01 (DATE)\nk = 4 (INT)\n");
        assert!(vars.unset("k") && !vars.unset("k"));
        assert_eq!(vars.names(), vec!["as_of".to_string()]);
    }
}
