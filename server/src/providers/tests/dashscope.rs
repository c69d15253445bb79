#![allow(clippy::unwrap_used, clippy::expect_used)]
use super::*;
use crate::providers::stream::decode_all;
use crate::providers::{ChatMessage, Role, StreamEvent, Usage};
use serde_json::json;

fn request() -> ChatRequest {
    ChatRequest {
        model: "qwen-plus".to_owned(),
        messages: vec![
            ChatMessage::text(Role::System, "sys"),
            ChatMessage::text(Role::User, "你好"),
        ],
        max_tokens: 256,
        temperature: Some(2.0),
        top_p: Some(1.0),
        frequency_penalty: Some(0.7),
        presence_penalty: Some(0.3),
        ..ChatRequest::default()
    }
}

fn decode(chunks: &[&[u8]]) -> Vec<UpstreamResult<StreamEvent>> {
    decode_all(DashScope.decoder(), chunks)
}

#[test]
fn body_puts_messages_in_input_and_clamps() {
    let b = serde_json::to_value(DashScope.body(&request(), true)).unwrap();
    assert_eq!(
        b,
        json!({"model":"qwen-plus","input":{"messages":[{"role":"system","content":"sys"},{"role":"user","content":"你好"}]},
               "parameters":{"result_format":"message","max_tokens":256,"temperature":1.99,"top_p":0.9999,
                             "presence_penalty":0.3,"incremental_output":true}})
    );
    let b = serde_json::to_value(DashScope.body(&request(), false)).unwrap();
    assert!(b["parameters"].get("incremental_output").is_none());
    assert!(b["parameters"].get("frequency_penalty").is_none());
}

#[test]
fn nonstream_message_format() {
    let c = DashScope
        .completion(json!({"output":{"choices":[{"finish_reason":"stop","message":{"role":"assistant","content":"你好！很高兴为您服务。"}}]},
            "usage":{"input_tokens":22,"output_tokens":8,"total_tokens":30},"request_id":"902fee3b-f7f0-9a8c-96a1-6b4ea25af114"}))
        .unwrap();
    assert_eq!(c.text, "你好！很高兴为您服务。");
    assert_eq!(c.finish_reason.as_deref(), Some("stop"));
    assert_eq!(
        c.usage,
        Some(Usage {
            prompt_tokens: 22,
            completion_tokens: 8,
            total_tokens: 30
        })
    );
}

#[test]
fn nonstream_text_format_fallback_and_missing_total() {
    let c = DashScope
        .completion(json!({"output":{"text":"hello","finish_reason":"stop"},"usage":{"input_tokens":2,"output_tokens":1},"request_id":"r"}))
        .unwrap();
    assert_eq!(c.text, "hello");
    assert_eq!(c.usage.unwrap().total_tokens, 3);
}

const STREAM: &str = concat!(
    "id:1\n",
    "event:result\n",
    ":HTTP_STATUS/200\n",
    "data:{\"output\":{\"choices\":[{\"message\":{\"content\":\"你好\",\"role\":\"assistant\"},\"finish_reason\":\"null\"}]},\"usage\":{\"total_tokens\":23,\"output_tokens\":1,\"input_tokens\":22},\"request_id\":\"902f\"}\n",
    "\n",
    "id:2\n",
    "event:result\n",
    ":HTTP_STATUS/200\n",
    "data:{\"output\":{\"choices\":[{\"message\":{\"content\":\"！很高兴\",\"role\":\"assistant\"},\"finish_reason\":\"null\"}]},\"usage\":{\"total_tokens\":26,\"output_tokens\":4,\"input_tokens\":22},\"request_id\":\"902f\"}\n",
    "\n",
    "id:4\n",
    "event:result\n",
    ":HTTP_STATUS/200\n",
    "data:{\"output\":{\"choices\":[{\"message\":{\"content\":\"\",\"role\":\"assistant\"},\"finish_reason\":\"stop\"}]},\"usage\":{\"total_tokens\":30,\"output_tokens\":8,\"input_tokens\":22},\"request_id\":\"902f\"}\n",
    "\n",
);

#[test]
fn stream_cumulative_usage_and_eof_end() {
    let events: Vec<StreamEvent> = decode(&[STREAM.as_bytes()])
        .into_iter()
        .map(Result::unwrap)
        .collect();
    assert_eq!(
        events,
        [
            StreamEvent::Id("902f".to_owned()),
            StreamEvent::Delta("你好".to_owned()),
            StreamEvent::Usage(Usage {
                prompt_tokens: 22,
                completion_tokens: 1,
                total_tokens: 23
            }),
            StreamEvent::Delta("！很高兴".to_owned()),
            StreamEvent::Usage(Usage {
                prompt_tokens: 22,
                completion_tokens: 4,
                total_tokens: 26
            }),
            StreamEvent::Finish("stop".to_owned()),
            StreamEvent::Usage(Usage {
                prompt_tokens: 22,
                completion_tokens: 8,
                total_tokens: 30
            }),
        ]
    );
}

#[test]
fn eof_before_final_chunk_is_a_cut() {
    let cut = &STREAM[..STREAM.find("id:4").unwrap()];
    let events = decode(&[cut.as_bytes()]);
    let err = events.last().unwrap().as_ref().unwrap_err();
    assert_eq!((err.kind, err.retryable), (FailureKind::Connect, true));
}

#[test]
fn error_frame_inside_200() {
    let body = concat!(
        "id:1\nevent:result\n:HTTP_STATUS/200\ndata:{\"output\":{\"choices\":[{\"message\":{\"content\":\"你\",\"role\":\"assistant\"},\"finish_reason\":\"null\"}]},\"usage\":{\"total_tokens\":3,\"output_tokens\":1,\"input_tokens\":2}}\n\n",
        "id:2\nevent:error\n:HTTP_STATUS/400\ndata:{\"code\":\"DataInspectionFailed\",\"message\":\"Output data may contain inappropriate content.\",\"request_id\":\"r1\"}\n\n",
    );
    let events = decode(&[body.as_bytes()]);
    let err = events.last().unwrap().as_ref().unwrap_err();
    assert_eq!((err.kind, err.retryable), (FailureKind::Rejected, false));
    assert_eq!(err.code.as_deref(), Some("DataInspectionFailed"));
    assert_eq!(err.status, Some(400));

    let throttled = "id:1\nevent:error\n:HTTP_STATUS/429\ndata:{\"code\":\"Throttling.RateQuota\",\"message\":\"Requests rate limit exceeded\"}\n\n";
    let events = decode(&[throttled.as_bytes()]);
    let err = events[0].as_ref().unwrap_err();
    assert_eq!(
        (err.kind, err.retryable, err.status),
        (FailureKind::RateLimited, true, Some(429))
    );
}

#[test]
fn http_error_table() {
    use FailureKind::*;
    let none = HeaderMap::new();
    let cases = [
        (400, "InvalidParameter", Rejected, false),
        (400, "DataInspectionFailed", Rejected, false),
        (400, "Arrearage", Billing, false),
        (401, "InvalidApiKey", Auth, false),
        (403, "AccessDenied.Unpurchased", Auth, false),
        (408, "RequestTimeOut", Timeout, true),
        (413, "BadRequest.TooLarge", Rejected, false),
        (429, "Throttling.RateQuota", RateLimited, true),
        (429, "Throttling.BurstRate", RateLimited, true),
        (429, "Throttling.AllocationQuota", RateLimited, false),
        (500, "InternalError.Algo", Unavailable, true),
    ];
    for (status, code, kind, retryable) in cases {
        let body = format!(r#"{{"code":"{code}","message":"m","request_id":"r"}}"#);
        let err = DashScope.error(status, &none, body.as_bytes());
        assert_eq!((err.kind, err.retryable), (kind, retryable), "{code}");
        assert_eq!(err.code.as_deref(), Some(code));
    }
    // A failed stream request may answer with SSE holding the error.
    let sse = b"id:1\nevent:error\n:HTTP_STATUS/401\ndata:{\"code\":\"InvalidApiKey\",\"message\":\"Invalid API-key provided.\"}\n\n";
    let err = DashScope.error(401, &none, sse);
    assert_eq!(
        (err.kind, err.code.as_deref()),
        (Auth, Some("InvalidApiKey"))
    );
    assert!(err.detail.contains("Invalid API-key provided."));
}

#[test]
fn stream_only_models_are_detected() {
    let body = br#"{"code":"InvalidParameter","message":"This model only support stream mode, please enable the stream parameter to access the model. ","request_id":"r"}"#;
    let err = DashScope.error(400, &HeaderMap::new(), body);
    assert!(DashScope.stream_only(&err));
    let other = DashScope.error(
        400,
        &HeaderMap::new(),
        br#"{"code":"InvalidParameter","message":"bad"}"#,
    );
    assert!(!DashScope.stream_only(&other));
}
