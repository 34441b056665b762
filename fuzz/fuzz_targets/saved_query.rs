//! The saved-query header (name, description, `-- param:` lines), parameter values of every
//! type and the parameters file, on any text: a query or one clear line, never a panic; a
//! parsed query's defaults are values of their declared types.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use seglake::library::{ParamType, SavedQuery, parse_params_file};

#[derive(Debug, Arbitrary)]
struct Input {
    /// Header lines, joined with newlines after a `-- ` prefix, then the body.
    header: Vec<(u8, String)>,
    body: String,
    /// (type name, value text) pairs for `ParamType::parse_value`.
    values: Vec<(String, String)>,
    params_file: String,
}

const KEYS: [&str; 5] = ["name", "description", "param", "", "other"];

fn one_line(message: &str) {
    assert!(!message.is_empty(), "empty error");
}

fuzz_target!(|input: Input| {
    let mut text = String::new();
    for (key, value) in &input.header {
        let key = KEYS[usize::from(*key) % KEYS.len()];
        text.push_str(&format!("-- {key}: {value}\n"));
    }
    text.push_str(&input.body);
    match SavedQuery::parse(&text, "fuzz.sql") {
        Ok(query) => {
            assert!(!query.name.is_empty());
            for param in &query.params {
                if let Some(default) = &param.default {
                    assert!(
                        param.kind.parse_value(default).is_ok(),
                        "default {default:?} of {} {}",
                        param.name,
                        param.kind
                    );
                }
            }
            let _ = query.params_summary();
        }
        Err(message) => {
            one_line(&message);
            assert!(message.starts_with("fuzz.sql: "), "{message}");
        }
    }
    for (kind, value) in input.values.iter().take(16) {
        match kind.parse::<ParamType>() {
            Ok(kind) => {
                assert_eq!(kind.to_string().parse::<ParamType>(), Ok(kind));
                if let Err(message) = kind.parse_value(value) {
                    one_line(&message);
                }
            }
            Err(message) => one_line(&message),
        }
    }
    if let Err(message) = parse_params_file(&input.params_file) {
        one_line(&message);
    }
});
