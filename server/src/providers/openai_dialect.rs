//! What the OpenAI wire format's dialects (OpenAI itself, any OpenAI-compatible API, iFlytek
//! Spark, Zhipu GLM) say back, shared by the answer decoder (`openai`) and the stream decoder
//! (`openai_stream`): error codes and their classes, finish reasons, usage.

use serde::Deserialize;
use serde_json::Value;

use super::errors::{Class, in_band, text_of};
use super::messages::usage;
use super::{FailureKind, UpstreamError, dashscope, xunfei, zhipu};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dialect {
    OpenAi,
    Custom,
    Xunfei,
    Zhipu,
}

pub(crate) struct OpenAi(pub Dialect);

impl OpenAi {
    /// Refines `err` (whose detail already holds the message) with an `{"error":{…}}`
    /// object's code and type: an HTTP error body, or in-band in a 200 / a stream chunk.
    pub(super) fn envelope_error(&self, err: UpstreamError, error: &Value) -> UpstreamError {
        let code = text_of(error.get("code"));
        let kind = text_of(error.get("type"));
        let in_band = err.status.is_none();
        let mut err = match self.code_class(code.as_deref(), kind.as_deref(), in_band) {
            Some(class) => err.with_kind(class),
            None => err,
        };
        err.code = code.or(kind);
        err
    }

    fn code_class(&self, code: Option<&str>, kind: Option<&str>, in_band: bool) -> Option<Class> {
        let code_str = code.unwrap_or("");
        let dialect_class = match self.0 {
            Dialect::Xunfei => code_str.parse().ok().and_then(xunfei::code_class),
            Dialect::Zhipu => zhipu::code_class(code_str),
            // OpenAI-compatible fronts of DashScope keep its codes in `error.code`.
            Dialect::OpenAi | Dialect::Custom => dashscope::code_class(code_str),
        };
        dialect_class
            .or_else(|| openai_class(code_str))
            .or_else(|| {
                // A bare `type` is vague (Spark's 401 says `api_error`): it refines an in-band
                // error, but overrides an HTTP status only to tell the out-of-credit 429.
                let class = openai_class(kind?)?;
                (in_band || class.kind == FailureKind::Billing).then_some(class)
            })
    }

    pub(super) fn in_band(&self, error: &Value) -> UpstreamError {
        let base = in_band(IN_BAND, None, message(error));
        self.envelope_error(base, error)
    }

    pub(super) fn finish_reason(&self, reason: &str) -> String {
        match (self.0, reason) {
            // Zhipu's moderation stop is OpenAI's content_filter.
            (Dialect::Zhipu, "sensitive") => "content_filter".to_owned(),
            (Dialect::Zhipu, "model_context_window_exceeded") => "length".to_owned(),
            _ => reason.to_owned(),
        }
    }
}

#[derive(Debug, Deserialize)]
pub(super) struct WireUsage {
    #[serde(default)]
    prompt_tokens: u64,
    #[serde(default)]
    completion_tokens: u64,
    total_tokens: Option<u64>,
}

impl WireUsage {
    pub(super) fn into_usage(self) -> super::Usage {
        usage(
            self.prompt_tokens,
            self.completion_tokens,
            self.total_tokens,
        )
    }
}

/// The `message` of an `{"error":{…}}` object.
pub(super) fn message(error: &Value) -> &str {
    error.get("message").and_then(Value::as_str).unwrap_or("")
}

/// An in-band error no table knows: the answer is broken and nothing says retrying helps.
pub(super) const IN_BAND: Class = Class::fatal(FailureKind::Unavailable);

/// OpenAI's own codes and types (also used by most OpenAI-compatible APIs).
fn openai_class(code: &str) -> Option<Class> {
    use FailureKind::*;
    Some(match code {
        // The "other" 429: the account is out of credit, waiting will not help.
        "insufficient_quota" | "billing_hard_limit_reached" => Class::fatal(Billing),
        "invalid_api_key" | "authentication_error" | "permission_denied" => Class::fatal(Auth),
        "server_error" | "api_error" | "overloaded_error" => Class::retry(Unavailable),
        "invalid_request_error"
        | "context_length_exceeded"
        | "unsupported_parameter"
        | "unsupported_value"
        | "model_not_found"
        | "content_filter" => Class::fatal(Rejected),
        // `rate_limit_exceeded`, and Qianfan's `rpm_rate_limit_exceeded`, `tpm_…` etc.
        c if c.contains("rate_limit") => Class::retry(RateLimited),
        _ => return None,
    })
}
