#![no_main]
//! The DashScope (Aliyun) protocol: stream, answer and error
//! decoders on arbitrary upstream bytes (see `llm_proxy_fuzz::check_provider`).

use libfuzzer_sys::fuzz_target;
use llm_proxy::providers::ProviderKind;

fuzz_target!(|data: &[u8]| {
    for kind in [ProviderKind::Aliyun] {
        llm_proxy_fuzz::check_provider(kind, data);
    }
});
