//! Entry points for the fuzz targets in `fuzz/` (cargo fuzz). The protocols are private to
//! `providers`; this hidden module lets an outside crate drive their decoders with arbitrary
//! bytes exactly as an upstream body reaches them, and nothing else.

use reqwest::header::HeaderMap;

use super::anthropic::Anthropic;
use super::baidu::Baidu;
use super::dashscope::DashScope;
use super::openai_dialect::{Dialect, OpenAi};
use super::protocol::{Protocol, parse_json};
use super::stream::{Decoder, decode_all};
use super::{Completion, ProviderKind, StreamEvent, UpstreamError, UpstreamResult};

pub use super::sse::{Frame, MAX_LINE, SseEvent, SseParser};

/// The protocol a provider speaks, as [`super::Providers`] dispatches it.
macro_rules! with_protocol {
    ($kind:expr, $p:ident => $body:expr) => {
        match $kind {
            ProviderKind::Openai => {
                let $p = OpenAi(Dialect::OpenAi);
                $body
            }
            ProviderKind::Custom => {
                let $p = OpenAi(Dialect::Custom);
                $body
            }
            ProviderKind::Xunfei => {
                let $p = OpenAi(Dialect::Xunfei);
                $body
            }
            ProviderKind::Zhipu => {
                let $p = OpenAi(Dialect::Zhipu);
                $body
            }
            ProviderKind::Anthropic => {
                let $p = Anthropic;
                $body
            }
            ProviderKind::Aliyun => {
                let $p = DashScope;
                $body
            }
            ProviderKind::Baidu => {
                let $p = Baidu;
                $body
            }
        }
    };
}

fn decoder(kind: ProviderKind) -> Box<dyn Decoder> {
    with_protocol!(kind, p => p.decoder())
}

/// A streamed 2xx body, arriving in `chunks`, decoded as the relay receives it.
pub fn decode_stream(kind: ProviderKind, chunks: &[&[u8]]) -> Vec<UpstreamResult<StreamEvent>> {
    decode_all(decoder(kind), chunks)
}

/// A whole 2xx body decoded as a non-streamed answer.
pub fn decode_answer(kind: ProviderKind, body: &[u8]) -> UpstreamResult<Completion> {
    with_protocol!(kind, p => p.completion(parse_json(body)?))
}

/// A non-2xx answer classified.
pub fn decode_error(kind: ProviderKind, status: u16, body: &[u8]) -> UpstreamError {
    with_protocol!(kind, p => p.error(status, &HeaderMap::new(), body))
}
