//! One call's task: attempts upstream, watches the client, records, answers. It runs
//! detached from the client's connection, so a client that hangs up cancels the upstream
//! request but never the record.

use std::{
    panic::AssertUnwindSafe,
    sync::{Arc, atomic::AtomicU32},
    time::{Duration, Instant},
};

use futures::{FutureExt, StreamExt};
use tokio::sync::{mpsc, oneshot};

use super::{
    Answered, CallResult, Relay, RelayEvent,
    attempts::{RetryPolicy, idle_for, timeout_error},
    outcome::{Ending, Outcome, Output},
    recorder::Recorder,
    request::PreparedCall,
};
use crate::{
    db::usage::Reservation,
    error::{AppError, AppResult},
    providers::StreamEvent as Upstream,
    quotas::Admission,
};

/// The reservation a running call holds. Released when dropped, whichever way the task
/// ends (a panic, an unrecorded end); handed to the record when there is one.
struct Held {
    reservation: Option<Reservation>,
    recorder: Recorder,
}

impl Held {
    fn take(&mut self) -> Option<Reservation> {
        self.reservation.take()
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        if let Some(reservation) = self.reservation.take() {
            self.recorder.release(reservation);
        }
    }
}

/// What every call task starts with.
struct Task {
    relay: Arc<Relay>,
    call: Arc<PreparedCall>,
    admission: Admission,
    started: Instant,
    retries: AtomicU32,
}

impl Task {
    fn new(relay: Arc<Relay>, call: PreparedCall, admission: Admission) -> (Self, Held) {
        let held = Held {
            reservation: admission.reservation.clone(),
            recorder: relay.recorder.clone(),
        };
        let task = Self {
            relay,
            call: Arc::new(call),
            admission,
            started: Instant::now(),
            retries: AtomicU32::new(0),
        };
        (task, held)
    }

    fn policy(&self, stream: bool) -> RetryPolicy {
        RetryPolicy {
            max_retries: self.call.config.max_retries.max(0) as u32,
            timeout: Duration::from_secs(self.call.config.timeout_seconds.max(1) as u64),
            stream,
        }
    }

    fn outcome(&self, output: Output, ending: Ending) -> Outcome {
        let retries = self.retries.load(std::sync::atomic::Ordering::Relaxed);
        Outcome::new(&self.call, output, ending, retries)
    }

    /// Records the outcome (the reservation settles with it) and returns the record's id.
    async fn record(&self, outcome: &Outcome, held: &mut Held, is_stream: bool) -> AppResult<i64> {
        let log = outcome.record(
            &self.call,
            &self.admission,
            held.take(),
            self.started.elapsed(),
            is_stream,
        );
        self.relay.recorder.record(log).await
    }

    /// Runs `body`; if it panics, the call is still recorded (as failed inside the proxy) and
    /// its reservation, dropped with the body, released.
    async fn supervised(
        self: Arc<Self>,
        body: impl std::future::Future<Output = ()>,
        is_stream: bool,
    ) {
        if AssertUnwindSafe(body).catch_unwind().await.is_ok() {
            return;
        }
        tracing::error!(config_id = self.call.config.id, "call task panicked");
        let outcome = self.outcome(Output::default(), Ending::Crashed);
        let mut nothing_held = Held {
            reservation: None,
            recorder: self.relay.recorder.clone(),
        };
        if let Err(err) = self.record(&outcome, &mut nothing_held, is_stream).await {
            tracing::error!(%err, "recording a crashed call failed");
        }
    }
}

/// A non-streamed call. The client waiting on `reply` may leave at any time: the upstream
/// request is then cancelled and the call recorded as `CLIENT_DISCONNECTED`.
pub(super) async fn json(
    relay: Arc<Relay>,
    call: PreparedCall,
    admission: Admission,
    mut reply: oneshot::Sender<Answered>,
) {
    let (task, mut held) = Task::new(relay, call, admission);
    let task = Arc::new(task);
    let body = {
        let task = task.clone();
        async move {
            let policy = task.policy(false);
            let attempts = policy.run(&task.retries, |progress| {
                let task = task.clone();
                async move {
                    let (target, request) = (&task.call.target, &task.call.request);
                    task.relay
                        .providers
                        .complete(target, request, &progress)
                        .await
                }
            });
            // Shutdown first: when the server stops it also drops the connections.
            let (output, ending) = tokio::select! {
                biased;
                () = task.relay.running.interrupted() => (Output::default(), Ending::Interrupted),
                () = reply.closed() => (Output::default(), Ending::ClientGone { stalled: None }),
                result = attempts => match result {
                    Ok((completion, _)) => (Output::from(completion), Ending::Finished),
                    Err(err) => (Output::default(), Ending::Failed(err)),
                },
            };
            let outcome = task.outcome(output, ending);
            let recorded = task.record(&outcome, &mut held, false).await;
            let call_log_id = recorded.as_ref().ok().copied();
            let result = match (recorded, outcome.client_error()) {
                (Err(err), _) => Err(err),
                (Ok(_), Some(err)) => Err(err),
                (Ok(call_log_id), None) => {
                    let answer = outcome.output.answer;
                    Ok(CallResult {
                        model: task.call.config.model.clone(),
                        usage: outcome.accounted.usage,
                        finish_reason: answer.finish_reason,
                        response: answer.text,
                        reasoning: answer.reasoning,
                        tool_calls: answer.tool_calls,
                        upstream_id: answer.id,
                        call_log_id,
                        duration_ms: task.started.elapsed().as_millis() as i64,
                    })
                }
            };
            let _ = reply.send(Answered {
                result,
                call_log_id,
            });
        }
    };
    task.supervised(body, false).await;
}

/// A streamed call. `opened` answers once the upstream stream has its first output (or
/// failed before any: then the client gets a plain error); `events` then carries it.
pub(super) async fn stream(
    relay: Arc<Relay>,
    call: PreparedCall,
    admission: Admission,
    mut opened: oneshot::Sender<AppResult<()>>,
    events: mpsc::Sender<RelayEvent>,
) {
    let (task, mut held) = Task::new(relay, call, admission);
    let task = Arc::new(task);
    let body = {
        let task = task.clone();
        async move {
            let policy = task.policy(true);
            let attempts = policy.run(&task.retries, |progress| {
                let task = task.clone();
                async move {
                    let (target, request) = (&task.call.target, &task.call.request);
                    task.relay
                        .providers
                        .open_stream(target, request, &progress)
                        .await
                }
            });
            let opening = tokio::select! {
                biased;
                () = task.relay.running.interrupted() => Err(Ending::Interrupted),
                () = opened.closed() => Err(Ending::ClientGone { stalled: None }),
                result = attempts => result.map_err(Ending::Failed),
            };
            let (upstream, progress) = match opening {
                Ok(open) => open,
                Err(ending) => {
                    let outcome = task.outcome(Output::default(), ending);
                    let recorded = task.record(&outcome, &mut held, true).await;
                    let answer = match (recorded, outcome.client_error()) {
                        (Err(err), _) | (Ok(_), Some(err)) => Err(err),
                        (Ok(_), None) => Err(AppError::Internal("stream ended unopened".into())),
                    };
                    let _ = opened.send(answer);
                    return;
                }
            };
            if opened.send(Ok(())).is_err() {
                tracing::debug!("client gone before the stream opened");
            }
            let (output, ending) =
                forward(&task, upstream, &progress, policy.timeout, &events).await;
            let outcome = task.outcome(output, ending);
            let recorded = task.record(&outcome, &mut held, true).await;
            let last = match (recorded, outcome.client_error()) {
                (Ok(call_log_id), None) if matches!(outcome.ending, Ending::Finished) => {
                    RelayEvent::Done {
                        usage: outcome.accounted.usage,
                        estimated: outcome.accounted.estimated,
                        finish_reason: outcome.output.answer.finish_reason.clone(),
                        call_log_id,
                    }
                }
                // The client is gone: nobody to tell.
                (Ok(_), None) => return,
                (Err(err), _) | (Ok(_), Some(err)) => RelayEvent::Error {
                    code: err.code().to_string(),
                    message: err.to_string(),
                },
            };
            let write_timeout = task.relay.client_write_timeout;
            let _ = tokio::time::timeout(write_timeout, events.send(last)).await;
        }
    };
    task.supervised(body, true).await;
}

/// Passes the upstream's output on until it ends, the client leaves or stalls, the upstream
/// goes quiet for `timeout`, or the server stops. Dropping `upstream` cancels its request.
async fn forward(
    task: &Task,
    mut upstream: crate::providers::EventStream,
    progress: &crate::providers::Progress,
    timeout: Duration,
    events: &mpsc::Sender<RelayEvent>,
) -> (Output, Ending) {
    let write_timeout = task.relay.client_write_timeout;
    let mut output = Output::default();
    let send = |event: RelayEvent| async move {
        match tokio::time::timeout(write_timeout, events.send(event)).await {
            Ok(Ok(())) => None,
            Ok(Err(_)) => Some(Ending::ClientGone { stalled: None }),
            Err(_) => Some(Ending::ClientGone {
                stalled: Some(write_timeout),
            }),
        }
    };
    let ending = loop {
        let next = tokio::select! {
            biased;
            () = task.relay.running.interrupted() => break Ending::Interrupted,
            () = events.closed() => break Ending::ClientGone { stalled: None },
            () = idle_for(progress, timeout) => break Ending::Failed(timeout_error(timeout)),
            next = upstream.next() => next,
        };
        let event = match next {
            None => break Ending::Finished,
            Some(Err(err)) => break Ending::Failed(err),
            Some(Ok(event)) => event,
        };
        output.answer.apply(&event);
        let gone = match event {
            Upstream::Usage(_) | Upstream::Finish(_) | Upstream::Id(_) => None,
            Upstream::Delta(text) => send(RelayEvent::Chunk(text)).await,
            Upstream::Reasoning(text) => send(RelayEvent::Reasoning(text)).await,
            Upstream::ToolCall(delta) => send(RelayEvent::ToolCall(delta)).await,
        };
        if let Some(ending) = gone {
            break ending;
        }
    };
    drop(upstream);
    output.raw = Some(output.answer.record());
    (output, ending)
}
