//! The tests' fake upstream as a misbehaving stand-alone server, for the fault soak
//! (`bench/soak.sh`).
//!
//! ```sh
//! cargo run --example soak_upstream
//! ```
//!
//! Prints one line `URL KEY` (OpenAI protocol on a free loopback port), then serves until
//! killed. Calls cycle through a fixed mix of faults, so every run sees the same mix:
//! normal answers, hangs, connection resets (before and mid-stream), malformed 200 bodies,
//! 429 storms, 5xx, in-band errors, stalls and slow streams. Requests are not recorded, so
//! memory stays flat however long it runs.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../tests/support/fake_upstream.rs"]
mod fake_upstream;

use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use fake_upstream::{FakeUpstream, Outcome, Reply};
use llm_proxy::providers::ProviderKind;

/// One cycle of the mix; about a third of the calls answer normally.
fn outcome(n: usize) -> Outcome {
    let ms = Duration::from_millis;
    match n % 24 {
        0 | 6 | 12 | 18 => Reply::default().into(),
        1 | 13 => Reply::new("慢慢来，一个字一个字。")
            .chunk_chars(1)
            .event_delay(ms(40))
            .into(),
        2 => Outcome::Hang,
        3 => Reply::new("abcdef").chunk_chars(2).cut_after(1).into(),
        4 => Reply::default().cut_after(0).into(),
        5 => Outcome::raw(200, "application/json", "{\"not\":\"an answer\""),
        7 => Outcome::raw(200, "text/event-stream", "data: {garbage\n\n"),
        8..=10 => Outcome::rate_limited(1),
        11 => Outcome::http(500, "internal_error", "boom"),
        14 => Reply::new("abcdef").chunk_chars(2).stall_after(1).into(),
        15 => Reply::new("abcdef")
            .chunk_chars(2)
            .error_after(1, "server_error", "mid-stream failure")
            .into(),
        16 => Reply::new("abcdef").chunk_chars(2).truncate_after(2).into(),
        17 => Outcome::http(503, "overloaded", "try later"),
        19 => Reply::default().first_event_delay(ms(1500)).into(),
        20 => Reply::default().split_utf8().into(),
        21 => Outcome::raw(200, "text/html", "<html>bad gateway</html>"),
        22 => Outcome::rate_limited(2),
        _ => Reply::new("")
            .tool_call("get_weather", r#"{"city":"杭州"}"#)
            .into(),
    }
}

fn main() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    runtime.block_on(async move {
        let fake = FakeUpstream::start().await;
        fake.set_recording(false);
        let calls = AtomicUsize::new(0);
        fake.set_responder(move |_| Some(outcome(calls.fetch_add(1, Ordering::Relaxed))));
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
