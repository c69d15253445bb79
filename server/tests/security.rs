//! Findings of the security review, each checked against the real server.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
#[path = "support/fake_upstream.rs"]
mod fake_upstream;

use common::{TestServer, assert_error};
use fake_upstream::{FakeUpstream, Outcome};
use llm_proxy::providers::ProviderKind;
use serde_json::json;

/// The data folder is the owner's alone, and so is every SQLite file in it, from creation.
#[cfg(unix)]
#[tokio::test]
async fn data_folder_and_database_files_are_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    if common::is_postgres() {
        return;
    }
    let server = TestServer::start().await;
    // A write, so the write-ahead log and its index certainly exist.
    server.admin_token().await;
    let mode = |name: &str| {
        let path = server.data_dir().join(name);
        let meta = std::fs::metadata(&path).unwrap_or_else(|err| panic!("{name}: {err}"));
        meta.permissions().mode() & 0o777
    };
    assert_eq!(mode(""), 0o700, "data folder");
    for file in ["llm-proxy.db", "llm-proxy.db-wal", "llm-proxy.db-shm"] {
        assert_eq!(mode(file), 0o600, "{file}");
    }
}

/// A 3xx from an upstream is not followed: the credential never leaves for the other
/// origin, the call fails at once (no retry), and the admin sees where it pointed.
#[tokio::test]
async fn upstream_redirects_are_not_followed() {
    let fake = FakeUpstream::start().await;
    let elsewhere = FakeUpstream::start().await;
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let (client, _, _) = server.client_token(&admin).await;
    let kind = ProviderKind::Anthropic;
    let created = server
        .post(
            "/api/admin/llm/configs",
            Some(&admin),
            json!({
                "name": "redirecting",
                "provider": kind.as_str(),
                "api_url": fake.url(kind),
                "api_key": FakeUpstream::key(kind),
                "model": "claude-sonnet-4-5",
                "max_retries": 2,
                "timeout_seconds": 5,
            }),
        )
        .await;
    assert_eq!(created.status, 200, "{}", created.text);
    let config_id = created.body["data"]["id"].as_i64().unwrap();
    let location = elsewhere.url(kind);
    fake.set_default(Outcome::raw(307, "text/plain", "moved").header("location", &location));

    let response = server
        .post(
            "/api/llm/call",
            Some(&client),
            json!({"config_id": config_id, "messages": [{"role": "user", "content": "hi"}]}),
        )
        .await;
    assert_error(&response, 502, "UPSTREAM_ERROR");
    assert_eq!(
        elsewhere.hits(),
        0,
        "the redirect target was never contacted"
    );
    assert!(
        elsewhere
            .requests()
            .iter()
            .all(|r| r.header("x-api-key").is_none() && r.header("authorization").is_none())
    );
    assert_eq!(fake.hits(), 1, "a redirect is not retried");
    let logs = server.wait_for_logs(1).await;
    let detail = logs[0].error_message.clone().unwrap_or_default();
    assert!(
        detail.contains("307") && detail.contains(&location),
        "{detail}"
    );
    assert!(!detail.contains(&FakeUpstream::key(kind)), "{detail}");
}

/// A database that cannot be read while a token is checked is the server's trouble (503),
/// not the token's (401): the client keeps its token and tries again.
#[tokio::test]
async fn unreadable_database_during_authentication_is_503_not_401() {
    if common::is_postgres() {
        return;
    }
    let options = common::Options::default().env("LLM_PROXY_LOGIN_ATTEMPTS_PER_MINUTE", "1000");
    let server = TestServer::start_with(options).await;
    let admin = server.admin_token().await;
    assert_eq!(server.get("/api/auth/me", Some(&admin)).await.status, 200);
    let file = server.data_dir().join("llm-proxy.db");
    let mut bytes = std::fs::read(&file).unwrap();
    bytes[..100].fill(0xA5);
    {
        use std::io::{Seek, Write};
        let mut handle = std::fs::OpenOptions::new().write(true).open(&file).unwrap();
        handle.seek(std::io::SeekFrom::Start(0)).unwrap();
        handle.write_all(&bytes[..100]).unwrap();
        handle.sync_all().unwrap();
    }
    // SQLite keeps serving its page cache until the write-ahead log changes; a write (a
    // login's last-login time) makes a later read go to the file.
    let mut response = server.get("/api/auth/me", Some(&admin)).await;
    for _ in 0..20 {
        if response.status != 200 {
            break;
        }
        let _ = server
            .post(
                "/api/auth/login",
                None,
                json!({"username": "admin", "password": common::ADMIN_PASSWORD}),
            )
            .await;
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        response = server.get("/api/auth/me", Some(&admin)).await;
    }
    assert_error(&response, 503, "SERVICE_UNAVAILABLE");
}
