//! One call's task: attempts upstream, watches the client, records, answers. It runs
//! detached from the client's connection, so a client that hangs up cancels the upstream
//! request but never the record.

use std::{
    future::Future,
    panic::AssertUnwindSafe,
    sync::{
        Arc, Mutex, PoisonError,
        atomic::{AtomicU32, AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use futures::{FutureExt, StreamExt};
use tokio::sync::{mpsc, oneshot};

use super::{
    Answered, CallResult, Relay, RelayEvent,
    attempts::{Failed, RetryPolicy, idle_for, timeout_error},
    keys::KeyedTarget,
    outcome::{Ending, FallbackAttempt, Outcome, Output, describe},
    recorder::Recorder,
    request::{PreparedCall, Route},
};
use crate::{
    alerts::Event,
    db,
    db::usage::Reservation,
    error::{AppError, AppResult},
    providers::{
        ChatRequest, FailureKind, Progress, StreamEvent as Upstream, Target, UpstreamError,
        UpstreamResult,
    },
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
    /// The route tried last: the answering one once the call succeeded.
    route: AtomicUsize,
    /// The routes that failed before it, for the record.
    fell_back: Mutex<Vec<FallbackAttempt>>,
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
            route: AtomicUsize::new(0),
            fell_back: Mutex::new(Vec::new()),
        };
        (task, held)
    }

    fn route(&self) -> &Route {
        let index = self.route.load(Ordering::Relaxed);
        &self.call.routes[index.min(self.call.routes.len() - 1)]
    }

    /// Tries the routes in order, each with its config's retries and timeout, until one
    /// answers; the next is tried only when the failed one cannot have generated anything
    /// (for a stream: before its first output). The last failure is the call's.
    async fn attempt<'r, T, F, Fut>(
        &'r self,
        stream: bool,
        mut attempt: F,
    ) -> UpstreamResult<(T, Arc<Progress>)>
    where
        F: FnMut(&'r Target, &'r ChatRequest, Arc<Progress>) -> Fut,
        Fut: Future<Output = UpstreamResult<T>>,
    {
        let last = self.call.routes.len().saturating_sub(1);
        for (index, route) in self.call.routes.iter().enumerate() {
            self.route.store(index, Ordering::Relaxed);
            let breakers = &self.relay.breakers;
            let failed = if breakers.is_open(&route.config) {
                Failed {
                    error: UpstreamError::new(
                        FailureKind::Unavailable,
                        "circuit breaker open: the config failed too often, skipped for now",
                    ),
                    may_fall_back: true,
                }
            } else {
                let result = self.attempt_keys(route, stream, &mut attempt).await;
                // A bad request says nothing about the upstream's health.
                let healthy = match &result {
                    Ok(_) => true,
                    Err(failed) => failed.error.kind == FailureKind::Rejected,
                };
                breakers.record(&route.config, healthy);
                match result {
                    Ok(done) => return Ok(done),
                    Err(failed) => failed,
                }
            };
            if index == last || !failed.may_fall_back {
                return Err(failed.error);
            }
            tracing::info!(config_id = route.config.id, error = %failed.error, "falling back");
            self.note(FallbackAttempt::new(&route.config, None, &failed.error));
        }
        Err(UpstreamError::protocol("a call without a route"))
    }

    /// One route's keys in turn: a key the upstream refuses (bad key, no balance) is set
    /// aside and the next one tried, as is one still rate-limited after its retries (it
    /// cools off); any other failure ends the route.
    async fn attempt_keys<'r, T, F, Fut>(
        &'r self,
        route: &'r Route,
        stream: bool,
        attempt: &mut F,
    ) -> Result<(T, Arc<Progress>), Failed>
    where
        F: FnMut(&'r Target, &'r ChatRequest, Arc<Progress>) -> Fut,
        Fut: Future<Output = UpstreamResult<T>>,
    {
        let policy = RetryPolicy {
            max_retries: route.config.max_retries.max(0) as u32,
            timeout: Duration::from_secs(route.config.timeout_seconds.max(1) as u64),
            stream,
        };
        let mut last = Failed {
            error: UpstreamError::new(FailureKind::Auth, "every key of this config is set aside"),
            may_fall_back: true,
        };
        let keys = self.relay.keys.order(&route.keys);
        let count = keys.len();
        for (tried, key) in keys.into_iter().enumerate() {
            let run = policy.run(&self.retries, |p| attempt(&key.target, &route.request, p));
            let failed = match run.await {
                Ok(done) => return Ok(done),
                Err(failed) => failed,
            };
            match failed.error.kind {
                FailureKind::Auth | FailureKind::Billing => {
                    let reason = describe(&failed.error);
                    let set_aside = db::config_keys::put_aside(
                        &self.relay.db,
                        route.config.id,
                        &key.key_id,
                        &reason,
                    );
                    match set_aside.await {
                        Ok(true) => self.alert_set_aside(route, key, &reason),
                        Ok(false) => {}
                        Err(err) => tracing::error!(%err, "could not set a refused key aside"),
                    }
                    tracing::warn!(config_id = route.config.id, key = key.position, %reason, "key set aside");
                }
                FailureKind::RateLimited if failed.may_fall_back => {
                    self.relay.keys.cool(&key.key_id, failed.error.retry_after);
                }
                _ => return Err(failed),
            }
            if tried + 1 < count {
                self.note(FallbackAttempt::new(
                    &route.config,
                    Some(key.position),
                    &failed.error,
                ));
            }
            last = failed;
        }
        Err(last)
    }

    /// Tells the admin a key was set aside: by its position and mask, and with the key
    /// taken out of the upstream's words in case they quote it.
    fn alert_set_aside(&self, route: &Route, key: &KeyedTarget, reason: &str) {
        let plain = key.target.api_key.expose();
        let reason = if plain.is_empty() {
            reason.to_string()
        } else {
            reason.replace(plain, "****")
        };
        let alerts = &self.relay.alerts;
        let day = alerts.clock().period(alerts.clock().now()).day;
        alerts.raise(Event::key_set_aside(
            route.config.id,
            &route.config.name,
            key.position + 1,
            &crate::crypto::mask_key(plain),
            &reason,
            &day,
        ));
    }

    fn note(&self, attempt: FallbackAttempt) {
        self.fell_back
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(attempt);
    }

    fn outcome(&self, output: Output, ending: Ending) -> Outcome {
        let retries = self.retries.load(Ordering::Relaxed);
        Outcome::new(&self.route().request, output, ending, retries)
    }

    /// Records the outcome (the reservation settles with it) and returns the record's id.
    async fn record(
        &self,
        outcome: &mut Outcome,
        held: &mut Held,
        is_stream: bool,
    ) -> AppResult<i64> {
        let fell_back = std::mem::take(
            &mut *self
                .fell_back
                .lock()
                .unwrap_or_else(PoisonError::into_inner),
        );
        let log = outcome.record(
            &self.call,
            self.route(),
            fell_back,
            &self.admission,
            held.take(),
            self.started.elapsed(),
            is_stream,
        );
        self.relay.recorder.record(log).await
    }

    /// Runs `body`; if it panics, the call is still recorded (as failed inside the proxy) and
    /// its reservation, dropped with the body, released.
    ///
    /// Not an `async fn`: its future would hold `body` (most of the call's state) twice, as
    /// its argument and inside the unwinding guard, and a call's future is copied whole
    /// when it is spawned.
    fn supervised(
        self: Arc<Self>,
        body: impl Future<Output = ()>,
        is_stream: bool,
    ) -> impl Future<Output = ()> {
        AssertUnwindSafe(body)
            .catch_unwind()
            .then(move |ended| async move {
                if ended.is_ok() {
                    return;
                }
                tracing::error!(config_id = self.route().config.id, "call task panicked");
                let mut outcome = self.outcome(Output::default(), Ending::Crashed);
                let mut nothing_held = Held {
                    reservation: None,
                    recorder: self.relay.recorder.clone(),
                };
                if let Err(err) = self
                    .record(&mut outcome, &mut nothing_held, is_stream)
                    .await
                {
                    tracing::error!(%err, "recording a crashed call failed");
                }
            })
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
            let providers = &task.relay.providers;
            let attempts = task.attempt(false, |target, request, progress| async move {
                providers.complete(target, request, &progress).await
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
            let mut outcome = task.outcome(output, ending);
            let recorded = task.record(&mut outcome, &mut held, false).await;
            let call_log_id = recorded.as_ref().ok().copied();
            let result = match (recorded, outcome.client_error()) {
                (Err(err), _) => Err(err),
                (Ok(_), Some(err)) => Err(err),
                (Ok(call_log_id), None) => {
                    let answer = outcome.output.answer;
                    Ok(CallResult {
                        model: task.route().config.model.clone(),
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
            let providers = &task.relay.providers;
            let attempts = task.attempt(true, |target, request, progress| async move {
                providers.open_stream(target, request, &progress).await
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
                    let mut outcome = task.outcome(Output::default(), ending);
                    let recorded = task.record(&mut outcome, &mut held, true).await;
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
            let timeout = Duration::from_secs(task.route().config.timeout_seconds.max(1) as u64);
            let (output, ending) = forward(&task, upstream, &progress, timeout, &events).await;
            let mut outcome = task.outcome(output, ending);
            let recorded = task.record(&mut outcome, &mut held, true).await;
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
    // Made once, not in every turn of the loop: each would register its waker (the idle
    // timer in the timer wheel) anew for every piece of the answer.
    let interrupted = task.relay.running.interrupted();
    let client_gone = events.closed();
    let idle = idle_for(progress, timeout);
    tokio::pin!(interrupted, client_gone, idle);
    let ending = loop {
        let next = tokio::select! {
            biased;
            () = &mut interrupted => break Ending::Interrupted,
            () = &mut client_gone => break Ending::ClientGone { stalled: None },
            () = &mut idle => break Ending::Failed(timeout_error(timeout)),
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
