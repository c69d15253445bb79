//! Findings of the security review, each checked against the real server.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;
use crate::fake_upstream;

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
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    assert_eq!(server.get("/api/auth/me", Some(&admin)).await.status, 200);
    // The accounts table out of reach, as in a failed migration or a revoked grant.
    let url = server.effective_database_url();
    common::execute(&url, "ALTER TABLE users RENAME TO users_out_of_reach").await;
    let response = server.get("/api/auth/me", Some(&admin)).await;
    assert_error(&response, 503, "SERVICE_UNAVAILABLE");
    common::execute(&url, "ALTER TABLE users_out_of_reach RENAME TO users").await;
    let back = server.get("/api/auth/me", Some(&admin)).await;
    assert_eq!(
        back.status, 200,
        "the same token works again: {}",
        back.text
    );
}

fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

/// A 20 MB chunked body (no Content-Length) to the unauthenticated login is refused with
/// 413 once the small auth limit is passed, and the server stops reading: the rest of the
/// upload fails and its memory does not grow. Raw TCP, so the test sees exactly what a
/// client sees while it is still sending.
#[cfg(target_os = "linux")]
#[tokio::test]
async fn oversized_chunked_body_is_refused_while_reading() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let server = TestServer::start().await;
    let pid = server.pid().unwrap();
    server.admin_token().await;
    let before = rss_kib(pid);

    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", server.port))
        .await
        .unwrap();
    let head = "POST /api/auth/login HTTP/1.1\r\nhost: localhost\r\n\
                content-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n";
    stream.write_all(head.as_bytes()).await.unwrap();
    let chunk = |data: &[u8]| {
        let mut framed = format!("{:x}\r\n", data.len()).into_bytes();
        framed.extend_from_slice(data);
        framed.extend_from_slice(b"\r\n");
        framed
    };
    let mut first = b"{\"username\":\"admin\",\"password\":\"".to_vec();
    first.resize(17 * 1024, b'x');
    stream.write_all(&chunk(&first)).await.unwrap();
    let mut answer = vec![0u8; 4096];
    let read = tokio::time::timeout(std::time::Duration::from_secs(10), stream.read(&mut answer))
        .await
        .expect("answered before the body ended")
        .unwrap();
    let answer = String::from_utf8_lossy(&answer[..read]).to_string();
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains("PAYLOAD_TOO_LARGE"), "{answer}");

    // The rest of the 20 MB finds no reader.
    let block = chunk(&vec![b'x'; 1024 * 1024]);
    let mut sent = 0;
    for _ in 0..20 {
        if stream.write_all(&block).await.is_err() {
            break;
        }
        sent += 1;
    }
    assert!(sent < 20, "the server kept reading the oversized body");
    let grown = rss_kib(pid).saturating_sub(before);
    assert!(grown < 8 * 1024, "the server grew by {grown} KiB");

    // Declared too large (5 MiB on the admin API, over its 4 MiB): refused before reading.
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", server.port))
        .await
        .unwrap();
    let head = "POST /api/admin/users HTTP/1.1\r\nhost: localhost\r\n\
                content-type: application/json\r\ncontent-length: 5242880\r\n\r\n{";
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut answer = vec![0u8; 4096];
    let read = stream.read(&mut answer).await.unwrap();
    let answer = String::from_utf8_lossy(&answer[..read]).to_string();
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");

    // Normal requests are unaffected.
    server.admin_token().await;
}

/// "Keep one active admin" holds when the last admins are deactivated all at once: the
/// check and the change are one serialised step.
#[tokio::test]
async fn concurrent_deactivations_keep_one_active_admin() {
    use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
    let server = TestServer::start().await;
    let root = server.admin_token().await;
    let mut ids = Vec::new();
    let mut tokens = Vec::new();
    for name in ["admin-a", "admin-b", "admin-c"] {
        let created = server
            .post(
                "/api/admin/users",
                Some(&root),
                json!({"username": name, "password": "Passw0rd-admin", "role": "admin"}),
            )
            .await;
        assert_eq!(created.status, 200, "{}", created.text);
        ids.push(created.body["data"]["id"].as_i64().unwrap());
        tokens.push(server.login(name, "Passw0rd-admin").await);
    }
    // Three admins left: a, b and c.
    let off = json!({"is_active": false});
    let first = server
        .put("/api/admin/users/1", Some(&tokens[0]), off.clone())
        .await;
    assert_eq!(first.status, 200, "{}", first.text);

    let paths: Vec<String> = [ids[1], ids[2], ids[0]]
        .iter()
        .map(|id| format!("/api/admin/users/{id}"))
        .collect();
    let (one, two, three) = tokio::join!(
        server.put(&paths[0], Some(&tokens[0]), off.clone()),
        server.put(&paths[1], Some(&tokens[1]), off.clone()),
        server.put(&paths[2], Some(&tokens[2]), off.clone()),
    );
    let statuses = [one.status, two.status, three.status].map(|s| s.as_u16());
    for response in [&one, &two, &three] {
        match response.status.as_u16() {
            200 => {}
            409 => common::assert_error(response, 409, "CONFLICT"),
            // The caller itself was deactivated a moment before its request was checked.
            401 => common::assert_error(response, 401, "ACCOUNT_DISABLED"),
            other => panic!("unexpected {other}: {}", response.text),
        }
    }
    let db = sea_orm::Database::connect(server.effective_database_url())
        .await
        .unwrap();
    let active = entity::users::Entity::find()
        .filter(entity::users::Column::Role.eq("admin"))
        .filter(entity::users::Column::IsActive.eq(true))
        .count(&db)
        .await
        .unwrap();
    db.close().await.unwrap();
    assert_eq!(active, 1, "statuses {statuses:?}");
}

/// A password change ends the sessions opened before it; a login right after works at once.
#[tokio::test]
async fn tokens_issued_before_a_password_change_are_refused() {
    let server = TestServer::start().await;
    let old = server.admin_token().await;
    // `iat` has whole seconds: let the change fall in a later second than the old login.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let changed = server
        .put(
            "/api/admin/users/1",
            Some(&old),
            json!({"password": "N3w-Passw0rd!"}),
        )
        .await;
    assert_eq!(changed.status, 200, "{}", changed.text);
    let refused = server.get("/api/auth/me", Some(&old)).await;
    assert_error(&refused, 401, "TOKEN_REVOKED");
    assert_eq!(refused.body["message"], "登录状态已失效，请重新登录");
    let new = server.login("admin", "N3w-Passw0rd!").await;
    assert_eq!(server.get("/api/auth/me", Some(&new)).await.status, 200);
    assert_eq!(server.get("/api/admin/users", Some(&new)).await.status, 200);
}

/// Repeated wrong passwords lock that account name (429 with Retry-After, even with the
/// right password), while other accounts from the same address still sign in.
#[tokio::test]
async fn repeated_failures_lock_the_account_not_the_address() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let created = server
        .post(
            "/api/admin/users",
            Some(&admin),
            json!({"username": "worker", "password": "Passw0rd-worker", "role": "user"}),
        )
        .await;
    assert_eq!(created.status, 200, "{}", created.text);
    let login = |password: &'static str| {
        server.post(
            "/api/auth/login",
            None,
            json!({"username": "admin", "password": password}),
        )
    };
    for _ in 0..5 {
        assert_error(&login("wrong-password").await, 401, "INVALID_CREDENTIALS");
    }
    let locked = login(common::ADMIN_PASSWORD).await;
    assert_error(&locked, 429, "ACCOUNT_LOCKED");
    let wait: u64 = locked.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=30).contains(&wait), "{wait}");
    server.login("worker", "Passw0rd-worker").await;
}
