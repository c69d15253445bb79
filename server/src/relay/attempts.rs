//! Attempts and retries. A retry happens only when the upstream cannot have started
//! generating, so a call is never billed twice upstream:
//! - connect errors and timeouts before response headers;
//! - refusals before any output: 429, 5xx/529 and in-band "overloaded" errors the provider
//!   layer marks retryable (a stream is opened only at its first output, so these are
//!   before it);
//! - never a non-streamed call's timeout once its request was sent (the upstream may be
//!   generating), never a break after headers, never a bad key, a bad request or an empty
//!   balance.
//!
//! Time limits: a non-streamed attempt has `timeout` for the whole answer; a stream is
//! alive while upstream bytes keep coming (whatever they decode to, so a long "thinking"
//! phase is not a timeout) and times out after `timeout` without any.

use std::{
    future::Future,
    sync::{
        Arc,
        atomic::{AtomicU32, Ordering},
    },
    time::Duration,
};

use futures::{FutureExt, future::Either};
use rand::Rng;

use crate::providers::{FailureKind, Progress, UpstreamError, UpstreamResult};

const BASE_DELAY: Duration = Duration::from_millis(200);
const MAX_DELAY: Duration = Duration::from_secs(8);
/// A `Retry-After` longer than this is not waited for: the client gets the 429 instead.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(30);

#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    pub max_retries: u32,
    pub timeout: Duration,
    pub stream: bool,
}

pub fn timeout_error(limit: Duration) -> UpstreamError {
    UpstreamError {
        kind: FailureKind::Timeout,
        retryable: true,
        status: None,
        code: None,
        retry_after: None,
        detail: format!("no answer within {} s", limit.as_secs_f32()),
    }
}

/// Resolves once `progress` has seen no bytes for `limit`.
pub async fn idle_for(progress: &Progress, limit: Duration) {
    loop {
        let idle = progress.idle();
        if idle >= limit {
            return;
        }
        tokio::time::sleep(limit - idle).await;
    }
}

/// Attempts that all failed: the last error, and whether another config may still take
/// the call (the upstream cannot have generated anything, or its key is dead).
#[derive(Debug)]
pub struct Failed {
    pub error: UpstreamError,
    pub may_fall_back: bool,
}

impl RetryPolicy {
    /// Runs attempts until one succeeds or may not be retried; `retries` counts the retries
    /// made (readable even if this future is dropped midway). The successful attempt's
    /// progress comes back with its value.
    pub async fn run<T, F, Fut>(
        &self,
        retries: &AtomicU32,
        mut attempt: F,
    ) -> Result<(T, Arc<Progress>), Failed>
    where
        F: FnMut(Arc<Progress>) -> Fut,
        Fut: Future<Output = UpstreamResult<T>>,
    {
        loop {
            let progress = Progress::new();
            let err = match self.bounded(attempt(progress.clone()), &progress).await {
                Ok(value) => return Ok((value, progress)),
                Err(err) => err,
            };
            let made = retries.load(Ordering::Relaxed);
            match self.delay(made, &err) {
                Some(wait) if self.may_retry(&err, &progress) && made < self.max_retries => {
                    tracing::debug!(made, ?wait, kind = ?err.kind, "retrying upstream call");
                    tokio::time::sleep(wait).await;
                    retries.fetch_add(1, Ordering::Relaxed);
                }
                _ => {
                    let may_fall_back = self.may_fall_back(&err, &progress);
                    return Err(Failed {
                        error: err,
                        may_fall_back,
                    });
                }
            }
        }
    }

    /// Another config may take the call when this one's failure means nothing was
    /// generated (what a retry requires, whatever the count), or its key is unusable.
    fn may_fall_back(&self, err: &UpstreamError, progress: &Progress) -> bool {
        matches!(err.kind, FailureKind::Auth | FailureKind::Billing)
            || self.may_retry(
                &UpstreamError {
                    retryable: true,
                    ..err.clone()
                },
                progress,
            ) && !matches!(err.kind, FailureKind::Rejected | FailureKind::Protocol)
    }

    /// Not an `async fn`: its future would hold `attempt` (the whole provider call) twice, as
    /// its argument and inside the bound, and a call's future is copied whole when it is
    /// spawned. The stream's bound is boxed, so it does not size the other one.
    fn bounded<'a, T: 'a>(
        &'a self,
        attempt: impl Future<Output = UpstreamResult<T>> + 'a,
        progress: &'a Progress,
    ) -> impl Future<Output = UpstreamResult<T>> + 'a {
        let limit = self.timeout;
        if self.stream {
            Either::Left(Box::pin(async move {
                tokio::select! {
                    result = attempt => result,
                    () = idle_for(progress, limit) => Err(timeout_error(limit)),
                }
            }))
        } else {
            Either::Right(
                tokio::time::timeout(limit, attempt)
                    .map(move |bounded| bounded.unwrap_or_else(|_| Err(timeout_error(limit)))),
            )
        }
    }

    fn may_retry(&self, err: &UpstreamError, progress: &Progress) -> bool {
        if !err.retryable {
            return false;
        }
        match err.kind {
            // Sent and waiting for a whole answer: the upstream may be generating it.
            FailureKind::Timeout if !self.stream => false,
            // After headers the upstream had the request and was answering.
            FailureKind::Timeout | FailureKind::Connect => !progress.headers_received(),
            // The upstream's own refusal (429, 5xx, overloaded) before any output.
            _ => true,
        }
    }

    /// How long to wait before retry number `made + 1`; `None` when waiting is pointless.
    fn delay(&self, made: u32, err: &UpstreamError) -> Option<Duration> {
        let exponential = BASE_DELAY
            .saturating_mul(2u32.saturating_pow(made))
            .min(MAX_DELAY);
        // Full jitter in the upper half keeps retries of many clients apart.
        let jittered = exponential.mul_f64(rand::rng().random_range(0.5..=1.0));
        match err.retry_after {
            Some(after) if after > MAX_RETRY_AFTER => None,
            Some(after) => Some(after.max(jittered)),
            None => Some(jittered),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn failure(kind: FailureKind, retryable: bool, retry_after: Option<Duration>) -> UpstreamError {
        UpstreamError {
            kind,
            retryable,
            status: Some(500),
            code: None,
            retry_after,
            detail: String::new(),
        }
    }

    fn policy(max_retries: u32, stream: bool) -> RetryPolicy {
        RetryPolicy {
            max_retries,
            timeout: Duration::from_secs(2),
            stream,
        }
    }

    #[tokio::test(start_paused = true)]
    async fn retries_refusals_up_to_the_limit() {
        let calls = AtomicU32::new(0);
        let retries = AtomicU32::new(0);
        let result = policy(3, false)
            .run(&retries, |_| async {
                calls.fetch_add(1, Ordering::SeqCst);
                Err::<(), _>(failure(FailureKind::Unavailable, true, None))
            })
            .await;
        assert!(result.unwrap_err().may_fall_back, "nothing was generated");
        assert_eq!(calls.load(Ordering::SeqCst), 4);
        assert_eq!(retries.load(Ordering::SeqCst), 3);
    }

    #[tokio::test(start_paused = true)]
    async fn never_retries_what_is_not_retryable_or_waits_too_long() {
        let retries = AtomicU32::new(0);
        let fatal = policy(5, false)
            .run(&retries, |_| async {
                Err::<(), _>(failure(FailureKind::Auth, false, None))
            })
            .await;
        assert!(
            fatal.unwrap_err().may_fall_back,
            "a dead key: another config may answer"
        );
        let rejected = policy(5, false)
            .run(&retries, |_| async {
                Err::<(), _>(failure(FailureKind::Rejected, false, None))
            })
            .await;
        assert!(
            !rejected.unwrap_err().may_fall_back,
            "a bad request stays bad"
        );
        let long_wait = policy(5, false)
            .run(&retries, |_| async {
                Err::<(), _>(failure(
                    FailureKind::RateLimited,
                    true,
                    Some(Duration::from_secs(120)),
                ))
            })
            .await;
        assert!(long_wait.is_err());
        assert_eq!(retries.load(Ordering::SeqCst), 0);
    }

    #[tokio::test(start_paused = true)]
    async fn a_sent_request_that_times_out_is_not_retried() {
        let retries = AtomicU32::new(0);
        let hung = policy(3, false)
            .run(&retries, |_| async {
                std::future::pending::<()>().await;
                Ok(())
            })
            .await;
        let hung = hung.unwrap_err();
        assert_eq!(hung.error.kind, FailureKind::Timeout);
        assert!(
            !hung.may_fall_back,
            "the upstream may be generating: no second bill"
        );
        assert_eq!(retries.load(Ordering::SeqCst), 0);
    }

    #[tokio::test(start_paused = true)]
    async fn streams_retry_only_before_headers_and_live_while_bytes_flow() {
        let retries = AtomicU32::new(0);
        let silent = policy(1, true)
            .run(&retries, |_| async {
                std::future::pending::<()>().await;
                Ok(())
            })
            .await;
        assert_eq!(silent.unwrap_err().error.kind, FailureKind::Timeout);
        assert_eq!(retries.load(Ordering::SeqCst), 1, "no headers: retried");

        let retries = AtomicU32::new(0);
        let after_headers = policy(3, true)
            .run(&retries, |progress| async move {
                progress.mark_headers();
                std::future::pending::<()>().await;
                Ok(())
            })
            .await;
        assert!(!after_headers.unwrap_err().may_fall_back);
        assert_eq!(retries.load(Ordering::SeqCst), 0, "headers came: no retry");

        // Bytes every second for 10 s with a 2 s limit: alive all along.
        let retries = AtomicU32::new(0);
        let thinking = policy(0, true)
            .run(&retries, |progress| async move {
                progress.mark_headers();
                for _ in 0..10 {
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    progress.mark_bytes();
                }
                Ok(7)
            })
            .await;
        assert_eq!(thinking.unwrap().0, 7);
    }

    #[tokio::test(start_paused = true)]
    async fn honours_retry_after() {
        let retries = AtomicU32::new(0);
        let calls = AtomicU32::new(0);
        let started = tokio::time::Instant::now();
        let result = policy(1, false)
            .run(&retries, |_| async {
                if calls.fetch_add(1, Ordering::SeqCst) == 0 {
                    Err(failure(
                        FailureKind::RateLimited,
                        true,
                        Some(Duration::from_secs(3)),
                    ))
                } else {
                    Ok(7)
                }
            })
            .await;
        assert_eq!(result.unwrap().0, 7);
        assert!(started.elapsed() >= Duration::from_secs(3));
    }
}
