//! `GET /metrics`: off by default, behind its own token on the main port or on a loopback
//! listener of its own; the counts in the exposition equal the calls made.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common::{Options, TestServer};
use crate::fake_upstream::{FakeUpstream, Outcome, Reply};
use llm_proxy::providers::ProviderKind;
use serde_json::json;

const TOKEN: &str = "metrics-token-0123456789-secret";

/// Every sample of the exposition: (series with labels, value). Comments are checked for
/// shape: `# HELP` / `# TYPE` only.
fn samples(text: &str) -> Vec<(String, f64)> {
    text.lines()
        .filter(|line| !line.is_empty())
        .filter_map(|line| {
            if line.starts_with('#') {
                assert!(
                    line.starts_with("# HELP llm_proxy_") || line.starts_with("# TYPE llm_proxy_"),
                    "{line}"
                );
                return None;
            }
            let (series, value) = line.rsplit_once(' ').expect("series and value");
            Some((series.to_string(), value.parse::<f64>().expect("a number")))
        })
        .collect()
}

/// The sum of the samples of `name` whose labels include every one of `labels`.
fn sum(samples: &[(String, f64)], name: &str, labels: &[&str]) -> f64 {
    samples
        .iter()
        .filter(|(series, _)| {
            series
                .split_once('{')
                .map_or(series.as_str(), |(metric, _)| metric)
                == name
                && labels.iter().all(|label| series.contains(label))
        })
        .map(|(_, value)| value)
        .sum()
}

async fn config(server: &TestServer, fake: &FakeUpstream, admin: &str) -> i64 {
    let created = server
        .post(
            "/api/admin/llm/configs",
            Some(admin),
            json!({
                "name": "计量",
                "provider": "openai",
                "api_url": fake.url(ProviderKind::Openai),
                "api_key": FakeUpstream::key(ProviderKind::Openai),
                "model": "gpt-4o-mini",
                "max_retries": 0,
                "input_price": 1.0,
                "output_price": 2.0,
            }),
        )
        .await;
    assert_eq!(created.status, 200, "{}", created.text);
    created.body["data"]["id"].as_i64().unwrap()
}

fn ask(config: i64) -> serde_json::Value {
    json!({"config_id": config, "messages": [{"role": "user", "content": "你好"}]})
}

#[tokio::test]
async fn metrics_are_off_by_default() {
    let server = TestServer::start().await;
    let response = server.get("/metrics", None).await;
    assert_eq!(response.status, 404, "{}", response.text);
    let with_token = server.get("/metrics", Some(TOKEN)).await;
    assert_eq!(with_token.status, 404);
}

#[tokio::test]
async fn the_scrape_counts_the_calls_made_and_needs_its_token() {
    let fake = FakeUpstream::start().await;
    let server = TestServer::start_with(
        Options::default()
            .env("LLM_PROXY_METRICS_ENABLED", "true")
            .env("LLM_PROXY_METRICS_TOKEN", TOKEN)
            .env("LLM_PROXY_METRICS_BIND", "")
            // Everything the server says, to be sure the token is not among it.
            .env("LLM_PROXY_LOG", "debug"),
    )
    .await;
    assert_eq!(server.get("/metrics", None).await.status, 401);
    assert_eq!(
        server.get("/metrics", Some("wrong-token")).await.status,
        401
    );
    let admin = server.admin_token().await;
    assert_eq!(
        server.get("/metrics", Some(&admin)).await.status,
        401,
        "an admin session is not the metrics token"
    );

    let config = config(&server, &fake, &admin).await;
    let (client, group, _) = server.client_token(&admin).await;
    for _ in 0..3 {
        fake.push(Reply::new("好的").usage(10, 5));
        let ok = server
            .post("/api/llm/call", Some(&client), ask(config))
            .await;
        assert_eq!(ok.status, 200, "{}", ok.text);
    }
    fake.push(Outcome::http(400, "invalid_request_error", "bad request"));
    let failed = server
        .post("/api/llm/call", Some(&client), ask(config))
        .await;
    assert_eq!(failed.status, 502, "{}", failed.text);
    // A group allowed one call a minute: the second is refused before going upstream.
    let limited = server
        .put(
            &format!("/api/admin/groups/{group}"),
            Some(&admin),
            json!({"requests_per_minute": 1}),
        )
        .await;
    assert_eq!(limited.status, 200, "{}", limited.text);
    fake.push(Reply::new("好的").usage(10, 5));
    let mut refused = 0;
    for _ in 0..2 {
        let answer = server
            .post("/api/llm/call", Some(&client), ask(config))
            .await;
        if answer.status == 429 {
            refused += 1;
        }
    }
    assert!(refused >= 1, "the rate limit refused nothing");

    let scrape = server.get("/metrics", Some(TOKEN)).await;
    assert_eq!(scrape.status, 200, "{}", scrape.text);
    assert!(
        scrape.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain; version=0.0.4")
    );
    let samples = samples(&scrape.text);
    let route = [
        format!("config_id=\"{config}\""),
        format!("group_id=\"{group}\""),
    ];
    let route: Vec<&str> = route.iter().map(String::as_str).collect();
    let with = |extra: &'static str| {
        let mut labels = route.clone();
        labels.push(extra);
        labels
    };
    let successes = 3.0 + f64::from(2 - refused);
    let calls = successes + 1.0;
    assert_eq!(
        sum(
            &samples,
            "llm_proxy_calls_total",
            &with("status=\"success\"")
        ),
        successes,
        "{}",
        scrape.text
    );
    assert_eq!(
        sum(&samples, "llm_proxy_calls_total", &with("status=\"error\"")),
        1.0
    );
    assert_eq!(
        sum(&samples, "llm_proxy_calls_total", &[]),
        calls,
        "only this route had calls"
    );
    assert_eq!(
        sum(
            &samples,
            "llm_proxy_call_errors_total",
            &with("code=\"UPSTREAM_ERROR\"")
        ),
        1.0,
        "{}",
        scrape.text
    );
    assert_eq!(
        sum(&samples, "llm_proxy_tokens_total", &with("kind=\"prompt\"")),
        10.0 * successes
    );
    assert_eq!(
        sum(
            &samples,
            "llm_proxy_tokens_total",
            &with("kind=\"completion\"")
        ),
        5.0 * successes
    );
    let cost = sum(&samples, "llm_proxy_cost_total", &with("currency=\"CNY\""));
    assert!(cost > 0.0, "{}", scrape.text);
    assert_eq!(
        sum(&samples, "llm_proxy_upstream_attempts_total", &route),
        calls
    );
    assert_eq!(
        sum(&samples, "llm_proxy_call_duration_seconds_count", &route),
        calls
    );
    assert_eq!(
        sum(
            &samples,
            "llm_proxy_call_duration_seconds_bucket",
            &with("le=\"+Inf\"")
        ),
        calls
    );
    assert_eq!(sum(&samples, "llm_proxy_record_batch_size_sum", &[]), calls);
    assert_eq!(
        sum(&samples, "llm_proxy_record_lag_seconds_count", &[]),
        calls
    );
    assert_eq!(
        sum(
            &samples,
            "llm_proxy_quota_refusals_total",
            &["code=\"RATE_LIMITED\""]
        ),
        f64::from(refused),
        "{}",
        scrape.text
    );
    assert!(!server.output().contains(TOKEN), "the token was logged");
}

#[tokio::test]
async fn a_listener_of_its_own_serves_metrics_and_the_main_port_does_not() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let server = TestServer::start_with(
        Options::default()
            .env("LLM_PROXY_METRICS_ENABLED", "1")
            .env("LLM_PROXY_METRICS_BIND", &format!("127.0.0.1:{port}")),
    )
    .await;
    let scrape = server
        .client
        .get(format!("http://127.0.0.1:{port}/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(scrape.status(), 200);
    let text = scrape.text().await.unwrap();
    assert!(
        text.contains("# TYPE llm_proxy_calls_total counter"),
        "{text}"
    );
    assert_eq!(
        server.get("/metrics", None).await.status,
        404,
        "without a token the main port does not serve it"
    );
}
