//! Object store errors as one line a person can act on.
//!
//! object_store reports the request, the retries and the server's raw reply (an XML document
//! for S3), but keeps the cause of a failed request (refused connection, timeout) in the
//! error's source chain. This puts the cause in the line, shortens the reply to its code and
//! message, and adds what to check for the common cases.

use std::error::Error as _;

/// One line for an object store error: cause included, S3's XML reply reduced to
/// `Code: Message`, and a hint for missing buckets, rejected credentials and dead servers.
pub fn explain(err: &object_store::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let message = cause.to_string();
        if !text.contains(&message) {
            text.push_str(": ");
            text.push_str(&message);
        }
        source = cause.source();
    }
    let text = drop_elapsed(&reduce_xml_reply(&text));
    match hint(&text) {
        Some(hint) => format!("{text} ({hint})"),
        None => text,
    }
}

/// `...: <?xml ...><Error><Code>C</Code><Message>M</Message>...</Error>` → `...: C: M`.
fn reduce_xml_reply(text: &str) -> String {
    let Some(start) = text.find("<?xml").or_else(|| text.find("<Error>")) else {
        return text.to_string();
    };
    let code = element(&text[start..], "Code");
    let message = element(&text[start..], "Message");
    let reply = match (code, message) {
        (Some(code), Some(message)) => format!("{code}: {message}"),
        (Some(code), None) => code.to_string(),
        (None, Some(message)) => message.to_string(),
        (None, None) => return text.to_string(),
    };
    format!("{}{reply}", &text[..start])
}

fn element<'a>(xml: &'a str, name: &str) -> Option<&'a str> {
    let open = format!("<{name}>");
    let close = format!("</{name}>");
    let start = xml.find(&open)? + open.len();
    let end = xml[start..].find(&close)? + start;
    Some(xml[start..end].trim())
}

/// Removes object_store's " in 2.55962ms" after the request: noise in a message, and it
/// makes the same failure print differently every time.
fn drop_elapsed(text: &str) -> String {
    let Some(at) = text.find(" in ") else {
        return text.to_string();
    };
    let rest = &text[at + 4..];
    let number_end = rest
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(rest.len());
    let unit_end = rest[number_end..]
        .find(|c: char| !c.is_alphabetic())
        .map_or(rest.len(), |i| number_end + i);
    let unit = &rest[number_end..unit_end];
    if number_end == 0 || !["ns", "µs", "us", "ms", "s", "m"].contains(&unit) {
        return text.to_string();
    }
    format!("{}{}", &text[..at], &rest[unit_end..])
}

fn hint(text: &str) -> Option<&'static str> {
    let has = |needle: &str| text.contains(needle);
    if has("NoSuchBucket") {
        Some("the bucket does not exist")
    } else if has("ContainerNotFound") {
        Some("the container does not exist")
    } else if has("InvalidAccessKeyId")
        || has("SignatureDoesNotMatch")
        || has("AccessDenied")
        || has("403 Forbidden")
        || has("401 Unauthorized")
    {
        Some(if has("GCS error") {
            "check the credentials: GOOGLE_SERVICE_ACCOUNT or GOOGLE_APPLICATION_CREDENTIALS, \
             or [storage.\"gs://bucket\"] in seglake.toml"
        } else if has("MicrosoftAzure error") {
            "check the credentials: AZURE_STORAGE_ACCOUNT_NAME with AZURE_STORAGE_ACCOUNT_KEY \
             or a SAS, or [storage.\"az://container\"] in seglake.toml"
        } else {
            "check the credentials: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, AWS_PROFILE, \
             or [storage.\"s3://bucket\"] in seglake.toml"
        })
    } else if has("onnection refused") {
        Some("nothing is listening at the store's address: check the endpoint and the server")
    } else if has("onnection closed")
        || has("onnection reset")
        || has("onnection was not ready")
        || has("roken pipe")
    {
        Some("the server dropped the connection: it may have stopped or restarted")
    } else if has("timed out") {
        Some(
            "the server did not answer in time; [storage] timeout, max_retries and \
             retry_timeout in seglake.toml set how long to wait",
        )
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_reply_becomes_code_and_message() {
        let raw = "Error performing GET http://h/lake?list-type=2 in 2.5ms - Server returned \
                   non-2xx status code: 404 Not Found: <?xml version=\"1.0\"?> <Error>\
                   <Code>NoSuchBucket</Code><Message>The specified bucket does not exist\
                   </Message><Resource>/lake</Resource></Error>";
        let text = drop_elapsed(&reduce_xml_reply(raw));
        assert_eq!(
            text,
            "Error performing GET http://h/lake?list-type=2 - Server returned non-2xx status \
             code: 404 Not Found: NoSuchBucket: The specified bucket does not exist"
        );
        assert_eq!(hint(&text), Some("the bucket does not exist"));
    }

    #[test]
    fn elapsed_time_is_dropped_only_when_it_is_one() {
        assert_eq!(
            drop_elapsed("GET x in 6.28s, after 2 retries"),
            "GET x, after 2 retries"
        );
        assert_eq!(
            drop_elapsed("error in parquet file"),
            "error in parquet file"
        );
        assert_eq!(drop_elapsed("row in 12 groups"), "row in 12 groups");
        assert_eq!(
            drop_elapsed("PROPFIND x in 105.1µs - HTTP"),
            "PROPFIND x - HTTP"
        );
    }

    #[test]
    fn hints_for_credentials_and_dead_servers() {
        assert!(
            hint("Generic S3 error: 403 Forbidden: SignatureDoesNotMatch")
                .unwrap()
                .contains("AWS_SECRET_ACCESS_KEY")
        );
        assert!(
            hint("Generic GCS error: 401 Unauthorized")
                .unwrap()
                .contains("GOOGLE_APPLICATION_CREDENTIALS")
        );
        assert!(
            hint("Generic MicrosoftAzure error: 403 Forbidden")
                .unwrap()
                .contains("AZURE_STORAGE_ACCOUNT_KEY")
        );
        assert!(
            hint("tcp connect error: Connection refused")
                .unwrap()
                .contains("endpoint")
        );
        assert!(hint("operation timed out").unwrap().contains("timeout"));
        let closed =
            "max_retries: 2, retry_timeout: 5s - connection closed before message completed";
        assert!(hint(closed).unwrap().contains("dropped the connection"));
        assert_eq!(hint("some other failure"), None);
    }
}
