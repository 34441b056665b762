//! A saved query's header: its name, description and typed parameters.

use std::fmt;
use std::str::FromStr;

use chrono::{NaiveDate, NaiveDateTime};
use datafusion::common::ScalarValue;

/// The type of a parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamType {
    Date,
    Timestamp,
    Int,
    Double,
    Text,
    Boolean,
    Table,
}

impl FromStr for ParamType {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Self, Self::Err> {
        Ok(match s.to_ascii_uppercase().as_str() {
            "DATE" => Self::Date,
            "TIMESTAMP" => Self::Timestamp,
            "INT" | "INTEGER" | "BIGINT" => Self::Int,
            "DOUBLE" | "FLOAT" | "NUMBER" => Self::Double,
            "TEXT" | "STRING" | "VARCHAR" => Self::Text,
            "BOOLEAN" | "BOOL" => Self::Boolean,
            "TABLE" => Self::Table,
            other => {
                return Err(format!(
                    "unknown parameter type '{other}': expected DATE, TIMESTAMP, INT, DOUBLE, \
                     TEXT, BOOLEAN or TABLE"
                ));
            }
        })
    }
}

impl fmt::Display for ParamType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Date => "DATE",
            Self::Timestamp => "TIMESTAMP",
            Self::Int => "INT",
            Self::Double => "DOUBLE",
            Self::Text => "TEXT",
            Self::Boolean => "BOOLEAN",
            Self::Table => "TABLE",
        })
    }
}

impl ParamType {
    /// The typed value of `text`.
    ///
    /// # Errors
    /// When `text` is not a value of this type; the message says what was expected.
    pub fn parse_value(self, text: &str) -> std::result::Result<ScalarValue, String> {
        let expected = |what: &str| format!("expected {what}, got '{text}'");
        Ok(match self {
            Self::Date => {
                let date = NaiveDate::parse_from_str(text, "%Y-%m-%d")
                    .map_err(|_| expected("a date like 2024-01-31"))?;
                let days = date.signed_duration_since(NaiveDate::default()).num_days();
                ScalarValue::Date32(Some(days as i32))
            }
            Self::Timestamp => {
                let parsed = ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f"]
                    .iter()
                    .find_map(|f| NaiveDateTime::parse_from_str(text, f).ok())
                    .or_else(|| {
                        NaiveDate::parse_from_str(text, "%Y-%m-%d")
                            .ok()
                            .and_then(|d| d.and_hms_opt(0, 0, 0))
                    })
                    .ok_or_else(|| expected("a timestamp like 2024-01-31 12:00:00"))?;
                ScalarValue::TimestampMicrosecond(Some(parsed.and_utc().timestamp_micros()), None)
            }
            Self::Int => {
                ScalarValue::Int64(Some(text.parse().map_err(|_| expected("an integer"))?))
            }
            Self::Double => {
                let value: f64 = text.parse().map_err(|_| expected("a number"))?;
                if !value.is_finite() {
                    return Err(expected("a finite number"));
                }
                ScalarValue::Float64(Some(value))
            }
            Self::Text => ScalarValue::Utf8(Some(text.to_string())),
            Self::Boolean => ScalarValue::Boolean(Some(match text.to_ascii_lowercase().as_str() {
                "true" => true,
                "false" => false,
                _ => return Err(expected("true or false")),
            })),
            Self::Table => {
                if !is_table_name(text) {
                    return Err(expected("a table name"));
                }
                ScalarValue::Utf8(Some(text.to_string()))
            }
        })
    }
}

fn is_table_name(text: &str) -> bool {
    !text.is_empty()
        && text.split('.').all(|part| {
            let mut chars = part.chars();
            matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
                && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        })
}

/// One declared parameter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Param {
    pub name: String,
    pub kind: ParamType,
    pub default: Option<String>,
}

impl fmt::Display for Param {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.name, self.kind)?;
        if let Some(default) = &self.default {
            write!(f, " = {default}")?;
        }
        Ok(())
    }
}

/// A saved query.
#[derive(Debug, Clone)]
pub struct SavedQuery {
    pub name: String,
    pub description: String,
    pub params: Vec<Param>,
    /// The whole file, header included (the header is SQL comments).
    pub sql: String,
    /// Where it came from: `built-in` or a file path.
    pub origin: String,
}

impl SavedQuery {
    /// Parses a query file's text.
    ///
    /// # Errors
    /// When the header lacks a name or description, or a parameter line is malformed.
    pub fn parse(text: &str, origin: &str) -> std::result::Result<Self, String> {
        let mut name = None;
        let mut description = None;
        let mut params = Vec::new();
        for line in text
            .lines()
            .map_while(|l| l.trim_start().strip_prefix("--"))
        {
            let Some((key, value)) = line.split_once(':') else {
                continue;
            };
            let value = value.trim();
            match key.trim() {
                "name" => name = Some(value.to_string()),
                "description" => description = Some(value.to_string()),
                "param" => params.push(parse_param(value).map_err(|e| format!("{origin}: {e}"))?),
                _ => {}
            }
        }
        let name = name.ok_or_else(|| format!("{origin}: the header has no '-- name:' line"))?;
        if !is_table_name(&name) {
            return Err(format!(
                "{origin}: query name '{name}' must be an identifier"
            ));
        }
        Ok(Self {
            name,
            description: description
                .ok_or_else(|| format!("{origin}: the header has no '-- description:' line"))?,
            params,
            sql: text.to_string(),
            origin: origin.to_string(),
        })
    }

    /// `name TYPE [= default]` for every parameter, comma-separated.
    pub fn params_summary(&self) -> String {
        self.params
            .iter()
            .map(Param::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    }
}

fn parse_param(text: &str) -> std::result::Result<Param, String> {
    let (declaration, default) = match text.split_once('=') {
        Some((d, v)) => (d.trim(), Some(unquote(v.trim()))),
        None => (text.trim(), None),
    };
    let mut words = declaration.split_whitespace();
    let (Some(name), Some(kind), None) = (words.next(), words.next(), words.next()) else {
        return Err(format!(
            "expected '-- param: NAME TYPE [= DEFAULT]', got '{text}'"
        ));
    };
    if !is_table_name(name) || name.contains('.') {
        return Err(format!("parameter name '{name}' must be an identifier"));
    }
    let kind: ParamType = kind.parse()?;
    if let Some(default) = &default {
        kind.parse_value(default)
            .map_err(|e| format!("default of parameter {name}: {e}"))?;
    }
    Ok(Param {
        name: name.to_string(),
        kind,
        default,
    })
}

fn unquote(text: &str) -> String {
    text.strip_prefix('\'')
        .and_then(|t| t.strip_suffix('\''))
        .map_or_else(|| text.to_string(), |t| t.replace("''", "'"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_parse() {
        let query = SavedQuery::parse(
            "-- name: q\n-- description: d\n-- a note: ignored\n-- param: as_of DATE = '2024-01-01'\n\
             -- param: t TABLE = transactions\n-- param: n INT\nSELECT 1",
            "test",
        )
        .unwrap();
        assert_eq!(
            query.params_summary(),
            "as_of DATE = 2024-01-01, t TABLE = transactions, n INT"
        );
        assert!(
            SavedQuery::parse("-- description: d\nSELECT 1", "f.sql")
                .unwrap_err()
                .contains("no '-- name:'")
        );
        let err = SavedQuery::parse(
            "-- name: q\n-- description: d\n-- param: x DATE = 'soon'",
            "f.sql",
        )
        .unwrap_err();
        assert!(
            err.contains("default of parameter x: expected a date"),
            "{err}"
        );
        assert!(
            SavedQuery::parse("-- name: q\n-- description: d\n-- param: x MONEY", "f")
                .unwrap_err()
                .contains("MONEY")
        );
    }

    #[test]
    fn values_parse_by_type() {
        assert_eq!(
            ParamType::Date.parse_value("1970-01-02"),
            Ok(ScalarValue::Date32(Some(1)))
        );
        assert!(
            ParamType::Date
                .parse_value("2024-01-01'; DROP TABLE x; --")
                .unwrap_err()
                .contains("expected a date")
        );
        assert_eq!(
            ParamType::Timestamp.parse_value("1970-01-01 00:00:01"),
            Ok(ScalarValue::TimestampMicrosecond(Some(1_000_000), None))
        );
        assert_eq!(
            ParamType::Int.parse_value("42"),
            Ok(ScalarValue::Int64(Some(42)))
        );
        assert!(ParamType::Double.parse_value("NaN").is_err());
        assert!(ParamType::Boolean.parse_value("yes").is_err());
        assert!(ParamType::Table.parse_value("orders; DROP").is_err());
        assert!(ParamType::Table.parse_value("lake.orders").is_ok());
    }
}
