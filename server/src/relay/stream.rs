//! Streamed calls. A detached task owns the upstream stream and the call record: it
//! retries only before anything reached the client, forwards text as it arrives, notices
//! a client that went away (cancelling the upstream request), and always records the call.

use std::{sync::Arc, time::Instant};

use futures::StreamExt;
use serde_json::json;
use tokio::sync::{mpsc, oneshot};

use super::{Failure, Outcome, PreparedCall, Relay, policy, retry::timeout_error};
use crate::{
    error::AppError,
    providers::{StreamEvent as Upstream, Usage},
    quotas::Admission,
};

/// What the client receives, in order: chunks, then exactly one `Done` or `Error`.
#[derive(Debug, Clone, PartialEq)]
pub enum StreamEvent {
    Chunk(String),
    Done {
        usage: Usage,
        estimated: bool,
        call_log_id: i64,
    },
    Error {
        code: String,
        message: String,
    },
}

/// An open stream: the client reads `events` until `Done` or `Error`.
pub struct StreamSession {
    pub events: mpsc::Receiver<StreamEvent>,
}

impl Relay {
    /// Opens the upstream stream with retries. An error here means nothing was streamed:
    /// the call is already recorded and the client gets a plain error answer.
    pub async fn stream(
        self: &Arc<Self>,
        call: PreparedCall,
        admission: Admission,
    ) -> Result<StreamSession, AppError> {
        // Small: the task waits for the client rather than buffering a whole answer.
        let (events, receiver) = mpsc::channel(32);
        let (opened, open_result) = oneshot::channel();
        let relay = self.clone();
        tokio::spawn(async move { relay.run_stream(call, admission, events, opened).await });
        match open_result.await {
            Ok(Ok(())) => Ok(StreamSession { events: receiver }),
            Ok(Err(err)) => Err(err),
            Err(_) => Err(AppError::Internal(
                "stream task ended before opening".into(),
            )),
        }
    }

    async fn run_stream(
        &self,
        call: PreparedCall,
        admission: Admission,
        events: mpsc::Sender<StreamEvent>,
        opened: oneshot::Sender<Result<(), AppError>>,
    ) {
        let started = Instant::now();
        let policy = policy(&call);
        let attempts = policy
            .run(|| self.providers.open_stream(&call.target, &call.request))
            .await;
        let mut upstream = match attempts.result {
            Ok(upstream) => upstream,
            Err(err) => {
                let outcome = Outcome::failure(&call, err, String::new(), None);
                let record =
                    outcome.record(&call, &admission, started.elapsed(), attempts.retries, true);
                let answer = match self.recorder.record(record).await {
                    Ok(_) => Err(outcome
                        .failure
                        .and_then(|failure| failure.client_error)
                        .unwrap_or_else(|| AppError::Internal("stream failed".into()))),
                    Err(err) => Err(err),
                };
                let _ = opened.send(answer);
                return;
            }
        };
        if opened.send(Ok(())).is_err() {
            // The client left while we were connecting; still record below.
            tracing::debug!("client gone before the stream opened");
        }

        let mut text = String::new();
        let mut reported: Option<Usage> = None;
        let mut finish: Option<String> = None;
        let mut chunks = 0u32;
        let ending: Result<(), Ending> = loop {
            let next = tokio::select! {
                biased;
                () = events.closed() => break Err(Ending::ClientGone),
                next = tokio::time::timeout(policy.attempt_timeout, upstream.next()) => next,
            };
            match next {
                Err(_) => break Err(Ending::Upstream(timeout_error(policy.attempt_timeout))),
                Ok(None) => break Ok(()),
                Ok(Some(Err(err))) => break Err(Ending::Upstream(err)),
                Ok(Some(Ok(Upstream::Usage(usage)))) => reported = Some(usage),
                Ok(Some(Ok(Upstream::Finish(reason)))) => finish = Some(reason),
                Ok(Some(Ok(Upstream::Delta(delta)))) => {
                    text.push_str(&delta);
                    chunks += 1;
                    if events.send(StreamEvent::Chunk(delta)).await.is_err() {
                        break Err(Ending::ClientGone);
                    }
                }
            }
        };
        // Dropping the upstream stream cancels the upstream request.
        drop(upstream);
        let assembled = json!({
            "text": text,
            "usage": reported,
            "finish_reason": finish,
            "chunks": chunks,
        });
        let outcome = match ending {
            Ok(()) => Outcome::finished(&call, text, reported, Some(assembled)),
            Err(Ending::Upstream(err)) => {
                let mut outcome = Outcome::failure(&call, err, text, reported);
                outcome.raw = Some(assembled);
                outcome
            }
            Err(Ending::ClientGone) => {
                Outcome::finished(&call, text, reported, Some(assembled)).client_gone()
            }
        };
        let record = outcome.record(&call, &admission, started.elapsed(), attempts.retries, true);
        let recorded = self.recorder.record(record).await;
        let last = match (recorded, outcome.failure) {
            (Ok(call_log_id), None) => StreamEvent::Done {
                usage: outcome.accounted.usage,
                estimated: outcome.accounted.estimated,
                call_log_id,
            },
            (
                _,
                Some(Failure {
                    client_error: None, ..
                }),
            ) => return,
            (
                _,
                Some(Failure {
                    client_error: Some(err),
                    ..
                }),
            )
            | (Err(err), None) => StreamEvent::Error {
                code: err.code().to_string(),
                message: err.to_string(),
            },
        };
        let _ = events.send(last).await;
    }
}

enum Ending {
    Upstream(crate::providers::UpstreamError),
    ClientGone,
}
