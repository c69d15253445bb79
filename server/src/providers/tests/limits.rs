//! A 2xx that is not the provider's format, and bodies or stream lines too large to keep,
//! are protocol errors for every protocol.
#![allow(clippy::unwrap_used, clippy::expect_used)]
use serde_json::{Value, json};

use super::*;
use crate::providers::anthropic::Anthropic;
use crate::providers::baidu::Baidu;
use crate::providers::dashscope::DashScope;
use crate::providers::openai_dialect::{Dialect, OpenAi};
use crate::providers::sse::MAX_LINE;
use crate::providers::stream::decode_all;
use crate::providers::{FailureKind, StreamEvent};

/// Each protocol's `completion`, by name.
type Completer = Box<dyn Fn(Value) -> UpstreamResult<Completion>>;

fn protocols() -> Vec<(&'static str, Completer)> {
    vec![
        (
            "openai",
            Box::new(|b| OpenAi(Dialect::OpenAi).completion(b)),
        ),
        (
            "custom",
            Box::new(|b| OpenAi(Dialect::Custom).completion(b)),
        ),
        (
            "xunfei",
            Box::new(|b| OpenAi(Dialect::Xunfei).completion(b)),
        ),
        ("zhipu", Box::new(|b| OpenAi(Dialect::Zhipu).completion(b))),
        ("anthropic", Box::new(|b| Anthropic.completion(b))),
        ("dashscope", Box::new(|b| DashScope.completion(b))),
        ("baidu", Box::new(|b| Baidu.completion(b))),
    ]
}

#[test]
fn a_2xx_body_of_another_format_is_a_protocol_error_never_an_empty_success() {
    for body in [
        json!({"foo": 1}),
        json!({}),
        json!([]),
        json!("text"),
        json!(null),
    ] {
        for (name, completion) in protocols() {
            let err = completion(body.clone()).expect_err(&format!("{name}: {body}"));
            assert_eq!(err.kind, FailureKind::Protocol, "{name}: {body}: {err}");
            assert!(!err.retryable, "{name}");
        }
    }
    // DashScope with usage but no `output`.
    let err = DashScope
        .completion(json!({"usage": {"input_tokens": 1, "output_tokens": 1}, "request_id": "r"}))
        .unwrap_err();
    assert_eq!(err.kind, FailureKind::Protocol);
    // The real shapes still decode.
    let anthropic = json!({"type": "message", "content": [{"type": "text", "text": "hi"}],
        "stop_reason": "end_turn"});
    assert_eq!(Anthropic.completion(anthropic).unwrap().text, "hi");
    let openai = json!({"choices": [{"index": 0, "message": {"role": "assistant", "content": "hi"},
        "finish_reason": "stop"}]});
    assert_eq!(
        OpenAi(Dialect::OpenAi).completion(openai).unwrap().text,
        "hi"
    );
}

#[tokio::test]
async fn an_upstream_body_over_the_cap_is_a_protocol_error() {
    let small = reqwest::Response::from(poem::http::Response::new(b"{\"a\":1}".to_vec()));
    assert_eq!(read_body(small).await.unwrap(), b"{\"a\":1}");
    let huge = reqwest::Response::from(poem::http::Response::new(vec![b' '; MAX_BODY + 1]));
    let err = read_body(huge).await.unwrap_err();
    assert_eq!(err.kind, FailureKind::Protocol, "{err}");
}

#[test]
fn an_endless_stream_line_is_a_protocol_error() {
    let head = b"data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hi\"}}]}\n\n".to_vec();
    let endless = vec![b'x'; 64 * 1024];
    let mut chunks: Vec<&[u8]> = vec![&head, b"data: "];
    for _ in 0..(MAX_LINE / endless.len() + 2) {
        chunks.push(&endless);
    }
    let events = decode_all(OpenAi(Dialect::OpenAi).decoder(), &chunks);
    assert_eq!(
        events[0].as_ref().unwrap(),
        &StreamEvent::Delta("Hi".into())
    );
    let err = events.last().unwrap().as_ref().unwrap_err();
    assert_eq!(err.kind, FailureKind::Protocol, "{err}");
    assert_eq!(events.len(), 2);
}

/// Found writing the decoder fuzz targets (they assemble the events as the relay does): a
/// tool-call piece with a huge `index` made the stream's assembly (what the relay records)
/// allocate that many calls, and the process abort. An index past the cap is a protocol error for every protocol that streams indices.
#[test]
fn a_tool_call_index_past_the_cap_is_a_protocol_error_not_an_allocation() {
    let openai = format!(
        "data: {{\"choices\":[{{\"index\":0,\"delta\":{{\"tool_calls\":[{{\"index\":{},\"id\":\"c\",\"function\":{{\"name\":\"f\",\"arguments\":\"\"}}}}]}}}}]}}\n\n",
        u32::MAX
    );
    let dashscope = format!(
        "data: {{\"output\":{{\"choices\":[{{\"message\":{{\"role\":\"assistant\",\"content\":\"\",\"tool_calls\":[{{\"index\":{},\"id\":\"c\",\"function\":{{\"name\":\"f\"}}}}]}}}}]}}}}\n\n",
        u32::MAX
    );
    let cases: [(&str, Box<dyn Decoder>, &str); 3] = [
        ("openai", OpenAi(Dialect::OpenAi).decoder(), &openai),
        ("zhipu", OpenAi(Dialect::Zhipu).decoder(), &openai),
        ("dashscope", DashScope.decoder(), &dashscope),
    ];
    for (name, decoder, body) in cases {
        let events = decode_all(decoder, &[body.as_bytes()]);
        let mut assembly = crate::providers::Assembly::default();
        for event in events.iter().filter_map(|e| e.as_ref().ok()) {
            assembly.apply(event);
        }
        let err = events.last().unwrap().as_ref().unwrap_err();
        assert_eq!(err.kind, FailureKind::Protocol, "{name}: {err}");
        assert!(err.detail.contains("tool call"), "{name}: {err}");
        assert!(assembly.tool_calls.is_empty(), "{name}");
    }
    // Below the cap, indices still place the calls.
    let ok = "data: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":2,\"id\":\"c\",\"function\":{\"name\":\"f\",\"arguments\":\"{}\"}}]}}]}\n\ndata: [DONE]\n\n";
    let events = decode_all(OpenAi(Dialect::OpenAi).decoder(), &[ok.as_bytes()]);
    assert!(events.iter().all(Result::is_ok), "{events:?}");
}
