//! `Providers` against the fake upstream, for every provider kind: what goes on the wire,
//! and what comes back (text, usage, finish, errors and their classification).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::fake_upstream;

use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use fake_upstream::{FakeUpstream, Outcome, Reply};
use futures::StreamExt;
use llm_proxy::providers::{
    ChatMessage, ChatRequest, EventStream, FailureKind, Progress, ProviderKind, Providers, Role,
    StreamEvent, UpstreamError, Usage,
};
use serde_json::Value;

const TEXT: &str = "你好！Hello, wire. 很高兴为您服务。";

fn request() -> ChatRequest {
    ChatRequest {
        model: "test-model".to_owned(),
        messages: vec![
            ChatMessage::text(Role::System, "You are terse."),
            ChatMessage::text(Role::User, "Say hi"),
        ],
        max_tokens: 300,
        temperature: Some(1.5),
        top_p: Some(0.8),
        frequency_penalty: Some(0.4),
        presence_penalty: Some(0.2),
        ..ChatRequest::default()
    }
}

fn providers() -> Providers {
    Providers::new(llm_proxy::providers::http_client())
}

#[derive(Debug, Default)]
struct Collected {
    text: String,
    usage: Option<Usage>,
    finish: Option<String>,
    deltas: usize,
    error: Option<UpstreamError>,
}

async fn collect(mut stream: EventStream) -> Collected {
    let mut out = Collected::default();
    while let Some(item) = stream.next().await {
        match item {
            Ok(StreamEvent::Delta(t)) => {
                out.deltas += 1;
                out.text.push_str(&t);
            }
            Ok(StreamEvent::Usage(u)) => out.usage = Some(u),
            Ok(StreamEvent::Finish(f)) => out.finish = Some(f),
            Ok(StreamEvent::Reasoning(_) | StreamEvent::ToolCall(_) | StreamEvent::Id(_)) => {}
            Err(err) => {
                assert!(out.error.is_none(), "nothing may follow an error");
                out.error = Some(err);
            }
        }
    }
    out
}

fn usage(prompt: u32, completion: u32) -> Usage {
    Usage {
        prompt_tokens: prompt,
        completion_tokens: completion,
        total_tokens: prompt + completion,
    }
}

#[tokio::test]
async fn every_provider_completes_with_text_usage_and_finish() {
    let fake = FakeUpstream::start().await;
    let p = providers();
    for kind in ProviderKind::ALL {
        fake.push(Reply::new(TEXT).usage(12, 5));
        let c = p
            .complete(&fake.target(kind), &request(), &Progress::new())
            .await
            .unwrap();
        assert_eq!(c.text, TEXT, "{kind:?}");
        assert_eq!(c.usage, Some(usage(12, 5)), "{kind:?}");
        assert_eq!(c.finish_reason.as_deref(), Some("stop"), "{kind:?}");
        assert!(c.raw.is_object(), "{kind:?}");
    }
}

#[tokio::test]
async fn every_provider_streams_text_usage_and_finish() {
    let fake = FakeUpstream::start().await;
    let p = providers();
    for kind in ProviderKind::ALL {
        fake.push(Reply::new(TEXT).usage(20, 9).chunk_chars(3));
        let stream = p
            .open_stream(&fake.target(kind), &request(), &Progress::new())
            .await
            .unwrap();
        let got = collect(stream).await;
        assert!(got.error.is_none(), "{kind:?}: {:?}", got.error);
        assert_eq!(got.text, TEXT, "{kind:?}");
        assert!(got.deltas > 3, "{kind:?} streamed in pieces");
        assert_eq!(got.usage, Some(usage(20, 9)), "{kind:?}");
        assert_eq!(got.finish.as_deref(), Some("stop"), "{kind:?}");
    }
}

#[tokio::test]
async fn utf8_split_across_writes_arrives_whole() {
    let fake = FakeUpstream::start().await;
    let p = providers();
    for kind in ProviderKind::ALL {
        fake.push(Reply::new(TEXT).chunk_chars(2).split_utf8());
        let got = collect(
            p.open_stream(&fake.target(kind), &request(), &Progress::new())
                .await
                .unwrap(),
        )
        .await;
        assert!(got.error.is_none(), "{kind:?}: {:?}", got.error);
        assert_eq!(got.text, TEXT, "{kind:?}");
    }
}

fn body_of(fake: &FakeUpstream, prefix: &str) -> (fake_upstream::Recorded, Value) {
    let recorded = fake.requests_to(prefix).pop().expect("request recorded");
    let body = recorded.body.clone();
    (recorded, body)
}

fn roles(body: &Value, pointer: &str) -> Vec<String> {
    body.pointer(pointer)
        .and_then(Value::as_array)
        .unwrap()
        .iter()
        .map(|m| m["role"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn openai_and_custom_request_shape() {
    let fake = FakeUpstream::start().await;
    let p = providers();
    let _stream = p
        .open_stream(
            &fake.target(ProviderKind::Openai),
            &request(),
            &Progress::new(),
        )
        .await
        .unwrap();
    let (rec, body) = body_of(&fake, "/v1/chat/completions");
    assert_eq!(rec.method, "POST");
    assert_eq!(rec.header("authorization"), Some("Bearer sk-fake-openai"));
    assert_eq!(rec.header("content-type"), Some("application/json"));
    assert_eq!(roles(&body, "/messages"), ["system", "user"]);
    assert_eq!(body["max_completion_tokens"], 300);
    assert!(body.get("max_tokens").is_none());
    assert_eq!(body["stream"], true);
    assert_eq!(body["stream_options"]["include_usage"], true);
    assert_eq!(body["temperature"], 1.5);
    assert_eq!(body["frequency_penalty"], 0.4);

    p.complete(
        &fake.target(ProviderKind::Custom),
        &request(),
        &Progress::new(),
    )
    .await
    .unwrap();
    let (rec, body) = body_of(&fake, "/custom/");
    assert_eq!(rec.header("authorization"), Some("Bearer sk-fake-custom"));
    assert_eq!(body["max_tokens"], 300);
    assert!(body.get("max_completion_tokens").is_none() && body.get("stream").is_none());
}

#[tokio::test]
async fn anthropic_request_shape() {
    let fake = FakeUpstream::start().await;
    let p = providers();
    p.complete(
        &fake.target(ProviderKind::Anthropic),
        &request(),
        &Progress::new(),
    )
    .await
    .unwrap();
    let (rec, body) = body_of(&fake, "/v1/messages");
    assert_eq!(rec.header("x-api-key"), Some("sk-ant-fake"));
    assert_eq!(rec.header("anthropic-version"), Some("2023-06-01"));
    assert!(rec.header("authorization").is_none());
    assert_eq!(body["system"], "You are terse.");
    assert_eq!(roles(&body, "/messages"), ["user"]);
    assert_eq!(body["max_tokens"], 300);
    assert_eq!(body["temperature"], 1.0);
    assert!(body.get("top_p").is_none() && body.get("frequency_penalty").is_none());
}

#[tokio::test]
async fn dashscope_request_shape() {
    let fake = FakeUpstream::start().await;
    let p = providers();
    let _stream = p
        .open_stream(
            &fake.target(ProviderKind::Aliyun),
            &request(),
            &Progress::new(),
        )
        .await
        .unwrap();
    let (rec, body) = body_of(&fake, "/api/v1/services");
    assert_eq!(
        rec.header("authorization"),
        Some("Bearer sk-fake-dashscope")
    );
    assert_eq!(rec.header("x-dashscope-sse"), Some("enable"));
    assert_eq!(rec.header("accept"), Some("text/event-stream"));
    assert_eq!(roles(&body, "/input/messages"), ["system", "user"]);
    assert!(body.get("messages").is_none() && body.get("stream").is_none());
    let params = &body["parameters"];
    assert_eq!(params["result_format"], "message");
    assert_eq!(params["incremental_output"], true);
    assert_eq!(params["max_tokens"], 300);
    assert_eq!(params["presence_penalty"], 0.2);
    assert!(params.get("frequency_penalty").is_none());

    p.complete(
        &fake.target(ProviderKind::Aliyun),
        &request(),
        &Progress::new(),
    )
    .await
    .unwrap();
    let (rec, body) = body_of(&fake, "/api/v1/services");
    assert!(rec.header("x-dashscope-sse").is_none());
    assert!(body["parameters"].get("incremental_output").is_none());
}

#[tokio::test]
async fn spark_request_shape() {
    let fake = FakeUpstream::start().await;
    let _stream = providers()
        .open_stream(
            &fake.target(ProviderKind::Xunfei),
            &request(),
            &Progress::new(),
        )
        .await
        .unwrap();
    let (rec, body) = body_of(&fake, "/spark/");
    assert_eq!(
        rec.header("authorization"),
        Some("Bearer fake-spark-api-password")
    );
    assert_eq!(roles(&body, "/messages"), ["system", "user"]);
    assert_eq!(body["max_tokens"], 300);
    assert!(body.get("stream_options").is_none());
}

#[tokio::test]
async fn zhipu_request_shape_and_jwt() {
    let fake = FakeUpstream::start().await;
    let before_ms = u64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis(),
    )
    .unwrap();
    let p = providers();
    // The fake verifies the signature, the header and the millisecond times itself.
    p.complete(
        &fake.target(ProviderKind::Zhipu),
        &request(),
        &Progress::new(),
    )
    .await
    .unwrap();
    let (rec, body) = body_of(&fake, "/api/paas/");
    assert_eq!(body["temperature"], 0.99);
    assert_eq!(body["max_tokens"], 300);
    assert!(body.get("frequency_penalty").is_none() && body.get("presence_penalty").is_none());
    assert_eq!(roles(&body, "/messages"), ["system", "user"]);

    let jwt = rec
        .header("authorization")
        .unwrap()
        .strip_prefix("Bearer ")
        .unwrap()
        .to_owned();
    let parts: Vec<&str> = jwt.split('.').collect();
    assert_eq!(parts.len(), 3);
    let claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
    assert_eq!(claims["api_key"], "fakezhipuid");
    let ts = claims["timestamp"].as_u64().unwrap();
    assert!(
        ts >= before_ms && ts < before_ms + 60_000,
        "timestamp in ms"
    );
    assert_eq!(claims["exp"].as_u64().unwrap() - ts, 210_000);

    // Cached: the next call reuses the same token.
    p.complete(
        &fake.target(ProviderKind::Zhipu),
        &request(),
        &Progress::new(),
    )
    .await
    .unwrap();
    let (rec, _) = body_of(&fake, "/api/paas/");
    assert_eq!(
        rec.header("authorization").unwrap(),
        format!("Bearer {jwt}")
    );

    // A key without a dot is sent as it is.
    let plain = fake.target_with_key(ProviderKind::Zhipu, fake_upstream::ZHIPU_PLAIN_KEY);
    p.complete(&plain, &request(), &Progress::new())
        .await
        .unwrap();
    let (rec, _) = body_of(&fake, "/api/paas/");
    assert_eq!(
        rec.header("authorization"),
        Some("Bearer fake-zhipu-plain-key")
    );
}

#[tokio::test]
async fn zhipu_wrong_jwt_secret_is_auth() {
    let fake = FakeUpstream::start().await;
    let target = fake.target_with_key(ProviderKind::Zhipu, "fakezhipuid.wrongsecret");
    let err = providers()
        .complete(&target, &request(), &Progress::new())
        .await
        .unwrap_err();
    assert_eq!((err.kind, err.retryable), (FailureKind::Auth, false));
    assert_eq!(err.code.as_deref(), Some("1002"));
    assert!(!err.detail.contains("wrongsecret"));
}

#[tokio::test]
async fn baidu_request_shape_and_token() {
    let fake = FakeUpstream::start().await;
    let p = providers();
    let _stream = p
        .open_stream(
            &fake.target(ProviderKind::Baidu),
            &request(),
            &Progress::new(),
        )
        .await
        .unwrap();
    let token_req = fake.requests_to("/oauth/2.0/token").pop().unwrap();
    assert_eq!(token_req.method, "POST");
    assert_eq!(
        token_req.query_param("grant_type").as_deref(),
        Some("client_credentials")
    );
    assert_eq!(
        token_req.query_param("client_id").as_deref(),
        Some(fake_upstream::BAIDU_ID)
    );
    assert_eq!(
        token_req.query_param("client_secret").as_deref(),
        Some(fake_upstream::BAIDU_SECRET)
    );

    let (rec, body) = body_of(&fake, "/rpc/2.0/");
    assert!(
        rec.query_param("access_token")
            .unwrap()
            .starts_with("24.fake-token-1")
    );
    assert_eq!(body["system"], "You are terse.");
    assert_eq!(roles(&body, "/messages"), ["user"]);
    assert_eq!(body["max_output_tokens"], 300);
    assert_eq!(body["temperature"], 1.0);
    assert_eq!(body["penalty_score"], 1.2);
    assert_eq!(body["stream"], true);
    assert!(body.get("model").is_none() && body.get("max_tokens").is_none());
}

#[tokio::test]
async fn baidu_token_is_fetched_once_and_refreshed_once_when_expired() {
    let fake = FakeUpstream::start().await;
    let p = providers();
    let target = fake.target(ProviderKind::Baidu);
    for _ in 0..3 {
        p.complete(&target, &request(), &Progress::new())
            .await
            .unwrap();
    }
    assert_eq!(fake.baidu_tokens_issued(), 1);

    // 111: the cached token expired upstream → one refresh, one retry, success.
    fake.expire_baidu_tokens();
    let c = p
        .complete(&target, &request(), &Progress::new())
        .await
        .unwrap();
    assert_eq!(c.text, fake_upstream::DEFAULT_TEXT);
    assert_eq!(fake.baidu_tokens_issued(), 2);
    assert_eq!(fake.requests_to("/rpc/").len(), 5);

    // Same for a stream.
    fake.expire_baidu_tokens();
    let got = collect(
        p.open_stream(&target, &request(), &Progress::new())
            .await
            .unwrap(),
    )
    .await;
    assert!(got.error.is_none());
    assert_eq!(fake.baidu_tokens_issued(), 3);
}

#[tokio::test]
async fn baidu_110_refreshes_only_once() {
    let fake = FakeUpstream::start().await;
    let p = providers();
    let target = fake.target(ProviderKind::Baidu);
    p.complete(&target, &request(), &Progress::new())
        .await
        .unwrap();
    // The upstream keeps calling the token invalid: one refresh, one retry, then the error.
    fake.push(Reply::default().error_after(0, "110", "Access token invalid or no longer valid"));
    fake.push(Reply::default().error_after(0, "110", "Access token invalid or no longer valid"));
    let err = p
        .complete(&target, &request(), &Progress::new())
        .await
        .unwrap_err();
    assert_eq!((err.kind, err.retryable), (FailureKind::Auth, false));
    assert_eq!(err.code.as_deref(), Some("110"));
    assert_eq!(fake.baidu_tokens_issued(), 2);
    assert_eq!(fake.requests_to("/rpc/").len(), 3);
}

#[tokio::test]
async fn baidu_wrong_client_is_auth_without_the_secret() {
    let fake = FakeUpstream::start().await;
    let target = fake.target_with_key(ProviderKind::Baidu, "fake-baidu-client-id:not-the-secret");
    let err = providers()
        .complete(&target, &request(), &Progress::new())
        .await
        .unwrap_err();
    assert_eq!((err.kind, err.retryable), (FailureKind::Auth, false));
    assert_eq!(err.status, Some(401));
    assert!(!err.detail.contains("not-the-secret"), "{}", err.detail);
    assert!(fake.requests_to("/rpc/").is_empty());
}

#[tokio::test]
async fn wrong_key_is_auth_for_every_provider() {
    let fake = FakeUpstream::start().await;
    let p = providers();
    for kind in ProviderKind::ALL {
        let key = match kind {
            ProviderKind::Baidu => "fake-baidu-client-id:wrong-secret-value",
            ProviderKind::Zhipu => "fakezhipuid.wrong-secret-value",
            _ => "wrong-secret-value",
        };
        let target = fake.target_with_key(kind, key);
        let err = p
            .complete(&target, &request(), &Progress::new())
            .await
            .unwrap_err();
        assert_eq!(
            (err.kind, err.retryable),
            (FailureKind::Auth, false),
            "{kind:?}: {err}"
        );
        assert!(
            !err.detail.contains("wrong-secret-value"),
            "{kind:?}: {}",
            err.detail
        );
        let err = p
            .open_stream(&target, &request(), &Progress::new())
            .await
            .err()
            .unwrap();
        assert_eq!(err.kind, FailureKind::Auth, "{kind:?} stream");
    }
}

#[tokio::test]
async fn in_band_errors_are_classified() {
    use FailureKind::*;
    let fake = FakeUpstream::start().await;
    let p = providers();
    // (provider, code, expected kind, retryable)
    let cases = [
        (ProviderKind::Openai, "server_error", Unavailable, true),
        (ProviderKind::Custom, "insufficient_quota", Billing, false),
        (
            ProviderKind::Anthropic,
            "overloaded_error",
            Unavailable,
            true,
        ),
        (
            ProviderKind::Aliyun,
            "DataInspectionFailed",
            Rejected,
            false,
        ),
        (
            ProviderKind::Aliyun,
            "Throttling.RateQuota",
            RateLimited,
            true,
        ),
        (ProviderKind::Xunfei, "10013", Rejected, false),
        (ProviderKind::Xunfei, "11202", RateLimited, true),
        (ProviderKind::Baidu, "336501", RateLimited, true),
        (ProviderKind::Baidu, "17", Billing, false),
        (ProviderKind::Zhipu, "1301", Rejected, false),
        (ProviderKind::Zhipu, "1302", RateLimited, true),
    ];
    for (kind, code, expected, retryable) in cases {
        // Non-stream: an error body with a 200.
        fake.push(Reply::default().error_after(0, code, "scripted failure"));
        let err = p
            .complete(&fake.target(kind), &request(), &Progress::new())
            .await
            .unwrap_err();
        assert_eq!(
            (err.kind, err.retryable),
            (expected, retryable),
            "{kind:?} {code}"
        );
        assert_eq!(err.code.as_deref(), Some(code), "{kind:?}");
        assert!(
            err.detail.contains("scripted failure"),
            "{kind:?}: {}",
            err.detail
        );

        // Stream, before any text: open_stream itself fails (the relay may still retry).
        fake.push(Reply::default().error_after(0, code, "scripted failure"));
        let err = p
            .open_stream(&fake.target(kind), &request(), &Progress::new())
            .await
            .err()
            .unwrap();
        assert_eq!(
            (err.kind, err.retryable),
            (expected, retryable),
            "{kind:?} {code} stream"
        );

        // Stream, after some text: an Err item ends the stream.
        fake.push(
            Reply::new(TEXT)
                .chunk_chars(2)
                .error_after(2, code, "scripted failure"),
        );
        let got = collect(
            p.open_stream(&fake.target(kind), &request(), &Progress::new())
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(got.deltas, 2, "{kind:?}");
        let err = got.error.unwrap();
        assert_eq!(
            (err.kind, err.retryable),
            (expected, retryable),
            "{kind:?} {code} mid-stream"
        );
        assert!(got.finish.is_none(), "{kind:?}");
    }
}

#[tokio::test]
async fn rate_limits_carry_retry_after() {
    let fake = FakeUpstream::start().await;
    let p = providers();
    let cases = [
        (ProviderKind::Openai, "rate_limit_exceeded"),
        (ProviderKind::Custom, "rate_limit_exceeded"),
        (ProviderKind::Anthropic, "rate_limit_error"),
        (ProviderKind::Aliyun, "Throttling.RateQuota"),
        (ProviderKind::Xunfei, "11203"),
        (ProviderKind::Baidu, "336502"),
        (ProviderKind::Zhipu, "1302"),
    ];
    for (kind, code) in cases {
        fake.push(Outcome::http(429, code, "slow down").header("retry-after", "3"));
        let err = p
            .complete(&fake.target(kind), &request(), &Progress::new())
            .await
            .unwrap_err();
        assert_eq!(
            (err.kind, err.retryable),
            (FailureKind::RateLimited, true),
            "{kind:?}"
        );
        assert_eq!(err.status, Some(429), "{kind:?}");
        assert_eq!(err.retry_after, Some(Duration::from_secs(3)), "{kind:?}");
        assert_eq!(err.code.as_deref(), Some(code), "{kind:?}");

        fake.push(
            Outcome::http(429, code, "slow down")
                .header("retry-after-ms", "250")
                .header("retry-after", "9"),
        );
        let err = p
            .open_stream(&fake.target(kind), &request(), &Progress::new())
            .await
            .err()
            .unwrap();
        assert_eq!(
            err.retry_after,
            Some(Duration::from_millis(250)),
            "{kind:?} stream"
        );
    }
}

#[tokio::test]
async fn non_retryable_429s() {
    let fake = FakeUpstream::start().await;
    let p = providers();
    fake.push(Outcome::http(
        429,
        "insufficient_quota",
        "You exceeded your current quota",
    ));
    let err = p
        .complete(
            &fake.target(ProviderKind::Openai),
            &request(),
            &Progress::new(),
        )
        .await
        .unwrap_err();
    assert_eq!((err.kind, err.retryable), (FailureKind::Billing, false));
    fake.push(Outcome::http(429, "1113", "您的账户已欠费"));
    let err = p
        .complete(
            &fake.target(ProviderKind::Zhipu),
            &request(),
            &Progress::new(),
        )
        .await
        .unwrap_err();
    assert_eq!((err.kind, err.retryable), (FailureKind::Billing, false));
    fake.push(Outcome::raw(
        429,
        "application/json",
        r#"{"type":"error","error":{"type":"rate_limit_error","message":"spend limit","details":{"error_code":"enforced_spend_limit_reached"}}}"#,
    ));
    let err = p
        .complete(
            &fake.target(ProviderKind::Anthropic),
            &request(),
            &Progress::new(),
        )
        .await
        .unwrap_err();
    assert_eq!((err.kind, err.retryable), (FailureKind::Billing, false));
}

#[tokio::test]
async fn server_error_then_success() {
    let fake = FakeUpstream::start().await;
    let p = providers();
    for kind in ProviderKind::ALL {
        fake.push(Outcome::http(500, "500", "internal"));
        fake.push(Reply::new("second time"));
        let err = p
            .complete(&fake.target(kind), &request(), &Progress::new())
            .await
            .unwrap_err();
        assert_eq!(
            (err.kind, err.retryable),
            (FailureKind::Unavailable, true),
            "{kind:?}"
        );
        let c = p
            .complete(&fake.target(kind), &request(), &Progress::new())
            .await
            .unwrap();
        assert_eq!(c.text, "second time");
    }
    fake.push(Outcome::http(529, "overloaded_error", "Overloaded"));
    let err = p
        .complete(
            &fake.target(ProviderKind::Anthropic),
            &request(),
            &Progress::new(),
        )
        .await
        .unwrap_err();
    assert_eq!(
        (err.kind, err.retryable, err.status),
        (FailureKind::Unavailable, true, Some(529))
    );
}

#[tokio::test]
async fn cuts_are_error_items() {
    let fake = FakeUpstream::start().await;
    let p = providers();
    for kind in ProviderKind::ALL {
        // The connection is aborted after two text events.
        fake.push(Reply::new(TEXT).chunk_chars(2).cut_after(2));
        let got = collect(
            p.open_stream(&fake.target(kind), &request(), &Progress::new())
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(got.text, "你好！H", "{kind:?}");
        let err = got.error.expect("a cut is an error");
        assert_eq!(
            (err.kind, err.retryable),
            (FailureKind::Connect, true),
            "{kind:?}"
        );

        // The body ends cleanly but before the end marker / final chunk.
        fake.push(Reply::new(TEXT).chunk_chars(2).truncate_after(2));
        let got = collect(
            p.open_stream(&fake.target(kind), &request(), &Progress::new())
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(got.deltas, 2, "{kind:?}");
        let err = got.error.expect("a truncated stream is an error");
        assert_eq!(err.kind, FailureKind::Connect, "{kind:?}");

        // Cut before any text: open_stream fails.
        fake.push(Reply::new(TEXT).cut_after(0));
        let err = p
            .open_stream(&fake.target(kind), &request(), &Progress::new())
            .await
            .err()
            .unwrap();
        assert_eq!(err.kind, FailureKind::Connect, "{kind:?}");

        // Non-stream bodies cut half-way.
        fake.push(Reply::new(TEXT).cut_after(0));
        let err = p
            .complete(&fake.target(kind), &request(), &Progress::new())
            .await
            .unwrap_err();
        assert_eq!(
            (err.kind, err.retryable),
            (FailureKind::Connect, true),
            "{kind:?} {err}"
        );
        fake.push(Reply::new(TEXT).truncate_after(0));
        let err = p
            .complete(&fake.target(kind), &request(), &Progress::new())
            .await
            .unwrap_err();
        assert_eq!(err.kind, FailureKind::Protocol, "{kind:?}");
    }
}

#[tokio::test]
async fn hangs_and_stalls_are_left_to_the_callers_timeouts() {
    let fake = FakeUpstream::start().await;
    let p = providers();
    let target = fake.target(ProviderKind::Openai);
    let short = Duration::from_millis(200);

    fake.push(Outcome::Hang);
    assert!(
        tokio::time::timeout(short, p.complete(&target, &request(), &Progress::new()))
            .await
            .is_err()
    );

    fake.push(Reply::new(TEXT).chunk_chars(2).stall_after(1));
    let mut stream = p
        .open_stream(&target, &request(), &Progress::new())
        .await
        .unwrap();
    let mut first = stream.next().await;
    if matches!(first, Some(Ok(StreamEvent::Id(_)))) {
        first = stream.next().await;
    }
    assert!(matches!(first, Some(Ok(StreamEvent::Delta(_)))));
    assert!(tokio::time::timeout(short, stream.next()).await.is_err());

    // A slow first byte: open_stream resolves only once the first text arrived.
    fake.push(Reply::new(TEXT).first_event_delay(Duration::from_millis(300)));
    let started = Instant::now();
    let stream = p
        .open_stream(&target, &request(), &Progress::new())
        .await
        .unwrap();
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert_eq!(collect(stream).await.text, TEXT);

    fake.push(Reply::new(TEXT).delay(Duration::from_millis(150)));
    let started = Instant::now();
    p.complete(&target, &request(), &Progress::new())
        .await
        .unwrap();
    assert!(started.elapsed() >= Duration::from_millis(150));
}

#[tokio::test]
async fn anthropic_huge_max_tokens_streams_and_aggregates() {
    let fake = FakeUpstream::start().await;
    let mut req = request();
    req.max_tokens = 64_000;
    fake.push(Reply::new(TEXT).usage(30, 12));
    let c = providers()
        .complete(
            &fake.target(ProviderKind::Anthropic),
            &req,
            &Progress::new(),
        )
        .await
        .unwrap();
    assert_eq!(c.text, TEXT);
    assert_eq!(c.usage, Some(usage(30, 12)));
    assert_eq!(c.finish_reason.as_deref(), Some("stop"));
    assert_eq!(c.raw["aggregated_from_stream"]["text"], TEXT);
    assert_eq!(fake.last_request().body["stream"], true);
}

#[tokio::test]
async fn dashscope_stream_only_model_falls_back_to_streaming() {
    let fake = FakeUpstream::start().await;
    fake.push(Outcome::http(
        400,
        "InvalidParameter",
        "This model only support stream mode, please enable the stream parameter to access the model.",
    ));
    fake.push(Reply::new(TEXT).usage(8, 4));
    let c = providers()
        .complete(
            &fake.target(ProviderKind::Aliyun),
            &request(),
            &Progress::new(),
        )
        .await
        .unwrap();
    assert_eq!(c.text, TEXT);
    assert_eq!(c.usage, Some(usage(8, 4)));
    let requests = fake.requests();
    assert_eq!(requests.len(), 2);
    assert!(requests[0].header("x-dashscope-sse").is_none());
    assert_eq!(requests[1].header("x-dashscope-sse"), Some("enable"));
}

#[tokio::test]
async fn json_body_on_a_stream_request_is_understood() {
    let fake = FakeUpstream::start().await;
    let p = providers();
    // An upstream that ignores `stream` and answers the whole completion.
    fake.push(Outcome::raw(
        200,
        "application/json",
        r#"{"id":"x","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"whole"},"finish_reason":"stop"}],"usage":{"prompt_tokens":1,"completion_tokens":2,"total_tokens":3}}"#,
    ));
    let got = collect(
        p.open_stream(
            &fake.target(ProviderKind::Custom),
            &request(),
            &Progress::new(),
        )
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(
        (got.text.as_str(), got.usage, got.finish.as_deref()),
        ("whole", Some(usage(1, 2)), Some("stop"))
    );
}

#[tokio::test]
async fn unreachable_upstream_is_a_retryable_connect_error() {
    let fake = FakeUpstream::start().await;
    let mut target = fake.target(ProviderKind::Openai);
    drop(fake);
    // Nothing listens there any more (the port is freed with the fake).
    target.api_url = "http://127.0.0.1:9/v1/chat/completions".to_owned();
    let err = providers()
        .complete(&target, &request(), &Progress::new())
        .await
        .unwrap_err();
    assert_eq!((err.kind, err.retryable), (FailureKind::Connect, true));
    assert!(!err.detail.contains("sk-fake-openai"));
}

#[tokio::test]
async fn connections_are_reused_after_complete_answers_and_streams() {
    let fake = FakeUpstream::start().await;
    let p = providers();
    for kind in ProviderKind::ALL {
        for _ in 0..5 {
            // Event by event, so the body is chunked and its terminator comes last.
            fake.push(
                Reply::new(TEXT)
                    .chunk_chars(8)
                    .event_delay(Duration::from_millis(1)),
            );
            let got = collect(
                p.open_stream(&fake.target(kind), &request(), &Progress::new())
                    .await
                    .unwrap(),
            )
            .await;
            assert!(got.error.is_none(), "{kind:?}");
            p.complete(&fake.target(kind), &request(), &Progress::new())
                .await
                .unwrap();
            let got = collect(
                p.open_stream(&fake.target(kind), &request(), &Progress::new())
                    .await
                    .unwrap(),
            )
            .await;
            assert!(got.error.is_none(), "{kind:?}");
        }
    }
    // 105 calls; a client that could not reuse connections would open one per call.
    assert!(
        fake.connections() <= 2,
        "{} connections",
        fake.connections()
    );
}

#[test]
fn providers_and_their_futures_are_send() {
    fn send<T: Send>(_: &T) {}
    fn shared<T: Send + Sync>() {}
    shared::<Providers>();
    let p = providers();
    let target = llm_proxy::providers::Target {
        provider: ProviderKind::Baidu,
        api_url: "http://127.0.0.1:9/rpc/2.0/ai_custom/v1/wenxinworkshop/chat/completions"
            .to_owned(),
        api_key: llm_proxy::secret::Secret::new("a:b"),
    };
    let req = request();
    let progress = Progress::new();
    send(&p.complete(&target, &req, &progress));
    send(&p.open_stream(&target, &req, &progress));
}

/// The fake's tool calls, in each provider's own form, decode to the same call, whole and
/// streamed (the SDK tests rely on the fake getting these forms right).
#[tokio::test]
async fn fake_tool_calls_decode_for_every_provider_that_takes_tools() {
    use llm_proxy::providers::{Assembly, Tool};
    let fake = FakeUpstream::start().await;
    let p = providers();
    let arguments = r#"{"city":"杭州","unit":"celsius"}"#;
    let asking = ChatRequest {
        tools: vec![Tool {
            name: "get_weather".to_owned(),
            description: None,
            parameters: Some(
                serde_json::json!({"type":"object","properties":{"city":{"type":"string"}}}),
            ),
        }],
        ..request()
    };
    let parsed = |s: &str| serde_json::from_str::<Value>(s).unwrap();
    for kind in ProviderKind::ALL
        .into_iter()
        .filter(|kind| kind.capabilities().tools)
    {
        let reply = Reply::new("好的")
            .chunk_chars(3)
            .tool_call("get_weather", arguments);
        fake.push(reply.clone());
        let whole = p
            .complete(&fake.target(kind), &asking, &Progress::new())
            .await
            .unwrap();
        fake.push(reply);
        let mut streamed = Assembly::default();
        let mut stream = p
            .open_stream(&fake.target(kind), &asking, &Progress::new())
            .await
            .unwrap();
        while let Some(event) = stream.next().await {
            streamed.apply(&event.unwrap());
        }
        for (how, text, calls) in [
            ("whole", &whole.text, &whole.tool_calls),
            ("streamed", &streamed.text, &streamed.tool_calls),
        ] {
            assert_eq!(text, "好的", "{kind:?} {how}");
            assert_eq!(calls.len(), 1, "{kind:?} {how}: {calls:?}");
            assert_eq!(calls[0].name, "get_weather", "{kind:?} {how}");
            assert!(!calls[0].id.is_empty(), "{kind:?} {how}");
            assert_eq!(
                parsed(&calls[0].arguments),
                parsed(arguments),
                "{kind:?} {how}"
            );
        }
    }
}

#[tokio::test]
async fn fake_rate_limit_is_each_providers_rate_limit() {
    let fake = FakeUpstream::start().await;
    let p = providers();
    for kind in ProviderKind::ALL {
        fake.push(Outcome::rate_limited(3));
        let err = p
            .complete(&fake.target(kind), &request(), &Progress::new())
            .await
            .unwrap_err();
        assert_eq!(err.kind, FailureKind::RateLimited, "{kind:?}: {err:?}");
    }
}

/// An image goes to every provider that takes images, and its answer decodes (DashScope's
/// multimodal endpoint answers content as `[{"text"}]`).
#[tokio::test]
async fn fake_answers_image_requests_for_every_provider_that_takes_images() {
    use llm_proxy::providers::{Content, ImageUrl, Part};
    let fake = FakeUpstream::start().await;
    let p = providers();
    let mut looking = request();
    looking.messages[1].content = Content::Parts(vec![
        Part::Text {
            text: "What is this?".to_owned(),
        },
        Part::ImageUrl {
            image_url: ImageUrl {
                url: "data:image/png;base64,iVBORw0KGgo=".to_owned(),
                detail: None,
            },
        },
    ]);
    for kind in ProviderKind::ALL
        .into_iter()
        .filter(|kind| kind.capabilities().images)
    {
        fake.push(Reply::new(TEXT));
        let c = p
            .complete(&fake.target(kind), &looking, &Progress::new())
            .await
            .unwrap();
        assert_eq!(c.text, TEXT, "{kind:?}");
        fake.push(Reply::new(TEXT).chunk_chars(3));
        let stream = p
            .open_stream(&fake.target(kind), &looking, &Progress::new())
            .await
            .unwrap();
        assert_eq!(collect(stream).await.text, TEXT, "{kind:?}");
        if kind == ProviderKind::Aliyun {
            assert!(fake.last_request().path.contains("multimodal-generation"));
        }
    }
}
