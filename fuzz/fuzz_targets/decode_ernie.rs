#![no_main]
//! The ERNIE (Baidu) protocol: stream, answer and error
//! decoders on arbitrary upstream bytes (see `llm_proxy_fuzz::check_provider`).

use libfuzzer_sys::fuzz_target;
use llm_proxy::providers::ProviderKind;

fuzz_target!(|data: &[u8]| {
    for kind in [ProviderKind::Baidu] {
        llm_proxy_fuzz::check_provider(kind, data);
    }
});
