//! Aliyun DashScope native text generation: messages under `input`, options under
//! `parameters`, streaming switched on by a header, no `[DONE]` (EOF after the chunk
//! whose finish_reason is not the string `"null"` is the proper end).

use reqwest::header::{ACCEPT, HeaderMap};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::errors::{Class, body_snippet, error_json, http_error, in_band, status_class, text_of};
use super::messages::{
    ImageStyle, Style, ToolCallChunk, WireMessage, max_tokens, response_format, usage,
    wire_messages, wire_tool_choice, wire_tools,
};
use super::protocol::Protocol;
use super::sse::SseEvent;
use super::stream::{Decoder, Out};
use super::{
    ChatRequest, Completion, FailureKind, Providers, Target, ToolCall, ToolChoice, UpstreamError,
    UpstreamResult,
};

pub(crate) struct DashScope;

#[derive(Debug, Serialize)]
pub(crate) struct Body<'a> {
    model: &'a str,
    input: Input<'a>,
    parameters: Parameters<'a>,
}

#[derive(Debug, Serialize)]
struct Input<'a> {
    messages: Vec<WireMessage<'a>>,
}

#[derive(Debug, Serialize)]
struct Parameters<'a> {
    result_format: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_tokens: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    temperature: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    top_p: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    presence_penalty: Option<f64>,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    stop: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    seed: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    response_format: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tools: Option<Vec<Value>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tool_choice: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    parallel_tool_calls: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    enable_thinking: Option<bool>,
    /// Without it every chunk repeats the whole text so far.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    incremental_output: bool,
}

/// Images go to the multimodal service, which takes every content as a list of parts.
const TEXT_SERVICE: &str = "/text-generation/generation";
const MULTIMODAL_SERVICE: &str = "/multimodal-generation/generation";

impl DashScope {
    pub(crate) fn body<'a>(&self, req: &'a ChatRequest, stream: bool) -> Body<'a> {
        let images = if req.has_images() {
            ImageStyle::DashScope
        } else {
            ImageStyle::OpenAi
        };
        let style = Style {
            developer_role: false,
            images,
        };
        Body {
            model: &req.model,
            input: Input {
                messages: wire_messages(&req.messages, style),
            },
            parameters: Parameters {
                result_format: "message",
                max_tokens: max_tokens(req.max_tokens),
                // temperature is [0, 2), top_p (0, 1] (kept below 1 as one-api does);
                // frequency_penalty has no equivalent (repetition_penalty is multiplicative).
                temperature: req.temperature.map(|t| t.clamp(0.0, 1.99)),
                top_p: req.top_p.map(|p| p.clamp(0.0001, 0.9999)),
                presence_penalty: req.presence_penalty,
                stop: &req.stop,
                seed: req.seed,
                response_format: req.response_format.as_ref().map(response_format),
                tools: wire_tools(&req.tools),
                // Only `auto` and `none` (and a named function) are accepted.
                tool_choice: req.tool_choice.as_ref().map(|choice| match choice {
                    ToolChoice::Required => json!("auto"),
                    other => wire_tool_choice(other),
                }),
                parallel_tool_calls: req.parallel_tool_calls,
                enable_thinking: req.wants_reasoning(),
                incremental_output: stream,
            },
        }
    }

    /// The service URL for `req`: the multimodal one when it holds images.
    fn url<'a>(&self, configured: &'a str, req: &ChatRequest) -> std::borrow::Cow<'a, str> {
        if req.has_images() {
            std::borrow::Cow::Owned(configured.replace(TEXT_SERVICE, MULTIMODAL_SERVICE))
        } else {
            std::borrow::Cow::Borrowed(configured)
        }
    }
}

impl Protocol for DashScope {
    async fn prepare(
        &self,
        ctx: &Providers,
        target: &Target,
        req: &ChatRequest,
        stream: bool,
    ) -> UpstreamResult<reqwest::RequestBuilder> {
        let mut request = ctx
            .post(&self.url(&target.api_url, req))
            .bearer_auth(target.api_key.expose())
            .json(&self.body(req, stream));
        if stream {
            request = request
                .header("X-DashScope-SSE", "enable")
                .header(ACCEPT, "text/event-stream")
                .header("X-Accel-Buffering", "no");
        }
        Ok(request)
    }

    fn completion(&self, body: Value) -> UpstreamResult<Completion> {
        if let Some(err) = body_error(&body, None) {
            return Err(err);
        }
        let chunk = Chunk::deserialize(&body)
            .map_err(|err| UpstreamError::protocol(format!("unexpected answer ({err})")))?;
        // Every DashScope answer has `output`; without it the body is not an answer.
        let Some(output) = chunk.output else {
            return Err(UpstreamError::protocol(format!(
                "answer has no output: {}",
                body_snippet(body.to_string().as_bytes())
            )));
        };
        let parts = output.into_parts();
        let tool_calls = parts
            .tool_calls
            .into_iter()
            .enumerate()
            .map(|(position, call)| {
                let delta = call.into_delta(position);
                ToolCall {
                    id: delta.id.unwrap_or_default(),
                    name: delta.name.unwrap_or_default(),
                    arguments: delta.arguments,
                }
            })
            .collect();
        Ok(Completion {
            text: parts.text,
            reasoning: parts.reasoning.unwrap_or_default(),
            tool_calls,
            usage: chunk.usage.map(WireUsage::into_usage),
            finish_reason: parts.finish,
            id: chunk.request_id,
            raw: body,
        })
    }

    fn decoder(&self) -> Box<dyn Decoder> {
        Box::new(ChunkDecoder { finished: false })
    }

    fn error(&self, status: u16, headers: &HeaderMap, body: &[u8]) -> UpstreamError {
        let base = |message: &str| http_error(status, headers, message);
        match error_json(body) {
            Some(json) => match code_of(&json) {
                Some(code) => with_code(base(message(&json)), code),
                None => base(&body_snippet(body)),
            },
            None => base(&body_snippet(body)),
        }
    }

    fn stream_only(&self, err: &UpstreamError) -> bool {
        // Qwen3 open-source and QwQ answer non-streaming calls with a 400.
        err.status == Some(400)
            && (err.detail.contains("only support stream mode")
                || err.detail.contains("does not support http call"))
    }
}

fn code_of(json: &Value) -> Option<String> {
    text_of(json.get("code"))
}

fn message(json: &Value) -> &str {
    json.get("message").and_then(Value::as_str).unwrap_or("")
}

fn with_code(err: UpstreamError, code: String) -> UpstreamError {
    let err = match code_class(&code) {
        Some(class) => err.with_kind(class),
        None => err,
    };
    err.with_code(code)
}

/// A `{code, message, request_id}` error carried in a 2xx body or stream frame; `status`
/// is the one from the frame's `:HTTP_STATUS/…` comment.
fn body_error(json: &Value, status: Option<u16>) -> Option<UpstreamError> {
    if json.get("output").is_some_and(|o| !o.is_null()) {
        return None;
    }
    let code = code_of(json)?;
    let class = status.map_or(Class::fatal(FailureKind::Unavailable), status_class);
    let mut err = with_code(in_band(class, None, message(json)), code);
    err.status = status;
    Some(err)
}

/// DashScope's codes, native and as echoed by its OpenAI-compatible mode.
pub(crate) fn code_class(code: &str) -> Option<Class> {
    use FailureKind::*;
    Some(match code {
        "Arrearage" => Class::fatal(Billing),
        "InvalidApiKey" | "invalid_api_key" => Class::fatal(Auth),
        c if c.starts_with("AccessDenied") => Class::fatal(Auth),
        "RequestTimeOut" => Class::retry(Timeout),
        // A token quota for a period: only the next window helps, so fail over now.
        "Throttling.AllocationQuota" => Class::fatal(RateLimited),
        c if c.starts_with("Throttling") => Class::retry(RateLimited),
        c if c.starts_with("InternalError") => Class::retry(Unavailable),
        "DataInspectionFailed" | "data_inspection_failed" | "InvalidParameter" | "InvalidURL" => {
            Class::fatal(Rejected)
        }
        c if c.starts_with("BadRequest") => Class::fatal(Rejected),
        _ => return None,
    })
}

#[derive(Debug, Deserialize)]
struct Chunk {
    output: Option<Output>,
    usage: Option<WireUsage>,
    request_id: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Output {
    #[serde(default)]
    choices: Vec<Choice>,
    /// `result_format: "text"` shape, which some models still use.
    text: Option<String>,
    finish_reason: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Choice {
    message: Option<ChoiceMessage>,
    finish_reason: Option<String>,
}

#[derive(Debug, Deserialize)]
struct ChoiceMessage {
    /// A string, or (multimodal service) a list of `{"text": …}` parts.
    content: Option<Value>,
    /// Qwen3 / QwQ / DeepSeek-R1 thinking.
    reasoning_content: Option<String>,
    #[serde(default)]
    tool_calls: Vec<ToolCallChunk>,
}

/// One answer's (or one chunk's) text, reasoning, tool calls and finish reason.
#[derive(Debug, Default)]
struct Parts {
    text: String,
    reasoning: Option<String>,
    tool_calls: Vec<ToolCallChunk>,
    finish: Option<String>,
}

fn content_text(content: Option<Value>) -> String {
    match content {
        Some(Value::String(text)) => text,
        Some(Value::Array(parts)) => parts
            .iter()
            .filter_map(|part| part.get("text").and_then(Value::as_str))
            .collect(),
        _ => String::new(),
    }
}

impl Output {
    /// The string `"null"` as a finish reason means "not finished".
    fn into_parts(self) -> Parts {
        let mut parts = match self.choices.into_iter().next() {
            Some(choice) => match choice.message {
                Some(message) => Parts {
                    text: content_text(message.content),
                    reasoning: message.reasoning_content,
                    tool_calls: message.tool_calls,
                    finish: choice.finish_reason,
                },
                None => Parts {
                    finish: choice.finish_reason,
                    ..Parts::default()
                },
            },
            None => Parts {
                text: self.text.unwrap_or_default(),
                finish: self.finish_reason,
                ..Parts::default()
            },
        };
        parts.finish = parts.finish.filter(|reason| reason != "null");
        parts
    }
}

#[derive(Debug, Deserialize)]
struct WireUsage {
    #[serde(default)]
    input_tokens: u64,
    #[serde(default)]
    output_tokens: u64,
    total_tokens: Option<u64>,
}

impl WireUsage {
    fn into_usage(self) -> super::Usage {
        usage(self.input_tokens, self.output_tokens, self.total_tokens)
    }
}

struct ChunkDecoder {
    finished: bool,
}

impl Decoder for ChunkDecoder {
    fn event(&mut self, ev: &SseEvent, out: &mut Out) -> UpstreamResult<bool> {
        let json: Value = serde_json::from_str(&ev.data).map_err(|err| {
            UpstreamError::protocol(format!("bad stream chunk ({err}): {}", ev.data))
        })?;
        let status = ev
            .comment
            .as_deref()
            .and_then(|c| c.strip_prefix("HTTP_STATUS/"))
            .and_then(|s| s.trim().parse::<u16>().ok());
        if ev.event.as_deref() == Some("error") || status.is_some_and(|s| s >= 400) {
            return Err(body_error(&json, status).unwrap_or_else(|| {
                in_band(Class::fatal(FailureKind::Unavailable), None, &ev.data)
            }));
        }
        if let Some(err) = body_error(&json, None) {
            return Err(err);
        }
        let chunk = Chunk::deserialize(json)
            .map_err(|err| UpstreamError::protocol(format!("bad stream chunk ({err})")))?;
        out.id(chunk.request_id.as_deref().unwrap_or(""));
        if let Some(parts) = chunk.output.map(Output::into_parts) {
            out.reasoning(parts.reasoning.as_deref().unwrap_or(""));
            out.delta(&parts.text);
            for (position, call) in parts.tool_calls.into_iter().enumerate() {
                out.tool_call(call.into_delta(position))?;
            }
            if let Some(reason) = parts.finish {
                self.finished = true;
                out.finish(reason);
            }
        }
        // Cumulative on every chunk: the latest wins.
        if let Some(wire) = chunk.usage {
            out.usage(wire.into_usage());
        }
        Ok(false)
    }

    fn eof(&mut self, _out: &mut Out) -> UpstreamResult<()> {
        if self.finished {
            Ok(())
        } else {
            Err(UpstreamError::cut("the final chunk"))
        }
    }
}

#[cfg(test)]
#[path = "tests/dashscope.rs"]
mod tests;
