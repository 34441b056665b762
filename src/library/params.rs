//! A parameters file (`seglake run --params-file FILE`): `key = value` lines of TOML.

/// The `key = value` pairs of a parameters file, in the file's order. Values of any scalar TOML
/// type become text, parsed later by the parameter's declared type.
///
/// # Errors
/// When the text is not TOML, or a value is a table or an array; the message names the key.
pub fn parse_params_file(text: &str) -> Result<Vec<(String, String)>, String> {
    let table: toml::Table = toml::from_str(text).map_err(|e| e.message().to_string())?;
    table
        .into_iter()
        .map(|(key, value)| {
            let text = match value {
                toml::Value::String(s) => s,
                toml::Value::Integer(i) => i.to_string(),
                toml::Value::Float(f) => f.to_string(),
                toml::Value::Boolean(b) => b.to_string(),
                toml::Value::Datetime(d) => d.to_string(),
                other => {
                    return Err(format!(
                        "{key} must be a single value, got {}",
                        other.type_str()
                    ));
                }
            };
            Ok((key, text))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scalars_become_text_and_tables_are_refused() {
        let params = parse_params_file("as_of = 2024-07-01\nbins = 5\nmap = 'pymc'\n").unwrap();
        assert_eq!(
            params,
            vec![
                ("as_of".to_string(), "2024-07-01".to_string()),
                ("bins".to_string(), "5".to_string()),
                ("map".to_string(), "pymc".to_string()),
            ]
        );
        let err = parse_params_file("k = [1, 2]").unwrap_err();
        assert_eq!(err, "k must be a single value, got array");
    }
}
