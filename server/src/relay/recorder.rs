//! Durable call records without a transaction per call.
//!
//! Calls hand their record to one writer task and wait for its id. The writer takes every
//! record that is waiting, writes them in one transaction and answers each caller after
//! the commit (group commit). So a returned `call_log_id` is already on disk, and under load
//! many records share one commit instead of queueing behind each other.

use std::time::Duration;

use sea_orm::TransactionTrait;
use tokio::sync::{mpsc, oneshot};

use crate::{
    db::{Db, call_logs::NewCallLog},
    error::AppError,
};

/// Records waiting beyond this make callers wait for room (backpressure), not memory grow.
const QUEUE_CAPACITY: usize = 8192;
/// At most this many records share one transaction.
const MAX_BATCH: usize = 512;

type Reply = oneshot::Sender<Result<i64, String>>;

#[derive(Clone)]
pub struct Recorder {
    queue: mpsc::Sender<(NewCallLog, Reply)>,
}

pub struct RecorderTask {
    handle: tokio::task::JoinHandle<()>,
}

impl Recorder {
    pub fn start(db: Db) -> (Self, RecorderTask) {
        let (queue, receiver) = mpsc::channel(QUEUE_CAPACITY);
        let handle = tokio::spawn(write_loop(db, receiver));
        (Self { queue }, RecorderTask { handle })
    }

    /// Returns the record's id once it is committed.
    pub async fn record(&self, log: NewCallLog) -> Result<i64, AppError> {
        let (reply, answer) = oneshot::channel();
        self.queue
            .send((log, reply))
            .await
            .map_err(|_| AppError::Internal("call recorder stopped".into()))?;
        answer
            .await
            .map_err(|_| AppError::Internal("call recorder stopped".into()))?
            .map_err(|err| AppError::Internal(format!("writing call record: {err}")))
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

async fn write_loop(db: Db, mut receiver: mpsc::Receiver<(NewCallLog, Reply)>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while receiver.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let (rows, replies): (Vec<_>, Vec<_>) = std::mem::take(&mut batch).into_iter().unzip();
        match write(&db, &rows).await {
            Ok(ids) => {
                for (reply, id) in replies.into_iter().zip(ids) {
                    let _ = reply.send(Ok(id));
                }
            }
            Err(err) => {
                // One bad row must not lose the others: retry them one by one.
                tracing::error!(%err, "batched call-record write failed; retrying singly");
                for (row, reply) in rows.into_iter().zip(replies) {
                    let result = write(&db, std::slice::from_ref(&row)).await;
                    let _ = reply.send(
                        result
                            .map_err(|err| err.to_string())
                            .and_then(|ids| ids.first().copied().ok_or_else(|| "no id".into())),
                    );
                }
            }
        }
    }
}

async fn write(db: &Db, rows: &[NewCallLog]) -> Result<Vec<i64>, sea_orm::DbErr> {
    let txn = db.write.begin().await?;
    let ids = crate::db::call_logs::insert_batch(&txn, rows).await?;
    txn.commit().await?;
    Ok(ids)
}
