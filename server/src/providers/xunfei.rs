//! iFlytek Spark's HTTP API: the OpenAI wire format (see `openai.rs`) plus a `code` field
//! in every body and chunk, where anything but 0 is an error.

use serde_json::Value;

use super::errors::{Class, in_band, text_of};
use super::{FailureKind, UpstreamError};

/// Spark's per-model output limit: Lite and Pro-128K stop at 4096, the others at 8192.
pub(crate) fn max_tokens(model: &str, requested: u32) -> u32 {
    let limit = match model {
        "lite" | "pro-128k" => 4096,
        _ => 8192,
    };
    requested.min(limit)
}

/// The error in a body or chunk whose `code` is not 0; `fallback` classes a code missing
/// from the table.
pub(crate) fn body_error(body: &Value, fallback: Class) -> Option<UpstreamError> {
    let code = body.get("code")?;
    let number = match code {
        Value::Number(n) => n.as_i64()?,
        Value::String(s) => s.parse().ok()?,
        _ => return None,
    };
    if number == 0 {
        return None;
    }
    let message = body.get("message").and_then(Value::as_str).unwrap_or("");
    let sid = text_of(body.get("sid")).unwrap_or_default();
    let class = code_class(number).unwrap_or(fallback);
    Some(in_band(
        class,
        Some(number.to_string()),
        &format!("{message} (sid: {sid})"),
    ))
}

/// Spark's error-code table.
pub(crate) fn code_class(code: i64) -> Option<Class> {
    use FailureKind::*;
    Some(match code {
        // A previous request of the same user is still running: it passes.
        10007 | 11202 | 11203 => Class::retry(RateLimited),
        10008..=10012 | 10110 | 10222 => Class::retry(Unavailable),
        // The daily limit: not before tomorrow.
        11201 => Class::fatal(Billing),
        11200 => Class::fatal(Auth),
        // Moderation (input, output, conversation), token limit, bad parameters.
        10013 | 10014 | 10019 | 10907 | 10003 | 10004 | 10005 | 10163 => Class::fatal(Rejected),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use serde_json::json;

    const IN_BAND: Class = Class::fatal(FailureKind::Unavailable);

    #[test]
    fn code_zero_is_not_an_error() {
        assert!(body_error(&json!({"code":0,"message":"Success"}), IN_BAND).is_none());
        assert!(body_error(&json!({"choices":[]}), IN_BAND).is_none());
    }

    #[test]
    fn code_table() {
        let cases = [
            (10007, FailureKind::RateLimited, true),
            (11202, FailureKind::RateLimited, true),
            (11203, FailureKind::RateLimited, true),
            (10110, FailureKind::Unavailable, true),
            (10009, FailureKind::Unavailable, true),
            (11201, FailureKind::Billing, false),
            (11200, FailureKind::Auth, false),
            (10013, FailureKind::Rejected, false),
            (10014, FailureKind::Rejected, false),
            (10907, FailureKind::Rejected, false),
            (10005, FailureKind::Rejected, false),
        ];
        for (code, kind, retryable) in cases {
            let err =
                body_error(&json!({"code":code,"message":"m","sid":"cha1"}), IN_BAND).unwrap();
            assert_eq!((err.kind, err.retryable), (kind, retryable), "{code}");
            assert_eq!(err.code.as_deref(), Some(code.to_string().as_str()));
            assert!(err.detail.contains("cha1"));
        }
    }

    #[test]
    fn string_codes_count_too() {
        let err = body_error(&json!({"code":"11202","message":"qps"}), IN_BAND).unwrap();
        assert_eq!(err.kind, FailureKind::RateLimited);
    }

    #[test]
    fn max_tokens_clamped_per_model() {
        assert_eq!(max_tokens("lite", 8000), 4096);
        assert_eq!(max_tokens("4.0Ultra", 8000), 8000);
        assert_eq!(max_tokens("generalv3.5", 10000), 8192);
    }
}
