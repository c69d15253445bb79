#![allow(clippy::unwrap_used, clippy::expect_used)]
use super::*;
use crate::providers::anthropic_request;
use crate::providers::stream::decode_all;
use crate::providers::{ChatMessage, Role, StreamEvent};
use reqwest::header::HeaderValue;
use serde_json::json;

fn msg(role: Role, content: &str) -> ChatMessage {
    ChatMessage::text(role, content)
}

fn request() -> ChatRequest {
    ChatRequest {
        model: "claude-sonnet-4-5".to_owned(),
        messages: vec![
            msg(Role::System, "你是一个乐于助人的助手。"),
            msg(Role::System, "Be brief."),
            msg(Role::Assistant, "greeting"),
            msg(Role::User, "你好"),
            msg(Role::User, "again"),
        ],
        max_tokens: 256,
        temperature: Some(1.7),
        top_p: Some(0.9),
        frequency_penalty: Some(0.5),
        presence_penalty: Some(0.5),
        ..ChatRequest::default()
    }
}

fn decode(chunks: &[&[u8]]) -> Vec<UpstreamResult<StreamEvent>> {
    decode_all(Anthropic.decoder(), chunks)
}

#[test]
fn body_moves_system_merges_turns_and_sends_one_sampling_parameter() {
    let b = serde_json::to_value(anthropic_request::body(&request(), true)).unwrap();
    assert_eq!(
        b,
        json!({"model":"claude-sonnet-4-5","max_tokens":256,"system":"你是一个乐于助人的助手。\n\nBe brief.",
               "messages":[{"role":"user","content":"你好\n\nagain"}],"temperature":1.0,"stream":true})
    );
}

#[test]
fn body_always_has_max_tokens_and_no_system_when_absent() {
    let mut req = request();
    req.max_tokens = 0;
    req.messages = vec![msg(Role::User, "q")];
    let b = serde_json::to_value(anthropic_request::body(&req, false)).unwrap();
    assert_eq!(b["max_tokens"], 4096);
    assert!(b.get("system").is_none() && b.get("stream").is_none() && b.get("top_p").is_none());
}

#[test]
fn huge_max_tokens_streams_upstream() {
    let mut req = request();
    assert!(!Anthropic.prefers_stream(&req));
    req.max_tokens = 64_000;
    assert!(Anthropic.prefers_stream(&req));
}

const NONSTREAM: &str = r#"{"id":"msg_01XFDUDYJgAACzvnptvVoYEL","type":"message","role":"assistant","model":"claude-sonnet-4-5-20250929",
 "content":[{"type":"thinking","thinking":"hmm","signature":"x"},{"type":"text","text":"你好！"},{"type":"text","text":"很高兴为您服务。"}],"stop_reason":"end_turn","stop_sequence":null,
 "usage":{"input_tokens":21,"cache_creation_input_tokens":5,"cache_read_input_tokens":100,"output_tokens":14}}"#;

#[test]
fn nonstream_joins_text_blocks_and_counts_cache_in_prompt() {
    let c = Anthropic
        .completion(serde_json::from_str(NONSTREAM).unwrap())
        .unwrap();
    assert_eq!(c.text, "你好！很高兴为您服务。");
    assert_eq!(c.finish_reason.as_deref(), Some("stop"));
    assert_eq!(
        c.usage,
        Some(Usage {
            prompt_tokens: 126,
            completion_tokens: 14,
            total_tokens: 140
        })
    );
}

#[test]
fn stop_reason_mapping() {
    let cases = [
        ("end_turn", "stop"),
        ("stop_sequence", "stop"),
        ("max_tokens", "length"),
        ("model_context_window_exceeded", "length"),
        ("tool_use", "tool_calls"),
        ("refusal", "content_filter"),
        ("pause_turn", "pause_turn"),
    ];
    for (from, to) in cases {
        assert_eq!(finish_reason(from), to);
    }
}

const STREAM: &str = concat!(
    "event: message_start\n",
    "data: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_01X\",\"type\":\"message\",\"role\":\"assistant\",\"content\":[],\"model\":\"claude-sonnet-4-5\",\"stop_reason\":null,\"usage\":{\"input_tokens\":21,\"cache_creation_input_tokens\":0,\"cache_read_input_tokens\":10,\"output_tokens\":1}}}\n",
    "\n",
    "event: content_block_start\n",
    "data: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n",
    "\n",
    "event: ping\n",
    "data: {\"type\": \"ping\"}\n",
    "\n",
    "event: content_block_delta\n",
    "data: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"你好！\"}}\n",
    "\n",
    "event: content_block_delta\n",
    "data: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"thinking_delta\",\"thinking\":\"not text\"}}\n",
    "\n",
    "event: content_block_stop\n",
    "data: {\"type\":\"content_block_stop\",\"index\":0}\n",
    "\n",
    "event: message_delta\n",
    "data: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":null,\"stop_sequence\":null},\"usage\":{\"output_tokens\":5}}\n",
    "\n",
    "event: message_delta\n",
    "data: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\",\"stop_sequence\":null},\"usage\":{\"output_tokens\":14}}\n",
    "\n",
    "event: message_stop\n",
    "data: {\"type\":\"message_stop\"}\n",
    "\n",
);

#[test]
fn stream_usage_is_cumulative_latest_wins() {
    let events: Vec<StreamEvent> = decode(&[STREAM.as_bytes()])
        .into_iter()
        .map(Result::unwrap)
        .collect();
    assert_eq!(
        events,
        [
            StreamEvent::Id("msg_01X".to_owned()),
            StreamEvent::Delta("你好！".to_owned()),
            // The thinking delta is reasoning, not reply text.
            StreamEvent::Reasoning("not text".to_owned()),
            StreamEvent::Usage(Usage {
                prompt_tokens: 31,
                completion_tokens: 5,
                total_tokens: 36
            }),
            StreamEvent::Usage(Usage {
                prompt_tokens: 31,
                completion_tokens: 14,
                total_tokens: 45
            }),
            StreamEvent::Finish("stop".to_owned()),
        ]
    );
}

#[test]
fn stream_split_inside_utf8_char() {
    let bytes = STREAM.as_bytes();
    let at = STREAM.find("你").unwrap() + 1;
    let events = decode(&[&bytes[..at], &bytes[at..]]);
    assert_eq!(
        events[1].as_ref().unwrap(),
        &StreamEvent::Delta("你好！".to_owned())
    );
    assert!(events.iter().all(Result::is_ok));
}

#[test]
fn stream_without_message_stop_is_a_cut() {
    let cut = &STREAM[..STREAM.find("event: message_stop").unwrap()];
    let events = decode(&[cut.as_bytes()]);
    let err = events.last().unwrap().as_ref().unwrap_err();
    assert_eq!((err.kind, err.retryable), (FailureKind::Connect, true));
}

#[test]
fn error_event_after_200() {
    let body = concat!(
        "event: message_start\n",
        "data: {\"type\":\"message_start\",\"message\":{\"usage\":{\"input_tokens\":3,\"output_tokens\":1}}}\n\n",
        "event: error\n",
        "data: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}\n\n",
    );
    let events = decode(&[body.as_bytes()]);
    assert_eq!(events.len(), 1);
    let err = events[0].as_ref().unwrap_err();
    assert_eq!((err.kind, err.retryable), (FailureKind::Unavailable, true));
    assert_eq!(err.code.as_deref(), Some("overloaded_error"));
    assert!(err.detail.contains("Overloaded"));
}

#[test]
fn error_classification() {
    use FailureKind::*;
    let none = HeaderMap::new();
    let body = |kind: &str| {
        format!(
            r#"{{"type":"error","error":{{"type":"{kind}","message":"m"}},"request_id":"req_1"}}"#
        )
    };
    let cases = [
        (400, "invalid_request_error", Rejected, false),
        (401, "authentication_error", Auth, false),
        (402, "billing_error", Billing, false),
        (403, "permission_error", Auth, false),
        (404, "not_found_error", Rejected, false),
        (413, "request_too_large", Rejected, false),
        (429, "rate_limit_error", RateLimited, true),
        (500, "api_error", Unavailable, true),
        (529, "overloaded_error", Unavailable, true),
    ];
    for (status, kind, expected, retryable) in cases {
        let err = Anthropic.error(status, &none, body(kind).as_bytes());
        assert_eq!((err.kind, err.retryable), (expected, retryable), "{kind}");
        assert_eq!(err.code.as_deref(), Some(kind));
    }
    let mut h = HeaderMap::new();
    h.insert("retry-after", HeaderValue::from_static("12"));
    let err = Anthropic.error(429, &h, body("rate_limit_error").as_bytes());
    assert_eq!(err.retry_after, Some(std::time::Duration::from_secs(12)));
}

#[test]
fn spend_limit_429_is_billing() {
    let body = br#"{"type":"error","error":{"type":"rate_limit_error","message":"spend limit reached","details":{"error_code":"enforced_spend_limit_reached"}}}"#;
    let err = Anthropic.error(429, &HeaderMap::new(), body);
    assert_eq!((err.kind, err.retryable), (FailureKind::Billing, false));
    assert_eq!(err.code.as_deref(), Some("enforced_spend_limit_reached"));
}

/// Found writing the `decode_anthropic` fuzz target: the prompt is input plus cache tokens, and
/// counters near `u64::MAX` overflowed the sum (a panic in debug builds, a wrapped count in
/// release). The sum saturates, and the usage is clamped like every other count.
#[test]
fn huge_cumulative_counters_saturate() {
    let max = u64::MAX;
    let body = format!(
        "event: message_start\ndata: {{\"type\":\"message_start\",\"message\":{{\"id\":\"m\",\"usage\":{{\"input_tokens\":{max},\"cache_read_input_tokens\":{max},\"cache_creation_input_tokens\":{max},\"output_tokens\":1}}}}}}\n\n\
         event: message_delta\ndata: {{\"type\":\"message_delta\",\"delta\":{{\"stop_reason\":\"end_turn\"}},\"usage\":{{\"output_tokens\":{max}}}}}\n\n\
         event: message_stop\ndata: {{\"type\":\"message_stop\"}}\n\n"
    );
    let events = decode(&[body.as_bytes()]);
    assert!(
        events.contains(&Ok(StreamEvent::Usage(Usage {
            prompt_tokens: u32::MAX,
            completion_tokens: u32::MAX,
            total_tokens: u32::MAX,
        }))),
        "{events:?}"
    );
    let answer = serde_json::json!({"content": [], "usage": {"input_tokens": max, "cache_read_input_tokens": max}});
    assert_eq!(
        Anthropic
            .completion(answer)
            .unwrap()
            .usage
            .unwrap()
            .prompt_tokens,
        u32::MAX
    );
}
