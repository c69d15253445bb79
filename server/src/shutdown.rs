//! What stops the server, and how long in-flight work may take after that.
//!
//! Ctrl+C, SIGTERM and a stop request from the Windows service manager leave the configured
//! `shutdown_grace_seconds`. Closing the console window, logging off or shutting Windows down
//! does not: Windows ends the process about 5 s after such an event, so the server must be done
//! by then.

use std::{
    sync::atomic::{AtomicBool, Ordering},
    time::Duration,
};

use tokio::sync::Notify;

/// Grace after a console close / log-off / shutdown event. `serve` spends it twice at most (on
/// open connections, then on calls still being recorded), which keeps 2 × 2 s plus closing the
/// database inside the ~5 s Windows allows.
pub const CONSOLE_EVENT_GRACE: Duration = Duration::from_secs(2);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    /// Ctrl+C (SIGINT; CTRL_C_EVENT on Windows).
    Interrupt,
    /// SIGTERM (Unix service managers, `docker stop`).
    Terminate,
    /// [`request_stop`]: the Windows service manager's stop or shutdown control.
    Requested,
    /// CTRL_CLOSE_EVENT, CTRL_LOGOFF_EVENT or CTRL_SHUTDOWN_EVENT (Windows console).
    ConsoleEvent,
}

impl Trigger {
    /// The grace period this trigger leaves, given the configured one.
    pub fn grace(self, configured: Duration) -> Duration {
        match self {
            Trigger::ConsoleEvent => configured.min(CONSOLE_EVENT_GRACE),
            Trigger::Interrupt | Trigger::Terminate | Trigger::Requested => configured,
        }
    }
}

static STOP_REQUESTED: Notify = Notify::const_new();
static UNDER_SERVICE_MANAGER: AtomicBool = AtomicBool::new(false);

/// Stops a running (or about to run) server as Ctrl+C would. Callable from any thread: the
/// Windows service control handler runs on the dispatcher's thread, not in the runtime.
pub fn request_stop() {
    // notify_one keeps a permit when nobody waits yet, so an early request is not lost.
    STOP_REQUESTED.notify_one();
}

/// Marks the process as a Windows service. Console events then do not stop it: Windows sends
/// CTRL_LOGOFF_EVENT to services whenever any user logs off, and announces a shutdown to them
/// through the service manager instead.
pub fn set_under_service_manager() {
    UNDER_SERVICE_MANAGER.store(true, Ordering::Relaxed);
}

/// Waits for the first trigger and returns the grace period it leaves.
pub async fn wait(configured: Duration) -> Duration {
    let trigger = next_trigger().await;
    let grace = trigger.grace(configured);
    tracing::info!(
        ?trigger,
        grace_seconds = grace.as_secs_f32(),
        "shutdown requested: finishing in-flight requests"
    );
    grace
}

async fn next_trigger() -> Trigger {
    let console = !UNDER_SERVICE_MANAGER.load(Ordering::Relaxed);
    tokio::select! {
        _ = tokio::signal::ctrl_c() => Trigger::Interrupt,
        () = STOP_REQUESTED.notified() => Trigger::Requested,
        () = terminate() => Trigger::Terminate,
        () = console_event(), if console => Trigger::ConsoleEvent,
    }
}

#[cfg(unix)]
async fn terminate() {
    use tokio::signal::unix::{SignalKind, signal};
    match signal(SignalKind::terminate()) {
        Ok(mut signal) => {
            signal.recv().await;
        }
        // Without a handler the default action (exit) stays: never resolve.
        Err(_) => std::future::pending().await,
    }
}

#[cfg(not(unix))]
async fn terminate() {
    std::future::pending().await
}

#[cfg(windows)]
async fn console_event() {
    use tokio::signal::windows::{ctrl_close, ctrl_logoff, ctrl_shutdown};
    // A handler that cannot be installed just never fires; the others still do.
    let close = async {
        match ctrl_close() {
            Ok(mut event) => event.recv().await,
            Err(_) => std::future::pending().await,
        }
    };
    let logoff = async {
        match ctrl_logoff() {
            Ok(mut event) => event.recv().await,
            Err(_) => std::future::pending().await,
        }
    };
    let shutdown = async {
        match ctrl_shutdown() {
            Ok(mut event) => event.recv().await,
            Err(_) => std::future::pending().await,
        }
    };
    tokio::select! {
        _ = close => {},
        _ = logoff => {},
        _ = shutdown => {},
    }
}

#[cfg(not(windows))]
async fn console_event() {
    std::future::pending().await
}

#[cfg(test)]
mod tests {
    #![allow(clippy::expect_used)]

    use super::*;

    #[test]
    fn console_events_cut_the_grace_to_what_windows_allows() {
        let configured = Duration::from_secs(30);
        assert_eq!(Trigger::ConsoleEvent.grace(configured), CONSOLE_EVENT_GRACE);
        // A configured grace shorter than the budget stays as it is.
        let short = Duration::from_secs(1);
        assert_eq!(Trigger::ConsoleEvent.grace(short), short);
        for trigger in [Trigger::Interrupt, Trigger::Terminate, Trigger::Requested] {
            assert_eq!(trigger.grace(configured), configured);
        }
    }

    #[tokio::test]
    async fn a_stop_requested_before_waiting_is_not_lost() {
        request_stop();
        let grace = tokio::time::timeout(Duration::from_secs(5), wait(Duration::from_secs(7)))
            .await
            .expect("the early request stops the wait");
        assert_eq!(grace, Duration::from_secs(7));
    }
}
