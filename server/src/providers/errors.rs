//! Building and classifying [`UpstreamError`]s: transport errors, HTTP statuses,
//! `Retry-After`, and the shared helpers the per-provider code tables plug into.

use std::time::Duration;

use reqwest::header::HeaderMap;
use serde_json::Value;

use super::sse::{Frame, SseParser};
use super::{FailureKind, UpstreamError};

/// Longest `detail` kept: enough for any provider message, small enough for a log line.
const MAX_DETAIL: usize = 512;

impl FailureKind {
    /// Whether waiting and trying again can help, unless a provider code says otherwise.
    pub(crate) fn default_retryable(self) -> bool {
        matches!(
            self,
            Self::Connect | Self::Timeout | Self::RateLimited | Self::Unavailable
        )
    }
}

impl UpstreamError {
    pub(crate) fn new(kind: FailureKind, detail: impl Into<String>) -> Self {
        Self {
            kind,
            retryable: kind.default_retryable(),
            status: None,
            code: None,
            retry_after: None,
            detail: truncate(detail.into()),
        }
    }

    pub(crate) fn protocol(detail: impl Into<String>) -> Self {
        Self::new(FailureKind::Protocol, detail)
    }

    /// The body ended before the protocol's end marker: the connection broke.
    pub(crate) fn cut(what: &str) -> Self {
        Self::new(FailureKind::Connect, format!("stream ended before {what}"))
    }

    pub(crate) fn with_status(mut self, status: u16) -> Self {
        self.status = Some(status);
        self
    }

    pub(crate) fn with_code(mut self, code: impl Into<String>) -> Self {
        self.code = Some(code.into());
        self
    }

    pub(crate) fn with_kind(mut self, class: Class) -> Self {
        self.kind = class.kind;
        self.retryable = class.retryable;
        self
    }

    /// Replaces every occurrence of the credential (and of its parts) in `detail`.
    pub(crate) fn scrub(mut self, secret: &str) -> Self {
        if secret.is_empty() {
            return self;
        }
        let parts = secret.split([':', '.']).filter(|part| part.len() >= 6);
        for part in std::iter::once(secret).chain(parts.clone()) {
            if self.detail.contains(part) {
                self.detail = self.detail.replace(part, "***");
            }
        }
        // A detail cut at its length limit may end in the first characters of a credential.
        if let Some(kept) = self.detail.strip_suffix('…') {
            let cut_key = std::iter::once(secret)
                .chain(parts)
                .filter_map(|part| cut_prefix(kept, part))
                .max();
            if let Some(len) = cut_key {
                self.detail = format!("{}***…", &kept[..kept.len() - len]);
            }
        }
        self
    }
}

/// A provider code's meaning: what failed and whether to try again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Class {
    pub kind: FailureKind,
    pub retryable: bool,
}

impl Class {
    pub(crate) const fn retry(kind: FailureKind) -> Self {
        Self {
            kind,
            retryable: true,
        }
    }

    pub(crate) const fn fatal(kind: FailureKind) -> Self {
        Self {
            kind,
            retryable: false,
        }
    }
}

/// The kind an HTTP status means on its own (before any provider code refines it).
pub(crate) fn status_class(status: u16) -> Class {
    use FailureKind::*;
    match status {
        // 409 is OpenAI's lock conflict, worth another try like the SDKs do.
        408 => Class::retry(Timeout),
        409 => Class::retry(Unavailable),
        429 => Class::retry(RateLimited),
        401 | 403 => Class::fatal(Auth),
        402 => Class::fatal(Billing),
        // 529 is Anthropic's "overloaded".
        500..=599 => Class::retry(Unavailable),
        _ => Class::fatal(Rejected),
    }
}

/// An error for a non-2xx answer: status class, `Retry-After`, and the SDKs' explicit
/// `x-should-retry` override. Providers then refine it with their code tables.
pub(crate) fn http_error(status: u16, headers: &HeaderMap, message: &str) -> UpstreamError {
    let class = status_class(status);
    let mut err =
        UpstreamError::new(class.kind, format!("HTTP {status}: {message}")).with_status(status);
    err.retryable = class.retryable;
    err.retry_after = retry_after(headers);
    match header(headers, "x-should-retry") {
        Some("true") => err.retryable = true,
        Some("false") => err.retryable = false,
        _ => {}
    }
    err
}

/// An error reported inside a 2xx answer (a body or stream event).
pub(crate) fn in_band(class: Class, code: Option<String>, message: &str) -> UpstreamError {
    let mut err = UpstreamError::new(class.kind, message.to_owned()).with_kind(class);
    err.code = code;
    err
}

/// `retry-after-ms` first (OpenAI), then `retry-after` as seconds or an HTTP date.
pub(crate) fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    if let Some(ms) = header(headers, "retry-after-ms").and_then(|v| v.trim().parse::<f64>().ok()) {
        return Duration::try_from_secs_f64(ms / 1000.0).ok();
    }
    let value = header(headers, "retry-after")?.trim();
    if let Ok(secs) = value.parse::<f64>() {
        return Duration::try_from_secs_f64(secs).ok();
    }
    let date = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    let wait = date.signed_duration_since(chrono::Utc::now());
    Some(wait.to_std().unwrap_or(Duration::ZERO))
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// Maps a transport error. The URL is stripped: Baidu's carries the access token.
pub(crate) fn from_reqwest(err: reqwest::Error) -> UpstreamError {
    // A connect timeout is a connect error: nothing reached the upstream.
    let kind = if err.is_timeout() && !err.is_connect() {
        FailureKind::Timeout
    } else if err.is_builder() {
        // A malformed api_url in the config: no attempt can succeed.
        FailureKind::Rejected
    } else {
        // Everything else, including reqwest's "decode" errors (they wrap a body read that
        // failed: the connection broke mid-answer; we never let reqwest parse JSON).
        FailureKind::Connect
    };
    let err = err.without_url();
    let mut detail = err.to_string();
    let mut source = std::error::Error::source(&err);
    while let Some(cause) = source {
        detail.push_str(": ");
        detail.push_str(&cause.to_string());
        source = cause.source();
    }
    UpstreamError::new(kind, detail)
}

/// The JSON of an error body: plain JSON, or SSE holding one `data:` JSON (DashScope can
/// answer a failed streaming request either way).
pub(crate) fn error_json(body: &[u8]) -> Option<Value> {
    if let Ok(value) = serde_json::from_slice::<Value>(body) {
        return Some(value);
    }
    let mut parser = SseParser::new();
    let mut frames = Vec::new();
    parser.push(body, &mut frames);
    parser.push(b"\n\n", &mut frames);
    frames.into_iter().find_map(|frame| match frame {
        Frame::Event(ev) => serde_json::from_str(&ev.data).ok(),
        Frame::Stray(line) => serde_json::from_str(&line).ok(),
    })
}

/// A short printable form of a body that is not the expected JSON.
pub(crate) fn body_snippet(body: &[u8]) -> String {
    truncate(String::from_utf8_lossy(body).into_owned())
}

/// A JSON field as text whether the provider sent it as a string or a number
/// (Spark and Zhipu codes come both ways).
pub(crate) fn text_of(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// The length of the longest start of `secret` (4 bytes or more: shorter starts are what a
/// masked key shows anyway) that `text` ends with.
fn cut_prefix(text: &str, secret: &str) -> Option<usize> {
    (4..secret.len())
        .rev()
        .filter(|&len| secret.is_char_boundary(len))
        .find(|&len| text.ends_with(&secret[..len]))
}

pub(crate) fn truncate(mut text: String) -> String {
    if text.len() > MAX_DETAIL {
        let mut end = MAX_DETAIL;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
        text.push('…');
    }
    text
}

#[cfg(test)]
#[path = "tests/errors.rs"]
mod tests;
