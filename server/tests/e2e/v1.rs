//! The OpenAI- and Anthropic-compatible `/v1` surface through the real server, at the HTTP
//! level: the exact shapes SDKs parse (answers, chunk streams, event streams, errors), the
//! relay's record of every call, and what each provider receives. The official SDKs drive
//! the same surface in `sdk.rs`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;
use crate::fake_upstream;

use common::TestServer;
use fake_upstream::{FakeUpstream, Outcome, Reply};
use llm_proxy::providers::ProviderKind;
use serde_json::{Value, json};

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
    /// A config named after its provider (the `model` SDKs send).
    async fn config(&self, kind: ProviderKind, extra: Value) -> String {
        let name = format!("{}-model", kind.as_str());
        let mut body = json!({
            "name": name,
            "provider": kind.as_str(),
            "api_url": self.fake.url(kind),
            "api_key": FakeUpstream::key(kind),
            "model": "upstream-model",
            "max_tokens": 256,
            "temperature": 0.5,
            "max_retries": 0,
            "timeout_seconds": 5,
        });
        for (key, value) in extra.as_object().unwrap() {
            body[key] = value.clone();
        }
        let created = self
            .server
            .post("/api/admin/llm/configs", Some(&self.admin), body)
            .await;
        assert_eq!(created.status, 200, "{}", created.text);
        name
    }

    async fn post(&self, path: &str, body: Value) -> common::Response {
        self.server.post(path, Some(&self.client), body).await
    }
}

/// The `data:` payloads of an OpenAI stream, `[DONE]` included as a string.
fn data_lines(body: &str) -> Vec<Value> {
    body.split("\n\n")
        .filter_map(|block| block.strip_prefix("data: "))
        .map(|data| serde_json::from_str(data).unwrap_or_else(|_| json!(data)))
        .collect()
}

fn assert_openai_error(response: &common::Response, status: u16, code: &str) {
    assert_eq!(response.status, status, "{}", response.text);
    let error = &response.body["error"];
    assert_eq!(error["code"], code, "{}", response.text);
    assert!(error["message"].as_str().is_some_and(|m| !m.is_empty()));
    assert!(error["type"].is_string() && error.get("param").is_some());
}

#[tokio::test]
async fn models_list_the_enabled_configs_by_name_for_both_sdks() {
    let s = setup().await;
    let unauthenticated = s.server.get("/v1/models", None).await;
    assert_openai_error(&unauthenticated, 401, "UNAUTHORIZED");
    s.config(ProviderKind::Openai, json!({})).await;
    s.config(ProviderKind::Zhipu, json!({"is_active": false}))
        .await;
    let listed = s.server.get("/v1/models", Some(&s.client)).await;
    assert_eq!(listed.status, 200, "{}", listed.text);
    assert_eq!(listed.body["object"], "list");
    assert_eq!(listed.body["has_more"], false);
    let data = listed.body["data"].as_array().unwrap();
    assert_eq!(data.len(), 1, "only enabled configs: {data:?}");
    assert_eq!(data[0]["id"], "openai-model");
    assert_eq!(data[0]["object"], "model");
    assert_eq!(data[0]["type"], "model");
    assert_eq!(data[0]["owned_by"], "openai");
    let one = s
        .server
        .get("/v1/models/openai-model", Some(&s.client))
        .await;
    assert_eq!(one.body["id"], "openai-model");
    let unknown = s
        .server
        .get("/v1/models/zhipu-model", Some(&s.client))
        .await;
    assert_openai_error(&unknown, 404, "MODEL_NOT_FOUND");
}

#[tokio::test]
async fn chat_completion_on_every_provider_is_answered_and_recorded() {
    let s = setup().await;
    for kind in ProviderKind::ALL {
        let model = s.config(kind, json!({})).await;
        s.fake.push(Reply::new("你好，我是助手。").usage(12, 7));
        let response = s
            .post(
                "/v1/chat/completions",
                json!({"model": model, "messages": [{"role": "user", "content": "你好"}]}),
            )
            .await;
        assert_eq!(response.status, 200, "{kind:?}: {}", response.text);
        let body = &response.body;
        assert!(body["id"].as_str().unwrap().starts_with("chatcmpl-"));
        assert_eq!(body["object"], "chat.completion");
        assert_eq!(body["model"], model.as_str());
        assert!(body["created"].as_i64().unwrap() > 1_700_000_000);
        let choice = &body["choices"][0];
        assert_eq!(choice["message"]["role"], "assistant");
        assert_eq!(choice["message"]["content"], "你好，我是助手。");
        assert_eq!(choice["finish_reason"], "stop", "{kind:?}");
        assert_eq!(
            body["usage"],
            json!({"prompt_tokens": 12, "completion_tokens": 7, "total_tokens": 19}),
            "{kind:?}"
        );
    }
    let logs = s.server.wait_for_logs(ProviderKind::ALL.len()).await;
    for log in &logs {
        assert_eq!(log.status, "success");
        assert_eq!(log.group_id, Some(s.group_id as i32));
        assert_eq!(log.tokens_used, Some(19));
        assert!(!log.is_stream);
    }
}

#[tokio::test]
async fn chat_stream_follows_the_sdk_accumulator_rules() {
    let s = setup().await;
    let model = s.config(ProviderKind::Anthropic, json!({})).await;
    s.fake
        .push(Reply::new("一二三四五六").chunk_chars(2).usage(9, 6));
    let (status, headers, body) = s
        .server
        .post_stream(
            "/v1/chat/completions",
            &s.client,
            json!({"model": model, "stream": true, "stream_options": {"include_usage": true},
                   "messages": [{"role": "user", "content": "数数"}]}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert!(
        headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    assert!(
        !body.contains("\nid:") && !body.starts_with("id:"),
        "no SSE ids"
    );
    let chunks = data_lines(&body);
    let (done, chunks) = chunks.split_last().unwrap();
    assert_eq!(done, "[DONE]");
    let (usage_chunk, chunks) = chunks.split_last().unwrap();
    assert_eq!(usage_chunk["choices"], json!([]));
    assert_eq!(usage_chunk["usage"]["total_tokens"], 15);
    let id = &chunks[0]["id"];
    let mut text = String::new();
    for chunk in chunks {
        assert_eq!(chunk["object"], "chat.completion.chunk");
        assert_eq!(&chunk["id"], id, "one id for the whole answer");
        assert!(chunk["usage"].is_null() && chunk.get("usage").is_some());
        text.push_str(
            chunk["choices"][0]["delta"]["content"]
                .as_str()
                .unwrap_or(""),
        );
    }
    assert_eq!(text, "一二三四五六");
    assert_eq!(chunks[0]["choices"][0]["delta"]["role"], "assistant");
    let roles = chunks
        .iter()
        .filter(|c| c["choices"][0]["delta"].get("role").is_some())
        .count();
    assert_eq!(roles, 1, "the role goes once");
    let last = chunks.last().unwrap();
    assert_eq!(last["choices"][0]["finish_reason"], "stop");
    assert_eq!(last["choices"][0]["delta"], json!({}));

    // Without include_usage: no usage chunk, no usage fields.
    s.fake.push(Reply::new("好").usage(1, 1));
    let (_, _, body) = s
        .server
        .post_stream(
            "/v1/chat/completions",
            &s.client,
            json!({"model": model, "stream": true, "messages": [{"role": "user", "content": "q"}]}),
        )
        .await;
    let chunks = data_lines(&body);
    assert!(chunks.iter().all(|c| c.get("usage").is_none()), "{body}");
    let logs = s.server.wait_for_logs(2).await;
    assert!(logs.iter().all(|l| l.is_stream && l.status == "success"));
}

#[tokio::test]
async fn reasoning_is_returned_as_reasoning_content() {
    let s = setup().await;
    let model = s.config(ProviderKind::Custom, json!({})).await;
    s.fake
        .push(Reply::new("答案是 4。").thinking("2+2=4").chunk_chars(3));
    let (_, _, body) = s
        .server
        .post_stream(
            "/v1/chat/completions",
            &s.client,
            json!({"model": model, "stream": true, "messages": [{"role": "user", "content": "2+2?"}]}),
        )
        .await;
    let reasoning: String = data_lines(&body)
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["reasoning_content"].as_str())
        .collect();
    assert_eq!(reasoning, "2+2=4");
    // The record keeps the reasoning of the stream it assembled.
    let logs = s.server.wait_for_logs(1).await;
    assert_eq!(
        logs[0].response_data.as_ref().unwrap()["reasoning"],
        "2+2=4"
    );
}

#[tokio::test]
async fn bad_requests_are_refused_in_openai_shape_before_any_upstream_call() {
    let s = setup().await;
    let xunfei = s.config(ProviderKind::Xunfei, json!({})).await;
    let user = json!([{"role": "user", "content": "hi"}]);
    let cases = [
        (
            json!({"model": "nope", "messages": user}),
            404,
            "MODEL_NOT_FOUND",
        ),
        (
            json!({"model": xunfei, "messages": user, "n": 2}),
            400,
            "UNSUPPORTED_FEATURE",
        ),
        (json!({"model": xunfei}), 400, "BAD_REQUEST"),
        (
            json!({"model": xunfei, "messages": [{"role": "user", "content": [
                {"type": "text", "text": "这是什么"},
                {"type": "image_url", "image_url": {"url": "https://img.example/a.png"}}]}]}),
            400,
            "UNSUPPORTED_FEATURE",
        ),
        (
            json!({"model": xunfei, "messages": user,
                   "tools": [{"type": "function", "function": {"name": "f"}}]}),
            400,
            "UNSUPPORTED_FEATURE",
        ),
        (
            json!({"model": xunfei, "messages": user, "temperature": 3}),
            422,
            "VALIDATION_FAILED",
        ),
        (
            json!({"model": xunfei, "messages": [{"role": "function", "content": "x"}]}),
            422,
            "VALIDATION_FAILED",
        ),
    ];
    for (body, status, code) in cases {
        let response = s.post("/v1/chat/completions", body.clone()).await;
        assert_openai_error(&response, status, code);
    }
    let garbage = s
        .server
        .client
        .post(s.server.url("/v1/chat/completions"))
        .bearer_auth(&s.client)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(garbage.status(), 400);
    let body: Value = garbage.json().await.unwrap();
    assert_eq!(body["error"]["code"], "BAD_REQUEST");
    let nowhere = s.post("/v1/completions", json!({})).await;
    assert_openai_error(&nowhere, 404, "NOT_FOUND");
    let wrong_method = s.server.get("/v1/chat/completions", Some(&s.client)).await;
    assert_openai_error(&wrong_method, 405, "BAD_REQUEST");
    assert_eq!(s.fake.hits(), 0, "nothing reached the upstream");
    assert!(s.server.call_logs().await.is_empty(), "nothing to record");
}

#[tokio::test]
async fn upstream_rate_limits_and_our_quota_are_429s_the_sdks_understand() {
    let s = setup().await;
    let model = s.config(ProviderKind::Openai, json!({})).await;
    s.fake.push(
        Outcome::http(429, "rate_limit_exceeded", "Rate limit reached").header("retry-after", "7"),
    );
    let limited = s
        .post(
            "/v1/chat/completions",
            json!({"model": model, "messages": [{"role": "user", "content": "hi"}]}),
        )
        .await;
    assert_openai_error(&limited, 429, "UPSTREAM_RATE_LIMITED");
    assert_eq!(limited.body["error"]["type"], "rate_limit_error");
    assert_eq!(limited.headers["retry-after"], "7");

    let group = s
        .server
        .put(
            &format!("/api/admin/groups/{}", s.group_id),
            Some(&s.admin),
            json!({"daily_token_limit": 10}),
        )
        .await;
    assert_eq!(group.status, 200, "{}", group.text);
    let ask = json!({"model": model, "messages": [{"role": "user", "content": "hi"}]});
    let spends = s.post("/v1/chat/completions", ask.clone()).await;
    assert_eq!(spends.status, 200, "the day's first call is admitted");
    let refused = s
        .post(
            "/v1/chat/completions",
            json!({"model": model, "messages": [{"role": "user", "content": "hi"}]}),
        )
        .await;
    assert_openai_error(&refused, 429, "QUOTA_EXCEEDED");
    assert_eq!(refused.headers["x-should-retry"], "false");
    assert!(
        refused.headers.contains_key("retry-after"),
        "when the day ends"
    );
    let logs = s.server.wait_for_logs(2).await;
    assert_eq!(logs[0].error_code.as_deref(), Some("UPSTREAM_RATE_LIMITED"));
    assert_eq!(
        logs[0].tokens_used,
        Some(0),
        "a refused call is not charged"
    );
}

#[tokio::test]
async fn a_reasoning_model_config_sends_only_the_call_s_own_sampling_values() {
    let s = setup().await;
    let model = s
        .config(
            ProviderKind::Openai,
            json!({"reasoning_model": true, "top_p": 0.8}),
        )
        .await;
    s.fake.push(Reply::new("ok"));
    let response = s
        .post(
            "/v1/chat/completions",
            json!({"model": model, "messages": [{"role": "developer", "content": "be brief"},
                                                 {"role": "user", "content": "hi"}],
                   "max_completion_tokens": 64, "reasoning_effort": "low", "seed": 3, "stop": "END"}),
        )
        .await;
    assert_eq!(response.status, 200, "{}", response.text);
    let sent = s.fake.last_request().body;
    for absent in [
        "temperature",
        "top_p",
        "frequency_penalty",
        "presence_penalty",
    ] {
        assert!(sent.get(absent).is_none(), "{absent} sent: {sent}");
    }
    assert_eq!(sent["max_completion_tokens"], 64);
    assert_eq!(sent["reasoning_effort"], "low");
    assert_eq!(
        (sent["seed"].clone(), sent["stop"].clone()),
        (json!(3), json!(["END"]))
    );
    assert_eq!(sent["messages"][0]["role"], "developer");

    s.fake.push(Reply::new("ok"));
    s.post(
        "/v1/chat/completions",
        json!({"model": model, "temperature": 1, "messages": [{"role": "user", "content": "hi"}]}),
    )
    .await;
    assert_eq!(s.fake.last_request().body["temperature"], 1.0);
    let logs = s.server.wait_for_logs(2).await;
    assert_eq!(
        logs[0].request_params.as_ref().unwrap()["reasoning_effort"],
        "low"
    );
}

#[tokio::test]
async fn anthropic_messages_answer_and_stream_in_anthropic_s_shape() {
    let s = setup().await;
    let model = s.config(ProviderKind::Aliyun, json!({})).await;
    let key = s.client.clone();
    s.fake.push(Reply::new("你好！").usage(8, 3));
    let response = s
        .server
        .client
        .post(s.server.url("/v1/messages"))
        .header("x-api-key", &key)
        .header("anthropic-version", "2023-06-01")
        .json(&json!({"model": model, "max_tokens": 100, "system": "简洁",
                      "messages": [{"role": "user", "content": "你好"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let message: Value = response.json().await.unwrap();
    assert_eq!(message["type"], "message");
    assert_eq!(message["role"], "assistant");
    assert_eq!(
        message["content"],
        json!([{"type": "text", "text": "你好！"}])
    );
    assert_eq!(message["stop_reason"], "end_turn");
    assert_eq!(
        message["usage"],
        json!({"input_tokens": 8, "output_tokens": 3})
    );

    s.fake.push(Reply::new("一二三").chunk_chars(1).usage(8, 3));
    let (status, _, body) = s
        .server
        .post_stream(
            "/v1/messages",
            &key,
            json!({"model": model, "max_tokens": 100, "stream": true,
                   "messages": [{"role": "user", "content": "数"}]}),
        )
        .await;
    assert_eq!(status, 200);
    let events = common::sse_events(&body);
    let names: Vec<&str> = events.iter().map(|(n, _)| n.as_deref().unwrap()).collect();
    assert_eq!(
        names,
        [
            "message_start",
            "content_block_start",
            "content_block_delta",
            "content_block_delta",
            "content_block_delta",
            "content_block_stop",
            "message_delta",
            "message_stop"
        ]
    );
    for (name, data) in &events {
        assert_eq!(
            data["type"],
            name.as_deref().unwrap(),
            "data.type is the event name"
        );
    }
    assert_eq!(events[6].1["usage"]["output_tokens"], 3);
    assert_eq!(events[6].1["delta"]["stop_reason"], "end_turn");

    let unknown = s
        .server
        .client
        .post(s.server.url("/v1/messages"))
        .header("x-api-key", &key)
        .json(&json!({"model": "nope", "max_tokens": 1, "messages": []}))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 404);
    let body: Value = unknown.json().await.unwrap();
    assert_eq!(body["type"], "error");
    assert_eq!(body["error"]["type"], "not_found_error");
    let logs = s.server.wait_for_logs(2).await;
    assert!(
        logs.iter()
            .all(|l| l.status == "success" && l.provider == "aliyun")
    );
}

#[tokio::test]
async fn an_api_key_calls_as_its_group_until_it_is_revoked() {
    let s = setup().await;
    let model = s.config(ProviderKind::Zhipu, json!({})).await;
    let created = s
        .server
        .post(
            "/api/admin/api-keys",
            Some(&s.admin),
            json!({"name": "Dify", "group_id": s.group_id}),
        )
        .await;
    assert_eq!(created.status, 200, "{}", created.text);
    let key = created.body["data"]["key"].as_str().unwrap().to_owned();
    let key_id = created.body["data"]["id"].as_i64().unwrap();
    s.fake.push(Reply::new("好的").usage(3, 2));
    let ask = json!({"model": model, "messages": [{"role": "user", "content": "hi"}]});
    let answered = s
        .server
        .post("/v1/chat/completions", Some(&key), ask.clone())
        .await;
    assert_eq!(answered.status, 200, "{}", answered.text);
    let logs = s.server.wait_for_logs(1).await;
    assert_eq!(logs[0].api_key_id, Some(key_id as i32));
    assert_eq!(logs[0].api_key_name.as_deref(), Some("Dify"));
    assert_eq!(logs[0].group_id, Some(s.group_id as i32));

    let revoked = s
        .server
        .delete(&format!("/api/admin/api-keys/{key_id}"), Some(&s.admin))
        .await;
    assert_eq!(revoked.status, 200, "{}", revoked.text);
    let refused = s.server.post("/v1/chat/completions", Some(&key), ask).await;
    assert_openai_error(&refused, 401, "API_KEY_INVALID");
    assert_eq!(refused.body["error"]["type"], "authentication_error");
}

/// The config an SDK's `model` names is read from a short-lived copy; a rename or a disable
/// through the admin API is seen by the very next call.
#[tokio::test]
async fn a_model_name_follows_its_config_at_once() {
    let s = setup().await;
    let model = s.config(ProviderKind::Openai, json!({})).await;
    let configs = s.server.get("/api/admin/llm/configs", Some(&s.admin)).await;
    let id = configs.body["data"][0]["id"].as_i64().unwrap();
    let ask =
        |model: &str| json!({"model": model, "messages": [{"role": "user", "content": "你好"}]});
    let change = async |fields: Value| {
        let path = format!("/api/admin/llm/configs/{id}");
        let changed = s.server.put(&path, Some(&s.admin), fields).await;
        assert_eq!(changed.status, 200, "{}", changed.text);
    };

    s.fake.push(Reply::new("好的"));
    let answered = s.post("/v1/chat/completions", ask(&model)).await;
    assert_eq!(answered.status, 200, "{}", answered.text);

    change(json!({"name": "renamed-model"})).await;
    let old_name = s.post("/v1/chat/completions", ask(&model)).await;
    assert_openai_error(&old_name, 404, "MODEL_NOT_FOUND");
    s.fake.push(Reply::new("好的"));
    let new_name = s.post("/v1/chat/completions", ask("renamed-model")).await;
    assert_eq!(new_name.status, 200, "{}", new_name.text);

    change(json!({"is_active": false})).await;
    let disabled = s.post("/v1/chat/completions", ask("renamed-model")).await;
    assert_openai_error(&disabled, 404, "MODEL_NOT_FOUND");
    change(json!({"is_active": true})).await;
    s.fake.push(Reply::new("好的"));
    let enabled = s.post("/v1/chat/completions", ask("renamed-model")).await;
    assert_eq!(enabled.status, 200, "{}", enabled.text);
}
