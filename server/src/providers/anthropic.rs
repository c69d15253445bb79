//! Anthropic Messages API: top-level `system`, strict user/assistant turns, mandatory
//! `max_tokens`, a typed event stream ending with `message_stop`.

use reqwest::header::{ACCEPT, HeaderMap};
use serde::Deserialize;
use serde_json::Value;

use super::anthropic_request;
use super::errors::{Class, body_snippet, error_json, http_error, in_band, text_of};
use super::messages::usage;
use super::protocol::Protocol;
use super::sse::SseEvent;
use super::stream::{Decoder, Out};
use super::{
    ChatRequest, Completion, FailureKind, Providers, Target, ToolCall, ToolCallDelta,
    UpstreamError, UpstreamResult, Usage,
};

/// The SDKs refuse non-streaming calls expected to outlast 10 minutes, estimating
/// 3600 s per 128k output tokens: beyond this many, stream upstream and aggregate.
const NON_STREAM_MAX_TOKENS: u32 = 21_333;

pub(crate) struct Anthropic;

impl Protocol for Anthropic {
    async fn prepare(
        &self,
        ctx: &Providers,
        target: &Target,
        req: &ChatRequest,
        stream: bool,
    ) -> UpstreamResult<reqwest::RequestBuilder> {
        let mut request = ctx
            .post(&target.api_url)
            .header("x-api-key", target.api_key.expose())
            .header("anthropic-version", "2023-06-01")
            .json(&anthropic_request::body(req, stream));
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
        let tool_calls = content
            .iter()
            .filter(|block| block.get("type").and_then(Value::as_str) == Some("tool_use"))
            .map(|block| {
                let text = |field: &str| {
                    block
                        .get(field)
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .to_owned()
                };
                ToolCall {
                    id: text("id"),
                    name: text("name"),
                    arguments: block.get("input").map_or("{}".into(), Value::to_string),
                }
            })
            .collect();
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
            tool_calls,
            usage,
            finish_reason,
            id: body.get("id").and_then(Value::as_str).map(str::to_owned),
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

    /// `input_tokens` excludes cached tokens: the prompt is all three together (saturating:
    /// the counters are whatever the upstream sent).
    fn usage(&self) -> Usage {
        let prompt = self
            .input
            .saturating_add(self.cache_creation)
            .saturating_add(self.cache_read);
        usage(prompt, self.output, None)
    }
}

#[derive(Debug, Deserialize)]
struct StreamData {
    #[serde(rename = "type")]
    kind: String,
    message: Option<StartMessage>,
    index: Option<u32>,
    content_block: Option<StartBlock>,
    delta: Option<StreamDelta>,
    usage: Option<WireUsage>,
}

#[derive(Debug, Deserialize)]
struct StartMessage {
    id: Option<String>,
    usage: Option<WireUsage>,
}

#[derive(Debug, Deserialize)]
struct StartBlock {
    #[serde(rename = "type")]
    kind: String,
    id: Option<String>,
    name: Option<String>,
}

#[derive(Debug, Deserialize)]
struct StreamDelta {
    #[serde(rename = "type")]
    kind: Option<String>,
    text: Option<String>,
    thinking: Option<String>,
    partial_json: Option<String>,
    stop_reason: Option<String>,
}

#[derive(Debug, Default)]
struct EventDecoder {
    counters: Counters,
    /// Block index → position among the answer's tool calls (they count tool_use blocks).
    tool_blocks: Vec<u32>,
}

impl EventDecoder {
    fn tool_position(&self, block: Option<u32>) -> Option<u32> {
        let block = block?;
        self.tool_blocks
            .iter()
            .position(|&b| b == block)
            .map(|p| p as u32)
    }
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
                let message = data.message;
                out.id(message.as_ref().and_then(|m| m.id.as_deref()).unwrap_or(""));
                // Its output_tokens is a placeholder: usage is emitted from message_delta.
                if let Some(wire) = message.and_then(|m| m.usage) {
                    self.counters.update(&wire);
                }
            }
            "content_block_start" => {
                if let (Some(block), Some(index)) = (data.content_block, data.index)
                    && block.kind == "tool_use"
                {
                    self.tool_blocks.push(index);
                    out.tool_call(ToolCallDelta {
                        index: self.tool_blocks.len() as u32 - 1,
                        id: block.id,
                        name: block.name,
                        arguments: String::new(),
                    })?;
                }
            }
            "content_block_delta" => {
                // Text deltas are the reply, thinking deltas the reasoning, JSON deltas a
                // tool call's arguments (signatures are dropped).
                if let Some(delta) = data.delta {
                    match delta.kind.as_deref() {
                        Some("text_delta") => out.delta(delta.text.as_deref().unwrap_or("")),
                        Some("thinking_delta") => {
                            out.reasoning(delta.thinking.as_deref().unwrap_or(""));
                        }
                        Some("input_json_delta") => {
                            if let Some(index) = self.tool_position(data.index) {
                                out.tool_call(ToolCallDelta {
                                    index,
                                    arguments: delta.partial_json.unwrap_or_default(),
                                    ..ToolCallDelta::default()
                                })?;
                            }
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
            // ping, content_block_stop, and event types added later.
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
