//! The call lifecycle at its edges: every call that reached an upstream is recorded exactly
//! once and charged what it used, whatever happens around it — deletions mid-call, refusals,
//! `kill -9`, a shutdown past its grace, clients that hang up or stop reading, long thinking
//! phases, a record the database refuses. Runs on SQLite, and on PostgreSQL when
//! `LLM_PROXY_TEST_DATABASE_URL` is set.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;
use crate::fake_upstream;

use std::time::{Duration, Instant};

use common::{Options, TestServer, assert_error, sse_events};
use fake_upstream::{FakeUpstream, Outcome, Reply};
use llm_proxy::providers::ProviderKind;
use sea_orm::{ConnectionTrait, EntityTrait};
use serde_json::{Value, json};

struct Setup {
    server: TestServer,
    fake: FakeUpstream,
    admin: String,
}

async fn setup_with(options: Options) -> Setup {
    let fake = FakeUpstream::start().await;
    let server = TestServer::start_with(options).await;
    let admin = server.admin_token().await;
    Setup {
        server,
        fake,
        admin,
    }
}

async fn setup() -> Setup {
    setup_with(Options::default()).await
}

fn user_message(config_id: i64) -> Value {
    json!({"config_id": config_id, "messages": [{"role": "user", "content": "你好"}]})
}

impl Setup {
    /// A call sent on a task of its own, for calls that must be in flight together or while
    /// something else happens.
    fn spawn_post(
        &self,
        path: &str,
        token: &str,
        body: Value,
    ) -> tokio::task::JoinHandle<reqwest::Response> {
        let request = self
            .server
            .client
            .post(self.server.url(path))
            .bearer_auth(token)
            .json(&body);
        tokio::spawn(async move { request.send().await.unwrap() })
    }

    async fn config(&self, extra: Value) -> i64 {
        let mut body = json!({
            "name": format!("lifecycle-{}", unique()),
            "provider": "openai",
            "api_url": self.fake.url(ProviderKind::Openai),
            "api_key": FakeUpstream::key(ProviderKind::Openai),
            "model": "gpt-4o-mini",
            "max_tokens": 100,
            "max_retries": 0,
            "timeout_seconds": 10,
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

    /// A client of a new group with a daily token limit.
    async fn limited_client(&self, daily: i64) -> (String, i64, String) {
        let (token, group_id, code) = self.server.client_token(&self.admin).await;
        let updated = self
            .server
            .put(
                &format!("/api/admin/groups/{group_id}"),
                Some(&self.admin),
                json!({"daily_token_limit": daily}),
            )
            .await;
        assert_eq!(updated.status, 200, "{}", updated.text);
        (token, group_id, code)
    }

    /// The group's counters for today: (used, reserved).
    async fn usage(&self, group_id: i64) -> (i64, i64) {
        group_usage(&self.server, group_id).await
    }
}

fn unique() -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    format!(
        "{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// Used and reserved tokens over every day row of the group, read from the database.
async fn group_usage(server: &TestServer, group_id: i64) -> (i64, i64) {
    let db = sea_orm::Database::connect(server.effective_database_url())
        .await
        .unwrap();
    let rows = entity::group_usage::Entity::find().all(&db).await.unwrap();
    db.close().await.unwrap();
    rows.iter()
        .filter(|row| i64::from(row.group_id) == group_id && row.period == "day")
        .fold((0, 0), |(used, reserved), row| {
            (used + row.used_tokens, reserved + row.reserved_tokens)
        })
}

async fn reservation_rows(server: &TestServer) -> usize {
    let db = sea_orm::Database::connect(server.effective_database_url())
        .await
        .unwrap();
    let rows = entity::quota_reservations::Entity::find()
        .all(&db)
        .await
        .unwrap();
    db.close().await.unwrap();
    rows.len()
}

/// Waits until `check` holds, up to `limit`.
async fn eventually<F, Fut>(limit: Duration, mut check: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if check().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

#[tokio::test]
async fn deleting_what_a_running_call_refers_to_keeps_its_record() {
    let s = setup().await;
    let slow = || Reply::new("慢慢回答").delay(Duration::from_millis(800));

    // The config (JSON and stream).
    for stream in [false, true] {
        let config_id = s.config(json!({})).await;
        let (client, _, _) = s.server.client_token(&s.admin).await;
        s.fake.push(slow());
        let mut body = user_message(config_id);
        body["stream"] = json!(stream);
        let call = s.spawn_post("/api/llm/call", &client, body);
        tokio::time::sleep(Duration::from_millis(300)).await;
        let deleted = s
            .server
            .delete(
                &format!("/api/admin/llm/configs/{config_id}"),
                Some(&s.admin),
            )
            .await;
        assert_eq!(deleted.status, 200, "{}", deleted.text);
        let response = call.await.unwrap();
        let status = response.status();
        let text = response.text().await.unwrap();
        assert_eq!(status, 200, "{text}");
        assert!(text.contains("慢慢回答") || text.contains("慢慢"), "{text}");
        let logs = s.server.wait_for_logs(if stream { 2 } else { 1 }).await;
        let log = logs.last().unwrap();
        assert_eq!(log.status, "success", "stream={stream}");
        assert_eq!(log.config_id, None, "the reference becomes null");
        assert!(
            log.config_name.starts_with("lifecycle-"),
            "the snapshot stays"
        );
    }

    // The template, the activation code and (for an admin with a group) the group and the user.
    let config_id = s.config(json!({})).await;
    let template = s
        .server
        .post(
            "/api/admin/llm/templates",
            Some(&s.admin),
            json!({"config_id": config_id, "template_name": "t", "template_content": "说 {x}"}),
        )
        .await;
    assert_eq!(template.status, 200, "{}", template.text);
    let template_id = template.body["data"]["id"].as_i64().unwrap();
    let (client, group_id, code) = s.server.client_token(&s.admin).await;
    s.fake.push(slow());
    let call = s.spawn_post(
        "/api/llm/call-template",
        &client,
        json!({"template_id": template_id, "variables": {"x": "好"}}),
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    let codes = s
        .server
        .get("/api/admin/activation-codes", Some(&s.admin))
        .await;
    let code_id = codes.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|row| row["code"] == json!(code))
        .map(|row| row["id"].as_i64().unwrap())
        .unwrap();
    for path in [
        format!("/api/admin/llm/templates/{template_id}"),
        format!("/api/admin/activation-codes/{code_id}"),
        format!("/api/admin/groups/{group_id}"),
    ] {
        let deleted = s.server.delete(&path, Some(&s.admin)).await;
        assert_eq!(deleted.status, 200, "{path}: {}", deleted.text);
    }
    assert_eq!(call.await.unwrap().status(), 200);
    let log = s.server.wait_for_logs(3).await.pop().unwrap();
    assert_eq!(log.status, "success");
    assert_eq!((log.template_id, log.group_id), (None, None));
    assert_eq!(log.config_id, Some(config_id as i32));
    assert_eq!(log.activation_code.as_deref(), Some(code.as_str()));

    // A user (an admin in a group) deleted while the call runs.
    let (_, group_id, _) = s.server.client_token(&s.admin).await;
    let user = s
        .server
        .post(
            "/api/admin/users",
            Some(&s.admin),
            json!({"username": format!("ops-{}", unique()), "password": "Passw0rd-ops!", "role": "admin", "group_id": group_id}),
        )
        .await;
    assert_eq!(user.status, 200, "{}", user.text);
    let user_id = user.body["data"]["id"].as_i64().unwrap();
    let token = s
        .server
        .login(
            user.body["data"]["username"].as_str().unwrap(),
            "Passw0rd-ops!",
        )
        .await;
    s.fake.push(slow());
    let call = s.spawn_post("/api/llm/call", &token, user_message(config_id));
    tokio::time::sleep(Duration::from_millis(300)).await;
    let deleted = s
        .server
        .delete(&format!("/api/admin/users/{user_id}"), Some(&s.admin))
        .await;
    assert_eq!(deleted.status, 200, "{}", deleted.text);
    assert_eq!(call.await.unwrap().status(), 200);
    let log = s.server.wait_for_logs(4).await.pop().unwrap();
    assert_eq!(log.status, "success");
    assert_eq!(log.user_id, None, "user {user_id} deleted meanwhile");
    assert_eq!(log.group_id, Some(group_id as i32));
}

#[tokio::test]
async fn a_refused_call_charges_nothing() {
    let s = setup().await;
    let (client, group_id, _) = s.limited_client(100_000).await;
    let bad_key = s.config(json!({"api_key": "sk-wrong"})).await;
    let refused = s
        .server
        .post("/api/llm/call", Some(&client), user_message(bad_key))
        .await;
    assert_error(&refused, 502, "UPSTREAM_ERROR");

    let rate_limited = s.config(json!({"max_retries": 1})).await;
    s.fake
        .push(Outcome::http(429, "rate_limit_exceeded", "slow down"));
    s.fake
        .push(Outcome::http(429, "rate_limit_exceeded", "slow down"));
    let response = s
        .server
        .post("/api/llm/call", Some(&client), user_message(rate_limited))
        .await;
    assert_error(&response, 429, "UPSTREAM_RATE_LIMITED");

    let unreachable = s
        .config(json!({"api_url": "http://127.0.0.1:9/v1/chat/completions"}))
        .await;
    let mut body = user_message(unreachable);
    body["stream"] = json!(true);
    let response = s.server.post("/api/llm/call", Some(&client), body).await;
    assert_error(&response, 502, "UPSTREAM_ERROR");

    let logs = s.server.call_logs().await;
    assert_eq!(logs.len(), 3);
    for log in &logs {
        assert_eq!(log.status, "error");
        assert_eq!(log.tokens_used, Some(0), "{log:?}");
        assert_eq!(log.cost, 0.0);
        assert!(!log.tokens_estimated);
    }
    assert_eq!(
        s.usage(group_id).await,
        (0, 0),
        "no quota used, nothing held"
    );
    assert_eq!(reservation_rows(&s.server).await, 0);

    // A call that produced output before failing is charged what it produced.
    let cut = s.config(json!({})).await;
    s.fake
        .push(Reply::new("一二三四五六").chunk_chars(2).cut_after(2));
    let mut body = user_message(cut);
    body["stream"] = json!(true);
    let (_, _, text) = s.server.post_stream("/api/llm/call", &client, body).await;
    assert!(text.contains("error"), "{text}");
    let log = s.server.call_logs().await.pop().unwrap();
    assert_eq!(
        log.completion_tokens,
        Some(4),
        "the four characters that came"
    );
    assert!(log.tokens_estimated);
    let (used, reserved) = s.usage(group_id).await;
    assert_eq!(used, i64::from(log.tokens_used.unwrap()));
    assert_eq!(reserved, 0);
}

#[tokio::test]
async fn kill_9_with_calls_in_flight_leaves_no_reservation() {
    let options = Options::default().env("LLM_PROXY_INSTANCE_LEASE_SECONDS", "3");
    let mut s = setup_with(options.clone()).await;
    let (client, group_id, _) = s.limited_client(1_000_000).await;
    let config_id = s.config(json!({"timeout_seconds": 60})).await;
    s.fake.set_default(Outcome::Hang);

    // A second instance on the same database holds calls of its own.
    let second = s.server.start_beside(options.clone()).await;

    let spawn_calls = |server: &TestServer, n: usize| {
        (0..n)
            .map(|_| {
                let url = server.url("/api/llm/call");
                let http = server.client.clone();
                let (client, body) = (client.clone(), user_message(config_id));
                tokio::spawn(async move {
                    let _ = http.post(url).bearer_auth(client).json(&body).send().await;
                })
            })
            .collect::<Vec<_>>()
    };
    let first_calls = spawn_calls(&s.server, 3);
    let second_calls = spawn_calls(&second, 2);
    assert!(eventually(Duration::from_secs(10), || async { s.fake.hits() >= 5 }).await);
    let (_, reserved) = s.usage(group_id).await;
    assert!(reserved > 0);
    let per_call = reserved / 5;

    s.server.kill9();
    for call in first_calls {
        call.abort();
    }
    // Only the killed instance's reservations are released, once its lease ran out.
    assert!(
        eventually(Duration::from_secs(15), || async {
            group_usage(&s.server, group_id).await.1 == 2 * per_call
        })
        .await,
        "reserved: {:?}",
        group_usage(&s.server, group_id).await
    );
    drop(second);
    for call in second_calls {
        call.abort();
    }
    // Both gone: a restart releases the rest.
    s.server.spawn().await;
    assert!(
        eventually(Duration::from_secs(15), || async {
            s.usage(group_id).await.1 == 0
        })
        .await
    );
    assert_eq!(reservation_rows(&s.server).await, 0);
}

#[tokio::test]
async fn a_shutdown_past_its_grace_records_interrupted_calls() {
    let options = Options::default().env("LLM_PROXY_SHUTDOWN_GRACE_SECONDS", "1");
    let mut s = setup_with(options).await;
    let (client, group_id, _) = s.limited_client(1_000_000).await;
    let config_id = s.config(json!({"timeout_seconds": 60})).await;
    s.fake.set_default(Outcome::Hang);
    let json_call = {
        let url = s.server.url("/api/llm/call");
        let http = s.server.client.clone();
        let (client, body) = (client.clone(), user_message(config_id));
        tokio::spawn(async move {
            let response = http.post(url).bearer_auth(client).json(&body).send().await;
            match response {
                Ok(response) => (
                    response.status().as_u16(),
                    response.text().await.unwrap_or_default(),
                ),
                Err(err) => (0, err.to_string()),
            }
        })
    };
    s.fake.push(Reply::new("开始").stall_after(1));
    s.fake.set_default(Outcome::Hang);
    let stream_call = {
        let url = s.server.url("/api/llm/call");
        let http = s.server.client.clone();
        let mut body = user_message(config_id);
        body["stream"] = json!(true);
        tokio::spawn(async move {
            match http.post(url).bearer_auth(client).json(&body).send().await {
                Ok(response) => response.text().await.unwrap_or_default(),
                Err(err) => err.to_string(),
            }
        })
    };
    assert!(eventually(Duration::from_secs(10), || async { s.fake.hits() >= 2 }).await);
    s.server.stop();
    let (status, text) = json_call.await.unwrap();
    assert_eq!(status, 503, "{text}");
    assert!(text.contains("SERVER_SHUTTING_DOWN"), "{text}");
    let streamed = stream_call.await.unwrap();
    assert!(streamed.contains("SERVER_SHUTTING_DOWN"), "{streamed}");
    let logs = s.server.call_logs().await;
    assert_eq!(logs.len(), 2, "both calls recorded");
    for log in &logs {
        assert_eq!(log.status, "interrupted");
        assert_eq!(log.error_code.as_deref(), Some("SERVER_SHUTDOWN"));
    }
    assert_eq!(s.usage(group_id).await.1, 0, "nothing left reserved");
    assert_eq!(reservation_rows(&s.server).await, 0);
}

#[tokio::test]
async fn a_client_that_hangs_up_mid_stream_is_noticed_while_the_upstream_works() {
    let s = setup().await;
    let (client, _, _) = s.server.client_token(&s.admin).await;
    let config_id = s.config(json!({"timeout_seconds": 30})).await;
    // Three chunks four seconds apart; the client leaves after the first.
    s.fake.push(
        Reply::new("一二三")
            .chunk_chars(1)
            .event_delay(Duration::from_secs(4)),
    );
    let mut body = user_message(config_id);
    body["stream"] = json!(true);
    let mut response = s
        .server
        .client
        .post(s.server.url("/api/llm/call"))
        .bearer_auth(&client)
        .json(&body)
        .send()
        .await
        .unwrap();
    while !String::from_utf8_lossy(&response.chunk().await.unwrap().unwrap()).contains("一") {}
    let left = Instant::now();
    drop(response);
    let logs = s.server.wait_for_logs(1).await;
    assert!(
        left.elapsed() < Duration::from_millis(1500),
        "noticed while the upstream is silent, after {:?}",
        left.elapsed()
    );
    let log = logs.last().unwrap();
    assert_eq!(log.error_code.as_deref(), Some("CLIENT_DISCONNECTED"));
    assert_eq!(log.response_content.as_deref(), Some("一"));
    // Had the request gone on, its pooled connection would stay open once the answer ended;
    // cancelled, its connection closes, and the fake (served like the proxy) sees it at once.
    assert!(
        eventually(Duration::from_secs(1), || async {
            s.fake.open_connections() == 0
        })
        .await,
        "the upstream connection closes within a second"
    );
}

#[tokio::test]
async fn a_client_that_gives_up_on_a_json_call_is_noticed_while_the_upstream_works() {
    let s = setup().await;
    let (client, _, _) = s.server.client_token(&s.admin).await;
    let config_id = s.config(json!({"timeout_seconds": 60})).await;
    // The upstream answers only after wait_for_logs has given up: a record that shows up at
    // all was written when the client left, not when the upstream answered.
    s.fake
        .push(Reply::new("太迟了").delay(Duration::from_secs(40)));
    let request = s
        .server
        .client
        .post(s.server.url("/api/llm/call"))
        .bearer_auth(&client)
        .json(&user_message(config_id));
    let call = tokio::spawn(request.send());
    // The client leaves once the call is with the upstream (not before it arrived, which a
    // short client timeout on a busy machine could do).
    while s.fake.hits() == 0 {
        assert!(!call.is_finished(), "answered before reaching the upstream");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    call.abort();
    let logs = s.server.wait_for_logs(1).await;
    let log = logs
        .last()
        .expect("recorded while the upstream was still working");
    assert_eq!(log.error_code.as_deref(), Some("CLIENT_DISCONNECTED"));
    assert_eq!(log.tokens_used, Some(0), "no output, no charge");
}

#[tokio::test]
async fn a_reader_that_stops_reading_is_cut() {
    let options = Options::default().env("LLM_PROXY_CLIENT_WRITE_TIMEOUT_SECONDS", "1");
    let s = setup_with(options).await;
    let (client, _, _) = s.server.client_token(&s.admin).await;
    let config_id = s.config(json!({"timeout_seconds": 30})).await;
    // Far more than the socket buffers between us hold.
    let long = "长".repeat(6_000_000);
    s.fake.push(Reply::new(&long).chunk_chars(20_000));
    let mut body = user_message(config_id);
    body["stream"] = json!(true);
    let mut response = s
        .server
        .client
        .post(s.server.url("/api/llm/call"))
        .bearer_auth(&client)
        .json(&body)
        .send()
        .await
        .unwrap();
    response.chunk().await.unwrap();
    // Keep the connection open, read nothing.
    let logs = s.server.wait_for_logs(1).await;
    let log = logs.last().expect("the stalled call is recorded");
    assert_eq!(log.error_code.as_deref(), Some("CLIENT_DISCONNECTED"));
    assert!(
        log.error_message
            .as_deref()
            .unwrap()
            .contains("stopped reading"),
        "{:?}",
        log.error_message
    );
    drop(response);
}

#[tokio::test]
async fn a_thinking_phase_longer_than_the_timeout_is_not_cut() {
    let s = setup().await;
    let (client, _, _) = s.server.client_token(&s.admin).await;
    let config_id = s
        .config(json!({"timeout_seconds": 30, "max_retries": 2}))
        .await;
    // Forty seconds of reasoning, a delta every second, with a thirty-second timeout: the
    // timeout counts silence, not the length of the answer.
    let thinking = "想".repeat(40);
    s.fake.push(
        Reply::new("答案")
            .thinking(&thinking)
            .chunk_chars(1)
            .event_delay(Duration::from_secs(1)),
    );
    let mut body = user_message(config_id);
    body["stream"] = json!(true);
    let (status, _, text) = s.server.post_stream("/api/llm/call", &client, body).await;
    assert_eq!(status, 200);
    let events = sse_events(&text);
    assert_eq!(events.last().unwrap().1["type"], "done", "{text}");
    let log = s.server.call_logs().await.pop().unwrap();
    assert_eq!(log.status, "success");
    assert_eq!(log.retry_count, 0);
    assert!(log.duration_ms.unwrap() >= 40_000, "{:?}", log.duration_ms);
    assert_eq!(s.fake.hits(), 1, "never retried, never billed twice");
    assert_eq!(log.response_content.as_deref(), Some("答案"));
    assert_eq!(
        log.response_data.as_ref().unwrap()["reasoning"],
        json!(thinking)
    );

    // A non-streamed call that times out after it was sent is not sent again.
    let short = s
        .config(json!({"timeout_seconds": 2, "max_retries": 2}))
        .await;
    s.fake.push(Outcome::Hang);
    let response = s
        .server
        .post("/api/llm/call", Some(&client), user_message(short))
        .await;
    assert_error(&response, 504, "UPSTREAM_TIMEOUT");
    assert_eq!(s.fake.hits(), 2, "one attempt only");
}

#[tokio::test]
async fn a_row_the_database_refuses_does_not_take_its_batch_with_it() {
    let s = setup().await;
    let (client, _, _) = s.server.client_token(&s.admin).await;
    let config_id = s.config(json!({})).await;
    let db = sea_orm::Database::connect(s.server.effective_database_url())
        .await
        .unwrap();
    if s.server.database_url.is_empty() {
        db.execute_unprepared(
            "CREATE TRIGGER poison BEFORE INSERT ON llm_call_logs \
             WHEN CAST(NEW.request_messages AS TEXT) LIKE '%poison-pill%' \
             BEGIN SELECT RAISE(ABORT, 'poisoned row'); END",
        )
        .await
        .unwrap();
    } else {
        db.execute_unprepared(
            "CREATE FUNCTION poison() RETURNS trigger AS $$ BEGIN \
               IF NEW.request_messages::text LIKE '%poison-pill%' THEN RAISE EXCEPTION 'poisoned row'; END IF; \
               RETURN NEW; END $$ LANGUAGE plpgsql",
        )
        .await
        .unwrap();
        db.execute_unprepared(
            "CREATE TRIGGER poison BEFORE INSERT ON llm_call_logs FOR EACH ROW EXECUTE FUNCTION poison()",
        )
        .await
        .unwrap();
    }
    db.close().await.unwrap();
    s.fake
        .set_default(Reply::new("好").delay(Duration::from_millis(200)));
    // Calls finishing together share batches; one of them carries the poison.
    let calls: Vec<_> = (0..12)
        .map(|i| {
            let text = if i == 5 { "poison-pill" } else { "normal" };
            let body =
                json!({"config_id": config_id, "messages": [{"role": "user", "content": text}]});
            s.spawn_post("/api/llm/call", &client, body)
        })
        .collect();
    for call in calls {
        assert_eq!(call.await.unwrap().status(), 200);
    }
    let logs = s.server.call_logs().await;
    assert_eq!(logs.len(), 12, "every call recorded");
    let stripped: Vec<_> = logs
        .iter()
        .filter(|log| log.request_messages.get("omitted").is_some())
        .collect();
    assert_eq!(stripped.len(), 1, "only the refused row lost its bodies");
    assert!(logs.iter().all(|log| log.status == "success"));
}

/// Calls that finish together are written as one batch, their records inserted several rows
/// a statement: each answer still names its own record, which holds that call's question and
/// is found by it (its search text went in beside the right id), on both databases.
#[tokio::test]
async fn calls_recorded_in_one_batch_each_name_their_own_record() {
    const CALLS: usize = 23;
    let s = setup_with(
        Options::default()
            .env("LLM_PROXY_METRICS_ENABLED", "true")
            .env("LLM_PROXY_METRICS_TOKEN", "metrics-token-for-batches")
            .env("LLM_PROXY_METRICS_BIND", ""),
    )
    .await;
    let (client, _, _) = s.server.client_token(&s.admin).await;
    let config_id = s.config(json!({})).await;
    s.fake
        .set_default(Reply::new("好").delay(Duration::from_millis(300)));
    let calls: Vec<_> = (0..CALLS)
        .map(|i| {
            let question = format!("batched-question-{i:02}");
            let body = json!({"config_id": config_id, "messages": [{"role": "user", "content": question}]});
            (question, s.spawn_post("/api/llm/call", &client, body))
        })
        .collect();
    let mut answered = Vec::new();
    for (question, call) in calls {
        let response = call.await.unwrap();
        assert_eq!(response.status(), 200);
        let body: Value = response.json().await.unwrap();
        answered.push((question, body["data"]["call_log_id"].as_i64().unwrap()));
    }
    let logs = s.server.call_logs().await;
    assert_eq!(logs.len(), CALLS);
    for (question, id) in &answered {
        let log = logs.iter().find(|log| log.id == *id).unwrap();
        assert!(
            log.request_messages.to_string().contains(question.as_str()),
            "record {id} is not the one of {question}: {}",
            log.request_messages
        );
        let found = s
            .server
            .get(&format!("/api/admin/llm/logs?q={question}"), Some(&s.admin))
            .await;
        let ids: Vec<i64> = found.body["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|log| log.as_object().unwrap()["id"].as_i64().unwrap())
            .collect();
        assert_eq!(ids, [*id], "searching {question}: {}", found.text);
    }
    let scrape = s
        .server
        .get("/metrics", Some("metrics-token-for-batches"))
        .await;
    let batches: f64 = scrape
        .text
        .lines()
        .find_map(|line| line.strip_prefix("llm_proxy_record_batch_size_count "))
        .and_then(|count| count.trim().parse().ok())
        .unwrap_or_else(|| panic!("no batch count: {}", scrape.text));
    assert!(
        batches < CALLS as f64 / 2.0,
        "the calls were not written in batches: {batches} batches for {CALLS} calls"
    );
}
