//! OpenAI chat completions, and the dialects that share its wire format: any
//! OpenAI-compatible API (`custom`), iFlytek Spark's HTTP API and Zhipu GLM v4.
//! The dialects differ only in parameter names and clamps, auth, and error codes.

use reqwest::header::{ACCEPT, HeaderMap};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::errors::{Class, body_snippet, error_json, http_error};
use super::messages::{
    ImageStyle, Style, WireMessage, max_tokens, response_format, tool_calls, wire_messages,
    wire_tool_choice, wire_tools,
};
use super::openai_dialect::{Dialect, IN_BAND, OpenAi, WireUsage, message};
use super::openai_stream::ChunkDecoder;
use super::protocol::Protocol;
use super::stream::Decoder;
use super::{
    ChatRequest, Completion, Providers, Target, ToolChoice, UpstreamError, UpstreamResult, xunfei,
    zhipu,
};

#[derive(Debug, Serialize)]
pub(crate) struct Body<'a> {
    pub(crate) model: &'a str,
    pub(crate) messages: Vec<WireMessage<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) max_completion_tokens: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) max_tokens: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) temperature: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) top_p: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) do_sample: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) frequency_penalty: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) presence_penalty: Option<f64>,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    pub(crate) stop: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) seed: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) response_format: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) user: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) tools: Option<Vec<Value>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) tool_choice: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) parallel_tool_calls: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) reasoning_effort: Option<&'a str>,
    /// Zhipu's switch for GLM-4.5+ thinking.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) thinking: Option<Value>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub(crate) stream: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    stream_options: Option<StreamOptions>,
}

#[derive(Debug, Serialize)]
struct StreamOptions {
    include_usage: bool,
}

impl OpenAi {
    fn style(&self) -> Style {
        Style {
            developer_role: self.0 == Dialect::OpenAi,
            images: if self.0 == Dialect::Zhipu {
                ImageStyle::RawBase64
            } else {
                ImageStyle::OpenAi
            },
        }
    }

    pub(crate) fn body<'a>(&self, req: &'a ChatRequest, stream: bool) -> Body<'a> {
        let limit = max_tokens(req.max_tokens);
        let mut body = Body {
            model: &req.model,
            messages: wire_messages(&req.messages, self.style()),
            max_completion_tokens: None,
            max_tokens: None,
            temperature: req.temperature,
            top_p: req.top_p,
            do_sample: None,
            frequency_penalty: req.frequency_penalty,
            presence_penalty: req.presence_penalty,
            stop: &req.stop,
            seed: req.seed,
            response_format: req.response_format.as_ref().map(response_format),
            user: req.user.as_deref(),
            tools: wire_tools(&req.tools),
            tool_choice: req.tool_choice.as_ref().map(wire_tool_choice),
            parallel_tool_calls: req.parallel_tool_calls,
            reasoning_effort: req.reasoning_effort.as_deref(),
            thinking: None,
            stream,
            stream_options: None,
        };
        match self.0 {
            // `max_tokens` is deprecated and refused by reasoning models at OpenAI proper.
            Dialect::OpenAi => body.max_completion_tokens = limit,
            Dialect::Custom => body.max_tokens = limit,
            Dialect::Xunfei => {
                body.max_tokens = limit.map(|n| xunfei::max_tokens(&req.model, n));
                // Not in Spark's HTTP API.
                (body.seed, body.user, body.reasoning_effort) = (None, None, None);
            }
            Dialect::Zhipu => zhipu_adapt(&mut body, req, limit),
        }
        // Spark and Zhipu put usage on their last chunk unasked.
        if stream && matches!(self.0, Dialect::OpenAi | Dialect::Custom) {
            body.stream_options = Some(StreamOptions {
                include_usage: true,
            });
        }
        body
    }
}

/// Zhipu's v4 API beside OpenAI's: `max_tokens`, sampling clamped (with `do_sample`), no
/// penalties, seed or end-user field, `tool_choice` `auto` only (so `none` is sent by
/// leaving the tools out and a forced choice becomes `auto`), thinking as `thinking.type`.
fn zhipu_adapt(body: &mut Body<'_>, req: &ChatRequest, limit: Option<u32>) {
    body.max_tokens = limit;
    (body.temperature, body.top_p, body.do_sample) = zhipu::sampling(req.temperature, req.top_p);
    (body.frequency_penalty, body.presence_penalty) = (None, None);
    (body.seed, body.user, body.parallel_tool_calls) = (None, None, None);
    match req.tool_choice {
        Some(ToolChoice::None) => (body.tools, body.tool_choice) = (None, None),
        Some(_) => body.tool_choice = Some(json!("auto")),
        None => {}
    }
    body.reasoning_effort = None;
    body.thinking = req
        .wants_reasoning()
        .map(|on| json!({"type": if on { "enabled" } else { "disabled" }}));
}

impl Protocol for OpenAi {
    async fn prepare(
        &self,
        ctx: &Providers,
        target: &Target,
        req: &ChatRequest,
        stream: bool,
    ) -> UpstreamResult<reqwest::RequestBuilder> {
        let mut request = ctx.post(&target.api_url).json(&self.body(req, stream));
        let key = target.api_key.expose();
        if self.0 == Dialect::Zhipu {
            request = request.bearer_auth(ctx.zhipu.credential(key)?);
        } else if !key.is_empty() {
            // A `custom` endpoint (a local model server) may need no key at all.
            request = request.bearer_auth(key);
        }
        if stream {
            request = request.header(ACCEPT, "text/event-stream");
        }
        Ok(request)
    }

    fn completion(&self, body: Value) -> UpstreamResult<Completion> {
        if let Some(error) = body.get("error").filter(|e| !e.is_null()) {
            return Err(self.in_band(error));
        }
        if self.0 == Dialect::Xunfei
            && let Some(err) = xunfei::body_error(&body, IN_BAND)
        {
            return Err(err);
        }
        // A 2xx without a choice is not an (empty) answer: the upstream is not speaking
        // this protocol, and the call must fail rather than bill an empty success.
        let Some(choice) = body.pointer("/choices/0").filter(|c| c.is_object()) else {
            return Err(UpstreamError::protocol(format!(
                "answer has no choices: {}",
                body_snippet(body.to_string().as_bytes())
            )));
        };
        let message = choice.get("message");
        let message_text = |field: &str| {
            message
                .and_then(|m| m.get(field))
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned()
        };
        // `reasoning_content`: DeepSeek, DashScope compatible mode, Zhipu.
        let (text, reasoning) = (message_text("content"), message_text("reasoning_content"));
        let finish = choice
            .get("finish_reason")
            .and_then(Value::as_str)
            .map(|reason| self.finish_reason(reason))
            // Spark sends no finish_reason at all.
            .or_else(|| (self.0 == Dialect::Xunfei).then(|| "stop".to_owned()));
        let usage = body
            .get("usage")
            .and_then(|u| WireUsage::deserialize(u).ok())
            .map(WireUsage::into_usage);
        Ok(Completion {
            text,
            reasoning,
            tool_calls: tool_calls(message),
            usage,
            finish_reason: finish,
            id: body.get("id").and_then(Value::as_str).map(str::to_owned),
            raw: body,
        })
    }

    fn decoder(&self) -> Box<dyn Decoder> {
        Box::new(ChunkDecoder::new(self.0))
    }

    fn error(&self, status: u16, headers: &HeaderMap, body: &[u8]) -> UpstreamError {
        let json = error_json(body);
        if let Some(error) = json
            .as_ref()
            .and_then(|j| j.get("error"))
            .filter(|e| e.is_object())
        {
            return self.envelope_error(http_error(status, headers, message(error)), error);
        }
        let base = http_error(status, headers, &body_snippet(body));
        // Spark's `{code, message, sid}` body with a business code.
        let spark = json.filter(|_| self.0 == Dialect::Xunfei);
        let class = Class {
            kind: base.kind,
            retryable: base.retryable,
        };
        match spark.and_then(|body| xunfei::body_error(&body, class)) {
            Some(err) => UpstreamError {
                status: base.status,
                retry_after: base.retry_after,
                ..err
            },
            None => base,
        }
    }

    fn refresh_credential(
        &self,
        ctx: &Providers,
        target: &Target,
        err: &UpstreamError,
        started: std::time::Instant,
    ) -> bool {
        self.0 == Dialect::Zhipu && ctx.zhipu.refresh(target.api_key.expose(), err, started)
    }
}

#[cfg(test)]
#[path = "tests/openai.rs"]
mod tests;
