//! What a call produced and how it ended, turned into its record and its answer.

use std::time::Duration;

use serde_json::{Value, json};

use super::{
    request::{PreparedCall, Route},
    usage::{self, Accounted, Produced},
};
use crate::{
    db::{
        call_logs::{CallStatus, JsonText, NewCallLog},
        usage::Reservation,
    },
    error::{AppError, UpstreamFailure},
    log_text,
    providers::{Assembly, ChatRequest, Completion, FailureKind, UpstreamError},
    quotas::Admission,
};

/// The code recorded when the client hangs up (or stops reading) before the end.
pub const CLIENT_DISCONNECTED: &str = "CLIENT_DISCONNECTED";
/// The code recorded when the server stopped while the call ran.
pub const SERVER_SHUTDOWN: &str = "SERVER_SHUTDOWN";

/// How a call ended.
#[derive(Debug)]
pub(crate) enum Ending {
    Finished,
    Failed(UpstreamError),
    /// The client hung up, or stopped reading (`stalled`).
    ClientGone {
        stalled: Option<Duration>,
    },
    Interrupted,
    /// The call task panicked (a bug); what it produced is lost.
    Crashed,
}

/// A config that failed before the one that answered (or before the last one tried).
#[derive(Debug, Clone, serde::Serialize)]
pub(crate) struct FallbackAttempt {
    config_id: i32,
    config_name: String,
    provider: String,
    /// The position of the key that failed, when the call went on with another key.
    #[serde(skip_serializing_if = "Option::is_none")]
    key: Option<usize>,
    error: String,
}

impl FallbackAttempt {
    pub fn new(
        config: &entity::llm_configs::Model,
        key: Option<usize>,
        err: &UpstreamError,
    ) -> Self {
        Self {
            config_id: config.id,
            config_name: config.name.clone(),
            provider: config.provider.clone(),
            key,
            error: describe(err),
        }
    }
}

/// Everything the upstream sent, as far as the call got.
#[derive(Debug, Default)]
pub(crate) struct Output {
    pub answer: Assembly,
    /// The upstream's answer as received (non-streamed), or the assembled stream.
    pub raw: Option<Value>,
}

impl From<Completion> for Output {
    fn from(completion: Completion) -> Self {
        Self {
            answer: Assembly {
                text: completion.text,
                reasoning: completion.reasoning,
                tool_calls: completion.tool_calls,
                usage: completion.usage,
                finish_reason: completion.finish_reason,
                id: completion.id,
                chunks: 0,
            },
            raw: Some(completion.raw),
        }
    }
}

pub(crate) struct Outcome {
    pub output: Output,
    pub ending: Ending,
    pub accounted: Accounted,
    pub retries: u32,
}

impl Outcome {
    pub fn new(request: &ChatRequest, output: Output, ending: Ending, retries: u32) -> Self {
        let answer = &output.answer;
        let accounted = usage::account(
            &Produced {
                reported: answer.usage,
                text: &answer.text,
                reasoning: &answer.reasoning,
                tool_calls: &answer.tool_calls,
                complete: matches!(ending, Ending::Finished),
            },
            request,
        );
        Self {
            output,
            ending,
            accounted,
            retries,
        }
    }

    fn status(&self) -> CallStatus {
        match self.ending {
            Ending::Finished => CallStatus::Success,
            Ending::Interrupted => CallStatus::Interrupted,
            Ending::Failed(_) | Ending::ClientGone { .. } | Ending::Crashed => CallStatus::Error,
        }
    }

    /// The stable code and the admin's one-line account of a call that did not succeed.
    fn failure(&self) -> Option<(&'static str, String)> {
        Some(match &self.ending {
            Ending::Finished => return None,
            Ending::Failed(err) => (upstream_error(err).code(), describe(err)),
            Ending::ClientGone { stalled: None } => {
                (CLIENT_DISCONNECTED, "client disconnected".into())
            }
            Ending::ClientGone {
                stalled: Some(limit),
            } => (
                CLIENT_DISCONNECTED,
                format!("client stopped reading for {} s", limit.as_secs()),
            ),
            Ending::Interrupted => (
                SERVER_SHUTDOWN,
                "the server stopped while the call ran".into(),
            ),
            Ending::Crashed => (
                AppError::Internal(String::new()).code(),
                "the call failed inside the proxy".into(),
            ),
        })
    }

    /// What the client is told when the call did not succeed; `None` when it is gone.
    pub fn client_error(&self) -> Option<AppError> {
        match &self.ending {
            Ending::Finished | Ending::ClientGone { .. } => None,
            Ending::Failed(err) => Some(upstream_error(err)),
            Ending::Interrupted => Some(AppError::ShuttingDown),
            Ending::Crashed => Some(AppError::Internal("call task panicked".into())),
        }
    }

    /// The call's record. The upstream's raw answer moves into it: nothing reads it after.
    #[allow(clippy::too_many_arguments)]
    pub fn record(
        &mut self,
        call: &PreparedCall,
        route: &Route,
        fell_back: Vec<FallbackAttempt>,
        admission: &Admission,
        reservation: Option<Reservation>,
        duration: Duration,
        is_stream: bool,
    ) -> NewCallLog {
        let (config, request) = (&route.config, &route.request);
        let answer = &self.output.answer;
        let usage = self.accounted.usage;
        let cost = usage::cost(config, &usage);
        let charged = admission
            .budget
            .as_ref()
            .and_then(|budget| budget.convert(cost, &config.currency));
        let failure = self.failure();
        let status = self.status();
        NewCallLog {
            // An unsaved config under test has id 0: its record points at no config.
            config_id: (config.id > 0).then_some(config.id),
            template_id: call.template_id,
            group_id: call.caller.group_id,
            activation_code: call.caller.activation_code.clone(),
            user_id: call.caller.user_id,
            api_key_id: call.caller.api_key_id,
            config_name: config.name.clone(),
            provider: config.provider.clone(),
            model: request.model.clone(),
            request_messages: JsonText::of(&request.messages),
            request_params: Some(JsonText::of(&RequestParams {
                request,
                stream: is_stream,
            })),
            search_text: log_text::search_text(
                request
                    .messages
                    .iter()
                    .map(|message| message.content.text()),
                Some(&answer.text),
            ),
            response_content: (!answer.text.is_empty() || status == CallStatus::Success)
                .then(|| answer.text.clone()),
            response_data: self.output.raw.take(),
            status,
            finish_reason: answer.finish_reason.clone(),
            upstream_id: answer.id.clone(),
            error_code: failure.as_ref().map(|(code, _)| code.to_string()),
            error_message: failure.map(|(_, detail)| detail),
            prompt_tokens: Some(usage.prompt_tokens as i32),
            completion_tokens: Some(usage.completion_tokens as i32),
            tokens_estimated: self.accounted.estimated,
            cost,
            currency: config.currency.clone(),
            charged: charged.map(|c| c.0),
            exchange_rate: charged.map(|c| c.1),
            fallback_attempts: (!fell_back.is_empty()).then(|| json!(fell_back)),
            retry_count: self.retries as i32,
            is_stream,
            call_time: admission.at,
            duration_ms: duration.as_millis().min(i32::MAX as u128) as i32,
            period: admission.period.clone(),
            reservation,
        }
    }
}

/// Everything sent beside the messages, as the record shows it.
#[derive(serde::Serialize)]
struct RequestParams<'a> {
    #[serde(flatten)]
    request: &'a ChatRequest,
    stream: bool,
}

/// The client-facing error for an upstream failure: 429 when the upstream said so,
/// 504 for a timeout, 502 for an answer not in the provider's format or anything else.
pub fn upstream_error(err: &UpstreamError) -> AppError {
    if err.kind == FailureKind::RateLimited || err.status == Some(429) {
        AppError::Upstream(UpstreamFailure::RateLimited {
            retry_after: err.retry_after,
        })
    } else if err.kind == FailureKind::Timeout {
        AppError::Upstream(UpstreamFailure::Timeout)
    } else if err.kind == FailureKind::Protocol {
        AppError::Upstream(UpstreamFailure::BadResponse)
    } else {
        AppError::Upstream(UpstreamFailure::Failed)
    }
}

/// One line for the admin: what failed and what the upstream said (never the key).
pub fn describe(err: &UpstreamError) -> String {
    let mut text = format!("{:?}", err.kind);
    if let Some(status) = err.status {
        text.push_str(&format!(" HTTP {status}"));
    }
    if let Some(code) = &err.code {
        text.push_str(&format!(" [{code}]"));
    }
    if !err.detail.is_empty() {
        text.push_str(": ");
        text.push_str(&err.detail);
    }
    text
}
