//! Limits, call-log search, export, statistics and retention through the real server.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;
use crate::fake_upstream;

use std::time::Duration;

use chrono::{Datelike, TimeZone, Utc};
use common::{Options, TestServer, assert_error, sample_config};
use fake_upstream::{FakeUpstream, Outcome, Reply};
use llm_proxy::providers::ProviderKind;
use serde_json::{Value, json};

pub(crate) async fn openai_config(
    server: &TestServer,
    fake: &FakeUpstream,
    admin: &str,
    name: &str,
    extra: Value,
) -> i64 {
    let mut body = json!({
        "name": name,
        "provider": "openai",
        "api_url": fake.url(ProviderKind::Openai),
        "api_key": FakeUpstream::key(ProviderKind::Openai),
        "model": "gpt-4o-mini",
        "max_tokens": 100,
        "max_retries": 0,
        "input_price": 1.0,
        "output_price": 2.0,
    });
    for (key, value) in extra.as_object().unwrap() {
        body[key] = value.clone();
    }
    let created = server
        .post("/api/admin/llm/configs", Some(admin), body)
        .await;
    assert_eq!(created.status, 200, "{}", created.text);
    created.body["data"]["id"].as_i64().unwrap()
}

pub(crate) async fn group_client(
    server: &TestServer,
    admin: &str,
    group: Value,
) -> (i64, String, String) {
    let created = server.post("/api/admin/groups", Some(admin), group).await;
    assert_eq!(created.status, 200, "{}", created.text);
    let group_id = created.body["data"]["id"].as_i64().unwrap();
    let code = server
        .post(
            "/api/admin/activation-codes",
            Some(admin),
            json!({"group_id": group_id}),
        )
        .await;
    let code = code.body["data"]["code"].as_str().unwrap().to_string();
    let token = server
        .post("/api/auth/activate", None, json!({"activation_code": code}))
        .await;
    (
        group_id,
        token.body["data"]["token"].as_str().unwrap().to_string(),
        code,
    )
}

fn ask(config_id: i64, text: &str) -> Value {
    json!({"config_id": config_id, "messages": [{"role": "user", "content": text}]})
}

#[tokio::test]
async fn rate_limit_refuses_without_calling_upstream_and_recovers() {
    let fake = FakeUpstream::start().await;
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let config = openai_config(&server, &fake, &admin, "c", json!({})).await;
    let (group_id, client, _) = group_client(
        &server,
        &admin,
        json!({"name": "限速组", "requests_per_minute": 20}),
    )
    .await;
    for _ in 0..20 {
        let ok = server
            .post("/api/llm/call", Some(&client), ask(config, "hi"))
            .await;
        assert_eq!(ok.status, 200, "{}", ok.text);
    }
    let hits = fake.hits();
    let limited = server
        .post("/api/llm/call", Some(&client), ask(config, "hi"))
        .await;
    assert_error(&limited, 429, "RATE_LIMITED");
    let wait: u64 = limited.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        (1..=3).contains(&wait),
        "one request per 3 s comes back: {wait}"
    );
    assert_eq!(fake.hits(), hits, "nothing sent upstream");
    tokio::time::sleep(Duration::from_secs(wait)).await;
    let again = server
        .post("/api/llm/call", Some(&client), ask(config, "hi"))
        .await;
    assert_eq!(again.status, 200, "{}", again.text);

    // An admin's edit takes effect at once.
    server
        .put(
            &format!("/api/admin/groups/{group_id}"),
            Some(&admin),
            json!({"requests_per_minute": 1000}),
        )
        .await;
    let raised = server
        .post("/api/llm/call", Some(&client), ask(config, "hi"))
        .await;
    assert_eq!(raised.status, 200, "{}", raised.text);
}

/// Seconds to add to the real clock so the configured (Shanghai) clock reads `target`.
fn offset_to(target: chrono::DateTime<Utc>) -> i64 {
    (target - Utc::now()).num_seconds()
}

#[tokio::test]
async fn daily_quota_refuses_then_resets_at_local_midnight() {
    let shanghai = chrono_tz::Asia::Shanghai;
    let now = Utc::now().with_timezone(&shanghai);
    let next_midnight = shanghai
        .with_ymd_and_hms(now.year(), now.month(), now.day(), 0, 0, 0)
        .unwrap()
        + chrono::Duration::days(1);
    let offset = offset_to(next_midnight.with_timezone(&Utc) - chrono::Duration::seconds(4));
    let fake = FakeUpstream::start().await;
    fake.set_default(Reply::new("ok").usage(40, 30));
    let server = TestServer::start_with(
        Options::default().env("LLM_PROXY_CLOCK_OFFSET_SECONDS", &offset.to_string()),
    )
    .await;
    let admin = server.admin_token().await;
    let config = openai_config(&server, &fake, &admin, "c", json!({"max_tokens": 10})).await;
    let (group_id, client, _) = group_client(
        &server,
        &admin,
        json!({"name": "日配额", "daily_token_limit": 100}),
    )
    .await;

    assert_eq!(
        server
            .post("/api/llm/call", Some(&client), ask(config, "1"))
            .await
            .status,
        200
    );
    assert_eq!(
        server
            .post("/api/llm/call", Some(&client), ask(config, "2"))
            .await
            .status,
        200
    );
    let hits = fake.hits();
    let refused = server
        .post("/api/llm/call", Some(&client), ask(config, "3"))
        .await;
    assert_error(&refused, 429, "QUOTA_EXCEEDED");
    assert_eq!(refused.body["message"], "今日Token配额已用完");
    // Retry-After says when the day ends in the server's zone (at most a day away).
    let wait: u64 = refused.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=86_400).contains(&wait), "{wait}");
    assert_eq!(fake.hits(), hits);
    let usage = server
        .get(&format!("/api/admin/groups/{group_id}/usage"), Some(&admin))
        .await;
    assert_eq!(usage.body["data"]["today"]["tokens"], 140);
    assert_eq!(usage.body["data"]["today"]["calls"], 2);
    assert_eq!(usage.body["data"]["today"]["reserved_tokens"], 0);
    assert_eq!(usage.body["data"]["today"]["limit"], 100);

    tokio::time::sleep(Duration::from_secs(5)).await;
    let next_day = server
        .post("/api/llm/call", Some(&client), ask(config, "4"))
        .await;
    assert_eq!(
        next_day.status, 200,
        "a new local day resets the quota: {}",
        next_day.text
    );
    let usage = server
        .get(&format!("/api/admin/groups/{group_id}/usage"), Some(&admin))
        .await;
    assert_eq!(usage.body["data"]["today"]["tokens"], 70);
}

#[tokio::test]
async fn monthly_quota_refuses_then_resets_on_the_first() {
    let shanghai = chrono_tz::Asia::Shanghai;
    let now = Utc::now().with_timezone(&shanghai);
    let (year, month) = if now.month() == 12 {
        (now.year() + 1, 1)
    } else {
        (now.year(), now.month() + 1)
    };
    let first = shanghai.with_ymd_and_hms(year, month, 1, 0, 0, 0).unwrap();
    let offset = offset_to(first.with_timezone(&Utc) - chrono::Duration::seconds(4));
    let fake = FakeUpstream::start().await;
    fake.set_default(Reply::new("ok").usage(40, 30));
    let server = TestServer::start_with(
        Options::default().env("LLM_PROXY_CLOCK_OFFSET_SECONDS", &offset.to_string()),
    )
    .await;
    let admin = server.admin_token().await;
    let config = openai_config(&server, &fake, &admin, "c", json!({"max_tokens": 10})).await;
    let (_, client, _) = group_client(
        &server,
        &admin,
        json!({"name": "月配额", "monthly_token_limit": 60}),
    )
    .await;
    assert_eq!(
        server
            .post("/api/llm/call", Some(&client), ask(config, "1"))
            .await
            .status,
        200
    );
    let refused = server
        .post("/api/llm/call", Some(&client), ask(config, "2"))
        .await;
    assert_error(&refused, 429, "QUOTA_EXCEEDED");
    assert_eq!(refused.body["message"], "本月Token配额已用完");
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert_eq!(
        server
            .post("/api/llm/call", Some(&client), ask(config, "3"))
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn parallel_calls_across_two_instances_cannot_overshoot_the_quota() {
    let fake = FakeUpstream::start().await;
    fake.set_default(
        Reply::new("ok")
            .usage(50, 60)
            .delay(Duration::from_millis(30)),
    );
    let first = TestServer::start().await;
    // A second instance on the same database (one SQLite file, or one PostgreSQL database).
    let second = TestServer::start_with(Options {
        database_url: Some(first.effective_database_url()),
        ..Options::default()
    })
    .await;
    let admin = first.admin_token().await;
    let config = openai_config(&first, &fake, &admin, "c", json!({"max_tokens": 200})).await;
    let limit = 1000;
    let (group_id, client, _) = group_client(
        &first,
        &admin,
        json!({"name": "并发", "daily_token_limit": limit}),
    )
    .await;

    let mut calls = Vec::new();
    for i in 0..50 {
        let server = if i % 2 == 0 { &first } else { &second };
        let url = server.url("/api/llm/call");
        let http = server.client.clone();
        let token = client.clone();
        calls.push(tokio::spawn(async move {
            http.post(url)
                .bearer_auth(token)
                .json(&ask(config, "hi"))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }));
    }
    let mut statuses = Vec::new();
    for call in calls {
        statuses.push(call.await.unwrap());
    }
    let admitted = statuses.iter().filter(|s| **s == 200).count() as i64;
    let refused = statuses.iter().filter(|s| **s == 429).count();
    assert_eq!(admitted as usize + refused, 50, "{statuses:?}");
    assert!(refused > 0, "the quota must refuse some of 50 calls");
    let usage = first
        .get(&format!("/api/admin/groups/{group_id}/usage"), Some(&admin))
        .await;
    let used = usage.body["data"]["today"]["tokens"].as_i64().unwrap();
    assert_eq!(used, admitted * 110, "counters equal the records");
    assert_eq!(
        usage.body["data"]["today"]["reserved_tokens"], 0,
        "every reservation settled"
    );
    // Worst case of one call: max_tokens plus its prompt estimate.
    let one_reservation = 200 + 10;
    assert!(
        used <= limit + one_reservation,
        "used {used} overshoots {limit} by more than one reservation"
    );
    let logged: i64 = first
        .call_logs()
        .await
        .iter()
        .filter(|log| log.group_id == Some(group_id as i32))
        .map(|log| i64::from(log.tokens_used.unwrap_or(0)))
        .sum();
    assert_eq!(logged, used);
}

struct Fixture {
    server: TestServer,
    fake: FakeUpstream,
    admin: String,
    configs: [i64; 2],
    groups: [(i64, String, String); 2],
}

/// A known set of calls: 3 successes on config A by group 1, one success and one error on
/// config B by group 2.
async fn fixture() -> Fixture {
    let fake = FakeUpstream::start().await;
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let a = openai_config(&server, &fake, &admin, "配置A", json!({})).await;
    let b = openai_config(&server, &fake, &admin, "配置B", json!({})).await;
    let g1 = group_client(&server, &admin, json!({"name": "一组"})).await;
    let g2 = group_client(&server, &admin, json!({"name": "二组"})).await;
    for (i, text) in ["你好，请帮我生成一段欢迎语，内容要热情、简洁，并且适合在客户第一次进店时使用，语气要像老朋友一样亲切自然，谢谢你的帮助！", "第二个问题", "<script>alert(1)</script>"]
        .into_iter()
        .enumerate()
    {
        fake.push(Reply::new(&format!("回答{i}：很高兴为您服务")).usage(10, 5));
        let ok = server.post("/api/llm/call", Some(&g1.1), ask(a, text)).await;
        assert_eq!(ok.status, 200, "{}", ok.text);
    }
    fake.push(Reply::new("B的回答").usage(20, 10));
    server
        .post("/api/llm/call", Some(&g2.1), ask(b, "B问题"))
        .await;
    fake.push(Outcome::http(400, "invalid_request_error", "bad request"));
    let failed = server
        .post("/api/llm/call", Some(&g2.1), ask(b, "会失败的问题"))
        .await;
    assert_eq!(failed.status, 502);
    Fixture {
        server,
        fake,
        admin,
        configs: [a, b],
        groups: [g1, g2],
    }
}

impl Fixture {
    async fn logs(&self, query: &str) -> Value {
        let response = self
            .server
            .get(&format!("/api/admin/llm/logs?{query}"), Some(&self.admin))
            .await;
        assert_eq!(response.status, 200, "{query}: {}", response.text);
        response.body
    }

    async fn ids(&self, query: &str) -> Vec<i64> {
        self.logs(query).await["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["id"].as_i64().unwrap())
            .collect()
    }
}

#[tokio::test]
async fn log_search_filters_pages_and_details() {
    let f = fixture().await;
    let _ = &f.fake;
    let all = f.logs("").await;
    assert_eq!(all["success"], true);
    assert_eq!(all["total"], 5);
    assert_eq!(all["page"], 1);
    assert_eq!(all["page_size"], 20);
    let ids = f.ids("").await;
    assert!(ids.windows(2).all(|w| w[0] > w[1]), "newest first: {ids:?}");
    let first = &all["data"][4];
    assert_eq!(first["config_name"], "配置A");
    assert_eq!(
        first["request_preview"].as_str().unwrap().chars().count(),
        50,
        "50 characters, not bytes"
    );
    assert!(
        first["request_preview"]
            .as_str()
            .unwrap()
            .starts_with("你好，请帮我")
    );
    assert_eq!(first["response_preview"], "回答0：很高兴为您服务");
    assert_eq!(first["tokens_used"], 15);
    assert_eq!(first["status"], "success");

    let [a, b] = f.configs;
    let (g1, g2) = (f.groups[0].0, f.groups[1].0);
    assert_eq!(f.ids(&format!("config_id={a}")).await.len(), 3);
    assert_eq!(f.ids(&format!("config_id={b}")).await.len(), 2);
    assert_eq!(f.ids(&format!("group_id={g2}")).await.len(), 2);
    assert_eq!(
        f.ids(&format!("group_id={g1}&config_id={b}")).await.len(),
        0
    );
    assert_eq!(f.ids("status=error").await.len(), 1);
    assert_eq!(
        f.ids(&format!("status=success&group_id={g2}")).await.len(),
        1
    );
    assert_eq!(
        f.ids(&format!("activation_code={}", f.groups[1].2))
            .await
            .len(),
        2
    );
    assert_eq!(
        f.ids("q=%E7%AC%AC%E4%BA%8C").await.len(),
        1,
        "text in the request (第二)"
    );
    assert_eq!(
        f.ids("q=B%E7%9A%84%E5%9B%9E%E7%AD%94").await.len(),
        1,
        "text in the response (B的回答)"
    );
    assert_eq!(f.ids("q=%25").await.len(), 0, "% is literal");
    let today = Utc::now()
        .with_timezone(&chrono_tz::Asia::Shanghai)
        .format("%Y-%m-%d")
        .to_string();
    assert_eq!(
        f.ids(&format!("start_date={today}&end_date={today}"))
            .await
            .len(),
        5
    );
    assert_eq!(f.ids("end_date=2020-01-01").await.len(), 0);
    assert_eq!(f.ids("start_date=2999-01-01").await.len(), 0);
    let future = (Utc::now() + chrono::Duration::hours(1)).to_rfc3339();
    assert_eq!(
        f.ids(&format!("end_date={}", future.replace('+', "%2B")))
            .await
            .len(),
        5
    );

    // Pagination edges.
    let page = f.logs("page=2&page_size=2").await;
    assert_eq!(
        (
            page["total"].as_i64(),
            page["data"].as_array().unwrap().len()
        ),
        (Some(5), 2)
    );
    let last = f.logs("page=3&page_size=2").await;
    assert_eq!(last["data"].as_array().unwrap().len(), 1);
    let beyond = f.logs("page=9&page_size=2").await;
    assert_eq!(beyond["data"], json!([]));
    for (bad, field) in [
        ("page_size=0", "page_size"),
        ("page_size=101", "page_size"),
        ("page=0", "page"),
        // Once a panic (overflow converting the offset), now a refusal naming the field.
        ("page=99999999999999", "page"),
        ("page=99999999999999&page_size=100", "page"),
        ("status=maybe", "status"),
        ("start_date=yesterday", "start_date"),
    ] {
        for path in ["/api/admin/llm/logs", "/api/llm/logs"] {
            let response = f.server.get(&format!("{path}?{bad}"), Some(&f.admin)).await;
            assert_error(&response, 422, "VALIDATION_FAILED");
            assert_eq!(response.body["field"], field, "{path}?{bad}");
        }
    }

    // Detail: everything, and the script stays text.
    let script_id = f.ids("q=script").await[0];
    let detail = f
        .server
        .get(&format!("/api/admin/llm/logs/{script_id}"), Some(&f.admin))
        .await;
    let data = &detail.body["data"];
    assert_eq!(
        data["request_messages"][0]["content"],
        "<script>alert(1)</script>"
    );
    assert_eq!(data["prompt_tokens"], 10);
    assert_eq!(data["completion_tokens"], 5);
    assert_eq!(data["tokens_estimated"], false);
    assert_eq!(data["retry_count"], 0);
    assert!(data["activation_code"].is_string());
    assert!(data["response_data"].is_object());
    let error_id = f.ids("status=error").await[0];
    let error = f
        .server
        .get(&format!("/api/admin/llm/logs/{error_id}"), Some(&f.admin))
        .await;
    assert_eq!(error.body["data"]["error_code"], "UPSTREAM_ERROR");
    assert!(
        error.body["data"]["error_message"]
            .as_str()
            .unwrap()
            .contains("400")
    );
    assert_error(
        &f.server
            .get("/api/admin/llm/logs/99999", Some(&f.admin))
            .await,
        404,
        "NOT_FOUND",
    );

    // The requirements' path answers the same, for admins.
    let compat = f
        .server
        .get("/api/llm/logs?status=error", Some(&f.admin))
        .await;
    assert_eq!(compat.body["total"], 1);

    // A deleted config's records stay readable.
    f.server
        .delete(&format!("/api/admin/llm/configs/{b}"), Some(&f.admin))
        .await;
    let kept = f.logs("status=error").await;
    assert_eq!(kept["data"][0]["config_name"], "配置B");
    assert_eq!(kept["data"][0]["config_id"], Value::Null);
}

#[tokio::test]
async fn csv_export_streams_every_matching_record_for_excel() {
    let f = fixture().await;
    let response = f
        .server
        .client
        .get(f.server.url(&format!(
            "/api/admin/llm/logs/export?config_id={}",
            f.configs[0]
        )))
        .bearer_auth(&f.admin)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    assert!(
        response.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains(".csv")
    );
    let bytes = response.bytes().await.unwrap();
    assert_eq!(&bytes[..3], b"\xEF\xBB\xBF", "UTF-8 BOM for Excel");
    let text = std::str::from_utf8(&bytes[3..]).unwrap();
    let lines: Vec<&str> = text.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert_eq!(lines.len(), 4, "header + 3 records: {text}");
    assert!(
        lines[0].starts_with("ID,调用时间 (Asia/Shanghai),配置"),
        "{}",
        lines[0]
    );
    assert!(text.contains("配置A"));
    assert!(text.contains(",你好，请帮我生成一段欢迎语，内容要热情、简洁，并且适合在客户第一次进店时使用，语气要像老朋友一样亲切自然，谢谢你的帮助！,"), "{text}");
    assert!(
        text.contains(",'<script>") || text.contains(",<script>"),
        "{text}"
    );
    assert!(!text.contains("配置B"));
    let forbidden = f
        .server
        .get("/api/admin/llm/logs/export", Some(&f.groups[0].1))
        .await;
    assert_error(&forbidden, 403, "FORBIDDEN");
}

#[tokio::test]
async fn statistics_match_the_known_calls() {
    let f = fixture().await;
    let stats = f.server.get("/api/admin/llm/stats", Some(&f.admin)).await;
    assert_eq!(stats.status, 200, "{}", stats.text);
    let data = &stats.body["data"];
    let summary = &data["summary"];
    assert_eq!(summary["total_calls"], 5);
    assert_eq!(summary["success_calls"], 4);
    assert_eq!(summary["error_calls"], 1);
    assert_eq!(summary["success_rate"], 0.8);
    // 3×(10+5) + (20+10) + the failed call's local estimate.
    let errored = f
        .server
        .call_logs()
        .await
        .into_iter()
        .find(|l| l.status == "error")
        .unwrap();
    let expected_tokens = 45 + 30 + i64::from(errored.tokens_used.unwrap());
    assert_eq!(summary["total_tokens"], expected_tokens);
    // Every config of the fixture is priced in CNY (the default): one line.
    assert_eq!(summary["costs"].as_array().unwrap().len(), 1, "{summary}");
    assert_eq!(summary["costs"][0]["currency"], "CNY");
    let cost = summary["costs"][0]["amount"].as_f64().unwrap();
    let expected_cost = (3.0 * (10.0 + 10.0) + (20.0 + 20.0) + errored.cost * 1e6) / 1e6;
    assert!(
        (cost - expected_cost).abs() < 1e-9,
        "{cost} vs {expected_cost}"
    );
    assert_eq!(
        data["by_config"][0]["config_name"], "配置A",
        "ranked by tokens"
    );
    assert_eq!(data["by_config"][0]["calls"], 3);
    assert_eq!(data["by_config"][0]["success_rate"], 1.0);
    assert_eq!(data["by_config"][1]["calls"], 2);
    assert_eq!(data["by_config"][1]["success_rate"], 0.5);
    let groups = data["by_group"].as_array().unwrap();
    assert_eq!(groups.len(), 2);
    assert!(
        groups
            .iter()
            .any(|g| g["group_name"] == "一组" && g["tokens"] == 45)
    );
    assert_eq!(
        data["daily"].as_array().unwrap().len(),
        30,
        "the last 30 days by default"
    );
    assert_eq!(data["daily"][29]["calls"], 5);
    assert_eq!(data["hourly"].as_array().unwrap().len(), 24);
    let by_hour: i64 = data["hourly"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["calls"].as_i64().unwrap())
        .sum();
    assert_eq!(by_hour, 5);

    let only_b = f
        .server
        .get(
            &format!("/api/admin/llm/stats?config_id={}", f.configs[1]),
            Some(&f.admin),
        )
        .await;
    assert_eq!(only_b.body["data"]["summary"]["total_calls"], 2);
    let only_g1 = f
        .server
        .get(
            &format!("/api/admin/llm/stats?group_id={}", f.groups[0].0),
            Some(&f.admin),
        )
        .await;
    assert_eq!(only_g1.body["data"]["summary"]["total_tokens"], 45);
    let past = f
        .server
        .get(
            "/api/admin/llm/stats?start_date=2020-01-01&end_date=2020-01-31",
            Some(&f.admin),
        )
        .await;
    assert_eq!(past.body["data"]["summary"]["total_calls"], 0);
    assert_eq!(past.body["data"]["daily"].as_array().unwrap().len(), 31);
    let backwards = f
        .server
        .get(
            "/api/admin/llm/stats?start_date=2020-02-01&end_date=2020-01-01",
            Some(&f.admin),
        )
        .await;
    assert_error(&backwards, 422, "VALIDATION_FAILED");
}

#[tokio::test]
async fn retention_purges_old_records_but_keeps_daily_statistics() {
    let fake = FakeUpstream::start().await;
    let mut server = TestServer::start_with(Options::default().env(
        "LLM_PROXY_CLOCK_OFFSET_SECONDS",
        &(-100 * 86_400).to_string(),
    ))
    .await;
    let admin = server.admin_token().await;
    let config = openai_config(&server, &fake, &admin, "old", json!({})).await;
    let (_, client, _) = group_client(&server, &admin, json!({"name": "旧"})).await;
    for _ in 0..3 {
        assert_eq!(
            server
                .post("/api/llm/call", Some(&client), ask(config, "旧的调用"))
                .await
                .status,
            200
        );
    }
    let old_day = (Utc::now() - chrono::Duration::days(100))
        .with_timezone(&chrono_tz::Asia::Shanghai)
        .format("%Y-%m-%d")
        .to_string();
    server.stop();

    server.options = server
        .options
        .clone()
        .without_env("LLM_PROXY_CLOCK_OFFSET_SECONDS")
        .env("LLM_PROXY_LOG_RETENTION_DAYS", "90");
    server.spawn().await;
    let admin = server.admin_token().await;
    // Records made "now" stay.
    assert_eq!(
        server
            .post("/api/llm/call", Some(&client), ask(config, "新的调用"))
            .await
            .status,
        200
    );
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while server.call_logs().await.len() != 1 {
        assert!(
            std::time::Instant::now() < deadline,
            "old records were not purged"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let stats = server
        .get(
            &format!("/api/admin/llm/stats?start_date={old_day}&end_date={old_day}"),
            Some(&admin),
        )
        .await;
    assert_eq!(
        stats.body["data"]["summary"]["total_calls"], 3,
        "the purged day still counts"
    );
}

#[tokio::test]
async fn governance_endpoints_are_admin_only() {
    let f = fixture().await;
    f.server
        .post(
            "/api/admin/users",
            Some(&f.admin),
            json!({"username": "u", "password": "Passw0rd-1", "role": "user"}),
        )
        .await;
    let user = f.server.login("u", "Passw0rd-1").await;
    let client = &f.groups[0].1;
    let group = f.groups[0].0;
    for path in [
        "/api/admin/llm/logs".to_string(),
        "/api/llm/logs".to_string(),
        "/api/admin/llm/logs/1".to_string(),
        "/api/admin/llm/logs/export".to_string(),
        "/api/admin/llm/stats".to_string(),
        format!("/api/admin/groups/{group}/usage"),
    ] {
        for token in [&user, client] {
            assert_error(&f.server.get(&path, Some(token)).await, 403, "FORBIDDEN");
        }
        assert_error(&f.server.get(&path, None).await, 401, "UNAUTHORIZED");
        assert_eq!(
            f.server.get(&path, Some(&f.admin)).await.status,
            200,
            "{path}"
        );
    }
    let _ = sample_config("unused");
}

#[tokio::test]
async fn a_group_limited_to_one_config_sees_and_calls_only_that_one() {
    let fake = FakeUpstream::start().await;
    fake.set_default(Reply::new("ok").usage(1, 1));
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let allowed = openai_config(&server, &fake, &admin, "允许的", json!({})).await;
    let other = openai_config(&server, &fake, &admin, "别的", json!({})).await;
    let unknown = server
        .post(
            "/api/admin/groups",
            Some(&admin),
            json!({"name": "x", "config_ids": [allowed, 9999]}),
        )
        .await;
    assert_error(&unknown, 422, "VALIDATION_FAILED");
    assert_eq!(unknown.body["field"], "config_ids");
    let (group_id, client, _) = group_client(
        &server,
        &admin,
        json!({"name": "客服部", "config_ids": [allowed, allowed]}),
    )
    .await;
    let groups = server.get("/api/admin/groups", Some(&admin)).await;
    let group = groups.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["id"] == group_id)
        .unwrap();
    assert_eq!(group["config_ids"], json!([allowed]), "deduplicated");

    let listed = server.get("/api/llm/configs", Some(&client)).await;
    let ids: Vec<i64> = listed.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, [allowed]);
    let models = server.get("/v1/models", Some(&client)).await;
    assert_eq!(models.body["data"].as_array().unwrap().len(), 1);
    assert_eq!(models.body["data"][0]["id"], "允许的");

    let ok = server
        .post("/api/llm/call", Some(&client), ask(allowed, "hi"))
        .await;
    assert_eq!(ok.status, 200, "{}", ok.text);
    let hits = fake.hits();
    let refused = server
        .post("/api/llm/call", Some(&client), ask(other, "hi"))
        .await;
    assert_error(&refused, 403, "CONFIG_NOT_ALLOWED");
    let templates = server
        .get(
            &format!("/api/llm/templates?config_id={other}"),
            Some(&client),
        )
        .await;
    assert_error(&templates, 403, "CONFIG_NOT_ALLOWED");
    let v1 = server
        .post(
            "/v1/chat/completions",
            Some(&client),
            json!({"model": "别的", "messages": [{"role": "user", "content": "hi"}]}),
        )
        .await;
    assert_eq!(v1.status, 403, "{}", v1.text);
    assert_eq!(v1.body["error"]["code"], "CONFIG_NOT_ALLOWED");
    assert_eq!(v1.body["error"]["type"], "permission_error");
    assert_eq!(fake.hits(), hits, "refused before any upstream call");

    let cleared = server
        .put(
            &format!("/api/admin/groups/{group_id}"),
            Some(&admin),
            json!({"clear_limits": ["config_ids"]}),
        )
        .await;
    assert_eq!(cleared.status, 200, "{}", cleared.text);
    assert!(cleared.body["data"]["config_ids"].is_null());
    let now_allowed = server
        .post("/api/llm/call", Some(&client), ask(other, "hi"))
        .await;
    assert_eq!(now_allowed.status, 200, "{}", now_allowed.text);
}

#[tokio::test]
async fn a_failing_config_is_answered_by_its_fallback_in_one_record() {
    let fake = FakeUpstream::start().await;
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let backup = server
        .post(
            "/api/admin/llm/configs",
            Some(&admin),
            json!({"name": "备用", "provider": "anthropic", "api_url": fake.url(ProviderKind::Anthropic),
                   "api_key": FakeUpstream::key(ProviderKind::Anthropic), "model": "claude",
                   "max_retries": 0, "input_price": 10.0, "output_price": 20.0}),
        )
        .await;
    let backup = backup.body["data"]["id"].as_i64().unwrap();
    let primary = openai_config(
        &server,
        &fake,
        &admin,
        "主用",
        json!({"fallback_config_ids": [backup]}),
    )
    .await;
    let cycle = server
        .put(
            &format!("/api/admin/llm/configs/{backup}"),
            Some(&admin),
            json!({"fallback_config_ids": [primary]}),
        )
        .await;
    assert_error(&cycle, 422, "VALIDATION_FAILED");
    assert_eq!(cycle.body["field"], "fallback_config_ids");
    let (group_id, client, _) = group_client(&server, &admin, json!({"name": "g"})).await;

    // JSON: the primary is overloaded, the backup answers; one record, at the backup's prices.
    fake.push(Outcome::http(503, "server_error", "overloaded"));
    fake.push(Reply::new("备用答复").usage(1000, 1000));
    let answered = server
        .post("/api/llm/call", Some(&client), ask(primary, "hi"))
        .await;
    assert_eq!(answered.status, 200, "{}", answered.text);
    assert_eq!(answered.body["data"]["response"], "备用答复");
    // Stream: refused before its first byte, then answered by the backup.
    fake.push(Outcome::http(429, "rate_limit_exceeded", "slow down"));
    fake.push(Reply::new("流式备用").usage(10, 10));
    let (status, _, body) = server
        .post_stream(
            "/v1/chat/completions",
            &client,
            json!({"model": "主用", "stream": true, "messages": [{"role": "user", "content": "hi"}]}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("流式备用"), "{body}");
    // A bad request is not the primary's fault to hide: no fallback.
    fake.push(Outcome::http(400, "invalid_request_error", "bad"));
    let hits = fake.hits();
    let refused = server
        .post("/api/llm/call", Some(&client), ask(primary, "hi"))
        .await;
    assert_eq!(refused.status, 502, "{}", refused.text);
    assert_eq!(fake.hits(), hits + 1, "the backup was not tried");

    let logs = server.wait_for_logs(3).await;
    assert_eq!(logs.len(), 3, "one record per call");
    let json_call = &logs[0];
    assert_eq!(json_call.config_id, Some(backup as i32));
    assert_eq!(json_call.config_name, "备用");
    assert_eq!(json_call.provider, "anthropic");
    assert_eq!(json_call.status, "success");
    assert!(
        (json_call.cost - 0.03).abs() < 1e-9,
        "backup's prices: {}",
        json_call.cost
    );
    let attempts = json_call.fallback_attempts.as_ref().unwrap();
    assert_eq!(attempts[0]["config_id"], primary);
    assert!(attempts[0]["error"].as_str().unwrap().contains("503"));
    assert_eq!(logs[1].config_id, Some(backup as i32));
    assert!(logs[1].is_stream);
    assert!(logs[2].fallback_attempts.is_none());
    assert_eq!(logs[2].config_id, Some(primary as i32));
    let usage = server
        .get(&format!("/api/admin/groups/{group_id}/usage"), Some(&admin))
        .await;
    assert_eq!(usage.body["data"]["today"]["calls"], 3);
    assert_eq!(
        usage.body["data"]["today"]["tokens"], 2020,
        "charged once per call"
    );
}

#[tokio::test]
async fn a_refused_key_is_set_aside_mid_call_and_the_next_key_answers() {
    let fake = FakeUpstream::start().await;
    fake.set_default(Reply::new("ok").usage(5, 5));
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let good = FakeUpstream::key(ProviderKind::Openai);
    let config = openai_config(
        &server,
        &fake,
        &admin,
        "两个Key",
        json!({"api_key": format!("sk-revoked-0000000000\n\n{good}\n")}),
    )
    .await;
    let dead = openai_config(
        &server,
        &fake,
        &admin,
        "全坏",
        json!({"api_key": "sk-bad-one-00000000\nsk-bad-two-00000000"}),
    )
    .await;
    let (group_id, client, _) = group_client(&server, &admin, json!({"name": "g"})).await;

    // The fresh server's first call starts at the first key: refused, set aside, next key.
    let answered = server
        .post("/api/llm/call", Some(&client), ask(config, "hi"))
        .await;
    assert_eq!(answered.status, 200, "{}", answered.text);
    let view = server
        .get(&format!("/api/admin/llm/configs/{config}"), Some(&admin))
        .await;
    let keys = view.body["data"]["api_keys"].as_array().unwrap().clone();
    assert_eq!(keys.len(), 2, "blank lines ignored");
    assert_eq!(keys[0]["set_aside"], true);
    assert!(
        keys[0]["reason"].as_str().unwrap().contains("401"),
        "{keys:?}"
    );
    assert_eq!(keys[1]["set_aside"], false);
    assert!(
        !view.text.contains("sk-revoked-0000000000"),
        "keys stay masked"
    );
    // Later calls use only the healthy key.
    let hits = fake.hits();
    for _ in 0..3 {
        let ok = server
            .post("/api/llm/call", Some(&client), ask(config, "hi"))
            .await;
        assert_eq!(ok.status, 200, "{}", ok.text);
    }
    assert_eq!(fake.hits(), hits + 3);
    let restored = server
        .post(
            &format!("/api/admin/llm/configs/{config}/keys/0/restore"),
            Some(&admin),
            json!({}),
        )
        .await;
    assert_eq!(restored.status, 200, "{}", restored.text);
    assert_eq!(restored.body["data"]["api_keys"][0]["set_aside"], false);

    // Every key refused: an upstream failure that says so, then no upstream call at all.
    let failed = server
        .post("/api/llm/call", Some(&client), ask(dead, "hi"))
        .await;
    assert_error(&failed, 502, "UPSTREAM_ERROR");
    let hits = fake.hits();
    let none_left = server
        .post("/api/llm/call", Some(&client), ask(dead, "hi"))
        .await;
    assert_error(&none_left, 502, "UPSTREAM_ERROR");
    assert_eq!(fake.hits(), hits, "no key left to try");

    let logs = server.wait_for_logs(6).await;
    let first = &logs[0];
    assert_eq!(first.status, "success");
    assert_eq!(first.fallback_attempts.as_ref().unwrap()[0]["key"], 0);
    assert_eq!(
        first.tokens_used,
        Some(10),
        "the refused attempt costs nothing"
    );
    assert!(
        logs[5]
            .error_message
            .as_deref()
            .unwrap()
            .contains("set aside")
    );
    let usage = server
        .get(&format!("/api/admin/groups/{group_id}/usage"), Some(&admin))
        .await;
    assert_eq!(usage.body["data"]["today"]["tokens"], 40);
}

#[tokio::test]
async fn an_open_circuit_skips_a_failing_config_until_its_cool_down_ends() {
    let fake = FakeUpstream::start().await;
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let backup = openai_config(&server, &fake, &admin, "备用", json!({})).await;
    let flaky = openai_config(
        &server,
        &fake,
        &admin,
        "不稳定",
        json!({"fallback_config_ids": [backup], "breaker_threshold": 2, "breaker_cooldown_seconds": 600}),
    )
    .await;
    let (_, client, _) = group_client(&server, &admin, json!({"name": "g"})).await;
    for _ in 0..2 {
        fake.push(Outcome::http(503, "server_error", "down"));
        fake.push(Reply::new("备用答复"));
        let answered = server
            .post("/api/llm/call", Some(&client), ask(flaky, "hi"))
            .await;
        assert_eq!(answered.status, 200, "{}", answered.text);
    }
    let view = server
        .get(&format!("/api/admin/llm/configs/{flaky}"), Some(&admin))
        .await;
    assert!(
        view.body["data"]["circuit_open_until"].is_string(),
        "{}",
        view.text
    );
    let hits = fake.hits();
    fake.push(Reply::new("备用答复"));
    let skipped = server
        .post("/api/llm/call", Some(&client), ask(flaky, "hi"))
        .await;
    assert_eq!(skipped.status, 200, "{}", skipped.text);
    assert_eq!(fake.hits(), hits + 1, "only the backup was called");
    let logs = server.wait_for_logs(3).await;
    let attempts = logs[2].fallback_attempts.as_ref().unwrap();
    assert!(attempts[0]["error"].as_str().unwrap().contains("circuit"));
    let off = server
        .put(
            &format!("/api/admin/llm/configs/{flaky}"),
            Some(&admin),
            json!({"breaker_threshold": 0}),
        )
        .await;
    assert!(
        off.body["data"]["breaker_threshold"].is_null(),
        "{}",
        off.text
    );
}

#[tokio::test]
async fn a_money_budget_converts_prices_and_holds_under_fifty_parallel_calls() {
    let fake = FakeUpstream::start().await;
    // Actual usage never above the worst case reserved (prompt estimate + max_tokens).
    fake.set_default(
        Reply::new("ok")
            .usage(1, 100)
            .delay(Duration::from_millis(30)),
    );
    let first = TestServer::start().await;
    let second = TestServer::start_with(Options {
        database_url: Some(first.effective_database_url()),
        ..Options::default()
    })
    .await;
    let admin = first.admin_token().await;
    // 100 output tokens at 100 USD per million: 0.01 USD, 0.07 CNY a call at 7 CNY per USD.
    let config = openai_config(
        &first,
        &fake,
        &admin,
        "美元计价",
        json!({"max_tokens": 100, "currency": "USD", "input_price": 0.0, "output_price": 100.0}),
    )
    .await;
    let limit = 0.5;
    let (group_id, client, _) = group_client(
        &first,
        &admin,
        json!({"name": "预算组", "daily_cost_limit": limit, "cost_currency": "CNY"}),
    )
    .await;
    let unrated = first
        .post("/api/llm/call", Some(&client), ask(config, "hi"))
        .await;
    assert_error(&unrated, 409, "UNAVAILABLE");
    assert!(unrated.body["message"].as_str().unwrap().contains("USD"));
    let rates = first
        .put(
            "/api/admin/settings/exchange-rates",
            Some(&admin),
            json!({"rates": {"usd": 7.0}}),
        )
        .await;
    assert_eq!(rates.status, 200, "{}", rates.text);
    assert_eq!(rates.body["data"]["rates"], json!({"USD": 7.0}));

    let mut calls = Vec::new();
    for i in 0..50 {
        let server = if i % 2 == 0 { &first } else { &second };
        let (url, http, token) = (
            server.url("/api/llm/call"),
            server.client.clone(),
            client.clone(),
        );
        calls.push(tokio::spawn(async move {
            let response = http
                .post(url)
                .bearer_auth(token)
                .json(&ask(config, "hi"))
                .send()
                .await
                .unwrap();
            let status = response.status().as_u16();
            let body: Value = response.json().await.unwrap_or(Value::Null);
            (status, body["code"].as_str().unwrap_or("").to_owned())
        }));
    }
    let mut admitted = 0;
    for call in calls {
        match call.await.unwrap() {
            (200, _) => admitted += 1,
            (429, code) => assert_eq!(code, "BUDGET_EXCEEDED"),
            other => panic!("unexpected {other:?}"),
        }
    }
    let logs = first.wait_for_logs(admitted).await;
    let usage = first
        .get(&format!("/api/admin/groups/{group_id}/usage"), Some(&admin))
        .await;
    let today = &usage.body["data"]["today"];
    let spent = today["spent"].as_f64().unwrap();
    eprintln!("budget {limit} CNY: {admitted} of 50 admitted, {spent} CNY spent");
    assert_eq!(admitted, 7, "as many whole calls as fit in the budget");
    assert!(spent <= limit + 1e-9, "no overshoot: {spent} > {limit}");
    assert!((spent - 0.07 * admitted as f64).abs() < 1e-9);
    assert_eq!(
        today["reserved_cost"].as_f64().unwrap(),
        0.0,
        "nothing held"
    );
    assert_eq!(usage.body["data"]["cost_currency"], "CNY");
    let charged = logs.iter().find(|l| l.status == "success").unwrap();
    assert_eq!(charged.exchange_rate, Some(7.0));
    assert!((charged.charged.unwrap() - charged.cost * 7.0).abs() < 1e-12);
    let refused = first
        .post("/api/llm/call", Some(&client), ask(config, "hi"))
        .await;
    assert_error(&refused, 429, "BUDGET_EXCEEDED");
    assert_eq!(refused.body["message"], "今日费用预算已用完");
}

/// On PostgreSQL a group's requests per minute are counted across every instance sharing the
/// database; a SQLite deployment is one machine and each instance counts its own.
#[tokio::test]
async fn two_instances_share_a_group_s_rate_limit_on_postgres() {
    let fake = FakeUpstream::start().await;
    fake.set_default(Reply::new("ok").usage(1, 1));
    let first = TestServer::start().await;
    let second = TestServer::start_with(Options {
        database_url: Some(first.effective_database_url()),
        ..Options::default()
    })
    .await;
    let admin = first.admin_token().await;
    let config = openai_config(&first, &fake, &admin, "c", json!({})).await;
    let (_, client, _) = group_client(
        &first,
        &admin,
        json!({"name": "共享限速", "requests_per_minute": 60}),
    )
    .await;
    let started = std::time::Instant::now();
    let mut admitted = 0;
    for i in 0..100 {
        let server = if i % 2 == 0 { &first } else { &second };
        let answer = server
            .post("/api/llm/call", Some(&client), ask(config, "hi"))
            .await;
        match answer.status.as_u16() {
            200 => admitted += 1,
            429 => {
                assert_eq!(answer.body["code"], "RATE_LIMITED");
                assert!(answer.headers.contains_key("retry-after"));
            }
            other => panic!("unexpected {other}: {}", answer.text),
        }
    }
    // One request a second trickles back in while the test runs.
    let refill = started.elapsed().as_secs() as usize + 1;
    if common::is_postgres() {
        assert!(
            (60..=60 + refill).contains(&admitted),
            "shared across instances: {admitted} admitted"
        );
    } else {
        assert_eq!(admitted, 100, "each instance counts its own 60 of its 50");
    }
}

/// On PostgreSQL an admin's change reaches the other instances as a notification, not after
/// their cache's one-second TTL. (SQLite is one machine: nothing to tell.)
#[tokio::test]
async fn a_disabled_code_is_refused_by_another_postgres_instance_at_once() {
    if !common::is_postgres() {
        return;
    }
    let fake = FakeUpstream::start().await;
    let first = TestServer::start().await;
    let second = TestServer::start_with(Options {
        database_url: Some(first.effective_database_url()),
        ..Options::default()
    })
    .await;
    let admin = first.admin_token().await;
    let config = openai_config(&first, &fake, &admin, "c", json!({})).await;
    let (_, client, code) = group_client(&first, &admin, json!({"name": "通知"})).await;
    // The second instance now holds the code in its cache.
    let served = second
        .post("/api/llm/call", Some(&client), ask(config, "hi"))
        .await;
    assert_eq!(served.status, 200, "{}", served.text);
    let codes = first.get("/api/admin/activation-codes", Some(&admin)).await;
    let code_id = codes.body["data"]["items"]
        .as_array()
        .or(codes.body["data"].as_array())
        .unwrap()
        .iter()
        .find(|c| c["code"] == code.as_str())
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    let disabled = first
        .put(
            &format!("/api/admin/activation-codes/{code_id}"),
            Some(&admin),
            json!({"is_active": false}),
        )
        .await;
    assert_eq!(disabled.status, 200, "{}", disabled.text);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let refused = second
        .post("/api/llm/call", Some(&client), ask(config, "hi"))
        .await;
    assert_error(&refused, 401, "ACTIVATION_CODE_DISABLED");
}

/// A key the upstream rate-limited shows until when it rests (the console shows it).
#[tokio::test]
async fn a_rate_limited_key_shows_until_when_it_cools_off() {
    let fake = FakeUpstream::start().await;
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let config = openai_config(&server, &fake, &admin, "冷却", json!({"max_retries": 0})).await;
    let (_, client, _) = group_client(&server, &admin, json!({"name": "g"})).await;
    fake.push(Outcome::http(429, "rate_limit_error", "slow down").header("retry-after", "30"));
    let limited = server
        .post("/api/llm/call", Some(&client), ask(config, "hi"))
        .await;
    assert_ne!(limited.status, 200, "{}", limited.text);
    let view = server
        .get(&format!("/api/admin/llm/configs/{config}"), Some(&admin))
        .await;
    let key = &view.body["data"]["api_keys"][0];
    assert_eq!(key["set_aside"], false, "{key}");
    let until: chrono::DateTime<chrono::Utc> =
        key["cooling_until"].as_str().unwrap().parse().unwrap();
    let left = until - chrono::Utc::now();
    assert!(
        left > chrono::Duration::seconds(20) && left <= chrono::Duration::seconds(30),
        "{left}"
    );
}
