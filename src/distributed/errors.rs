//! Ballista reports a cluster's errors as the debug text of a gRPC status wrapping a debug
//! `DataFusionError`; this recovers the message a person needs from it.

/// The inner message of a Ballista error text, or `None` when `text` is not one.
pub fn readable(text: &str) -> Option<String> {
    let start = text.find("Status { code: ")?;
    let rest = &text[start..];
    let message_at = rest.find("message: \"")? + "message: \"".len();
    let message = unescape_until_quote(&rest[message_at..]);
    let message = unwrap_debug(&message);
    let prefix = text[..start].trim_end_matches([' ', ':']);
    Some(if prefix.is_empty() {
        message
    } else {
        format!("{prefix}: {message}")
    })
}

/// A Rust debug string's content up to its closing quote, unescaped.
fn unescape_until_quote(text: &str) -> String {
    let mut out = String::new();
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => break,
            '\\' => match chars.next() {
                Some('n') | Some('t') => out.push(' '),
                Some(other) => out.push(other),
                None => break,
            },
            c => out.push(c),
        }
    }
    out
}

/// `Failed to create SessionContext: DataFusionError(Configuration("msg"))` -> `msg`, and the
/// same for every `Kind("...")` wrapper Ballista's debug output adds.
fn unwrap_debug(message: &str) -> String {
    let mut message = message.to_string();
    while let Some(open) = message.find("Error(") {
        let Some(quote) = message[open..].find("(\"").map(|q| open + q + 2) else {
            break;
        };
        let Some(close) = message.rfind("\")") else {
            break;
        };
        if close <= quote {
            break;
        }
        message =
            unescape_until_quote(&format!("{}\"", &message[quote..close])).replace("\\\"", "\"");
    }
    message
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_texts_become_their_message() {
        let text = r#"Status { code: Internal, message: "Failed to create SessionContext: DataFusionError(Configuration(\"the client runs seglake 0.0.1 but the cluster's scheduler runs seglake 0.1.0\"))", metadata: MetadataMap { headers: {} }, source: None }"#;
        assert_eq!(
            readable(text).unwrap(),
            "the client runs seglake 0.0.1 but the cluster's scheduler runs seglake 0.1.0"
        );
        assert_eq!(readable("plain error"), None);
        let text =
            r#"Job failed: Status { code: Internal, message: "a \"quoted\" name", metadata: {} }"#;
        assert_eq!(readable(text).unwrap(), r#"Job failed: a "quoted" name"#);
    }
}
