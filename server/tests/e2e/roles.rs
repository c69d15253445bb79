//! Who may call what: every admin endpoint against every kind of caller.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::Duration;
use common::{JWT_SECRET, TestServer, assert_error, sample_config};
use llm_proxy::{
    auth::{Role, Tokens},
    secret::Secret,
};
use reqwest::Method;
use serde_json::{Value, json};

fn admin_endpoints(config_id: i64) -> Vec<(Method, String, Option<Value>)> {
    let c = config_id;
    vec![
        (Method::GET, "/api/admin/llm/configs".into(), None),
        (
            Method::POST,
            "/api/admin/llm/configs".into(),
            Some(sample_config("role-test")),
        ),
        (Method::GET, format!("/api/admin/llm/configs/{c}"), None),
        (
            Method::PUT,
            format!("/api/admin/llm/configs/{c}"),
            Some(json!({"is_active": true})),
        ),
        (Method::GET, "/api/admin/llm/templates".into(), None),
        (
            Method::POST,
            "/api/admin/llm/templates".into(),
            Some(json!({"config_id": c, "template_name": "t", "template_content": "{x}"})),
        ),
        (
            Method::PUT,
            "/api/admin/llm/templates/1".into(),
            Some(json!({"is_active": true})),
        ),
        (Method::GET, "/api/admin/groups".into(), None),
        (
            Method::POST,
            "/api/admin/groups".into(),
            Some(json!({"name": "g-role"})),
        ),
        (
            Method::PUT,
            "/api/admin/groups/1".into(),
            Some(json!({"description": "d"})),
        ),
        (Method::GET, "/api/admin/activation-codes".into(), None),
        (
            Method::POST,
            "/api/admin/activation-codes".into(),
            Some(json!({"group_id": 1})),
        ),
        (
            Method::PUT,
            "/api/admin/activation-codes/1".into(),
            Some(json!({"note": "n"})),
        ),
        (Method::GET, "/api/admin/api-keys".into(), None),
        (
            Method::POST,
            "/api/admin/api-keys".into(),
            Some(json!({"name": "k-role", "group_id": 1})),
        ),
        (
            Method::PUT,
            "/api/admin/api-keys/9999".into(),
            Some(json!({"is_active": true})),
        ),
        (Method::DELETE, "/api/admin/api-keys/9999".into(), None),
        (Method::GET, "/api/admin/users".into(), None),
        (
            Method::POST,
            "/api/admin/users".into(),
            Some(json!({"username": "u-role", "password": "Passw0rd-x", "role": "user"})),
        ),
        (
            Method::PUT,
            "/api/admin/users/9999".into(),
            Some(json!({"is_active": true})),
        ),
        (Method::DELETE, "/api/admin/llm/templates/9999".into(), None),
        (
            Method::DELETE,
            "/api/admin/activation-codes/9999".into(),
            None,
        ),
        (Method::DELETE, "/api/admin/groups/9999".into(), None),
        (Method::DELETE, "/api/admin/users/9999".into(), None),
        (Method::DELETE, "/api/admin/llm/configs/9999".into(), None),
    ]
}

fn tampered(token: &str) -> String {
    let parts: Vec<&str> = token.split('.').collect();
    let mut payload: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
    payload["role"] = json!("admin");
    format!(
        "{}.{}.{}",
        parts[0],
        URL_SAFE_NO_PAD.encode(payload.to_string()),
        parts[2]
    )
}

fn unsigned(token: &str) -> String {
    let parts: Vec<&str> = token.split('.').collect();
    format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#),
        parts[1]
    )
}

#[tokio::test]
async fn role_matrix_over_every_admin_endpoint() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let config = server
        .post(
            "/api/admin/llm/configs",
            Some(&admin),
            sample_config("base"),
        )
        .await;
    let config_id = config.body["data"]["id"].as_i64().unwrap();
    let (client, group_id, _) = server.client_token(&admin).await;
    server
        .post(
            "/api/admin/users",
            Some(&admin),
            json!({"username": "plain", "password": "Passw0rd-1", "role": "user", "group_id": group_id}),
        )
        .await;
    let users = server.get("/api/admin/users", Some(&admin)).await;
    let plain_id = users.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["username"] == "plain")
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    server
        .post(
            "/api/admin/users",
            Some(&admin),
            json!({"username": "sub", "password": "Passw0rd-2", "role": "subaccount", "parent_id": plain_id}),
        )
        .await;
    let user = server.login("plain", "Passw0rd-1").await;
    let sub = server.login("sub", "Passw0rd-2").await;
    let key = server
        .post(
            "/api/admin/api-keys",
            Some(&admin),
            json!({"name": "tool", "group_id": group_id}),
        )
        .await;
    let key = key.body["data"]["key"].as_str().unwrap().to_string();
    let tokens = Tokens::new(&Secret::new(JWT_SECRET));
    let me = server.get("/api/auth/me", Some(&admin)).await;
    let admin_id = me.body["data"]["id"].as_i64().unwrap() as i32;
    let expired = tokens
        .issue_user(admin_id, Role::Admin, Duration::seconds(-120))
        .unwrap()
        .token;
    let foreign = Tokens::new(&Secret::new("some-other-secret-entirely-0000"))
        .issue_user(admin_id, Role::Admin, Duration::hours(1))
        .unwrap()
        .token;

    for (method, path, body) in admin_endpoints(config_id) {
        let as_admin = server
            .request(method.clone(), &path, Some(&admin), body.clone())
            .await;
        assert!(
            ![401, 403].contains(&as_admin.status.as_u16()),
            "admin on {method} {path}: {}",
            as_admin.text
        );
        for (who, token) in [
            ("user", &user),
            ("subaccount", &sub),
            ("client", &client),
            ("API key", &key),
        ] {
            let response = server
                .request(method.clone(), &path, Some(token), body.clone())
                .await;
            assert_error(&response, 403, "FORBIDDEN");
            assert!(
                !response.text.contains("gpt"),
                "{who} must see nothing about models"
            );
        }
        let anonymous = server
            .request(method.clone(), &path, None, body.clone())
            .await;
        assert_error(&anonymous, 401, "UNAUTHORIZED");
        for (bad, code) in [
            (tampered(&user), "TOKEN_INVALID"),
            (unsigned(&admin), "TOKEN_INVALID"),
            (foreign.clone(), "TOKEN_INVALID"),
            (expired.clone(), "TOKEN_EXPIRED"),
            ("garbage".to_string(), "TOKEN_INVALID"),
            ("sk-unknown".to_string(), "API_KEY_INVALID"),
        ] {
            let response = server
                .request(method.clone(), &path, Some(&bad), body.clone())
                .await;
            assert_error(&response, 401, code);
        }
    }
}

#[tokio::test]
async fn client_endpoints_take_client_and_admin_tokens_only() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let created = server
        .post(
            "/api/admin/llm/configs",
            Some(&admin),
            sample_config("visible"),
        )
        .await;
    let id = created.body["data"]["id"].as_i64().unwrap();
    let mut hidden = sample_config("hidden");
    hidden["is_active"] = json!(false);
    server
        .post("/api/admin/llm/configs", Some(&admin), hidden)
        .await;
    server
        .post(
            "/api/admin/llm/templates",
            Some(&admin),
            json!({"config_id": id, "template_name": "t", "template_content": "你好{name}"}),
        )
        .await;
    let (client, _, _) = server.client_token(&admin).await;
    server
        .post(
            "/api/admin/users",
            Some(&admin),
            json!({"username": "u", "password": "Passw0rd-1", "role": "user"}),
        )
        .await;
    let user = server.login("u", "Passw0rd-1").await;

    let configs = server.get("/api/llm/configs", Some(&client)).await;
    assert_eq!(configs.status, 200, "{}", configs.text);
    assert_eq!(
        configs.body["data"],
        json!([{"id": id, "name": "visible", "provider": "openai", "model": "gpt-4o-mini", "is_active": true}]),
        "enabled configs only, and no URL, key or parameters"
    );
    let templates = server
        .get(&format!("/api/llm/templates?config_id={id}"), Some(&client))
        .await;
    assert_eq!(templates.body["data"][0]["variables"], json!(["name"]));
    assert_eq!(templates.body["data"][0]["content"], "你好{name}");

    assert_eq!(
        server.get("/api/llm/configs", Some(&admin)).await.status,
        200
    );
    assert_error(
        &server.get("/api/llm/configs", Some(&user)).await,
        403,
        "FORBIDDEN",
    );
    assert_error(
        &server.get("/api/llm/configs", None).await,
        401,
        "UNAUTHORIZED",
    );
    // A client token cannot sign in to the back office either.
    assert_error(
        &server.get("/api/auth/me", Some(&client)).await,
        403,
        "FORBIDDEN",
    );
}
