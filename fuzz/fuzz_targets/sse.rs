#![no_main]
//! The shared SSE parser on arbitrary bytes (see `llm_proxy_fuzz::check_sse`).

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| llm_proxy_fuzz::check("sse", data));
