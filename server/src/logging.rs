//! Server log set-up. Bodies, keys and tokens are never logged; see `secret::Secret`.

use tracing_subscriber::EnvFilter;

pub fn init(level: &str) {
    let filter = EnvFilter::try_new(level).unwrap_or_else(|_| EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        // Colours only on a Unix terminal: Windows 10's console shows the escape codes as
        // text, and log files (service managers, redirects) should not contain them.
        .with_ansi(!cfg!(windows) && std::io::IsTerminal::is_terminal(&std::io::stdout()))
        .try_init();
}
