//! The relay through the real server, against a fake upstream that speaks each provider's
//! wire format: every provider non-streamed and in both stream formats, templates, retries,
//! timeouts, error mapping, disconnects, usage, and the call record of every call.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;
use crate::fake_upstream;

use std::time::Duration;

use common::{TestServer, assert_error, sse_events};
use fake_upstream::{FakeUpstream, Outcome, Reply};
use llm_proxy::providers::ProviderKind;
use serde_json::{Value, json};

const SYSTEM: &str = "你是一个乐于助人的助手。";

struct Setup {
    server: TestServer,
    fake: FakeUpstream,
    admin: String,
    client: String,
    group_id: i64,
}

async fn setup() -> Setup {
    let fake = FakeUpstream::start().await;
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let (client, group_id, _) = server.client_token(&admin).await;
    Setup {
        server,
        fake,
        admin,
        client,
        group_id,
    }
}

impl Setup {
    async fn config(&self, kind: ProviderKind, extra: Value) -> i64 {
        let mut body = json!({
            "name": format!("{}-{}", kind.as_str(), rand_name()),
            "provider": kind.as_str(),
            "api_url": self.fake.url(kind),
            "api_key": FakeUpstream::key(kind),
            "model": model_of(kind),
            "system_prompt": SYSTEM,
            "max_tokens": 256,
            "temperature": 0.5,
            "frequency_penalty": 0.3,
            "max_retries": 2,
            "timeout_seconds": 5,
            "input_price": 2.0,
            "output_price": 8.0,
        });
        for (key, value) in extra.as_object().unwrap() {
            body[key] = value.clone();
        }
        let created = self
            .server
            .post("/api/admin/llm/configs", Some(&self.admin), body)
            .await;
        assert_eq!(created.status, 200, "{}", created.text);
        created.body["data"]["id"].as_i64().unwrap()
    }

    async fn call(&self, body: Value) -> common::Response {
        self.server
            .post("/api/llm/call", Some(&self.client), body)
            .await
    }
}

fn rand_name() -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    N.fetch_add(1, Ordering::Relaxed).to_string()
}

fn model_of(kind: ProviderKind) -> &'static str {
    match kind {
        ProviderKind::Openai => "gpt-4o-mini",
        ProviderKind::Anthropic => "claude-sonnet-4-5",
        ProviderKind::Aliyun => "qwen-plus",
        ProviderKind::Xunfei => "generalv3.5",
        ProviderKind::Baidu => "ernie-speed-8k",
        ProviderKind::Zhipu => "glm-4-plus",
        ProviderKind::Custom => "deepseek-chat",
    }
}

/// Where each protocol expects the system prompt and the output limit.
fn assert_wire_shape(kind: ProviderKind, body: &Value) {
    let messages = match kind {
        ProviderKind::Aliyun => &body["input"]["messages"],
        _ => &body["messages"],
    };
    match kind {
        ProviderKind::Anthropic | ProviderKind::Baidu => {
            assert_eq!(body["system"], SYSTEM, "{kind:?}: top-level system");
            assert_eq!(messages[0]["role"], "user", "{kind:?}: {body}");
        }
        _ => {
            assert_eq!(messages[0]["role"], "system", "{kind:?}: {body}");
            assert_eq!(messages[0]["content"], SYSTEM);
        }
    }
    let limit = match kind {
        ProviderKind::Openai => &body["max_completion_tokens"],
        ProviderKind::Baidu => &body["max_output_tokens"],
        ProviderKind::Aliyun => &body["parameters"]["max_tokens"],
        _ => &body["max_tokens"],
    };
    assert_eq!(limit, &json!(256), "{kind:?}: output limit in {body}");
    let has_penalty = body.get("frequency_penalty").is_some();
    let expects_penalty = matches!(
        kind,
        ProviderKind::Openai | ProviderKind::Custom | ProviderKind::Xunfei
    );
    assert_eq!(
        has_penalty, expects_penalty,
        "{kind:?}: frequency_penalty in {body}"
    );
}

#[tokio::test]
async fn every_provider_answers_non_streamed_and_is_recorded() {
    let s = setup().await;
    for (index, kind) in ProviderKind::ALL.into_iter().enumerate() {
        let config_id = s.config(kind, json!({})).await;
        s.fake
            .push(Reply::new("你好！很高兴为您服务。").usage(22, 9));
        let response = s
            .call(
                json!({"config_id": config_id, "messages": [{"role": "user", "content": "你好"}]}),
            )
            .await;
        assert_eq!(response.status, 200, "{kind:?}: {}", response.text);
        let data = &response.body["data"];
        assert_eq!(data["response"], "你好！很高兴为您服务。", "{kind:?}");
        assert_eq!(data["model"], model_of(kind));
        assert_eq!(data["prompt_tokens"], 22, "{kind:?}");
        assert_eq!(data["completion_tokens"], 9, "{kind:?}");
        assert_eq!(data["tokens_used"], 31, "{kind:?}");
        assert!(data["call_log_id"].as_i64().unwrap() > 0);

        let sent = s
            .fake
            .requests()
            .into_iter()
            .rev()
            .find(|r| r.method == "POST" && !r.path.contains("oauth"))
            .unwrap();
        assert_wire_shape(kind, &sent.body);

        let logs = s.server.call_logs().await;
        assert_eq!(logs.len(), index + 1);
        let log = logs.last().unwrap();
        assert_eq!(log.id, data["call_log_id"].as_i64().unwrap());
        assert_eq!(log.status, "success");
        assert_eq!(log.provider, kind.as_str());
        assert_eq!(log.config_id, Some(config_id as i32));
        assert_eq!(log.group_id, Some(s.group_id as i32));
        assert!(log.activation_code.is_some());
        assert_eq!(log.tokens_used, Some(31));
        assert!(!log.tokens_estimated);
        assert_eq!(
            log.response_content.as_deref(),
            Some("你好！很高兴为您服务。")
        );
        assert_eq!(log.request_messages[0]["content"], SYSTEM);
        assert_eq!(log.request_params.as_ref().unwrap()["max_tokens"], 256);
        assert!(log.response_data.is_some());
        assert!((log.cost - (22.0 * 2.0 + 9.0 * 8.0) / 1e6).abs() < 1e-12);
    }
}

#[tokio::test]
async fn every_provider_streams_in_both_formats() {
    let s = setup().await;
    for kind in ProviderKind::ALL {
        let config_id = s.config(kind, json!({})).await;
        let body = json!({"config_id": config_id, "messages": [{"role": "user", "content": "你好"}], "stream": true});

        s.fake.push(
            Reply::new("你好！很高兴为您服务。")
                .usage(22, 9)
                .chunk_chars(3)
                .split_utf8(),
        );
        let (status, headers, text) = s
            .server
            .post_stream("/api/llm/call", &s.client, body.clone())
            .await;
        assert_eq!(status, 200, "{kind:?}: {text}");
        assert!(
            headers["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/event-stream")
        );
        assert_eq!(headers["x-accel-buffering"], "no");
        assert_eq!(headers["cache-control"], "no-cache");
        let events = sse_events(&text);
        let chunks: String = events
            .iter()
            .filter(|(_, data)| data["type"] == "chunk")
            .map(|(_, data)| data["content"].as_str().unwrap())
            .collect();
        assert_eq!(chunks, "你好！很高兴为您服务。", "{kind:?}: {text}");
        let (name, done) = events.last().unwrap();
        assert!(name.is_none());
        assert_eq!(done["type"], "done", "{kind:?}: {text}");
        assert_eq!(done["tokens_used"], 31, "{kind:?}");
        assert_eq!(done["prompt_tokens"], 22);
        let log_id = done["call_log_id"].as_i64().unwrap();

        s.fake
            .push(Reply::new("第二种格式").usage(5, 4).chunk_chars(2));
        let (status, _, text) = s
            .server
            .post_stream("/api/llm/call-stream", &s.client, body)
            .await;
        assert_eq!(status, 200);
        let events = sse_events(&text);
        assert!(
            events
                .iter()
                .all(|(name, data)| name.is_some() && data.get("type").is_none())
        );
        let chunks: String = events
            .iter()
            .filter(|(name, _)| name.as_deref() == Some("chunk"))
            .map(|(_, data)| data["content"].as_str().unwrap())
            .collect();
        assert_eq!(chunks, "第二种格式", "{kind:?}: {text}");
        let (name, done) = events.last().unwrap();
        assert_eq!(name.as_deref(), Some("done"));
        assert_eq!(done["tokens_used"], 9);

        let logs = s.server.call_logs().await;
        let log = logs.iter().find(|l| l.id == log_id).unwrap();
        assert!(log.is_stream);
        assert_eq!(log.status, "success");
        assert_eq!(
            log.response_content.as_deref(),
            Some("你好！很高兴为您服务。")
        );
        assert_eq!(log.tokens_used, Some(31));
    }
}

#[tokio::test]
async fn templates_render_verbatim_and_demand_every_variable() {
    let s = setup().await;
    let config_id = s.config(ProviderKind::Openai, json!({})).await;
    let template = s
        .server
        .post(
            "/api/admin/llm/templates",
            Some(&s.admin),
            json!({"config_id": config_id, "template_name": "客户问候",
                   "template_content": "客户名叫{customer_name}。请回复：{message}"}),
        )
        .await;
    let template_id = template.body["data"]["id"].as_i64().unwrap();

    let response = s
        .server
        .post(
            "/api/llm/call-template",
            Some(&s.client),
            json!({"template_id": template_id, "variables": {"customer_name": "张三", "message": "{customer_name}你好"}}),
        )
        .await;
    assert_eq!(response.status, 200, "{}", response.text);
    let sent = s.fake.last_request().body;
    let messages = sent["messages"].as_array().unwrap();
    assert_eq!(messages[0]["role"], "system");
    assert_eq!(
        messages.last().unwrap()["content"],
        "客户名叫张三。请回复：{customer_name}你好"
    );

    // With history: system first, then history, then the rendered template.
    s.call(json!({
        "config_id": config_id,
        "messages": [
            {"role": "user", "content": "早上好"},
            {"role": "assistant", "content": "早上好！"},
            {"role": "system", "content": "请简短回答"}
        ],
        "template_id": template_id,
        "template_variables": {"customer_name": "李四", "message": "在吗"},
        "temperature": 1.2
    }))
    .await;
    let sent = s.fake.last_request().body;
    let roles: Vec<&str> = sent["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["role"].as_str().unwrap())
        .collect();
    assert_eq!(roles, ["system", "system", "user", "assistant", "user"]);
    assert_eq!(sent["messages"][1]["content"], "请简短回答");
    assert_eq!(
        sent["temperature"], 1.2,
        "request parameters override the config's"
    );

    let missing = s
        .server
        .post(
            "/api/llm/call-template",
            Some(&s.client),
            json!({"template_id": template_id, "variables": {}}),
        )
        .await;
    assert_error(&missing, 400, "TEMPLATE_VARIABLES_MISSING");
    assert!(
        missing.body["message"]
            .as_str()
            .unwrap()
            .contains("customer_name, message")
    );

    let out_of_range = s
        .call(json!({"config_id": config_id, "messages": [{"role": "user", "content": "x"}], "temperature": 3}))
        .await;
    assert_error(&out_of_range, 422, "VALIDATION_FAILED");

    let other_config = s.config(ProviderKind::Openai, json!({})).await;
    let foreign = s
        .call(
            json!({"config_id": other_config, "template_id": template_id,
                     "template_variables": {"customer_name": "a", "message": "b"}}),
        )
        .await;
    assert_error(&foreign, 422, "VALIDATION_FAILED");

    s.server
        .put(
            &format!("/api/admin/llm/templates/{template_id}"),
            Some(&s.admin),
            json!({"is_active": false}),
        )
        .await;
    let disabled = s
        .server
        .post(
            "/api/llm/call-template",
            Some(&s.client),
            json!({"template_id": template_id, "variables": {"customer_name": "a", "message": "b"}}),
        )
        .await;
    assert_error(&disabled, 409, "UNAVAILABLE");

    s.server
        .put(
            &format!("/api/admin/llm/configs/{config_id}"),
            Some(&s.admin),
            json!({"is_active": false}),
        )
        .await;
    let off = s
        .call(json!({"config_id": config_id, "messages": [{"role": "user", "content": "x"}]}))
        .await;
    assert_error(&off, 409, "UNAVAILABLE");
    let hits = s.fake.hits();
    assert_eq!(hits, 2, "refused calls never reach the upstream");
}

#[tokio::test]
async fn retries_are_counted_and_errors_mapped() {
    let s = setup().await;
    let config_id = s
        .config(ProviderKind::Openai, json!({"max_retries": 2}))
        .await;
    let body = json!({"config_id": config_id, "messages": [{"role": "user", "content": "你好"}]});

    // 500 then success: one retry, recorded.
    s.fake.push(Outcome::http(500, "server_error", "boom"));
    let ok = s.call(body.clone()).await;
    assert_eq!(ok.status, 200, "{}", ok.text);
    let log = s.server.call_logs().await.pop().unwrap();
    assert_eq!((log.status.as_str(), log.retry_count), ("success", 1));

    // 429 with Retry-After is waited for.
    s.fake
        .push(Outcome::http(429, "rate_limit_exceeded", "slow down").header("retry-after", "1"));
    let started = std::time::Instant::now();
    let ok = s.call(body.clone()).await;
    assert_eq!(ok.status, 200);
    assert!(started.elapsed() >= Duration::from_millis(950));

    // Rate limited on every attempt: our 429, after max_retries retries.
    for _ in 0..3 {
        s.fake
            .push(Outcome::http(429, "rate_limit_exceeded", "slow down"));
    }
    let before = s.fake.hits();
    let limited = s.call(body.clone()).await;
    assert_error(&limited, 429, "UPSTREAM_RATE_LIMITED");
    assert_eq!(s.fake.hits() - before, 3);
    let log = s.server.call_logs().await.pop().unwrap();
    assert_eq!((log.status.as_str(), log.retry_count), ("error", 2));
    assert_eq!(log.error_code.as_deref(), Some("UPSTREAM_RATE_LIMITED"));
    assert!(log.error_message.as_deref().unwrap().contains("429"));

    // A bad key is not retried and does not leak.
    let bad_key = s
        .config(
            ProviderKind::Openai,
            json!({"api_key": "sk-wrong-key-000000000000"}),
        )
        .await;
    let before = s.fake.hits();
    let rejected = s
        .call(json!({"config_id": bad_key, "messages": [{"role": "user", "content": "x"}]}))
        .await;
    assert_error(&rejected, 502, "UPSTREAM_ERROR");
    assert_eq!(s.fake.hits() - before, 1, "4xx is never retried");
    assert!(!rejected.text.contains("sk-wrong"));
    let log = s.server.call_logs().await.pop().unwrap();
    assert!(log.error_message.as_deref().unwrap().contains("401"));
    assert!(
        !log.error_message
            .as_deref()
            .unwrap()
            .contains("sk-wrong-key")
    );

    // In-band error inside HTTP 200.
    let anthropic = s
        .config(ProviderKind::Anthropic, json!({"max_retries": 0}))
        .await;
    s.fake
        .push(Reply::default().error_after(0, "invalid_request_error", "bad"));
    let in_band = s
        .call(json!({"config_id": anthropic, "messages": [{"role": "user", "content": "x"}]}))
        .await;
    assert_error(&in_band, 502, "UPSTREAM_ERROR");
}

#[tokio::test]
async fn hung_upstreams_time_out_and_are_recorded() {
    let s = setup().await;
    let config_id = s
        .config(
            ProviderKind::Openai,
            json!({"timeout_seconds": 1, "max_retries": 1}),
        )
        .await;
    s.fake.push(Outcome::Hang);
    let started = std::time::Instant::now();
    let response = s
        .call(json!({"config_id": config_id, "messages": [{"role": "user", "content": "x"}]}))
        .await;
    assert_error(&response, 504, "UPSTREAM_TIMEOUT");
    assert!(started.elapsed() >= Duration::from_secs(1));
    // The request was sent: the upstream may be generating (and billing), so no retry.
    assert_eq!(s.fake.hits(), 1);
    let log = s.server.call_logs().await.pop().unwrap();
    assert_eq!(log.error_code.as_deref(), Some("UPSTREAM_TIMEOUT"));
    assert_eq!(log.retry_count, 0);
    assert_eq!(log.tokens_used, Some(0), "no output, no charge");

    // A stream that stalls after its first chunk ends with an error event, partial text kept.
    s.fake
        .push(Reply::new("abcdef").chunk_chars(2).stall_after(1));
    let (status, _, text) = s
        .server
        .post_stream(
            "/api/llm/call",
            &s.client,
            json!({"config_id": config_id, "messages": [{"role": "user", "content": "x"}], "stream": true}),
        )
        .await;
    assert_eq!(status, 200);
    let events = sse_events(&text);
    assert_eq!(events[0].1["content"], "ab");
    let last = &events.last().unwrap().1;
    assert_eq!(last["type"], "error");
    assert_eq!(last["code"], "UPSTREAM_TIMEOUT");
    let log = s.server.call_logs().await.pop().unwrap();
    assert_eq!(log.status, "error");
    assert_eq!(log.response_content.as_deref(), Some("ab"));
    assert!(log.tokens_estimated, "no usage arrived: counted locally");
}

#[tokio::test]
async fn a_stream_cut_midway_becomes_an_error_event_without_retry() {
    let s = setup().await;
    let config_id = s
        .config(ProviderKind::Anthropic, json!({"max_retries": 3}))
        .await;
    s.fake
        .push(Reply::new("abcdefgh").chunk_chars(2).cut_after(2));
    let before = s.fake.hits();
    let (_, _, text) = s
        .server
        .post_stream(
            "/api/llm/call-stream",
            &s.client,
            json!({"config_id": config_id, "messages": [{"role": "user", "content": "x"}]}),
        )
        .await;
    let events = sse_events(&text);
    let chunks: Vec<&str> = events
        .iter()
        .filter(|(name, _)| name.as_deref() == Some("chunk"))
        .map(|(_, data)| data["content"].as_str().unwrap())
        .collect();
    assert_eq!(chunks, ["ab", "cd"]);
    assert_eq!(events.last().unwrap().0.as_deref(), Some("error"));
    assert_eq!(
        s.fake.hits() - before,
        1,
        "no retry once text reached the client"
    );

    // Before the first byte, a failed stream is retried and answers normally.
    s.fake
        .push(Outcome::http(529, "overloaded_error", "Overloaded"));
    s.fake.push(Reply::new("ok"));
    let (status, _, text) = s
        .server
        .post_stream(
            "/api/llm/call-stream",
            &s.client,
            json!({"config_id": config_id, "messages": [{"role": "user", "content": "x"}]}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(sse_events(&text).last().unwrap().0.as_deref(), Some("done"));
    assert_eq!(s.server.call_logs().await.pop().unwrap().retry_count, 1);

    // A stream that fails before any byte answers with a plain error envelope.
    for _ in 0..4 {
        s.fake.push(Outcome::http(429, "rate_limit_error", "slow"));
    }
    let limited = s
        .server
        .post(
            "/api/llm/call-stream",
            Some(&s.client),
            json!({"config_id": config_id, "messages": [{"role": "user", "content": "x"}]}),
        )
        .await;
    assert_error(&limited, 429, "UPSTREAM_RATE_LIMITED");
}

#[tokio::test]
async fn a_client_that_disconnects_mid_stream_is_recorded() {
    let s = setup().await;
    let config_id = s
        .config(ProviderKind::Openai, json!({"timeout_seconds": 30}))
        .await;
    s.fake.push(
        Reply::new("abcdefgh")
            .chunk_chars(2)
            .event_delay(Duration::from_millis(300)),
    );
    let mut response = s
        .server
        .client
        .post(s.server.url("/api/llm/call"))
        .bearer_auth(&s.client)
        .json(&json!({"config_id": config_id, "messages": [{"role": "user", "content": "x"}], "stream": true}))
        .send()
        .await
        .unwrap();
    let first = response.chunk().await.unwrap().unwrap();
    assert!(String::from_utf8_lossy(&first).contains("chunk"));
    drop(response);
    let logs = s.server.wait_for_logs(1).await;
    let log = logs.last().unwrap();
    assert_eq!(log.status, "error");
    assert_eq!(log.error_code.as_deref(), Some("CLIENT_DISCONNECTED"));
    assert!(log.response_content.as_deref().unwrap().starts_with("ab"));
    assert!(log.is_stream);
}

#[tokio::test]
async fn usage_is_estimated_when_a_stream_carries_none() {
    let s = setup().await;
    let config_id = s.config(ProviderKind::Custom, json!({})).await;
    let sse = "data: {\"id\":\"x\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"你好世界\"},\"finish_reason\":null}]}\n\n\
               data: {\"id\":\"x\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n\
               data: [DONE]\n\n";
    s.fake.push(Outcome::raw(200, "text/event-stream", sse));
    let (_, _, text) = s
        .server
        .post_stream(
            "/api/llm/call",
            &s.client,
            json!({"config_id": config_id, "messages": [{"role": "user", "content": "你好"}], "stream": true}),
        )
        .await;
    let done = sse_events(&text).pop().unwrap().1;
    assert_eq!(done["type"], "done", "{text}");
    assert_eq!(done["tokens_estimated"], true);
    assert_eq!(done["completion_tokens"], 4);
    let log = s.server.call_logs().await.pop().unwrap();
    assert!(log.tokens_estimated);
    assert_eq!(log.completion_tokens, Some(4));
}

#[tokio::test]
async fn the_call_log_id_survives_kill_9() {
    let mut s = setup().await;
    let config_id = s.config(ProviderKind::Openai, json!({})).await;
    let response = s
        .call(
            json!({"config_id": config_id, "messages": [{"role": "user", "content": "durable?"}]}),
        )
        .await;
    let id = response.body["data"]["call_log_id"].as_i64().unwrap();
    s.server.kill9();
    let logs = s.server.call_logs().await;
    assert!(
        logs.iter()
            .any(|log| log.id == id && log.status == "success")
    );
}

#[tokio::test]
async fn config_test_makes_a_real_call_and_reports_failures() {
    let s = setup().await;
    let config_id = s
        .config(ProviderKind::Zhipu, json!({"is_active": false}))
        .await;
    s.fake.push(Reply::new("Hello! How can I help you?"));
    let tested = s
        .server
        .post(
            &format!("/api/admin/llm/configs/{config_id}/test"),
            Some(&s.admin),
            json!({"test_message": "Hello"}),
        )
        .await;
    assert_eq!(tested.status, 200, "{}", tested.text);
    assert_eq!(tested.body["success"], true);
    assert_eq!(tested.body["message"], "配置测试成功");
    assert_eq!(tested.body["response"], "Hello! How can I help you?");
    assert!(tested.body["duration_ms"].as_i64().is_some());
    let sent = s.fake.last_request();
    assert_eq!(
        sent.body["messages"].as_array().unwrap().last().unwrap()["content"],
        "Hello"
    );

    let bad = s
        .config(
            ProviderKind::Openai,
            json!({"api_key": "sk-bad-0000000000000000"}),
        )
        .await;
    let failed = s
        .server
        .post(
            &format!("/api/admin/llm/configs/{bad}/test"),
            Some(&s.admin),
            json!({}),
        )
        .await;
    assert_error(&failed, 502, "UPSTREAM_ERROR");
    assert!(!failed.text.contains("sk-bad"));

    let forbidden = s
        .server
        .post(
            &format!("/api/admin/llm/configs/{config_id}/test"),
            Some(&s.client),
            json!({}),
        )
        .await;
    assert_error(&forbidden, 403, "FORBIDDEN");
}

#[tokio::test]
async fn provider_keys_reach_the_upstream_and_nowhere_else() {
    let s = setup().await;
    for kind in ProviderKind::ALL {
        let config_id = s.config(kind, json!({})).await;
        let response = s
            .call(json!({"config_id": config_id, "messages": [{"role": "user", "content": "hi"}]}))
            .await;
        assert_eq!(
            response.status, 200,
            "{kind:?}: the fake accepted the key: {}",
            response.text
        );
        assert!(!response.text.contains(&FakeUpstream::key(kind)));
    }
    let log = s.server.output();
    for kind in ProviderKind::ALL {
        assert!(
            !log.contains(&FakeUpstream::key(kind)),
            "{kind:?} key in server log"
        );
    }
    for record in s.server.call_logs().await {
        let text = serde_json::to_string(&(
            record.request_messages,
            record.request_params,
            record.response_data,
            record.error_message,
        ))
        .unwrap();
        for kind in ProviderKind::ALL {
            assert!(!text.contains(&FakeUpstream::key(kind)));
        }
    }
}
