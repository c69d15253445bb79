//! The tests' fake upstream as a stand-alone server, for the benchmark (`bench/run.sh`).
//!
//! ```sh
//! cargo run --release --example fake_upstream -- --delay-ms 50
//! ```
//!
//! Prints one line `URL KEY` (the OpenAI chat-completions URL on a free loopback port and
//! the key it accepts), then serves until killed. Every chat request is answered with the
//! default reply after `--delay-ms` (non-streamed or streamed, as the request asks), and
//! requests are not recorded, so memory stays flat however long it runs.
//!
//! It runs on a current-thread runtime: the benchmark pins it to one core, which it shares
//! with the load generator.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../tests/support/fake_upstream.rs"]
mod fake_upstream;

use std::io::Write;
use std::time::Duration;

use fake_upstream::{FakeUpstream, Reply};
use llm_proxy::providers::ProviderKind;

fn main() {
    let mut delay_ms: u64 = 0;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--delay-ms" => {
                delay_ms = args
                    .next()
                    .and_then(|v| v.parse().ok())
                    .expect("--delay-ms needs a number of milliseconds");
            }
            "-h" | "--help" => {
                println!("usage: fake_upstream [--delay-ms MS]");
                return;
            }
            other => panic!("unknown argument {other} (try --help)"),
        }
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    runtime.block_on(async move {
        let fake = FakeUpstream::start().await;
        fake.set_recording(false);
        fake.set_default(Reply::default().delay(Duration::from_millis(delay_ms)));
        let kind = ProviderKind::Openai;
        let mut out = std::io::stdout().lock();
        writeln!(out, "{} {}", fake.url(kind), FakeUpstream::key(kind)).unwrap();
        out.flush().unwrap();
        drop(out);
        // Serve until killed (SIGTERM / SIGINT end the process).
        let _ = tokio::signal::ctrl_c().await;
        drop(fake);
    });
}
