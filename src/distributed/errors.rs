//! Ballista reports a cluster's errors as the debug text of a gRPC status wrapping a debug
//! `DataFusionError`; this recovers the message a person needs from it.

/// The inner message of a Ballista error text, or `None` when `text` is not one.
pub fn readable(text: &str) -> Option<String> {
    if let Some(lost) = connect_error(text) {
        return Some(lost);
    }
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

/// `tonic::transport::Error(Transport, ConnectError(ConnectError("tcp connect error",
/// 127.0.0.1:50050, Os { .., message: "Connection refused" })))`: the scheduler is gone.
fn connect_error(text: &str) -> Option<String> {
    let at = text.find("ConnectError(\"tcp connect error\", ")?;
    let rest = &text[at + "ConnectError(\"tcp connect error\", ".len()..];
    let address = rest.split(',').next()?.trim();
    let reason = rest
        .find("message: \"")
        .map(|m| unescape_until_quote(&rest[m + "message: \"".len()..]))
        .unwrap_or_else(|| "connection failed".to_string());
    Some(format!(
        "lost the cluster's scheduler at {address}: {reason} (is `seglake cluster scheduler` \
         still running?)"
    ))
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
        let text = r#"tonic::transport::Error(Transport, ConnectError(ConnectError("tcp connect error", 127.0.0.1:42095, Os { code: 111, kind: ConnectionRefused, message: "Connection refused" })))"#;
        let lost = readable(text).unwrap();
        assert!(
            lost.starts_with("lost the cluster's scheduler at 127.0.0.1:42095: Connection refused"),
            "{lost}"
        );
    }
}
