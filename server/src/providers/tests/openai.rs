#![allow(clippy::unwrap_used, clippy::expect_used)]
use super::*;
use crate::providers::stream::decode_all;
use crate::providers::{ChatMessage, FailureKind, Role, StreamEvent, Usage};
use reqwest::header::{HeaderName, HeaderValue};
use serde_json::json;

pub(crate) fn request() -> ChatRequest {
    ChatRequest {
        model: "m".to_owned(),
        messages: vec![
            ChatMessage::text(Role::System, "你是一个乐于助人的助手。"),
            ChatMessage::text(Role::User, "你好"),
        ],
        max_tokens: 256,
        temperature: Some(0.7),
        top_p: Some(0.9),
        frequency_penalty: Some(0.5),
        presence_penalty: Some(0.25),
        ..ChatRequest::default()
    }
}

fn body(dialect: Dialect, req: &ChatRequest, stream: bool) -> Value {
    serde_json::to_value(OpenAi(dialect).body(req, stream)).unwrap()
}

fn decode(dialect: Dialect, chunks: &[&[u8]]) -> Vec<UpstreamResult<StreamEvent>> {
    decode_all(OpenAi(dialect).decoder(), chunks)
}

fn ok(events: Vec<UpstreamResult<StreamEvent>>) -> Vec<StreamEvent> {
    events.into_iter().map(Result::unwrap).collect()
}

fn last_err(events: &[UpstreamResult<StreamEvent>]) -> &UpstreamError {
    events.last().unwrap().as_ref().unwrap_err()
}

fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
    pairs
        .iter()
        .map(|(k, v)| (HeaderName::from_static(k), HeaderValue::from_static(v)))
        .collect()
}

#[test]
fn openai_body_uses_max_completion_tokens_and_asks_usage() {
    let b = body(Dialect::OpenAi, &request(), true);
    assert_eq!(
        b,
        json!({"model":"m","messages":[{"role":"system","content":"你是一个乐于助人的助手。"},{"role":"user","content":"你好"}],
               "max_completion_tokens":256,"temperature":0.7,"top_p":0.9,"frequency_penalty":0.5,"presence_penalty":0.25,
               "stream":true,"stream_options":{"include_usage":true}})
    );
    let b = body(Dialect::OpenAi, &request(), false);
    assert!(b.get("stream").is_none() && b.get("stream_options").is_none());
}

#[test]
fn custom_body_uses_max_tokens_and_asks_usage() {
    let b = body(Dialect::Custom, &request(), true);
    assert_eq!(b["max_tokens"], 256);
    assert!(b.get("max_completion_tokens").is_none());
    assert_eq!(b["stream_options"], json!({"include_usage":true}));
}

#[test]
fn zero_max_tokens_is_omitted() {
    let mut req = request();
    req.max_tokens = 0;
    let b = body(Dialect::OpenAi, &req, false);
    assert!(b.get("max_completion_tokens").is_none() && b.get("max_tokens").is_none());
}

#[test]
fn xunfei_body_uses_max_tokens_clamped_and_no_stream_options() {
    let mut req = request();
    req.model = "lite".to_owned();
    req.max_tokens = 9000;
    let b = body(Dialect::Xunfei, &req, true);
    assert_eq!(b["max_tokens"], 4096);
    assert_eq!(b["frequency_penalty"], 0.5);
    assert!(b.get("stream_options").is_none());
    assert_eq!(b["messages"][0]["role"], "system");
}

#[test]
fn zhipu_body_clamps_and_drops_penalties() {
    let mut req = request();
    req.temperature = Some(0.0);
    req.top_p = Some(1.0);
    let b = body(Dialect::Zhipu, &req, true);
    assert_eq!(b["temperature"], 0.01);
    assert_eq!(b["do_sample"], false);
    assert_eq!(b["top_p"], 0.99);
    assert_eq!(b["max_tokens"], 256);
    assert!(b.get("frequency_penalty").is_none() && b.get("presence_penalty").is_none());
    assert!(b.get("stream_options").is_none());
    req.temperature = Some(1.5);
    let b = body(Dialect::Zhipu, &req, false);
    assert_eq!(b["temperature"], 0.99);
    assert!(b.get("do_sample").is_none());
}

const OPENAI_NONSTREAM: &str = r#"{"id":"chatcmpl-BxQ1","object":"chat.completion","model":"gpt-4o-mini-2024-07-18",
 "choices":[{"index":0,"message":{"role":"assistant","content":"你好！很高兴为您服务。"},"finish_reason":"stop"}],
 "usage":{"prompt_tokens":22,"completion_tokens":9,"total_tokens":31}}"#;

#[test]
fn openai_nonstream_decodes() {
    let c = OpenAi(Dialect::OpenAi)
        .completion(serde_json::from_str(OPENAI_NONSTREAM).unwrap())
        .unwrap();
    assert_eq!(c.text, "你好！很高兴为您服务。");
    assert_eq!(c.finish_reason.as_deref(), Some("stop"));
    assert_eq!(
        c.usage,
        Some(Usage {
            prompt_tokens: 22,
            completion_tokens: 9,
            total_tokens: 31
        })
    );
    assert_eq!(c.raw["id"], "chatcmpl-BxQ1");
}

const OPENAI_STREAM: &str = concat!(
    "data: {\"id\":\"chatcmpl-BxQ1\",\"object\":\"chat.completion.chunk\",\"created\":1753860612,\"model\":\"gpt-4o-mini\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},\"finish_reason\":null}],\"usage\":null,\"obfuscation\":\"aB3\"}\n",
    "\n",
    "data: {\"id\":\"chatcmpl-BxQ1\",\"object\":\"chat.completion.chunk\",\"created\":1753860612,\"model\":\"gpt-4o-mini\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"你好！\"},\"finish_reason\":null}],\"usage\":null,\"obfuscation\":\"x\"}\n",
    "\n",
    "data: {\"id\":\"chatcmpl-BxQ1\",\"object\":\"chat.completion.chunk\",\"created\":1753860612,\"model\":\"gpt-4o-mini\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"很高兴为您服务。\"},\"finish_reason\":null}],\"usage\":null}\n",
    "\n",
    "data: {\"id\":\"chatcmpl-BxQ1\",\"object\":\"chat.completion.chunk\",\"created\":1753860612,\"model\":\"gpt-4o-mini\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}],\"usage\":null}\n",
    "\n",
    "data: {\"id\":\"chatcmpl-BxQ1\",\"object\":\"chat.completion.chunk\",\"created\":1753860612,\"model\":\"gpt-4o-mini\",\"choices\":[],\"usage\":{\"prompt_tokens\":22,\"completion_tokens\":9,\"total_tokens\":31}}\n",
    "\n",
    "data: [DONE]\n",
    "\n",
);

fn openai_expected() -> Vec<StreamEvent> {
    vec![
        StreamEvent::Id("chatcmpl-BxQ1".to_owned()),
        StreamEvent::Delta("你好！".to_owned()),
        StreamEvent::Delta("很高兴为您服务。".to_owned()),
        StreamEvent::Finish("stop".to_owned()),
        StreamEvent::Usage(Usage {
            prompt_tokens: 22,
            completion_tokens: 9,
            total_tokens: 31,
        }),
    ]
}

#[test]
fn openai_stream_decodes_with_empty_choices_usage_chunk() {
    assert_eq!(
        ok(decode(Dialect::OpenAi, &[OPENAI_STREAM.as_bytes()])),
        openai_expected()
    );
}

#[test]
fn openai_stream_survives_any_chunking() {
    let bytes = OPENAI_STREAM.as_bytes();
    for size in [1, 2, 3, 5, 7, 64] {
        let chunks: Vec<&[u8]> = bytes.chunks(size).collect();
        assert_eq!(
            ok(decode(Dialect::OpenAi, &chunks)),
            openai_expected(),
            "size {size}"
        );
    }
}

#[test]
fn stream_without_done_is_a_cut() {
    let cut = &OPENAI_STREAM[..OPENAI_STREAM.find("data: [DONE]").unwrap()];
    let events = decode(Dialect::OpenAi, &[cut.as_bytes()]);
    assert_eq!(events.len(), 6);
    let err = last_err(&events);
    assert_eq!(err.kind, FailureKind::Connect);
    assert!(err.retryable);
}

#[test]
fn openai_mid_stream_error() {
    let body = concat!(
        "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hi\"},\"finish_reason\":null}]}\n\n",
        "data: {\"error\":{\"message\":\"The server had an error\",\"type\":\"server_error\",\"param\":null,\"code\":null}}\n\n",
        "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"never\"}}]}\n\n",
    );
    let events = decode(Dialect::OpenAi, &[body.as_bytes()]);
    assert_eq!(events.len(), 2);
    assert_eq!(
        events[0].as_ref().unwrap(),
        &StreamEvent::Delta("Hi".to_owned())
    );
    let err = last_err(&events);
    assert_eq!((err.kind, err.retryable), (FailureKind::Unavailable, true));
    assert_eq!(err.code.as_deref(), Some("server_error"));
    assert!(err.detail.contains("The server had an error"));
}

#[test]
fn garbage_chunk_is_a_protocol_error() {
    let events = decode(Dialect::OpenAi, &[b"data: {not json\n\n"]);
    assert_eq!(last_err(&events).kind, FailureKind::Protocol);
}

#[test]
fn openai_two_kinds_of_429() {
    let h = headers(&[("retry-after", "20")]);
    let quota = br#"{"error":{"message":"You exceeded your current quota","type":"insufficient_quota","param":null,"code":"insufficient_quota"}}"#;
    let err = OpenAi(Dialect::OpenAi).error(429, &h, quota);
    assert_eq!((err.kind, err.retryable), (FailureKind::Billing, false));
    assert_eq!(err.code.as_deref(), Some("insufficient_quota"));
    assert_eq!(err.status, Some(429));
    assert!(err.detail.contains("You exceeded your current quota"));

    let rate = br#"{"error":{"message":"Rate limit reached","type":"requests","param":null,"code":"rate_limit_exceeded"}}"#;
    let err = OpenAi(Dialect::OpenAi).error(429, &h, rate);
    assert_eq!((err.kind, err.retryable), (FailureKind::RateLimited, true));
    assert_eq!(err.retry_after, Some(std::time::Duration::from_secs(20)));
}

#[test]
fn openai_non_retryable_statuses() {
    let p = OpenAi(Dialect::OpenAi);
    let none = HeaderMap::new();
    let cases: [(u16, &[u8], FailureKind); 4] = [
        (401, br#"{"error":{"message":"Incorrect API key","type":"invalid_request_error","code":"invalid_api_key"}}"#, FailureKind::Auth),
        (400, br#"{"error":{"message":"too long","type":"invalid_request_error","code":"context_length_exceeded"}}"#, FailureKind::Rejected),
        (404, br#"{"error":{"message":"no model","type":"invalid_request_error","code":"model_not_found"}}"#, FailureKind::Rejected),
        (403, b"<html>forbidden</html>", FailureKind::Auth),
    ];
    for (status, body, kind) in cases {
        let err = p.error(status, &none, body);
        assert_eq!((err.kind, err.retryable), (kind, false), "{status}");
    }
    let err = p.error(502, &none, b"<html>bad gateway</html>");
    assert_eq!((err.kind, err.retryable), (FailureKind::Unavailable, true));
    assert!(err.detail.contains("bad gateway"));
}

#[test]
fn custom_recognises_dashscope_and_qianfan_codes() {
    let p = OpenAi(Dialect::Custom);
    let none = HeaderMap::new();
    let err = p.error(429, &none, br#"{"error":{"message":"Allocated quota exceeded","type":"requests","code":"Throttling.AllocationQuota"},"request_id":"x"}"#);
    assert_eq!((err.kind, err.retryable), (FailureKind::RateLimited, false));
    let err = p.error(429, &none, br#"{"error":{"code":"tpm_rate_limit_exceeded","message":"Rate limit reached for TPM","type":"rate_limit_exceeded"},"id":"as-1"}"#);
    assert_eq!((err.kind, err.retryable), (FailureKind::RateLimited, true));
    assert_eq!(err.code.as_deref(), Some("tpm_rate_limit_exceeded"));
}

const SPARK_STREAM: &str = concat!(
    "data:{\"code\":0,\"message\":\"Success\",\"sid\":\"cha000b000c@dx1905cf38fc8b86d552\",\"id\":\"cha000b000c@dx1905cf38fc8b86d552\",\"created\":1719546385,\"choices\":[{\"delta\":{\"role\":\"assistant\",\"content\":\"你好！\"},\"index\":0}]}\n",
    "\n",
    "data:{\"code\":0,\"message\":\"Success\",\"sid\":\"cha000b000c@dx1905cf38fc8b86d552\",\"id\":\"cha000b000c@dx1905cf38fc8b86d552\",\"created\":1719546385,\"choices\":[{\"delta\":{\"role\":\"assistant\",\"content\":\"\"},\"index\":0}],\"usage\":{\"prompt_tokens\":9,\"completion_tokens\":8,\"total_tokens\":17}}\n",
    "\n",
    "data:[DONE]\n",
    "\n",
);

#[test]
fn spark_stream_ends_with_stop_at_done() {
    assert_eq!(
        ok(decode(Dialect::Xunfei, &[SPARK_STREAM.as_bytes()])),
        [
            StreamEvent::Id("cha000b000c@dx1905cf38fc8b86d552".to_owned()),
            StreamEvent::Delta("你好！".to_owned()),
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
fn spark_chunk_with_nonzero_code_is_an_error() {
    let body = concat!(
        "data:{\"code\":0,\"message\":\"Success\",\"sid\":\"s1\",\"choices\":[{\"delta\":{\"role\":\"assistant\",\"content\":\"你\"},\"index\":0}]}\n\n",
        "data:{\"code\":10014,\"message\":\"output rejected\",\"sid\":\"s1\"}\n\n",
    );
    let events = decode(Dialect::Xunfei, &[body.as_bytes()]);
    let err = last_err(&events);
    assert_eq!((err.kind, err.retryable), (FailureKind::Rejected, false));
    assert_eq!(err.code.as_deref(), Some("10014"));
}

#[test]
fn spark_nonstream_code_and_missing_finish_reason() {
    let p = OpenAi(Dialect::Xunfei);
    let c = p
        .completion(
            json!({"code":0,"message":"Success","sid":"cha000b0003@dx1905cd86d6bb86d552",
            "choices":[{"message":{"role":"assistant","content":"你好"},"index":0}],
            "usage":{"prompt_tokens":6,"completion_tokens":42,"total_tokens":48}}),
        )
        .unwrap();
    assert_eq!(c.text, "你好");
    assert_eq!(c.finish_reason.as_deref(), Some("stop"));
    assert_eq!(c.usage.unwrap().total_tokens, 48);
    let err = p
        .completion(json!({"code":11202,"message":"qps limit","sid":"s"}))
        .unwrap_err();
    assert_eq!((err.kind, err.retryable), (FailureKind::RateLimited, true));
}

#[test]
fn spark_http_error_layer() {
    let p = OpenAi(Dialect::Xunfei);
    let none = HeaderMap::new();
    let err = p.error(
        401,
        &none,
        br#"{"error":{"message":"invalid user","type":"api_error","param":null,"code":null}}"#,
    );
    assert_eq!((err.kind, err.retryable), (FailureKind::Auth, false));
    let err = p.error(
        400,
        &none,
        br#"{"error":{"message":"AppIdNoAuthError (sid: x)","type":"api_error","code":"11200"}}"#,
    );
    assert_eq!(
        (err.kind, err.code.as_deref()),
        (FailureKind::Auth, Some("11200"))
    );
    let err = p.error(500, &none, br#"{"code":10110,"message":"busy","sid":"s"}"#);
    assert_eq!(
        (err.kind, err.retryable, err.status),
        (FailureKind::Unavailable, true, Some(500))
    );
}

const ZHIPU_STREAM: &str = concat!(
    "data: {\"id\":\"20250730153012a1b2c3d4e5f60718\",\"created\":1753860612,\"model\":\"glm-4-plus\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"你好！\"}}]}\n",
    "\n",
    "data: {\"id\":\"20250730153012a1b2c3d4e5f60718\",\"created\":1753860612,\"model\":\"glm-4-plus\",\"choices\":[{\"index\":0,\"finish_reason\":\"stop\",\"delta\":{\"role\":\"assistant\",\"content\":\"\"}}],\"usage\":{\"prompt_tokens\":15,\"completion_tokens\":8,\"total_tokens\":23}}\n",
    "\n",
    "data: [DONE]\n",
    "\n",
);

#[test]
fn zhipu_stream_usage_on_last_chunk() {
    assert_eq!(
        ok(decode(Dialect::Zhipu, &[ZHIPU_STREAM.as_bytes()])),
        [
            StreamEvent::Id("20250730153012a1b2c3d4e5f60718".to_owned()),
            StreamEvent::Delta("你好！".to_owned()),
            StreamEvent::Finish("stop".to_owned()),
            StreamEvent::Usage(Usage {
                prompt_tokens: 15,
                completion_tokens: 8,
                total_tokens: 23
            }),
        ]
    );
}

#[test]
fn zhipu_moderation_mid_stream() {
    let body = concat!(
        "data: {\"id\":\"1\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"部分\"}}]}\n\n",
        "data: {\"error\":{\"code\":\"1301\",\"message\":\"系统检测到输入或生成内容可能包含不安全或敏感内容\"}}\n\n",
    );
    let events = decode(Dialect::Zhipu, &[body.as_bytes()]);
    let err = last_err(&events);
    assert_eq!((err.kind, err.retryable), (FailureKind::Rejected, false));
    assert_eq!(err.code.as_deref(), Some("1301"));
}

#[test]
fn zhipu_429_arrears_is_not_retryable_but_1302_is() {
    let p = OpenAi(Dialect::Zhipu);
    let none = HeaderMap::new();
    let err = p.error(
        429,
        &none,
        r#"{"error":{"code":"1113","message":"您的账户已欠费，请充值后重试。"}}"#.as_bytes(),
    );
    assert_eq!((err.kind, err.retryable), (FailureKind::Billing, false));
    let err = p.error(
        429,
        &none,
        r#"{"error":{"code":"1302","message":"您当前使用该API的并发数过高"}}"#.as_bytes(),
    );
    assert_eq!(
        (err.kind, err.retryable, err.code.as_deref()),
        (FailureKind::RateLimited, true, Some("1302"))
    );
}

#[test]
fn zhipu_sensitive_finish_is_content_filter() {
    let c = OpenAi(Dialect::Zhipu)
        .completion(json!({"id":"1","choices":[{"index":0,"finish_reason":"sensitive","message":{"role":"assistant","content":""}}]}))
        .unwrap();
    assert_eq!(c.finish_reason.as_deref(), Some("content_filter"));
}

#[test]
fn error_in_200_body_is_an_error() {
    let err = OpenAi(Dialect::OpenAi)
        .completion(json!({"error":{"message":"overloaded","type":"server_error","code":null}}))
        .unwrap_err();
    assert_eq!((err.kind, err.retryable), (FailureKind::Unavailable, true));
}

#[test]
fn keys_quoted_in_mid_stream_errors_are_scrubbed() {
    use crate::providers::{EventStream, protocol::scrubbed, stream::SseStream};
    use crate::secret::Secret;
    use futures::StreamExt;
    let key = "sk-live-0123456789abcdefghij";
    let body = format!(
        "data: {{\"choices\":[{{\"index\":0,\"delta\":{{\"content\":\"Hi\"}}}}]}}\n\n\
         data: {{\"error\":{{\"message\":\"Incorrect API key provided: {key}\",\
         \"type\":\"invalid_request_error\",\"code\":\"invalid_api_key\"}}}}\n\n"
    );
    let chunks: Vec<reqwest::Result<bytes::Bytes>> = vec![Ok(bytes::Bytes::from(body))];
    let stream: EventStream = Box::pin(SseStream::new(
        Box::pin(futures::stream::iter(chunks)),
        OpenAi(Dialect::OpenAi).decoder(),
        crate::providers::Progress::new(),
    ));
    let events: Vec<_> = futures::executor::block_on(scrubbed(stream, Secret::new(key)).collect());
    assert_eq!(
        events[0].as_ref().unwrap(),
        &StreamEvent::Delta("Hi".to_owned())
    );
    let err = last_err(&events);
    assert!(
        err.detail.contains("Incorrect API key provided: ***"),
        "{}",
        err.detail
    );
    assert!(!err.detail.contains(key), "{}", err.detail);
}
