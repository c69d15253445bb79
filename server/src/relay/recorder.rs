//! Durable call records without a transaction per call.
//!
//! Calls hand their record to one writer task and wait for its id. The writer takes every
//! record that is waiting, writes them in one transaction and answers each caller after
//! the commit (group commit). So a returned `call_log_id` is already on disk, and under load
//! many records share one commit instead of queueing behind each other.
//!
//! A record is never lost to one bad neighbour or a passing database hiccup: transient
//! errors are retried with backoff; a batch that still fails is written row by row; a row
//! that cannot be written as it is goes in without its bodies. Reservations of calls that
//! ended without a record are released by the same writer, which also keeps SQLite's WAL
//! bounded (`Db::bound_wal`).

use std::{sync::Arc, time::Duration};

use sea_orm::DbErr;
use serde_json::json;
use tokio::{
    sync::{mpsc, oneshot},
    time::Instant,
};

use crate::{
    db::{
        self, Db,
        call_logs::{JsonText, NewCallLog, insert_batch},
        usage::Reservation,
    },
    error::AppError,
    metrics::Metrics,
};

/// Records waiting beyond this make callers wait for room (backpressure), not memory grow.
const QUEUE_CAPACITY: usize = 8192;
/// At most this many records share one transaction.
const MAX_BATCH: usize = 512;
/// Before writing a batch the writer steps aside, as long as that brings it more records (at
/// most this often): calls whose answers have arrived hand theirs over first and share the
/// commit. On one busy core at c=50 this cut the bytes written per call from 8.8 to 5.5 KB
/// (`bench/writes.sh`) and raised calls/s by 10–25 %; a call alone (c=1) costs one more turn
/// of the scheduler.
const MAX_GATHER_TURNS: usize = 16;
/// How long a transient database error is retried before a write is given up.
const RETRY_FOR: Duration = Duration::from_secs(30);
const FIRST_BACKOFF: Duration = Duration::from_millis(100);
const MAX_BACKOFF: Duration = Duration::from_secs(5);

type Reply = oneshot::Sender<Result<i64, String>>;

enum Job {
    /// With the time it was handed over (the writer's lag is measured from it).
    Record(Box<NewCallLog>, Reply, Instant),
    /// A call that ended without a record gives its reservation back.
    Release(Reservation),
}

#[derive(Clone)]
pub struct Recorder {
    queue: mpsc::Sender<Job>,
}

pub struct RecorderTask {
    handle: tokio::task::JoinHandle<()>,
}

impl Recorder {
    pub fn start(db: Db, metrics: Arc<Metrics>) -> (Self, RecorderTask) {
        let (queue, receiver) = mpsc::channel(QUEUE_CAPACITY);
        let handle = tokio::spawn(write_loop(db, metrics, receiver));
        (Self { queue }, RecorderTask { handle })
    }

    /// Returns the record's id once it is committed.
    pub async fn record(&self, mut log: NewCallLog) -> Result<i64, AppError> {
        log.store_reply_once();
        let (reply, answer) = oneshot::channel();
        self.queue
            .send(Job::Record(Box::new(log), reply, Instant::now()))
            .await
            .map_err(|_| AppError::Internal("call recorder stopped".into()))?;
        answer
            .await
            .map_err(|_| AppError::Internal("call recorder stopped".into()))?
            .map_err(|err| AppError::Internal(format!("writing call record: {err}")))
    }

    /// Gives a reservation back without a record. Callable from `Drop`: it never waits.
    pub fn release(&self, reservation: Reservation) {
        match self.queue.try_send(Job::Release(reservation)) {
            Ok(()) => {}
            Err(mpsc::error::TrySendError::Full(job)) => {
                let queue = self.queue.clone();
                if let Ok(runtime) = tokio::runtime::Handle::try_current() {
                    runtime.spawn(async move { queue.send(job).await });
                }
            }
            // The writer is gone (the process is stopping): the next start's sweep releases it.
            Err(mpsc::error::TrySendError::Closed(_)) => {}
        }
    }
}

impl RecorderTask {
    /// Waits until every record already handed over is written. The writer ends when the
    /// last `Recorder` handle is dropped.
    pub async fn finish(self, limit: Duration) {
        if tokio::time::timeout(limit, self.handle).await.is_err() {
            tracing::error!("call records still pending at shutdown");
        }
    }
}

async fn write_loop(db: Db, metrics: Arc<Metrics>, mut receiver: mpsc::Receiver<Job>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    let mut next_wal_restart = Instant::now();
    while receiver.recv_many(&mut batch, MAX_BATCH).await > 0 {
        gather(&mut receiver, &mut batch).await;
        let mut rows = Vec::with_capacity(batch.len());
        let mut replies = Vec::with_capacity(batch.len());
        let mut released = Vec::new();
        let mut handed_over = Vec::with_capacity(batch.len());
        for job in batch.drain(..) {
            match job {
                Job::Record(row, reply, at) => {
                    rows.push(*row);
                    replies.push(reply);
                    handed_over.push(at);
                }
                Job::Release(reservation) => released.push(reservation),
            }
        }
        match retrying(|| insert_batch(&db, &rows, &released)).await {
            Ok(ids) => {
                if metrics.enabled() {
                    let now = Instant::now();
                    let lags: Vec<Duration> = handed_over.iter().map(|at| now - *at).collect();
                    metrics.recorded(&rows, &lags);
                }
                for (reply, id) in replies.into_iter().zip(ids) {
                    let _ = reply.send(Ok(id));
                }
            }
            Err(err) => {
                tracing::error!(%err, rows = rows.len(), "batched call-record write failed; writing row by row");
                write_singly(&db, &metrics, rows, replies, handed_over, released).await;
            }
        }
        // Between batches, so no caller waits for the WAL's upkeep unless it grew too large.
        db.bound_wal(&mut next_wal_restart).await;
    }
}

/// Adds the records handed over while the writer stepped aside (see `MAX_GATHER_TURNS`).
async fn gather(receiver: &mut mpsc::Receiver<Job>, batch: &mut Vec<Job>) {
    for _ in 0..MAX_GATHER_TURNS {
        let before = batch.len();
        tokio::task::yield_now().await;
        while batch.len() < MAX_BATCH {
            match receiver.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        if batch.len() == before || batch.len() == MAX_BATCH {
            return;
        }
    }
}

/// One bad row must not take the others with it.
async fn write_singly(
    db: &Db,
    metrics: &Metrics,
    rows: Vec<NewCallLog>,
    replies: Vec<Reply>,
    handed_over: Vec<Instant>,
    released: Vec<Reservation>,
) {
    for ((row, reply), at) in rows.into_iter().zip(replies).zip(handed_over) {
        let result = match retrying(|| insert_batch(db, std::slice::from_ref(&row), &[])).await {
            Ok(ids) => Ok(ids),
            Err(err) => {
                tracing::error!(%err, "call record refused; storing it without its bodies");
                let stripped = without_bodies(&row, &err);
                retrying(|| insert_batch(db, std::slice::from_ref(&stripped), &[])).await
            }
        };
        let answer = result
            .map_err(|err| {
                // Nothing more can be done; at least the reservation goes back.
                tracing::error!(%err, "call record lost");
                err.to_string()
            })
            .and_then(|ids| ids.first().copied().ok_or_else(|| "no id".into()));
        if answer.is_ok() {
            metrics.recorded(std::slice::from_ref(&row), &[at.elapsed()]);
        }
        if answer.is_err()
            && let Some(reservation) = row.reservation
        {
            release_now(db, reservation).await;
        }
        let _ = reply.send(answer);
    }
    for reservation in released {
        release_now(db, reservation).await;
    }
}

async fn release_now(db: &Db, reservation: Reservation) {
    if let Err(err) = retrying(|| insert_batch(db, &[], std::slice::from_ref(&reservation))).await {
        tracing::error!(%err, "releasing a quota reservation failed; the next start releases it");
    }
}

/// The record with its request and answer bodies replaced by a note: what remains (who,
/// what config, tokens, cost, status) is what accounting needs.
fn without_bodies(row: &NewCallLog, err: &DbErr) -> NewCallLog {
    let note = format!("record stored without its bodies: {err}");
    let mut stripped = row.clone();
    stripped.request_messages = JsonText::of(&json!({ "omitted": note }));
    stripped.request_params = None;
    stripped.search_text.clear();
    stripped.response_data = None;
    stripped.response_content = None;
    stripped.error_message = Some(match &row.error_message {
        Some(message) => format!("{message} ({note})"),
        None => note,
    });
    stripped
}

/// Retries `write` with backoff while its error is transient, for up to `RETRY_FOR`.
async fn retrying<T, F, Fut>(mut write: F) -> Result<T, DbErr>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, DbErr>>,
{
    let started = tokio::time::Instant::now();
    let mut backoff = FIRST_BACKOFF;
    loop {
        match write().await {
            Err(err) if db::is_transient(&err) && started.elapsed() < RETRY_FOR => {
                tracing::warn!(%err, ?backoff, "transient database error writing call records; retrying");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
            other => return other,
        }
    }
}

#[cfg(test)]
#[path = "recorder_tests.rs"]
mod tests;
