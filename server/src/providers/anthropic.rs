//! Anthropic Messages API: top-level `system`, strict user/assistant turns, mandatory
//! `max_tokens`, a typed event stream ending with `message_stop`.

use std::borrow::Cow;

use reqwest::header::{ACCEPT, HeaderMap};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::errors::{Class, body_snippet, error_json, http_error, in_band, text_of};
use super::messages::{Turn, split_system, usage};
use super::protocol::Protocol;
use super::sse::SseEvent;
use super::stream::{Decoder, Out};
use super::{
    ChatRequest, Completion, FailureKind, Providers, Target, UpstreamError, UpstreamResult, Usage,
};

/// Used when the request sets no limit: the API refuses a request without one.
const DEFAULT_MAX_TOKENS: u32 = 4096;
/// The SDKs refuse non-streaming calls expected to outlast 10 minutes, estimating
/// 3600 s per 128k output tokens: beyond this many, stream upstream and aggregate.
const NON_STREAM_MAX_TOKENS: u32 = 21_333;

pub(crate) struct Anthropic;

#[derive(Debug, Serialize)]
pub(crate) struct Body<'a> {
    model: &'a str,
    max_tokens: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    system: Option<Cow<'a, str>>,
    messages: Vec<Turn<'a>>,
    /// The only sampling parameter sent: newer models refuse `temperature` with `top_p`.
    temperature: f64,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    stream: bool,
}

impl Anthropic {
    pub(crate) fn body<'a>(&self, req: &'a ChatRequest, stream: bool) -> Body<'a> {
        let (system, messages) = split_system(&req.messages);
        Body {
            model: &req.model,
            max_tokens: if req.max_tokens == 0 {
                DEFAULT_MAX_TOKENS
            } else {
                req.max_tokens
            },
            system,
            messages,
            // The API's range is 0..=1; OpenAI's up-to-2 would be a 400.
            temperature: req.temperature.clamp(0.0, 1.0),
            stream,
        }
    }
}

impl Protocol for Anthropic {
    async fn prepare(
        &self,
        ctx: &Providers,
        target: &Target,
        req: &ChatRequest,
        stream: bool,
    ) -> UpstreamResult<reqwest::RequestBuilder> {
        let mut request = ctx
            .http
            .post(&target.api_url)
            .header("x-api-key", target.api_key.expose())
            .header("anthropic-version", "2023-06-01")
            .json(&self.body(req, stream));
        if stream {
            request = request.header(ACCEPT, "text/event-stream");
        }
        Ok(request)
    }

    fn completion(&self, body: Value) -> UpstreamResult<Completion> {
        if body.get("type").and_then(Value::as_str) == Some("error") {
            return Err(envelope_error(in_band_base(&body), &body));
        }
        // A Messages answer always has a `content` list; without one it is not an answer.
        let Some(content) = body.get("content").and_then(Value::as_array) else {
            return Err(UpstreamError::protocol(format!(
                "answer has no content: {}",
                body_snippet(body.to_string().as_bytes())
            )));
        };
        let blocks = |kind: &str| {
            content
                .iter()
                .filter(|block| block.get("type").and_then(Value::as_str) == Some(kind))
                .filter_map(|block| block.get(kind).and_then(Value::as_str))
                .collect::<String>()
        };
        let (text, reasoning) = (blocks("text"), blocks("thinking"));
        let finish_reason = body
            .get("stop_reason")
            .and_then(Value::as_str)
            .map(finish_reason);
        let usage = body
            .get("usage")
            .and_then(|u| WireUsage::deserialize(u).ok())
            .map(|wire| {
                let mut counters = Counters::default();
                counters.update(&wire);
                counters.usage()
            });
        Ok(Completion {
            text,
            reasoning,
            usage,
            finish_reason,
            raw: body,
        })
    }

    fn decoder(&self) -> Box<dyn Decoder> {
        Box::new(EventDecoder::default())
    }

    fn error(&self, status: u16, headers: &HeaderMap, body: &[u8]) -> UpstreamError {
        match error_json(body) {
            Some(json) if json.get("error").is_some_and(Value::is_object) => {
                let message = json.pointer("/error/message").and_then(Value::as_str);
                envelope_error(http_error(status, headers, message.unwrap_or("")), &json)
            }
            _ => http_error(status, headers, &body_snippet(body)),
        }
    }

    fn prefers_stream(&self, req: &ChatRequest) -> bool {
        req.max_tokens > NON_STREAM_MAX_TOKENS
    }
}

fn in_band_base(body: &Value) -> UpstreamError {
    let message = body.pointer("/error/message").and_then(Value::as_str);
    // Unknown error types after a 200 are treated like a 529, as the docs advise.
    in_band(
        Class::retry(FailureKind::Unavailable),
        None,
        message.unwrap_or("in-band error"),
    )
}

/// Refines `err` with `{"type":"error","error":{"type","message"}}`.
fn envelope_error(err: UpstreamError, body: &Value) -> UpstreamError {
    use FailureKind::*;
    let kind = text_of(body.pointer("/error/type"));
    let spend_limit = body
        .pointer("/error/details/error_code")
        .and_then(Value::as_str)
        == Some("enforced_spend_limit_reached");
    let class = match kind.as_deref() {
        // A spend-limit 429 is the account's cap, not a passing rate limit.
        _ if spend_limit => Some(Class::fatal(Billing)),
        Some("rate_limit_error") => Some(Class::retry(RateLimited)),
        Some("overloaded_error" | "api_error") => Some(Class::retry(Unavailable)),
        Some("timeout_error") => Some(Class::retry(Timeout)),
        Some("authentication_error" | "permission_error") => Some(Class::fatal(Auth)),
        Some("billing_error") => Some(Class::fatal(Billing)),
        Some("invalid_request_error" | "not_found_error" | "request_too_large") => {
            Some(Class::fatal(Rejected))
        }
        _ => None,
    };
    let mut err = match class {
        Some(class) => err.with_kind(class),
        None => err,
    };
    err.code = if spend_limit {
        Some("enforced_spend_limit_reached".to_owned())
    } else {
        kind
    };
    err
}

/// `stop_reason` → OpenAI `finish_reason`.
pub(crate) fn finish_reason(stop_reason: &str) -> String {
    match stop_reason {
        "end_turn" | "stop_sequence" => "stop",
        "max_tokens" | "model_context_window_exceeded" => "length",
        "tool_use" => "tool_calls",
        "refusal" => "content_filter",
        other => other,
    }
    .to_owned()
}

#[derive(Debug, Default, Deserialize)]
struct WireUsage {
    input_tokens: Option<u64>,
    output_tokens: Option<u64>,
    cache_creation_input_tokens: Option<u64>,
    cache_read_input_tokens: Option<u64>,
}

/// Usage counters; every value Anthropic sends is cumulative, so the latest one wins.
#[derive(Debug, Default)]
struct Counters {
    input: u64,
    cache_creation: u64,
    cache_read: u64,
    output: u64,
}

impl Counters {
    fn update(&mut self, wire: &WireUsage) {
        let fields = [
            (&mut self.input, wire.input_tokens),
            (&mut self.cache_creation, wire.cache_creation_input_tokens),
            (&mut self.cache_read, wire.cache_read_input_tokens),
            (&mut self.output, wire.output_tokens),
        ];
        for (slot, value) in fields {
            if let Some(value) = value {
                *slot = value;
            }
        }
    }

    /// `input_tokens` excludes cached tokens: the prompt is all three together.
    fn usage(&self) -> Usage {
        let prompt = self.input + self.cache_creation + self.cache_read;
        usage(prompt, self.output, None)
    }
}

#[derive(Debug, Deserialize)]
struct StreamData {
    #[serde(rename = "type")]
    kind: String,
    message: Option<StartMessage>,
    delta: Option<StreamDelta>,
    usage: Option<WireUsage>,
}

#[derive(Debug, Deserialize)]
struct StartMessage {
    usage: Option<WireUsage>,
}

#[derive(Debug, Deserialize)]
struct StreamDelta {
    #[serde(rename = "type")]
    kind: Option<String>,
    text: Option<String>,
    thinking: Option<String>,
    stop_reason: Option<String>,
}

#[derive(Debug, Default)]
struct EventDecoder {
    counters: Counters,
}

impl Decoder for EventDecoder {
    fn event(&mut self, ev: &SseEvent, out: &mut Out) -> UpstreamResult<bool> {
        if ev.event.as_deref() == Some("error") {
            let body: Value = serde_json::from_str(&ev.data).unwrap_or(Value::Null);
            return Err(envelope_error(in_band_base(&body), &body));
        }
        let data: StreamData = serde_json::from_str(&ev.data).map_err(|err| {
            UpstreamError::protocol(format!("bad stream event ({err}): {}", ev.data))
        })?;
        match data.kind.as_str() {
            "message_start" => {
                // Its output_tokens is a placeholder: usage is emitted from message_delta.
                if let Some(wire) = data.message.and_then(|m| m.usage) {
                    self.counters.update(&wire);
                }
            }
            "content_block_delta" => {
                // Text deltas are the reply, thinking deltas the reasoning (not JSON or
                // signatures).
                if let Some(delta) = data.delta {
                    match delta.kind.as_deref() {
                        Some("text_delta") => out.delta(delta.text.as_deref().unwrap_or("")),
                        Some("thinking_delta") => {
                            out.reasoning(delta.thinking.as_deref().unwrap_or(""));
                        }
                        _ => {}
                    }
                }
            }
            "message_delta" => {
                if let Some(wire) = &data.usage {
                    self.counters.update(wire);
                    out.usage(self.counters.usage());
                }
                if let Some(reason) = data.delta.and_then(|d| d.stop_reason) {
                    out.finish(finish_reason(&reason));
                }
            }
            "message_stop" => return Ok(true),
            "error" => {
                let body: Value = serde_json::from_str(&ev.data).unwrap_or(Value::Null);
                return Err(envelope_error(in_band_base(&body), &body));
            }
            // ping, content_block_start/stop, and event types added later.
            _ => {}
        }
        Ok(false)
    }

    fn eof(&mut self, _out: &mut Out) -> UpstreamResult<()> {
        Err(UpstreamError::cut("message_stop"))
    }
}

#[cfg(test)]
#[path = "tests/anthropic.rs"]
mod tests;
