//! `llm-proxy service ...`: runs the server as a native Windows service through the Service
//! Control Manager. The subcommand exists on every platform so that `--help` is the same
//! everywhere; elsewhere it says so and fails (on Linux, use systemd: see the README).

use std::ffi::OsString;

use clap::Subcommand;

use crate::config::Config;

#[cfg(windows)]
mod windows;

/// The service's name for `sc`, `net start` and the Services console.
pub const SERVICE_NAME: &str = "llm-proxy";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Subcommand)]
pub enum ServiceAction {
    /// Register this executable as an automatic-start service (run as administrator). The
    /// global options given here (--config, --bind, --data-dir, --database-url) are kept for it.
    Install,
    /// Stop the service if it runs, and remove it.
    Uninstall,
    /// Start the installed service.
    Start,
    /// Stop the service, letting in-flight requests finish.
    Stop,
    /// Show whether the service is installed and running.
    Status,
    /// The entry point the Service Control Manager starts; not for use from a console.
    #[command(hide = true)]
    Run,
}

/// What `service` needs from the command line: the loaded configuration, and the global
/// options to register with `install` (absolute paths: a service starts in System32).
#[derive(Debug)]
pub struct Invocation {
    pub config: Config,
    pub global_args: Vec<OsString>,
}

#[cfg(windows)]
pub async fn command(action: ServiceAction, invocation: Invocation) -> Result<(), String> {
    windows::command(action, invocation)
        .await
        .map_err(|err| err.to_string())
}

#[cfg(not(windows))]
pub async fn command(_action: ServiceAction, _invocation: Invocation) -> Result<(), String> {
    Err("`service` manages a Windows service and works only on Windows; on Linux run `llm-proxy serve` under systemd (see README) / 该命令仅适用于 Windows".into())
}
