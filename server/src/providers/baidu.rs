//! Baidu ERNIE, legacy wenxinworkshop API: OAuth token in the query, top-level `system`,
//! odd alternating turns, errors as `error_code` in HTTP 200, a stream of `result` deltas
//! ending at EOF after `is_end:true`.

use std::borrow::Cow;
use std::time::Instant;

use reqwest::header::{ACCEPT, HeaderMap};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use url::Url;

use super::errors::{Class, body_snippet, error_json, http_error, in_band, status_class, text_of};
use super::messages::{Turn, max_tokens, split_system, usage};
use super::protocol::Protocol;
use super::sse::SseEvent;
use super::stream::{Decoder, Out};
use super::{
    ChatRequest, Completion, FailureKind, Providers, Role, Target, UpstreamError, UpstreamResult,
};

pub(crate) struct Baidu;

#[derive(Debug, Serialize)]
pub(crate) struct Body<'a> {
    messages: Vec<Turn<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    system: Option<Cow<'a, str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_output_tokens: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    temperature: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    top_p: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    penalty_score: Option<f64>,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    stop: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    user_id: Option<&'a str>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    stream: bool,
}

impl Baidu {
    pub(crate) fn body<'a>(&self, req: &'a ChatRequest, stream: bool) -> Body<'a> {
        let (system, mut messages) = split_system(&req.messages);
        // Turns now alternate from the user, so an odd count means ending with the user:
        // a trailing assistant turn is the one that has to go.
        while messages.last().is_some_and(|t| t.role == Role::Assistant) {
            messages.pop();
        }
        // There is no frequency/presence penalty; penalty_score (1..=2, 1 = none) is the
        // nearest, mapped from the stronger of the two.
        let penalty = req
            .frequency_penalty
            .into_iter()
            .chain(req.presence_penalty)
            .fold(0.0_f64, f64::max)
            .clamp(0.0, 2.0);
        Body {
            messages,
            system,
            max_output_tokens: max_tokens(req.max_tokens).map(|n| n.max(2)),
            // (0, 1]: 0 is refused.
            temperature: req
                .temperature
                .map(|t| if t <= 0.0 { 0.01 } else { t.min(1.0) }),
            top_p: req.top_p.map(|p| p.clamp(0.0, 1.0)),
            penalty_score: (penalty > 0.0).then(|| 1.0 + penalty / 2.0),
            stop: &req.stop,
            user_id: req.user.as_deref(),
            stream,
        }
    }
}

/// The chat URL with the token. A URL ending at `/chat` gets the model as its endpoint.
fn chat_url(api_url: &str, model: &str, token: &str) -> UpstreamResult<Url> {
    let mut url = Url::parse(api_url).map_err(|err| {
        UpstreamError::new(FailureKind::Rejected, format!("invalid api_url: {err}"))
    })?;
    if url
        .path()
        .trim_end_matches('/')
        .ends_with("/wenxinworkshop/chat")
    {
        let path = format!("{}/{model}", url.path().trim_end_matches('/'));
        url.set_path(&path);
    }
    url.query_pairs_mut().append_pair("access_token", token);
    Ok(url)
}

impl Protocol for Baidu {
    async fn prepare(
        &self,
        ctx: &Providers,
        target: &Target,
        req: &ChatRequest,
        stream: bool,
    ) -> UpstreamResult<reqwest::RequestBuilder> {
        let token = ctx
            .baidu
            .token(&ctx.http, &target.api_url, target.api_key.expose())
            .await?;
        let url = chat_url(&target.api_url, &req.model, &token)?;
        let mut request = ctx.http.post(url).json(&self.body(req, stream));
        if stream {
            request = request.header(ACCEPT, "text/event-stream");
        }
        Ok(request)
    }

    fn completion(&self, body: Value) -> UpstreamResult<Completion> {
        if let Some(err) = body_error(&body, IN_BAND) {
            return Err(err);
        }
        let answer = Answer::deserialize(&body)
            .map_err(|err| UpstreamError::protocol(format!("unexpected answer ({err})")))?;
        // ERNIE always answers with `result`; without it the body is not an answer.
        if answer.result.is_none() {
            return Err(UpstreamError::protocol(format!(
                "answer has no result: {}",
                body_snippet(body.to_string().as_bytes())
            )));
        }
        Ok(Completion {
            finish_reason: Some(answer.finish_reason()),
            usage: answer.usage.map(WireUsage::into_usage),
            text: answer.result.unwrap_or_default(),
            reasoning: String::new(),
            tool_calls: Vec::new(),
            id: body.get("id").and_then(Value::as_str).map(str::to_owned),
            raw: body,
        })
    }

    fn decoder(&self) -> Box<dyn Decoder> {
        Box::new(SentenceDecoder { finished: false })
    }

    fn error(&self, status: u16, headers: &HeaderMap, body: &[u8]) -> UpstreamError {
        let base = |message: &str| http_error(status, headers, message);
        let json = error_json(body);
        match json.and_then(|j| body_error(&j, status_class(status))) {
            Some(err) => UpstreamError {
                code: err.code,
                kind: err.kind,
                retryable: err.retryable,
                ..base(&err.detail)
            },
            None => base(&body_snippet(body)),
        }
    }

    fn refresh_credential(
        &self,
        ctx: &Providers,
        target: &Target,
        err: &UpstreamError,
        started: Instant,
    ) -> bool {
        // Token invalid / expired: the official SDK refreshes once and retries once.
        let stale = matches!(err.code.as_deref(), Some("110" | "111"));
        if stale {
            ctx.baidu
                .invalidate(&target.api_url, target.api_key.expose(), started);
        }
        stale
    }
}

/// `{"error_code":N,"error_msg":"…"}`, found whatever the HTTP status; `fallback` classes
/// a code missing from the table.
fn body_error(json: &Value, fallback: Class) -> Option<UpstreamError> {
    let code = text_of(json.get("error_code"))?;
    let message = json.get("error_msg").and_then(Value::as_str).unwrap_or("");
    let class = code.parse().ok().and_then(code_class).unwrap_or(fallback);
    Some(in_band(class, Some(code), message))
}

/// An unknown code inside a 200: the call failed, nothing says waiting helps.
const IN_BAND: Class = Class::fatal(FailureKind::Unavailable);

/// Baidu's error codes (`qianfan/consts.py`).
pub(crate) fn code_class(code: u32) -> Option<Class> {
    use FailureKind::*;
    Some(match code {
        110 | 111 | 6 | 15 => Class::fatal(Auth),
        18 | 336501 | 336502 => Class::retry(RateLimited),
        2 | 4 | 336000 | 336100 => Class::retry(Unavailable),
        // Daily or total request limit (17 also: service not enabled, account overdue).
        17 | 19 => Class::fatal(Billing),
        336001..=336006 | 336104 | 336105 => Class::fatal(Rejected),
        _ => return None,
    })
}

#[derive(Debug, Deserialize)]
struct Answer {
    result: Option<String>,
    #[serde(default)]
    is_end: bool,
    finish_reason: Option<String>,
    #[serde(default)]
    need_clear_history: bool,
    usage: Option<WireUsage>,
}

impl Answer {
    fn finish_reason(&self) -> String {
        if self.need_clear_history {
            // Moderation triggered: the result is a canned refusal.
            return "content_filter".to_owned();
        }
        match self.finish_reason.as_deref() {
            None | Some("normal" | "") => "stop".to_owned(),
            Some(other) => other.to_owned(),
        }
    }
}

#[derive(Debug, Deserialize)]
struct WireUsage {
    #[serde(default)]
    prompt_tokens: u64,
    completion_tokens: Option<u64>,
    #[serde(default)]
    total_tokens: u64,
}

impl WireUsage {
    fn into_usage(self) -> super::Usage {
        // Some answers omit completion_tokens: it is total − prompt then.
        let completion = self
            .completion_tokens
            .unwrap_or(self.total_tokens.saturating_sub(self.prompt_tokens));
        let total = (self.total_tokens > 0).then_some(self.total_tokens);
        usage(self.prompt_tokens, completion, total)
    }
}

struct SentenceDecoder {
    finished: bool,
}

impl Decoder for SentenceDecoder {
    fn event(&mut self, ev: &SseEvent, out: &mut Out) -> UpstreamResult<bool> {
        let json: Value = serde_json::from_str(&ev.data).map_err(|err| {
            UpstreamError::protocol(format!("bad stream chunk ({err}): {}", ev.data))
        })?;
        if let Some(err) = body_error(&json, IN_BAND) {
            return Err(err);
        }
        let answer = Answer::deserialize(&json)
            .map_err(|err| UpstreamError::protocol(format!("bad stream chunk ({err})")))?;
        out.delta(answer.result.as_deref().unwrap_or(""));
        // Usage on earlier sentences is unreliable (completion_tokens 0 until the end).
        if answer.is_end {
            self.finished = true;
            let finish = answer.finish_reason();
            if let Some(wire) = answer.usage {
                out.usage(wire.into_usage());
            }
            out.finish(finish);
        }
        Ok(false)
    }

    /// The SDK treats a non-`data:` line inside the stream as a JSON error.
    fn stray(&mut self, line: &str, _out: &mut Out) -> UpstreamResult<()> {
        let json = serde_json::from_str::<Value>(line).ok();
        match json.and_then(|j| body_error(&j, IN_BAND)) {
            Some(err) => Err(err),
            None => Ok(()),
        }
    }

    fn eof(&mut self, _out: &mut Out) -> UpstreamResult<()> {
        if self.finished {
            Ok(())
        } else {
            Err(UpstreamError::cut("is_end"))
        }
    }
}

#[cfg(test)]
#[path = "tests/baidu.rs"]
mod tests;
