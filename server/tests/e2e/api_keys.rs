//! API keys: created by an admin for a group, shown once, accepted on the model endpoints
//! only, recorded with each call, refused at once when disabled, expired or revoked (also
//! by another instance on the same database), and never stored or logged in plain text.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;
use crate::fake_upstream;

use std::time::Duration;

use chrono::Utc;
use common::{Options, TestServer, assert_error, files_containing, is_postgres};
use fake_upstream::FakeUpstream;
use llm_proxy::providers::ProviderKind;
use sea_orm::{ConnectionTrait, Database, Statement};
use serde_json::{Value, json};

async fn group(server: &TestServer, admin: &str, extra: Value) -> i64 {
    let mut body = json!({"name": format!("keys-{}", Utc::now().timestamp_nanos_opt().unwrap())});
    for (key, value) in extra.as_object().unwrap() {
        body[key] = value.clone();
    }
    let created = server.post("/api/admin/groups", Some(admin), body).await;
    assert_eq!(created.status, 200, "{}", created.text);
    created.body["data"]["id"].as_i64().unwrap()
}

async fn config(server: &TestServer, admin: &str, fake: &FakeUpstream) -> i64 {
    let kind = ProviderKind::Openai;
    let created = server
        .post(
            "/api/admin/llm/configs",
            Some(admin),
            json!({
                "name": "keys-config",
                "provider": kind.as_str(),
                "api_url": fake.url(kind),
                "api_key": FakeUpstream::key(kind),
                "model": "gpt-4o-mini",
                "max_retries": 0,
            }),
        )
        .await;
    assert_eq!(created.status, 200, "{}", created.text);
    created.body["data"]["id"].as_i64().unwrap()
}

/// Creates a key; returns its id and the full key.
async fn create_key(server: &TestServer, admin: &str, body: Value) -> (i64, String) {
    let created = server.post("/api/admin/api-keys", Some(admin), body).await;
    assert_eq!(created.status, 200, "{}", created.text);
    let data = &created.body["data"];
    (
        data["id"].as_i64().unwrap(),
        data["key"].as_str().unwrap().to_string(),
    )
}

async fn call(server: &TestServer, key: &str, config_id: i64) -> common::Response {
    server
        .post(
            "/api/llm/call",
            Some(key),
            json!({"config_id": config_id, "messages": [{"role": "user", "content": "你好"}]}),
        )
        .await
}

#[tokio::test]
async fn api_key_is_shown_once_recorded_with_calls_and_refused_when_disabled_expired_or_revoked() {
    let fake = FakeUpstream::start().await;
    let mut server = TestServer::start_with(Options::default().env("LLM_PROXY_LOG", "debug")).await;
    let admin = server.admin_token().await;
    let group_id = group(&server, &admin, json!({})).await;
    let config_id = config(&server, &admin, &fake).await;
    let mut seen = Vec::new();

    // Validation, each failure naming its field.
    for (body, status, field) in [
        (
            json!({"name": " ", "group_id": group_id}),
            422,
            Some("name"),
        ),
        (
            json!({"name": "x".repeat(101), "group_id": group_id}),
            422,
            Some("name"),
        ),
        (
            json!({"name": "k", "group_id": group_id, "expires_at": "2020-01-01T00:00:00Z"}),
            422,
            Some("expires_at"),
        ),
        (json!({"name": "k", "group_id": 999_999}), 404, None),
    ] {
        let refused = server.post("/api/admin/api-keys", Some(&admin), body).await;
        assert_eq!(refused.status.as_u16(), status, "{}", refused.text);
        if let Some(field) = field {
            assert_eq!(refused.body["field"], field, "{}", refused.text);
        }
    }

    let created = server
        .post(
            "/api/admin/api-keys",
            Some(&admin),
            json!({"name": "ci-bot", "group_id": group_id}),
        )
        .await;
    assert_eq!(created.status, 200, "{}", created.text);
    let data = &created.body["data"];
    let key_id = data["id"].as_i64().unwrap();
    let key = data["key"].as_str().unwrap().to_string();
    assert!(key.starts_with("sk-") && key.len() >= 3 + 43, "{key}");
    let prefix = data["key_prefix"].as_str().unwrap().to_string();
    assert_eq!(
        prefix,
        format!("sk-{}…{}", &key[3..7], &key[key.len() - 4..])
    );
    assert_eq!(data["group_id"], group_id);
    assert_eq!(data["is_active"], true);

    let list = server.get("/api/admin/api-keys", Some(&admin)).await;
    assert_eq!(list.status, 200, "{}", list.text);
    assert_eq!(list.body["data"][0]["key_prefix"], prefix.as_str());
    assert_eq!(list.body["data"][0]["last_used_at"], Value::Null);
    assert!(list.body["data"][0].get("key").is_none());
    seen.push(list.text);

    // The model endpoints take the key; the call counts for the key's group.
    let configs = server.get("/api/llm/configs", Some(&key)).await;
    assert_eq!(configs.status, 200, "{}", configs.text);
    let answered = call(&server, &key, config_id).await;
    assert_eq!(answered.status, 200, "{}", answered.text);
    let log_id = answered.body["data"]["call_log_id"].as_i64().unwrap();
    let detail = server
        .get(&format!("/api/admin/llm/logs/{log_id}"), Some(&admin))
        .await;
    assert_eq!(detail.body["data"]["api_key_id"], key_id, "{}", detail.text);
    assert_eq!(detail.body["data"]["api_key_name"], "ci-bot");
    assert_eq!(detail.body["data"]["group_id"], group_id);
    assert_eq!(detail.body["data"]["activation_code"], Value::Null);
    seen.push(detail.text);
    let filtered = server
        .get(
            &format!("/api/admin/llm/logs?api_key_id={key_id}"),
            Some(&admin),
        )
        .await;
    assert_eq!(filtered.body["total"], 1, "{}", filtered.text);
    assert_eq!(filtered.body["data"][0]["api_key_name"], "ci-bot");
    let other = server
        .get(
            &format!("/api/admin/llm/logs?api_key_id={}", key_id + 1),
            Some(&admin),
        )
        .await;
    assert_eq!(other.body["total"], 0, "{}", other.text);
    let csv = server
        .get(
            &format!("/api/admin/llm/logs/export?api_key_id={key_id}"),
            Some(&admin),
        )
        .await;
    let mut lines = csv.text.lines();
    assert!(lines.next().unwrap().contains(",API Key,"));
    assert!(lines.next().unwrap().contains(",ci-bot,"), "{}", csv.text);
    seen.push(csv.text);
    let used = server.get("/api/admin/api-keys", Some(&admin)).await;
    assert!(
        used.body["data"][0]["last_used_at"].is_string(),
        "{}",
        used.text
    );

    // Never the back office.
    for path in [
        "/api/admin/api-keys",
        "/api/admin/groups",
        "/api/admin/llm/logs",
    ] {
        assert_error(&server.get(path, Some(&key)).await, 403, "FORBIDDEN");
    }
    assert_error(
        &server.get("/api/auth/me", Some(&key)).await,
        403,
        "FORBIDDEN",
    );
    assert_error(
        &call(&server, &format!("{key}x"), config_id).await,
        401,
        "API_KEY_INVALID",
    );

    // Disabled, renamed and enabled again.
    let path = format!("/api/admin/api-keys/{key_id}");
    let disabled = server
        .put(&path, Some(&admin), json!({"is_active": false}))
        .await;
    assert_eq!(
        disabled.body["data"]["is_active"], false,
        "{}",
        disabled.text
    );
    assert_error(
        &call(&server, &key, config_id).await,
        401,
        "API_KEY_DISABLED",
    );
    let enabled = server
        .put(
            &path,
            Some(&admin),
            json!({"is_active": true, "name": "ci-bot-2"}),
        )
        .await;
    assert_eq!(enabled.body["data"]["name"], "ci-bot-2", "{}", enabled.text);
    assert_eq!(enabled.body["data"]["key_prefix"], prefix.as_str());
    assert_error(
        &server.put(&path, Some(&admin), json!({"name": ""})).await,
        422,
        "VALIDATION_FAILED",
    );
    assert_eq!(call(&server, &key, config_id).await.status, 200);
    // Used again within the minute: `last_used_at` is not rewritten.
    let again = server.get("/api/admin/api-keys", Some(&admin)).await;
    assert_eq!(
        again.body["data"][0]["last_used_at"],
        used.body["data"][0]["last_used_at"]
    );

    // Revoked: refused from the next request on; its records keep the name.
    let revoked = server.delete(&path, Some(&admin)).await;
    assert_eq!(revoked.status, 200, "{}", revoked.text);
    assert_error(
        &call(&server, &key, config_id).await,
        401,
        "API_KEY_INVALID",
    );
    let listed = server.get("/api/admin/api-keys", Some(&admin)).await;
    assert_eq!(listed.body["data"], json!([]), "{}", listed.text);
    let kept = server
        .get(&format!("/api/admin/llm/logs/{log_id}"), Some(&admin))
        .await;
    assert_eq!(
        kept.body["data"]["api_key_id"],
        Value::Null,
        "{}",
        kept.text
    );
    assert_eq!(kept.body["data"]["api_key_name"], "ci-bot");

    // Expired.
    let soon = (Utc::now() + chrono::Duration::seconds(2)).to_rfc3339();
    let (_, expiring) = create_key(
        &server,
        &admin,
        json!({"name": "short", "group_id": group_id, "expires_at": soon}),
    )
    .await;
    assert_eq!(call(&server, &expiring, config_id).await.status, 200);
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    assert_error(
        &call(&server, &expiring, config_id).await,
        401,
        "API_KEY_EXPIRED",
    );

    // Never in an answer (but the create one), the server log or the database.
    server.stop();
    let log = server.output();
    for secret in [&key, &expiring] {
        assert!(!log.contains(secret.as_str()), "the server log has a key");
        for text in &seen {
            assert!(
                !text.contains(secret.as_str()),
                "an answer has a key: {text}"
            );
        }
    }
    if is_postgres() {
        let db = Database::connect(&server.database_url).await.unwrap();
        for table in ["api_keys", "llm_call_logs"] {
            let rows = db
                .query_all_raw(Statement::from_string(
                    db.get_database_backend(),
                    format!("SELECT t::text AS row FROM {table} t"),
                ))
                .await
                .unwrap();
            assert!(!rows.is_empty());
            for row in rows {
                let text: String = row.try_get("", "row").unwrap();
                assert!(!text.contains(&key) && !text.contains(&expiring), "{text}");
            }
        }
        db.close().await.unwrap();
    } else {
        for secret in [&key, &expiring] {
            let leaks = files_containing(server.dir.path(), secret.as_bytes());
            assert!(leaks.is_empty(), "plaintext key found in {leaks:?}");
        }
    }
}

#[tokio::test]
async fn api_key_calls_count_against_their_group_rate_limit_and_usage() {
    let fake = FakeUpstream::start().await;
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let group_id = group(&server, &admin, json!({"requests_per_minute": 1})).await;
    let config_id = config(&server, &admin, &fake).await;
    let (_, key) = create_key(
        &server,
        &admin,
        json!({"name": "limited", "group_id": group_id}),
    )
    .await;

    assert_eq!(call(&server, &key, config_id).await.status, 200);
    assert_error(&call(&server, &key, config_id).await, 429, "RATE_LIMITED");
    let usage = server
        .get(&format!("/api/admin/groups/{group_id}/usage"), Some(&admin))
        .await;
    assert_eq!(usage.body["data"]["today"]["calls"], 1, "{}", usage.text);
}

#[tokio::test]
async fn api_key_revoked_or_disabled_on_one_instance_is_refused_by_another_at_once() {
    let first = TestServer::start().await;
    let second = first.start_beside(Options::default()).await;
    let admin = first.admin_token().await;
    let group_id = group(&first, &admin, json!({})).await;
    let (revoked_id, revoked) =
        create_key(&first, &admin, json!({"name": "a", "group_id": group_id})).await;
    let (disabled_id, disabled) =
        create_key(&first, &admin, json!({"name": "b", "group_id": group_id})).await;
    for key in [&revoked, &disabled] {
        assert_eq!(second.get("/api/llm/configs", Some(key)).await.status, 200);
    }

    let deleted = first
        .delete(&format!("/api/admin/api-keys/{revoked_id}"), Some(&admin))
        .await;
    assert_eq!(deleted.status, 200, "{}", deleted.text);
    let paused = first
        .put(
            &format!("/api/admin/api-keys/{disabled_id}"),
            Some(&admin),
            json!({"is_active": false}),
        )
        .await;
    assert_eq!(paused.status, 200, "{}", paused.text);
    assert_error(
        &second.get("/api/llm/configs", Some(&revoked)).await,
        401,
        "API_KEY_INVALID",
    );
    assert_error(
        &second.get("/api/llm/configs", Some(&disabled)).await,
        401,
        "API_KEY_DISABLED",
    );
}
