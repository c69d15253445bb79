//! Server log set-up. Bodies, keys and tokens are never logged; see `secret::Secret`.

mod rotating;

use std::{path::Path, sync::Mutex};

use rotating::RotatingFile;
use tracing_subscriber::EnvFilter;

/// Log files rotate at this size; the current one plus `LOG_FILES_KEPT - 1` older ones stay.
pub const LOG_FILE_MAX_BYTES: u64 = 10 * 1024 * 1024;
pub const LOG_FILES_KEPT: usize = 5;

fn filter(level: &str) -> EnvFilter {
    EnvFilter::try_new(level).unwrap_or_else(|_| EnvFilter::new("info"))
}

/// Logs to stdout, for a console, a terminal or a service manager that captures it.
pub fn init(level: &str) {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter(level))
        .with_target(false)
        // Colours only on a Unix terminal: Windows 10's console shows the escape codes as
        // text, and log files (service managers, redirects) should not contain them.
        .with_ansi(!cfg!(windows) && std::io::IsTerminal::is_terminal(&std::io::stdout()))
        .try_init();
}

/// Logs to `llm-proxy.log` in `dir`, rotated by size: for a Windows service, which has no
/// console and whose stdout goes nowhere.
pub fn init_files(level: &str, dir: &Path) -> std::io::Result<()> {
    let file = RotatingFile::open(dir, "llm-proxy.log", LOG_FILE_MAX_BYTES, LOG_FILES_KEPT)?;
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter(level))
        .with_target(false)
        .with_ansi(false)
        .with_writer(Mutex::new(file))
        .try_init();
    Ok(())
}
