//! The relay: the one owner of a call's lifecycle. Every surface (the JSON call, both SSE
//! formats, the config connection test) hands it a request and gets an answer; the relay
//! alone sequences prepare → admit → call upstream → record → settle. Templates, retries,
//! timeouts, streaming and the record are decided here, never in a provider module or a
//! handler.
//!
//! Each call runs in its own tracked task that holds the quota reservation as a guard: the
//! reservation is released on every exit (record, failure, client gone, panic, shutdown),
//! and the call is recorded exactly once whatever the client does.

mod attempts;
mod breaker;
mod call;
mod keys;
mod outcome;
pub mod recorder;
pub mod request;
mod running;
pub mod template;
mod tokenizer;
pub mod usage;

use std::{sync::Arc, time::Duration};

use entity::llm_configs;
use tokio::sync::{mpsc, oneshot};

pub use outcome::{CLIENT_DISCONNECTED, SERVER_SHUTDOWN};
pub use request::{CallInput, Caller, Overrides, PreparedCall};

use crate::{
    crypto::Cipher,
    db::Db,
    error::{AppError, AppResult},
    metrics::Metrics,
    providers::{Providers, ToolCall, ToolCallDelta, Usage},
    quotas::{Admission, Quotas},
};
use recorder::Recorder;
use running::Running;

pub struct Relay {
    db: Db,
    stored_keys: keys::StoredKeys,
    quotas: Arc<Quotas>,
    providers: Providers,
    recorder: Recorder,
    metrics: Arc<Metrics>,
    running: Running,
    keys: keys::KeyRotation,
    breakers: breaker::Breakers,
    /// A stream whose client reads nothing for this long is cut.
    client_write_timeout: Duration,
    alerts: crate::alerts::Alerts,
}

/// A finished non-streamed call.
#[derive(Debug, Clone)]
pub struct CallResult {
    pub response: String,
    /// The model's reasoning, when it shows it.
    pub reasoning: String,
    pub tool_calls: Vec<ToolCall>,
    pub model: String,
    pub usage: Usage,
    pub finish_reason: Option<String>,
    /// The upstream's id of its answer.
    pub upstream_id: Option<String>,
    pub call_log_id: i64,
    pub duration_ms: i64,
}

/// A non-streamed call's answer, with its record's id whether it succeeded or not.
#[derive(Debug)]
pub struct Answered {
    pub result: AppResult<CallResult>,
    /// None when the record could not be written (the result then says why).
    pub call_log_id: Option<i64>,
}

/// What a stream's client receives, in order: chunks, then exactly one `Done` or `Error`.
#[derive(Debug, Clone, PartialEq)]
pub enum RelayEvent {
    Chunk(String),
    /// Reasoning text (surfaces that have no place for it skip it).
    Reasoning(String),
    /// A piece of a tool call (see [`ToolCallDelta`]).
    ToolCall(ToolCallDelta),
    Done {
        usage: Usage,
        estimated: bool,
        finish_reason: Option<String>,
        call_log_id: i64,
    },
    Error {
        code: String,
        message: String,
    },
}

/// An open stream: the client reads `events` until `Done` or `Error`.
pub struct StreamSession {
    pub events: mpsc::Receiver<RelayEvent>,
}

/// Who hears about calls besides their records: the metrics and the alerts.
pub struct Observers {
    pub metrics: Arc<Metrics>,
    pub alerts: crate::alerts::Alerts,
}

impl Relay {
    pub fn new(
        db: Db,
        cipher: Cipher,
        quotas: Arc<Quotas>,
        providers: Providers,
        recorder: Recorder,
        client_write_timeout: Duration,
        Observers { metrics, alerts }: Observers,
    ) -> Self {
        Self {
            db,
            stored_keys: keys::StoredKeys::new(cipher),
            quotas,
            providers,
            recorder,
            metrics,
            running: Running::default(),
            keys: keys::KeyRotation::default(),
            breakers: breaker::Breakers::default(),
            client_write_timeout,
            alerts,
        }
    }

    /// A non-streamed call: answered once its record is committed.
    pub async fn complete(
        self: &Arc<Self>,
        input: CallInput,
        caller: Caller,
    ) -> AppResult<CallResult> {
        let call = request::prepare(&self.db, &self.stored_keys, input, caller).await?;
        self.run_json(call).await?.result
    }

    /// An admin's connection test: one user message to a config (enabled or not, saved or
    /// not), through the same lifecycle as any call, so it is recorded and charged too.
    /// A failed test still names its record, where the upstream's own words are.
    pub async fn test_config(
        self: &Arc<Self>,
        config: llm_configs::Model,
        message: String,
        caller: Caller,
    ) -> AppResult<Answered> {
        let call = request::prepare_test(config, message, caller, &self.stored_keys)?;
        self.run_json(call).await
    }

    /// A streamed call. An error here means nothing was streamed: the call is already
    /// recorded and the client gets a plain error answer.
    pub async fn stream(
        self: &Arc<Self>,
        input: CallInput,
        caller: Caller,
    ) -> AppResult<StreamSession> {
        let call = request::prepare(&self.db, &self.stored_keys, input, caller).await?;
        let admission = self.admit(&call).await?;
        // Small: the task waits for the client rather than buffering a whole answer.
        let (events, receiver) = mpsc::channel(32);
        let (opened, open_result) = oneshot::channel();
        self.running
            .spawn(call::stream(self.clone(), call, admission, opened, events));
        match open_result.await {
            Ok(Ok(())) => Ok(StreamSession { events: receiver }),
            Ok(Err(err)) => Err(err),
            Err(_) => Err(AppError::Internal(
                "stream task ended before opening".into(),
            )),
        }
    }

    async fn run_json(self: &Arc<Self>, call: PreparedCall) -> AppResult<Answered> {
        let admission = self.admit(&call).await?;
        let (reply, answer) = oneshot::channel();
        self.running
            .spawn(call::json(self.clone(), call, admission, reply));
        answer
            .await
            .map_err(|_| AppError::Internal("call task ended without an answer".into()))
    }

    async fn admit(&self, call: &PreparedCall) -> AppResult<Admission> {
        let admitted = self
            .quotas
            .admit(&self.db, call.caller.group_id, &call.currencies(), || {
                call.worst_case()
            })
            .await;
        if let Err(err) = &admitted
            && err.status().is_client_error()
        {
            // A refusal (rate, quota, budget), not a failure of the database.
            self.metrics.refused(err.code());
        }
        admitted
    }

    /// While a config's circuit breaker is open on this instance: when it closes.
    pub fn circuit_open_until(&self, config_id: i32) -> Option<chrono::DateTime<chrono::Utc>> {
        self.breakers.open_until(config_id)
    }

    /// While a rate-limited key (`crypto::key_id`) rests on this instance: until when.
    pub fn key_cooling_until(&self, key_id: &str) -> Option<chrono::DateTime<chrono::Utc>> {
        self.keys.cooling_until(key_id)
    }

    /// The server stops: calls still running after `grace` are interrupted and recorded so.
    pub fn begin_shutdown(&self, grace: Duration) {
        self.running.begin_shutdown(grace);
    }

    /// Waits for every call's record (interrupting what still runs after `limit`).
    pub async fn finish(&self, limit: Duration) {
        self.running.finish(limit).await;
    }
}
