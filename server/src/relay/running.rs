//! The calls in flight: every call task is tracked, so a stop waits for their records, and
//! the calls still running when the shutdown grace ends are interrupted (and recorded as
//! such) instead of being dropped with their connections.

use std::{future::Future, time::Duration};

use tokio_util::{sync::CancellationToken, task::TaskTracker};

#[derive(Default)]
pub(crate) struct Running {
    tasks: TaskTracker,
    interrupt: CancellationToken,
}

impl Running {
    /// A call's future is a state machine of many kilobytes; boxed here, each move into the
    /// tracker and the runtime's task cell (and the task's stage when it ends) copies a
    /// pointer instead of the whole machine (measured: ~70k instructions a call).
    pub fn spawn<F>(&self, call: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        self.tasks.spawn(Box::pin(call));
    }

    /// Resolves when running calls must stop now.
    pub async fn interrupted(&self) {
        self.interrupt.cancelled().await;
    }

    /// The server stops: calls still running after `grace` are interrupted.
    pub fn begin_shutdown(&self, grace: Duration) {
        let interrupt = self.interrupt.clone();
        tokio::spawn(async move {
            tokio::time::sleep(grace).await;
            interrupt.cancel();
        });
    }

    /// Waits until every call task has ended (its record written or given up), interrupting
    /// whatever still runs after `limit`.
    pub async fn finish(&self, limit: Duration) {
        self.tasks.close();
        if tokio::time::timeout(limit, self.tasks.wait())
            .await
            .is_err()
        {
            self.interrupt.cancel();
            self.tasks.wait().await;
        }
    }
}
