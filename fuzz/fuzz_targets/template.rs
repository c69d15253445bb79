#![no_main]
//! The prompt template renderer on arbitrary text (see `llm_proxy_fuzz::check_template`).

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| llm_proxy_fuzz::check("template", data));
