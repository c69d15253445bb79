#![allow(clippy::unwrap_used, clippy::expect_used)]
use super::*;
use crate::providers::stream::decode_all;
use crate::providers::{ChatMessage, StreamEvent, Usage};
use serde_json::json;

fn msg(role: Role, content: &str) -> ChatMessage {
    ChatMessage::text(role, content)
}

fn request(messages: Vec<ChatMessage>) -> ChatRequest {
    ChatRequest {
        model: "ernie-speed-128k".to_owned(),
        messages,
        max_tokens: 1,
        temperature: Some(0.0),
        top_p: Some(1.5),
        frequency_penalty: Some(0.0),
        presence_penalty: Some(0.0),
        ..ChatRequest::default()
    }
}

fn decode(chunks: &[&[u8]]) -> Vec<UpstreamResult<StreamEvent>> {
    decode_all(Baidu.decoder(), chunks)
}

#[test]
fn body_normalises_messages_and_parameters() {
    let req = request(vec![
        msg(Role::System, "sys"),
        msg(Role::Assistant, "leading"),
        msg(Role::User, "u1"),
        msg(Role::User, "u2"),
        msg(Role::Assistant, "a1"),
        msg(Role::User, "u3"),
        msg(Role::Assistant, "trailing"),
    ]);
    let b = serde_json::to_value(Baidu.body(&req, true)).unwrap();
    assert_eq!(
        b,
        json!({"messages":[{"role":"user","content":"u1\n\nu2"},{"role":"assistant","content":"a1"},{"role":"user","content":"u3"}],
               "system":"sys","max_output_tokens":2,"temperature":0.01,"top_p":1.0,"stream":true})
    );
    assert_eq!(b["messages"].as_array().unwrap().len() % 2, 1);
}

#[test]
fn penalty_score_heuristic_and_temperature_cap() {
    let mut req = request(vec![msg(Role::User, "q")]);
    req.frequency_penalty = Some(0.4);
    req.presence_penalty = Some(1.0);
    req.temperature = Some(1.5);
    let b = serde_json::to_value(Baidu.body(&req, false)).unwrap();
    assert_eq!(b["penalty_score"], 1.5);
    assert_eq!(b["temperature"], 1.0);
    req.presence_penalty = Some(5.0);
    let b = serde_json::to_value(Baidu.body(&req, false)).unwrap();
    assert_eq!(b["penalty_score"], 2.0);
    req.frequency_penalty = Some(-1.0);
    req.presence_penalty = Some(-1.0);
    let b = serde_json::to_value(Baidu.body(&req, false)).unwrap();
    assert!(b.get("penalty_score").is_none());
    assert!(b.get("stream").is_none());
}

#[test]
fn chat_url_carries_the_token_and_the_endpoint() {
    let url = chat_url(
        "https://aip.baidubce.com/rpc/2.0/ai_custom/v1/wenxinworkshop/chat/completions_pro",
        "ignored",
        "24.abc",
    )
    .unwrap();
    assert_eq!(
        url.as_str(),
        "https://aip.baidubce.com/rpc/2.0/ai_custom/v1/wenxinworkshop/chat/completions_pro?access_token=24.abc"
    );
    let url = chat_url(
        "http://127.0.0.1:9/rpc/2.0/ai_custom/v1/wenxinworkshop/chat/",
        "ernie_speed",
        "t",
    )
    .unwrap();
    assert_eq!(
        url.path(),
        "/rpc/2.0/ai_custom/v1/wenxinworkshop/chat/ernie_speed"
    );
}

#[test]
fn nonstream_result_and_finish_mapping() {
    let c = Baidu
        .completion(json!({"id":"as-1","object":"chat.completion","created":1,"result":"你好","is_truncated":false,
            "need_clear_history":false,"finish_reason":"normal","usage":{"prompt_tokens":9,"completion_tokens":2,"total_tokens":11}}))
        .unwrap();
    assert_eq!(c.text, "你好");
    assert_eq!(c.finish_reason.as_deref(), Some("stop"));
    assert_eq!(
        c.usage,
        Some(Usage {
            prompt_tokens: 9,
            completion_tokens: 2,
            total_tokens: 11
        })
    );
    let c = Baidu
        .completion(json!({"result":"换个话题吧","need_clear_history":true,"ban_round":-1,"usage":{"prompt_tokens":4,"total_tokens":10}}))
        .unwrap();
    assert_eq!(c.finish_reason.as_deref(), Some("content_filter"));
    assert_eq!(c.usage.unwrap().completion_tokens, 6);
}

#[test]
fn error_code_in_200_body() {
    use FailureKind::*;
    let cases = [
        (110, Auth, false),
        (111, Auth, false),
        (18, RateLimited, true),
        (336100, Unavailable, true),
        (336501, RateLimited, true),
        (336502, RateLimited, true),
        (2, Unavailable, true),
        (336000, Unavailable, true),
        (17, Billing, false),
        (19, Billing, false),
        (6, Auth, false),
        (336006, Rejected, false),
        (336104, Rejected, false),
    ];
    for (code, kind, retryable) in cases {
        let err = Baidu
            .completion(json!({"error_code":code,"error_msg":"m"}))
            .unwrap_err();
        assert_eq!((err.kind, err.retryable), (kind, retryable), "{code}");
        assert_eq!(err.code, Some(code.to_string()));
    }
}

const STREAM: &str = concat!(
    "data: {\"id\":\"as-vb0m37ti8y\",\"object\":\"chat.completion\",\"created\":1709089502,\"sentence_id\":0,\"is_end\":false,\"is_truncated\":false,\"result\":\"你好！\",\"need_clear_history\":false,\"finish_reason\":\"normal\",\"usage\":{\"prompt_tokens\":9,\"completion_tokens\":0,\"total_tokens\":9}}\n",
    "\n",
    "data: {\"id\":\"as-vb0m37ti8y\",\"object\":\"chat.completion\",\"created\":1709089502,\"sentence_id\":1,\"is_end\":false,\"is_truncated\":false,\"result\":\"很高兴为您服务。\",\"need_clear_history\":false,\"finish_reason\":\"normal\",\"usage\":{\"prompt_tokens\":9,\"completion_tokens\":0,\"total_tokens\":9}}\n",
    "\n",
    "data: {\"id\":\"as-vb0m37ti8y\",\"object\":\"chat.completion\",\"created\":1709089502,\"sentence_id\":2,\"is_end\":true,\"is_truncated\":false,\"result\":\"\",\"need_clear_history\":false,\"finish_reason\":\"normal\",\"usage\":{\"prompt_tokens\":9,\"completion_tokens\":8,\"total_tokens\":17}}\n",
    "\n",
);

#[test]
fn stream_trusts_usage_only_at_is_end() {
    let events: Vec<StreamEvent> = decode(&[STREAM.as_bytes()])
        .into_iter()
        .map(Result::unwrap)
        .collect();
    assert_eq!(
        events,
        [
            StreamEvent::Delta("你好！".to_owned()),
            StreamEvent::Delta("很高兴为您服务。".to_owned()),
            StreamEvent::Usage(Usage {
                prompt_tokens: 9,
                completion_tokens: 8,
                total_tokens: 17
            }),
            StreamEvent::Finish("stop".to_owned()),
        ]
    );
}

#[test]
fn eof_before_is_end_is_a_cut() {
    let cut = &STREAM[..STREAM.find("\"sentence_id\":2").unwrap() - 50];
    let events = decode(&[cut.as_bytes()]);
    let err = events.last().unwrap().as_ref().unwrap_err();
    assert_eq!((err.kind, err.retryable), (FailureKind::Connect, true));
}

#[test]
fn json_error_line_inside_stream() {
    let body = concat!(
        "data: {\"id\":\"as-1\",\"sentence_id\":0,\"is_end\":false,\"result\":\"你\"}\n\n",
        "{\"error_code\":336501,\"error_msg\":\"Rpm limit reached\"}",
    );
    let events = decode(&[body.as_bytes()]);
    let err = events.last().unwrap().as_ref().unwrap_err();
    assert_eq!((err.kind, err.retryable), (FailureKind::RateLimited, true));
    let data_error = "data: {\"error_code\":336100,\"error_msg\":\"busy\"}\n\n";
    let events = decode(&[data_error.as_bytes()]);
    assert_eq!(
        events[0].as_ref().unwrap_err().kind,
        FailureKind::Unavailable
    );
}

#[test]
fn stale_token_codes_trigger_one_refresh() {
    let ctx = Providers::new(reqwest::Client::new());
    let target = Target {
        provider: crate::providers::ProviderKind::Baidu,
        api_url: "http://127.0.0.1:1/rpc/2.0/ai_custom/v1/wenxinworkshop/chat/completions"
            .to_owned(),
        api_key: crate::secret::Secret::new("id:secret"),
    };
    let expired = Baidu
        .completion(json!({"error_code":111,"error_msg":"Access token expired"}))
        .unwrap_err();
    let limited = Baidu
        .completion(json!({"error_code":18,"error_msg":"qps"}))
        .unwrap_err();
    assert!(Baidu.refresh_credential(&ctx, &target, &expired, Instant::now()));
    assert!(!Baidu.refresh_credential(&ctx, &target, &limited, Instant::now()));
}
