#![no_main]
//! The OpenAI-compatible protocol's stream, answer and error decoders (OpenAI and custom
//! dialects) on arbitrary upstream bytes (see `llm_proxy_fuzz::check_provider`).

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| llm_proxy_fuzz::check("decode_openai", data));
