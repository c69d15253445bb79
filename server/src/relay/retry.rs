//! Retry policy: exponential backoff with jitter, honouring `Retry-After`, only for what
//! the provider layer marked retryable, and each attempt bounded by the config's timeout.

use std::{future::Future, time::Duration};

use rand::Rng;

use crate::providers::{FailureKind, UpstreamError, UpstreamResult};

const BASE_DELAY: Duration = Duration::from_millis(200);
const MAX_DELAY: Duration = Duration::from_secs(8);
/// A `Retry-After` longer than this is not waited for: the client gets the 429 instead.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(30);

#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    pub max_retries: u32,
    pub attempt_timeout: Duration,
}

/// The outcome of all attempts, and how many retries were made.
pub struct Attempts<T> {
    pub result: UpstreamResult<T>,
    pub retries: u32,
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

impl RetryPolicy {
    pub async fn run<T, F, Fut>(&self, mut attempt: F) -> Attempts<T>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = UpstreamResult<T>>,
    {
        let mut retries = 0;
        loop {
            let result = match tokio::time::timeout(self.attempt_timeout, attempt()).await {
                Ok(result) => result,
                Err(_) => Err(timeout_error(self.attempt_timeout)),
            };
            let err = match result {
                Ok(value) => {
                    return Attempts {
                        result: Ok(value),
                        retries,
                    };
                }
                Err(err) => err,
            };
            let wait = self.delay(retries, &err);
            match wait {
                Some(wait) if err.retryable && retries < self.max_retries => {
                    tracing::debug!(retries, ?wait, kind = ?err.kind, "retrying upstream call");
                    tokio::time::sleep(wait).await;
                    retries += 1;
                }
                _ => {
                    return Attempts {
                        result: Err(err),
                        retries,
                    };
                }
            }
        }
    }

    /// How long to wait before retry number `retries + 1`; `None` when waiting is pointless.
    fn delay(&self, retries: u32, err: &UpstreamError) -> Option<Duration> {
        let exponential = BASE_DELAY
            .saturating_mul(2u32.saturating_pow(retries))
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
    use std::sync::atomic::{AtomicU32, Ordering};

    use super::*;

    fn failure(retryable: bool, retry_after: Option<Duration>) -> UpstreamError {
        UpstreamError {
            kind: FailureKind::Unavailable,
            retryable,
            status: Some(500),
            code: None,
            retry_after,
            detail: String::new(),
        }
    }

    #[tokio::test(start_paused = true)]
    async fn retries_retryable_failures_up_to_the_limit() {
        let calls = AtomicU32::new(0);
        let policy = RetryPolicy {
            max_retries: 3,
            attempt_timeout: Duration::from_secs(5),
        };
        let outcome = policy
            .run(|| async {
                calls.fetch_add(1, Ordering::SeqCst);
                Err::<(), _>(failure(true, None))
            })
            .await;
        assert_eq!(calls.load(Ordering::SeqCst), 4);
        assert_eq!(outcome.retries, 3);
    }

    #[tokio::test(start_paused = true)]
    async fn never_retries_what_is_not_retryable_or_waits_too_long() {
        let policy = RetryPolicy {
            max_retries: 5,
            attempt_timeout: Duration::from_secs(5),
        };
        let outcome = policy
            .run(|| async { Err::<(), _>(failure(false, None)) })
            .await;
        assert_eq!(outcome.retries, 0);
        let outcome = policy
            .run(|| async { Err::<(), _>(failure(true, Some(Duration::from_secs(120)))) })
            .await;
        assert_eq!(outcome.retries, 0);
    }

    #[tokio::test(start_paused = true)]
    async fn honours_retry_after_and_times_out_hung_attempts() {
        let policy = RetryPolicy {
            max_retries: 1,
            attempt_timeout: Duration::from_secs(2),
        };
        let started = tokio::time::Instant::now();
        let calls = AtomicU32::new(0);
        let outcome = policy
            .run(|| async {
                if calls.fetch_add(1, Ordering::SeqCst) == 0 {
                    Err(failure(true, Some(Duration::from_secs(3))))
                } else {
                    Ok(7)
                }
            })
            .await;
        assert_eq!(outcome.result.unwrap(), 7);
        assert!(started.elapsed() >= Duration::from_secs(3));

        let hung = policy
            .run(|| async {
                std::future::pending::<()>().await;
                Ok(())
            })
            .await;
        let err = hung.result.unwrap_err();
        assert_eq!(err.kind, FailureKind::Timeout);
        assert_eq!(hung.retries, 1);
    }
}
