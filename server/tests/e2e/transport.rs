//! Transport and lifecycle: HTTPS, the warning for a LAN address without TLS, CORS, and a
//! graceful stop that finishes in-flight calls and keeps their records.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;
use crate::fake_upstream;

use std::time::Duration;

use common::{Options, TestServer};
use fake_upstream::{FakeUpstream, Reply};
use llm_proxy::providers::ProviderKind;
use serde_json::json;

#[tokio::test]
async fn serves_https_when_a_certificate_is_configured() {
    let holder = tempfile::tempdir().unwrap();
    let generated =
        rcgen::generate_simple_self_signed(vec!["localhost".into(), "127.0.0.1".into()]).unwrap();
    let cert = holder.path().join("cert.pem");
    let key = holder.path().join("key.pem");
    std::fs::write(&cert, generated.cert.pem()).unwrap();
    std::fs::write(&key, generated.signing_key.serialize_pem()).unwrap();
    let server = TestServer::start_with(
        Options::default()
            .env("LLM_PROXY_TLS_CERT", cert.to_str().unwrap())
            .env("LLM_PROXY_TLS_KEY", key.to_str().unwrap()),
    )
    .await;
    assert!(server.base.starts_with("https://"));
    let token = server.admin_token().await;
    assert!(!token.is_empty());
    let plain = reqwest::get(format!("http://127.0.0.1:{}/api/health", server.port)).await;
    assert!(
        plain.is_err() || !plain.unwrap().status().is_success(),
        "no plain HTTP on a TLS port"
    );
    assert!(
        server
            .command()
            .arg("healthcheck")
            .status()
            .unwrap()
            .success()
    );
}

#[tokio::test]
async fn a_network_address_without_tls_starts_with_a_warning() {
    let server = TestServer::start_with(Options::default().env("TEST_BIND_IP", "0.0.0.0")).await;
    let output = server.output();
    assert!(output.contains("without TLS"), "{output}");
    let quiet = TestServer::start().await;
    assert!(!quiet.output().contains("without TLS"));
}

#[tokio::test]
async fn cors_is_off_unless_origins_are_configured() {
    let closed = TestServer::start().await;
    let response = closed
        .client
        .get(closed.url("/api/health"))
        .header("Origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert!(
        response
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );

    let open = TestServer::start_with(
        Options::default().env("LLM_PROXY_CORS_ORIGINS", "https://ok.example"),
    )
    .await;
    let allowed = open
        .client
        .get(open.url("/api/health"))
        .header("Origin", "https://ok.example")
        .send()
        .await
        .unwrap();
    assert_eq!(
        allowed.headers()["access-control-allow-origin"],
        "https://ok.example"
    );
    let other = open
        .client
        .get(open.url("/api/health"))
        .header("Origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert!(other.headers().get("access-control-allow-origin").is_none());
}

#[tokio::test]
async fn sigterm_finishes_in_flight_calls_and_keeps_their_records() {
    let fake = FakeUpstream::start().await;
    fake.set_default(Reply::new("慢慢来").delay(Duration::from_millis(1500)));
    let mut server = TestServer::start().await;
    let admin = server.admin_token().await;
    let config = server
        .post(
            "/api/admin/llm/configs",
            Some(&admin),
            json!({"name": "slow", "provider": "openai", "api_url": fake.url(ProviderKind::Openai),
                   "api_key": FakeUpstream::key(ProviderKind::Openai), "model": "gpt-4o-mini"}),
        )
        .await;
    let config_id = config.body["data"]["id"].as_i64().unwrap();
    let (client, _, _) = server.client_token(&admin).await;
    let http = server.client.clone();
    let url = server.url("/api/llm/call");
    let call = tokio::spawn(async move {
        let response = http
            .post(url)
            .bearer_auth(client)
            .json(&json!({"config_id": config_id, "messages": [{"role": "user", "content": "x"}]}))
            .send()
            .await
            .unwrap();
        (
            response.status(),
            response.json::<serde_json::Value>().await.unwrap(),
        )
    });
    tokio::time::sleep(Duration::from_millis(400)).await;
    let stopper = tokio::task::spawn_blocking(move || {
        server.stop();
        server
    });
    let (status, body) = call.await.unwrap();
    assert_eq!(status, 200, "the in-flight call completes: {body}");
    let id = body["data"]["call_log_id"].as_i64().unwrap();
    let server = stopper.await.unwrap();
    let logs = server.call_logs().await;
    assert!(
        logs.iter()
            .any(|log| log.id == id && log.status == "success")
    );
    assert!(server.output().contains("shutdown requested"));
}
