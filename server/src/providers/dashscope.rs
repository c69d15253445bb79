//! Aliyun DashScope native text generation: messages under `input`, options under
//! `parameters`, streaming switched on by a header, no `[DONE]` (EOF after the chunk
//! whose finish_reason is not the string `"null"` is the proper end).

use reqwest::header::{ACCEPT, HeaderMap};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::errors::{Class, body_snippet, error_json, http_error, in_band, status_class, text_of};
use super::messages::{max_tokens, usage};
use super::protocol::Protocol;
use super::sse::SseEvent;
use super::stream::{Decoder, Out};
use super::{
    ChatMessage, ChatRequest, Completion, FailureKind, Providers, Target, UpstreamError,
    UpstreamResult,
};

pub(crate) struct DashScope;

#[derive(Debug, Serialize)]
pub(crate) struct Body<'a> {
    model: &'a str,
    input: Input<'a>,
    parameters: Parameters,
}

#[derive(Debug, Serialize)]
struct Input<'a> {
    messages: &'a [ChatMessage],
}

#[derive(Debug, Serialize)]
struct Parameters {
    result_format: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_tokens: Option<u32>,
    temperature: f64,
    top_p: f64,
    presence_penalty: f64,
    /// Without it every chunk repeats the whole text so far.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    incremental_output: bool,
}

impl DashScope {
    pub(crate) fn body<'a>(&self, req: &'a ChatRequest, stream: bool) -> Body<'a> {
        Body {
            model: &req.model,
            input: Input {
                messages: &req.messages,
            },
            parameters: Parameters {
                result_format: "message",
                max_tokens: max_tokens(req.max_tokens),
                // temperature is [0, 2), top_p (0, 1] (kept below 1 as one-api does);
                // frequency_penalty has no equivalent (repetition_penalty is multiplicative).
                temperature: req.temperature.clamp(0.0, 1.99),
                top_p: req.top_p.clamp(0.0001, 0.9999),
                presence_penalty: req.presence_penalty,
                incremental_output: stream,
            },
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
            .http
            .post(&target.api_url)
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
        Ok(Completion {
            text: parts.text.unwrap_or_default(),
            reasoning: parts.reasoning.unwrap_or_default(),
            usage: chunk.usage.map(WireUsage::into_usage),
            finish_reason: parts.finish,
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
    content: Option<String>,
    /// Qwen3 / QwQ / DeepSeek-R1 thinking.
    reasoning_content: Option<String>,
}

/// One answer's (or one chunk's) text, reasoning and finish reason.
#[derive(Debug, Default)]
struct Parts {
    text: Option<String>,
    reasoning: Option<String>,
    finish: Option<String>,
}

impl Output {
    /// The string `"null"` as a finish reason means "not finished".
    fn into_parts(self) -> Parts {
        let mut parts = match self.choices.into_iter().next() {
            Some(choice) => {
                let (text, reasoning) = choice
                    .message
                    .map(|m| (m.content, m.reasoning_content))
                    .unwrap_or_default();
                Parts {
                    text,
                    reasoning,
                    finish: choice.finish_reason,
                }
            }
            None => Parts {
                text: self.text,
                reasoning: None,
                finish: self.finish_reason,
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
        if let Some(parts) = chunk.output.map(Output::into_parts) {
            out.reasoning(parts.reasoning.as_deref().unwrap_or(""));
            out.delta(parts.text.as_deref().unwrap_or(""));
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
