#![no_main]
//! The Zhipu dialect: stream, answer and error
//! decoders on arbitrary upstream bytes (see `llm_proxy_fuzz::check_provider`).

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| llm_proxy_fuzz::check("decode_zhipu", data));
