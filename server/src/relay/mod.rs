//! The relay: from a client's request to an upstream call and back. Templates, retries,
//! timeouts, streaming and the call record are decided here, never in a provider module.
//! Each call runs in its own task, so its record is written even when the client goes away.

pub mod recorder;
pub mod request;
pub mod retry;
mod stream;
pub mod template;
pub mod usage;

use std::time::{Duration, Instant};

use serde_json::json;

pub use request::{CallInput, Caller, Overrides, PreparedCall};
pub use stream::{StreamEvent as RelayEvent, StreamSession};

use crate::{
    db::call_logs::NewCallLog,
    error::{AppError, UpstreamFailure},
    providers::{Completion, FailureKind, Providers, UpstreamError, Usage},
    quotas::Admission,
};
use recorder::Recorder;
use retry::RetryPolicy;
use usage::Accounted;

pub struct Relay {
    providers: Providers,
    recorder: Recorder,
}

/// A finished non-streamed call.
#[derive(Debug, Clone)]
pub struct CallResult {
    pub response: String,
    pub model: String,
    pub usage: Usage,
    pub call_log_id: i64,
    pub duration_ms: i64,
}

impl Relay {
    pub fn new(providers: Providers, recorder: Recorder) -> Self {
        Self {
            providers,
            recorder,
        }
    }

    /// One non-streamed call with retries, recorded whatever happens. Runs detached from the
    /// client's connection: a client that hangs up does not cancel the record.
    pub async fn complete(
        self: &std::sync::Arc<Self>,
        call: PreparedCall,
        admission: Admission,
    ) -> Result<CallResult, AppError> {
        let relay = self.clone();
        tokio::spawn(async move { relay.complete_inner(call, admission).await })
            .await
            .map_err(|err| AppError::Internal(format!("call task failed: {err}")))?
    }

    async fn complete_inner(
        &self,
        call: PreparedCall,
        admission: Admission,
    ) -> Result<CallResult, AppError> {
        let started = Instant::now();
        let attempts = policy(&call)
            .run(|| self.providers.complete(&call.target, &call.request))
            .await;
        let duration = started.elapsed();
        let outcome = match attempts.result {
            Ok(completion) => Outcome::success(&call, completion),
            Err(err) => Outcome::failure(&call, err, String::new(), None),
        };
        let record = outcome.record(&call, &admission, duration, attempts.retries, false);
        let call_log_id = self.recorder.record(record).await?;
        match outcome.failure {
            Some(failure) => Err(failure
                .client_error
                .unwrap_or_else(|| AppError::Internal("call failed".into()))),
            None => Ok(CallResult {
                response: outcome.text,
                model: call.config.model.clone(),
                usage: outcome.accounted.usage,
                call_log_id,
                duration_ms: duration.as_millis() as i64,
            }),
        }
    }
}

pub(crate) fn policy(call: &PreparedCall) -> RetryPolicy {
    RetryPolicy {
        max_retries: call.config.max_retries.max(0) as u32,
        attempt_timeout: Duration::from_secs(call.config.timeout_seconds.max(1) as u64),
    }
}

/// What a call produced, ready to be recorded and answered.
pub(crate) struct Outcome {
    pub text: String,
    pub accounted: Accounted,
    pub raw: Option<serde_json::Value>,
    pub failure: Option<Failure>,
}

/// Why a call did not succeed.
pub(crate) struct Failure {
    /// The stable code recorded with the call.
    pub code: &'static str,
    /// What the client is told; `None` when the client is no longer there.
    pub client_error: Option<AppError>,
    /// The upstream's own words, for the admin's record only.
    pub detail: String,
}

/// The code recorded when the client hangs up before the end.
pub const CLIENT_DISCONNECTED: &str = "CLIENT_DISCONNECTED";

impl Outcome {
    fn success(call: &PreparedCall, completion: Completion) -> Self {
        Self::finished(
            call,
            completion.text,
            completion.usage,
            Some(completion.raw),
        )
    }

    pub(crate) fn finished(
        call: &PreparedCall,
        text: String,
        reported: Option<Usage>,
        raw: Option<serde_json::Value>,
    ) -> Self {
        Self {
            accounted: usage::account(reported, &call.request.messages, &text),
            text,
            raw,
            failure: None,
        }
    }

    pub(crate) fn client_gone(mut self) -> Self {
        self.failure = Some(Failure {
            code: CLIENT_DISCONNECTED,
            client_error: None,
            detail: "client disconnected".into(),
        });
        self
    }

    pub(crate) fn failure(
        call: &PreparedCall,
        err: UpstreamError,
        partial: String,
        reported: Option<Usage>,
    ) -> Self {
        let client_error = upstream_error(&err);
        let mut outcome = Self::finished(call, partial, reported, None);
        outcome.failure = Some(Failure {
            code: client_error.code(),
            client_error: Some(client_error),
            detail: describe(&err),
        });
        outcome
    }

    pub(crate) fn record(
        &self,
        call: &PreparedCall,
        admission: &Admission,
        duration: Duration,
        retries: u32,
        is_stream: bool,
    ) -> NewCallLog {
        let request = &call.request;
        let usage = self.accounted.usage;
        NewCallLog {
            config_id: Some(call.config.id),
            template_id: call.template_id,
            group_id: call.caller.group_id,
            activation_code: call.caller.activation_code.clone(),
            user_id: call.caller.user_id,
            config_name: call.config.name.clone(),
            provider: call.config.provider.clone(),
            model: request.model.clone(),
            request_messages: json!(request.messages),
            request_params: Some(json!({
                "model": request.model,
                "max_tokens": request.max_tokens,
                "temperature": request.temperature,
                "top_p": request.top_p,
                "frequency_penalty": request.frequency_penalty,
                "presence_penalty": request.presence_penalty,
                "stream": is_stream,
            })),
            response_content: (!self.text.is_empty() || self.failure.is_none())
                .then(|| self.text.clone()),
            response_data: self.raw.clone(),
            success: self.failure.is_none(),
            error_code: self.failure.as_ref().map(|f| f.code.to_string()),
            error_message: self.failure.as_ref().map(|f| f.detail.clone()),
            prompt_tokens: Some(usage.prompt_tokens as i32),
            completion_tokens: Some(usage.completion_tokens as i32),
            tokens_estimated: self.accounted.estimated,
            cost: usage::cost(&call.config, &usage),
            retry_count: retries as i32,
            is_stream,
            call_time: admission.at,
            duration_ms: duration.as_millis().min(i32::MAX as u128) as i32,
            period: admission.period.clone(),
            reservation: admission.reservation,
        }
    }
}

/// The client-facing error for an upstream failure: 429 when the upstream said so,
/// 504 for a timeout, 502 for anything else.
pub fn upstream_error(err: &UpstreamError) -> AppError {
    if err.kind == FailureKind::RateLimited || err.status == Some(429) {
        AppError::Upstream(UpstreamFailure::RateLimited {
            retry_after: err.retry_after,
        })
    } else if err.kind == FailureKind::Timeout {
        AppError::Upstream(UpstreamFailure::Timeout)
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
