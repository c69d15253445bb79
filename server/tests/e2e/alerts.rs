//! Alerts through the real server: quota and budget thresholds, a key set aside, an error
//! rate, a crash; each once per period; delivered to local receivers in every webhook
//! format (signatures recomputed here), retried, and never carrying a secret.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;
use crate::fake_upstream;

use std::{
    collections::VecDeque,
    convert::Infallible,
    net::SocketAddr,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use base64::{Engine, engine::general_purpose::STANDARD};
use bytes::Bytes;
use common::{Options, TestServer};
use fake_upstream::{FakeUpstream, Outcome, Reply};
use hmac::{Hmac, Mac};
use http_body_util::{BodyExt, Full};
use llm_proxy::providers::ProviderKind;
use serde_json::{Value, json};
use sha2::Sha256;

const WECOM_KEY: &str = "wecom-token-7f3a9c1e5b";
const DING_TOKEN: &str = "ding-access-token-42c8e1";
const DING_SECRET: &str = "SECding0123456789abcdef";
const FEISHU_TOKEN: &str = "feishu-hook-token-9d2b7a";
const FEISHU_SECRET: &str = "feishu-signing-secret-55";
const GENERIC_TOKEN: &str = "generic-path-token-31415";
const PROVIDER_BAD_KEY: &str = "sk-revoked-alerts-000000000";

/// One request a receiver got.
#[derive(Debug, Clone)]
struct Received {
    path: String,
    query: String,
    body: Value,
}

/// A local HTTP server standing in for a robot: records each request and answers from its
/// script (then its default).
struct Receiver {
    addr: SocketAddr,
    received: Arc<Mutex<Vec<Received>>>,
    script: Arc<Mutex<VecDeque<(u16, String)>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Receiver {
    async fn start(default: (u16, &str)) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let received = Arc::new(Mutex::new(Vec::new()));
        let script: Arc<Mutex<VecDeque<(u16, String)>>> = Arc::default();
        let default = (default.0, default.1.to_string());
        let (log, queue) = (received.clone(), script.clone());
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let (log, queue, default) = (log.clone(), queue.clone(), default.clone());
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(
                        move |request: hyper::Request<hyper::body::Incoming>| {
                            let (log, queue, default) =
                                (log.clone(), queue.clone(), default.clone());
                            async move {
                                let (parts, body) = hyper::Request::into_parts(request);
                                let bytes = body.collect().await.unwrap().to_bytes();
                                log.lock().unwrap().push(Received {
                                    path: parts.uri.path().to_string(),
                                    query: parts.uri.query().unwrap_or_default().to_string(),
                                    body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
                                });
                                let (status, body) =
                                    queue.lock().unwrap().pop_front().unwrap_or(default);
                                let response = hyper::Response::builder()
                                    .status(status)
                                    .header("content-type", "application/json")
                                    .body(Full::new(Bytes::from(body)))
                                    .unwrap();
                                Ok::<_, Infallible>(response)
                            }
                        },
                    );
                    let io = hyper_util::rt::TokioIo::new(stream);
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(io, service)
                        .await;
                });
            }
        });
        Self {
            addr,
            received,
            script,
            task,
        }
    }

    fn url(&self, path_and_query: &str) -> String {
        format!("http://{}{path_and_query}", self.addr)
    }

    fn push(&self, status: u16, body: &str) {
        self.script
            .lock()
            .unwrap()
            .push_back((status, body.to_string()));
    }

    fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    async fn wait_for(&self, count: usize) -> Vec<Received> {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let got = self.received();
            if got.len() >= count || Instant::now() > deadline {
                return got;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

fn fast_alerts() -> Options {
    Options::default()
        .env("LLM_PROXY_ALERTS_CHECK_INTERVAL_SECONDS", "1")
        .env("LLM_PROXY_ALERTS_ERROR_RATE_MIN_CALLS", "3")
        .env("LLM_PROXY_ALERTS_ERROR_RATE_PERCENT", "50")
}

fn ask(config_id: i64, text: &str) -> Value {
    json!({"config_id": config_id, "messages": [{"role": "user", "content": text}]})
}

/// An OpenAI config priced by output only (100 CNY per million), so cost thresholds follow
/// the completion.
async fn config(
    server: &TestServer,
    fake: &FakeUpstream,
    admin: &str,
    name: &str,
    extra: Value,
) -> i64 {
    let mut body = json!({"currency": "CNY", "input_price": 0.0, "output_price": 100.0});
    for (key, value) in extra.as_object().unwrap() {
        body[key] = value.clone();
    }
    crate::governance::openai_config(server, fake, admin, name, body).await
}

/// A group and a client token in it.
async fn group_client(server: &TestServer, admin: &str, group: Value) -> (i64, String) {
    let (group_id, token, _) = crate::governance::group_client(server, admin, group).await;
    (group_id, token)
}

async fn alerts(server: &TestServer, admin: &str) -> Vec<Value> {
    let page = server
        .get("/api/admin/alerts?page_size=100", Some(admin))
        .await;
    assert_eq!(page.status, 200, "{}", page.text);
    page.body["data"]["items"].as_array().unwrap().clone()
}

fn of_kind<'a>(alerts: &'a [Value], kind: &str) -> Vec<&'a Value> {
    alerts.iter().filter(|a| a["kind"] == kind).collect()
}

/// Waits until `done` holds for the alert list (or 30 s pass) and returns the list.
async fn wait_alerts(
    server: &TestServer,
    admin: &str,
    done: impl Fn(&[Value]) -> bool,
) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let list = alerts(server, admin).await;
        if done(&list) || Instant::now() > deadline {
            return list;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn add_webhook(server: &TestServer, admin: &str, body: Value) -> i64 {
    let created = server.post("/api/admin/webhooks", Some(admin), body).await;
    assert_eq!(created.status, 200, "{}", created.text);
    created.body["data"]["id"].as_i64().unwrap()
}

fn hmac_sha256(key: &[u8], message: &[u8]) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).unwrap();
    mac.update(message);
    mac.finalize().into_bytes().to_vec()
}

fn query_param(query: &str, name: &str) -> Option<String> {
    url::form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

fn assert_no_secret(what: &str, text: &str) {
    for secret in [
        WECOM_KEY,
        DING_TOKEN,
        DING_SECRET,
        FEISHU_TOKEN,
        FEISHU_SECRET,
        GENERIC_TOKEN,
        PROVIDER_BAD_KEY,
    ] {
        assert!(
            !text.contains(secret),
            "{what} contains a secret ({secret}): {text}"
        );
    }
    let good_key = FakeUpstream::key(ProviderKind::Openai);
    assert!(
        !text.contains(&good_key),
        "{what} contains the provider key"
    );
}

#[tokio::test]
async fn every_webhook_format_is_received_signed_and_without_secrets() {
    let fake = FakeUpstream::start().await;
    let ok_code = Receiver::start((200, r#"{"errcode":0,"errmsg":"ok"}"#)).await;
    let feishu = Receiver::start((200, r#"{"code":0,"msg":"success","data":{}}"#)).await;
    let generic = Receiver::start((204, "")).await;
    let server = TestServer::start_with(fast_alerts()).await;
    let admin = server.admin_token().await;

    let wecom_id = add_webhook(
        &server,
        &admin,
        json!({
            "name": "企业微信群", "type": "wecom",
            "url": ok_code.url(&format!("/cgi-bin/webhook/send?key={WECOM_KEY}")),
        }),
    )
    .await;
    let ding_id = add_webhook(
        &server,
        &admin,
        json!({
            "name": "钉钉群", "type": "dingtalk",
            "url": ok_code.url(&format!("/robot/send?access_token={DING_TOKEN}")),
            "secret": DING_SECRET,
        }),
    )
    .await;
    add_webhook(
        &server,
        &admin,
        json!({
            "name": "飞书群", "type": "feishu",
            "url": feishu.url(&format!("/open-apis/bot/v2/hook/{FEISHU_TOKEN}")),
            "secret": FEISHU_SECRET,
        }),
    )
    .await;
    add_webhook(
        &server,
        &admin,
        json!({
            "name": "自建接收", "type": "generic",
            "url": generic.url(&format!("/hooks/{GENERIC_TOKEN}")),
        }),
    )
    .await;
    // A secret is only for the kinds that sign.
    let refused = server
        .post(
            "/api/admin/webhooks",
            Some(&admin),
            json!({
            "name": "x", "type": "wecom", "url": ok_code.url("/x"), "secret": "s"}),
        )
        .await;
    common::assert_error(&refused, 422, "VALIDATION_FAILED");

    let list = server.get("/api/admin/webhooks", Some(&admin)).await;
    assert_eq!(list.status, 200);
    assert_no_secret("webhook list", &list.text);
    let hooks = list.body["data"].as_array().unwrap();
    assert_eq!(hooks.len(), 4);
    assert_eq!(hooks[0]["url_hint"], format!("http://127.0.0.1/…"));
    assert_eq!(hooks[1]["has_secret"], true);
    assert_eq!(hooks[0]["has_secret"], false);

    // A group reaches 80 % of its daily tokens: one alert, sent to every webhook.
    let config_id = config(&server, &fake, &admin, "c", json!({})).await;
    let (_, client) = group_client(
        &server,
        &admin,
        json!({"name": "研发部", "daily_token_limit": 100}),
    )
    .await;
    fake.push(Reply::new("ok").usage(50, 35));
    let answered = server
        .post("/api/llm/call", Some(&client), ask(config_id, "hi"))
        .await;
    assert_eq!(answered.status, 200, "{}", answered.text);

    let robots = ok_code.wait_for(2).await;
    let feishu_got = feishu.wait_for(1).await;
    let generic_got = generic.wait_for(1).await;
    assert_eq!(robots.len(), 2, "{robots:?}");

    let wecom = robots
        .iter()
        .find(|r| r.path == "/cgi-bin/webhook/send")
        .unwrap();
    assert_eq!(query_param(&wecom.query, "key").as_deref(), Some(WECOM_KEY));
    assert_eq!(wecom.body["msgtype"], "markdown");
    let content = wecom.body["markdown"]["content"].as_str().unwrap();
    assert!(
        content.contains("研发部") && content.contains("80%"),
        "{content}"
    );

    let ding = robots.iter().find(|r| r.path == "/robot/send").unwrap();
    assert_eq!(
        query_param(&ding.query, "access_token").as_deref(),
        Some(DING_TOKEN)
    );
    let timestamp = query_param(&ding.query, "timestamp").unwrap();
    let millis: i64 = timestamp.parse().unwrap();
    assert!(
        (chrono::Utc::now().timestamp_millis() - millis).abs() < 60_000,
        "milliseconds"
    );
    let expected = STANDARD.encode(hmac_sha256(
        DING_SECRET.as_bytes(),
        format!("{timestamp}\n{DING_SECRET}").as_bytes(),
    ));
    // The raw query carries the url-encoded signature; decoded it is the base64 HMAC.
    assert_eq!(query_param(&ding.query, "sign").unwrap(), expected);
    // On the wire every `+`, `/` and `=` of the base64 is percent-encoded.
    let raw_sign = ding
        .query
        .split('&')
        .find_map(|p| p.strip_prefix("sign="))
        .unwrap();
    assert!(!raw_sign.contains(['+', '/', '=']), "{raw_sign}");
    assert_eq!(ding.body["msgtype"], "markdown");
    assert!(
        ding.body["markdown"]["title"]
            .as_str()
            .unwrap()
            .contains("研发部")
    );

    let feishu_body = &feishu_got[0].body;
    assert_eq!(
        feishu_got[0].path,
        format!("/open-apis/bot/v2/hook/{FEISHU_TOKEN}")
    );
    let ts = feishu_body["timestamp"]
        .as_str()
        .expect("timestamp is a string");
    let seconds: i64 = ts.parse().unwrap();
    assert!(
        (chrono::Utc::now().timestamp() - seconds).abs() < 60,
        "seconds"
    );
    let expected = STANDARD.encode(hmac_sha256(
        format!("{ts}\n{FEISHU_SECRET}").as_bytes(),
        b"",
    ));
    assert_eq!(feishu_body["sign"], expected);
    assert_eq!(feishu_body["msg_type"], "text");
    assert!(
        feishu_body["content"]["text"]
            .as_str()
            .unwrap()
            .contains("研发部")
    );

    let generic_body = &generic_got[0].body;
    assert_eq!(generic_body["kind"], "token_quota_80");
    assert_eq!(generic_body["severity"], "warning");
    let subject = generic_body["subject"].as_str().unwrap();
    assert!(
        subject.starts_with("group:") && subject.ends_with(":day"),
        "{subject}"
    );
    assert!(generic_body["message"].as_str().unwrap().contains("85"));

    // The deliveries show on the alert, all delivered at the first attempt.
    let list = wait_alerts(&server, &admin, |list| {
        list.iter().all(|a| {
            a["deliveries"]
                .as_array()
                .unwrap()
                .iter()
                .all(|d| d["status"] == "delivered")
        })
    })
    .await;
    assert_eq!(list.len(), 1, "{list:?}");
    let deliveries = list[0]["deliveries"].as_array().unwrap();
    assert_eq!(deliveries.len(), 4);
    assert!(deliveries.iter().all(|d| d["attempts"] == 1));

    // The test button sends one message now and says how it went.
    let tested = server
        .post(
            &format!("/api/admin/webhooks/{ding_id}/test"),
            Some(&admin),
            json!({}),
        )
        .await;
    assert_eq!(tested.status, 200, "{}", tested.text);
    assert_eq!(tested.body["data"]["delivered"], true);
    assert_eq!(ok_code.received().len(), 3);

    // Editing without the URL keeps it; the list still shows no token.
    let renamed = server
        .put(
            &format!("/api/admin/webhooks/{wecom_id}"),
            Some(&admin),
            json!({"name": "企微-值班"}),
        )
        .await;
    assert_eq!(renamed.status, 200, "{}", renamed.text);
    assert_no_secret("webhook update", &renamed.text);
    let tested = server
        .post(
            &format!("/api/admin/webhooks/{wecom_id}/test"),
            Some(&admin),
            json!({}),
        )
        .await;
    assert_eq!(tested.body["data"]["delivered"], true, "{}", tested.text);

    let page = server.get("/api/admin/alerts", Some(&admin)).await;
    assert_no_secret("alert list", &page.text);
    assert_no_secret("server log", &server.output());
    let plain = common::files_containing(&server.data_dir(), WECOM_KEY.as_bytes());
    assert!(plain.is_empty(), "the WeCom key in plain text in {plain:?}");
}

#[tokio::test]
async fn a_failing_receiver_is_retried_and_its_failures_are_visible() {
    let fake = FakeUpstream::start().await;
    let flaky = Receiver::start((200, "{}")).await;
    flaky.push(500, "oops");
    flaky.push(503, "busy");
    let refusing =
        Receiver::start((200, r#"{"errcode":93000,"errmsg":"invalid webhook url"}"#)).await;
    let server = TestServer::start_with(fast_alerts()).await;
    let admin = server.admin_token().await;
    let flaky_id = add_webhook(
        &server,
        &admin,
        json!({
            "name": "不稳定", "type": "generic",
            "url": flaky.url(&format!("/in?token={GENERIC_TOKEN}")),
        }),
    )
    .await;
    let refusing_id = add_webhook(
        &server,
        &admin,
        json!({
            "name": "已删除的机器人", "type": "wecom",
            "url": refusing.url(&format!("/cgi-bin/webhook/send?key={WECOM_KEY}")),
        }),
    )
    .await;

    let config_id = config(&server, &fake, &admin, "c", json!({})).await;
    let (_, client) = group_client(
        &server,
        &admin,
        json!({"name": "g", "daily_token_limit": 100}),
    )
    .await;
    fake.push(Reply::new("ok").usage(50, 40));
    assert_eq!(
        server
            .post("/api/llm/call", Some(&client), ask(config_id, "hi"))
            .await
            .status,
        200
    );

    let got = flaky.wait_for(3).await;
    assert_eq!(got.len(), 3, "two failures, then delivered");
    let list = wait_alerts(&server, &admin, |list| {
        list.first().is_some_and(|a| {
            a["deliveries"]
                .as_array()
                .unwrap()
                .iter()
                .any(|d| d["webhook_id"] == flaky_id && d["status"] == "delivered")
        })
    })
    .await;
    let deliveries = list[0]["deliveries"].as_array().unwrap();
    let flaky_delivery = deliveries
        .iter()
        .find(|d| d["webhook_id"] == flaky_id)
        .unwrap();
    assert_eq!(flaky_delivery["attempts"], 3);
    let log = flaky_delivery["log"].as_array().unwrap();
    assert_eq!(log.len(), 3);
    assert_eq!(log[0]["ok"], false);
    assert!(log[0]["detail"].as_str().unwrap().contains("500"));
    assert!(log[1]["detail"].as_str().unwrap().contains("503"));
    assert_eq!(log[2]["ok"], true);

    // The robot's own error body is a failure, and a permanent one: no retry.
    let refused = deliveries
        .iter()
        .find(|d| d["webhook_id"] == refusing_id)
        .unwrap();
    assert_eq!(refused["status"], "failed", "{refused}");
    assert_eq!(refused["attempts"], 1);
    assert!(refused["last_error"].as_str().unwrap().contains("93000"));
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(refusing.received().len(), 1);

    let hooks = server.get("/api/admin/webhooks", Some(&admin)).await;
    let hooks = hooks.body["data"].as_array().unwrap();
    let flaky_view = hooks.iter().find(|h| h["id"] == flaky_id).unwrap();
    assert_eq!(flaky_view["last_status"], "delivered");
    let refusing_view = hooks.iter().find(|h| h["id"] == refusing_id).unwrap();
    assert_eq!(refusing_view["last_status"], "failed");
    assert!(
        refusing_view["last_error"]
            .as_str()
            .unwrap()
            .contains("93000")
    );
    assert!(refusing_view["last_attempt_at"].is_string());

    // An unreachable webhook's error names no URL or token.
    let gone = add_webhook(
        &server,
        &admin,
        json!({
            "name": "无法连接", "type": "dingtalk",
            "url": format!("http://127.0.0.1:9/robot/send?access_token={DING_TOKEN}"),
            "secret": DING_SECRET,
        }),
    )
    .await;
    let tested = server
        .post(
            &format!("/api/admin/webhooks/{gone}/test"),
            Some(&admin),
            json!({}),
        )
        .await;
    assert_eq!(tested.status, 200, "{}", tested.text);
    assert_eq!(tested.body["data"]["delivered"], false);
    assert!(!tested.body["data"]["error"].as_str().unwrap().is_empty());
    assert_no_secret("test answer", &tested.text);
    assert_no_secret(
        "alerts",
        &server.get("/api/admin/alerts", Some(&admin)).await.text,
    );
    assert_no_secret(
        "webhooks",
        &server.get("/api/admin/webhooks", Some(&admin)).await.text,
    );
    assert_no_secret("server log", &server.output());
}

#[tokio::test]
async fn token_and_cost_thresholds_fire_once_each_per_period() {
    let fake = FakeUpstream::start().await;
    fake.set_default(Reply::new("ok").usage(1, 100));
    let server = TestServer::start_with(fast_alerts()).await;
    let admin = server.admin_token().await;
    let config_id = config(&server, &fake, &admin, "c", json!({})).await;
    let (tokens_group, tokens) = group_client(
        &server,
        &admin,
        json!({"name": "Token组", "daily_token_limit": 100}),
    )
    .await;
    // Each call costs 100 output tokens at 100 CNY per million: 0.01 CNY.
    let (cost_group, cost) = group_client(
        &server,
        &admin,
        json!({"name": "预算组", "daily_cost_limit": 0.05, "cost_currency": "CNY"}),
    )
    .await;

    let kinds = |list: &[Value], kind: &str, group: i64| {
        list.iter()
            .filter(|a| a["kind"] == kind && a["subject"] == format!("group:{group}:day"))
            .count()
    };

    fake.push(Reply::new("ok").usage(50, 35));
    assert_eq!(
        server
            .post("/api/llm/call", Some(&tokens), ask(config_id, "1"))
            .await
            .status,
        200
    );
    let list = wait_alerts(&server, &admin, |l| {
        kinds(l, "token_quota_80", tokens_group) == 1
    })
    .await;
    assert_eq!(kinds(&list, "token_quota_80", tokens_group), 1);
    assert_eq!(kinds(&list, "token_quota_100", tokens_group), 0);
    // Another call under the limit: no new alert.
    fake.push(Reply::new("ok").usage(5, 5));
    assert_eq!(
        server
            .post("/api/llm/call", Some(&tokens), ask(config_id, "2"))
            .await
            .status,
        200
    );
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let list = alerts(&server, &admin).await;
    assert_eq!(kinds(&list, "token_quota_80", tokens_group), 1, "{list:?}");
    assert_eq!(kinds(&list, "token_quota_100", tokens_group), 0);
    // Over the limit, then refused: 100 % once.
    fake.push(Reply::new("ok").usage(5, 10));
    assert_eq!(
        server
            .post("/api/llm/call", Some(&tokens), ask(config_id, "3"))
            .await
            .status,
        200
    );
    let refused = server
        .post("/api/llm/call", Some(&tokens), ask(config_id, "4"))
        .await;
    common::assert_error(&refused, 429, "QUOTA_EXCEEDED");
    let refused = server
        .post("/api/llm/call", Some(&tokens), ask(config_id, "5"))
        .await;
    common::assert_error(&refused, 429, "QUOTA_EXCEEDED");
    let list = wait_alerts(&server, &admin, |l| {
        kinds(l, "token_quota_100", tokens_group) == 1
    })
    .await;
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let list2 = alerts(&server, &admin).await;
    assert_eq!(
        kinds(&list2, "token_quota_100", tokens_group),
        1,
        "{list:?}"
    );
    assert_eq!(kinds(&list2, "token_quota_80", tokens_group), 1);
    let full = of_kind(&list2, "token_quota_100")[0];
    assert_eq!(full["severity"], "critical");
    assert!(full["title"].as_str().unwrap().contains("Token组"));

    // Money: 4 × 0.01 of 0.05 is 80 %, the fifth fills it, the sixth is refused.
    for i in 0..4 {
        let answered = server
            .post("/api/llm/call", Some(&cost), ask(config_id, &i.to_string()))
            .await;
        assert_eq!(answered.status, 200, "{}", answered.text);
    }
    let list = wait_alerts(&server, &admin, |l| {
        kinds(l, "cost_budget_80", cost_group) == 1
    })
    .await;
    assert_eq!(kinds(&list, "cost_budget_80", cost_group), 1, "{list:?}");
    assert_eq!(kinds(&list, "cost_budget_100", cost_group), 0);
    // The fifth fits exactly (or, with float rounding, is refused at the limit): 100 % either way.
    let fifth = server
        .post("/api/llm/call", Some(&cost), ask(config_id, "5"))
        .await;
    assert!(fifth.status == 200 || fifth.status == 429, "{}", fifth.text);
    let refused = server
        .post("/api/llm/call", Some(&cost), ask(config_id, "6"))
        .await;
    common::assert_error(&refused, 429, "BUDGET_EXCEEDED");
    wait_alerts(&server, &admin, |l| {
        kinds(l, "cost_budget_100", cost_group) == 1
    })
    .await;
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let list = alerts(&server, &admin).await;
    assert_eq!(kinds(&list, "cost_budget_100", cost_group), 1, "{list:?}");
    assert_eq!(kinds(&list, "cost_budget_80", cost_group), 1);
    assert!(
        of_kind(&list, "cost_budget_100")[0]["message"]
            .as_str()
            .unwrap()
            .contains("CNY")
    );
    assert_eq!(list.len(), 4, "nothing else fired: {list:?}");

    // A restart does not repeat them (the database keeps each period's event).
    let mut server = server;
    server.stop();
    server.spawn().await;
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let admin = server.admin_token().await;
    assert_eq!(alerts(&server, &admin).await.len(), 4);

    // Marking read.
    let page = server.get("/api/admin/alerts", Some(&admin)).await;
    assert_eq!(page.body["data"]["unread"], 4);
    let marked = server
        .post("/api/admin/alerts/read", Some(&admin), json!({}))
        .await;
    assert_eq!(marked.body["data"]["updated"], 4, "{}", marked.text);
    let page = server.get("/api/admin/alerts", Some(&admin)).await;
    assert_eq!(page.body["data"]["unread"], 0);
    assert!(page.body["data"]["items"][0]["read_at"].is_string());
}

#[tokio::test]
async fn a_key_set_aside_and_an_error_rate_fire() {
    let fake = FakeUpstream::start().await;
    fake.set_default(Reply::new("ok").usage(5, 5));
    let server = TestServer::start_with(fast_alerts()).await;
    let admin = server.admin_token().await;
    let good = FakeUpstream::key(ProviderKind::Openai);
    let two_keys = config(
        &server,
        &fake,
        &admin,
        "两个Key",
        json!({"api_key": format!("{PROVIDER_BAD_KEY}\n{good}")}),
    )
    .await;
    let failing = config(&server, &fake, &admin, "总失败", json!({})).await;
    let (_, client) = group_client(&server, &admin, json!({"name": "g"})).await;

    let answered = server
        .post("/api/llm/call", Some(&client), ask(two_keys, "hi"))
        .await;
    assert_eq!(answered.status, 200, "{}", answered.text);
    let list = wait_alerts(&server, &admin, |l| !of_kind(l, "key_set_aside").is_empty()).await;
    let set_aside = of_kind(&list, "key_set_aside");
    assert_eq!(set_aside.len(), 1, "{list:?}");
    assert_eq!(set_aside[0]["subject"], format!("config:{two_keys}:key:1"));
    assert!(
        set_aside[0]["message"]
            .as_str()
            .unwrap()
            .contains("第 1 个密钥")
    );

    // Three calls, all failing: 100 % of at least 3 calls.
    fake.set_default(Outcome::http(500, "server_error", "upstream exploded"));
    for _ in 0..3 {
        let failed = server
            .post("/api/llm/call", Some(&client), ask(failing, "hi"))
            .await;
        assert_eq!(failed.status, 502, "{}", failed.text);
    }
    let list = wait_alerts(&server, &admin, |l| !of_kind(l, "error_rate").is_empty()).await;
    let rate = of_kind(&list, "error_rate");
    assert_eq!(rate.len(), 1, "{list:?}");
    assert_eq!(rate[0]["subject"], format!("config:{failing}"));
    assert!(rate[0]["message"].as_str().unwrap().contains("100%"));
    // The healthy config stays quiet (1 success, under the minimum of calls anyway).
    assert!(
        list.iter()
            .all(|a| a["subject"] != format!("config:{two_keys}"))
    );
    // More failures in the same hour: still one.
    let failed = server
        .post("/api/llm/call", Some(&client), ask(failing, "hi"))
        .await;
    assert_eq!(failed.status, 502);
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(
        of_kind(&alerts(&server, &admin).await, "error_rate").len(),
        1
    );

    let page = server.get("/api/admin/alerts", Some(&admin)).await;
    assert_no_secret("alerts", &page.text);
    assert_no_secret("server log", &server.output());
}

#[tokio::test]
async fn a_restart_after_a_crash_is_reported_once() {
    let mut server =
        TestServer::start_with(fast_alerts().env("LLM_PROXY_INSTANCE_LEASE_SECONDS", "3")).await;
    let admin = server.admin_token().await;
    // A clean stop and start is no crash.
    server.stop();
    server.spawn().await;
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert!(of_kind(&alerts(&server, &admin).await, "crash_restart").is_empty());

    let pid = server.pid().unwrap();
    server.kill9();
    server.spawn().await;
    let list = wait_alerts(&server, &admin, |l| !of_kind(l, "crash_restart").is_empty()).await;
    let crashes = of_kind(&list, "crash_restart");
    assert_eq!(crashes.len(), 1, "{list:?}");
    assert!(
        crashes[0]["message"]
            .as_str()
            .unwrap()
            .contains(&pid.to_string())
    );
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert_eq!(
        of_kind(&alerts(&server, &admin).await, "crash_restart").len(),
        1
    );
}

/// A burst of alerts to one robot goes out at its pace: 20 a minute (钉钉 blocks a robot for
/// ten minutes past that), the rest waiting untouched; a test message counts too.
#[tokio::test]
async fn a_robot_is_sent_at_most_its_limit_per_minute() {
    use entity::{alert_deliveries, alerts};
    use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};

    let server = TestServer::start_with(fast_alerts()).await;
    let admin = server.admin_token().await;
    let robot = Receiver::start((200, r#"{"errcode":0,"errmsg":"ok"}"#)).await;
    let webhook_id = add_webhook(
        &server,
        &admin,
        json!({
            "name": "钉钉群", "type": "dingtalk",
            "url": robot.url(&format!("/robot/send?access_token={DING_TOKEN}")),
        }),
    )
    .await;
    // 25 alerts at once, as a run of quota thresholds would raise them.
    let db = sea_orm::Database::connect(server.effective_database_url())
        .await
        .unwrap();
    let now = chrono::Utc::now();
    for n in 0..25 {
        let alert = alerts::ActiveModel {
            kind: Set("quota_warning".into()),
            subject: Set(format!("group:{n}:day")),
            period: Set(now.format("%Y-%m-%d").to_string()),
            severity: Set("warning".into()),
            title: Set(format!("分组 {n} 今日用量已达 80%")),
            message: Set("用量提醒".into()),
            read_at: Set(None),
            created_at: Set(now),
            ..Default::default()
        }
        .insert(&db)
        .await
        .unwrap();
        alert_deliveries::ActiveModel {
            alert_id: Set(alert.id),
            webhook_id: Set(webhook_id as i32),
            status: Set("pending".into()),
            attempts: Set(0),
            next_attempt_at: Set(now),
            last_error: Set(None),
            log: Set("[]".into()),
            delivered_at: Set(None),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(&db)
        .await
        .unwrap();
    }

    assert_eq!(robot.wait_for(20).await.len(), 20);
    // Time for more to go out if nothing held them back.
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert_eq!(robot.received().len(), 20, "more than 20 in a minute");
    let waiting = alert_deliveries::Entity::find()
        .filter(alert_deliveries::Column::Status.eq("pending"))
        .all(&db)
        .await
        .unwrap();
    assert_eq!(waiting.len(), 5, "{waiting:?}");
    assert!(waiting.iter().all(|d| d.attempts == 0), "{waiting:?}");

    let test = server
        .post(
            &format!("/api/admin/webhooks/{webhook_id}/test"),
            Some(&admin),
            json!({}),
        )
        .await;
    common::assert_error(&test, 429, "WEBHOOK_RATE_LIMITED");
    assert_eq!(robot.received().len(), 20);
}
