#![no_main]
//! The OpenAI-compatible protocol's stream, answer and error decoders (OpenAI and custom
//! dialects) on arbitrary upstream bytes (see `llm_proxy_fuzz::check_provider`).

use libfuzzer_sys::fuzz_target;
use llm_proxy::providers::ProviderKind;

fuzz_target!(|data: &[u8]| {
    for kind in [ProviderKind::Openai, ProviderKind::Custom] {
        llm_proxy_fuzz::check_provider(kind, data);
    }
});
