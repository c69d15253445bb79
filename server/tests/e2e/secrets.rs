//! Provider keys, the JWT secret and the encryption key never appear in responses, logs
//! or the database file in plain text.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use common::{
    ENCRYPTION_KEY, JWT_SECRET, TestServer, files_containing, is_postgres, sample_config,
};
use sea_orm::{ConnectionTrait, Database, Statement};
use serde_json::json;

const PROVIDER_KEY: &str = "sk-live-PLAINTEXT-never-shown-7f3a9c";

#[tokio::test]
async fn provider_key_is_ciphertext_at_rest_and_never_echoed() {
    let mut server =
        TestServer::start_with(common::Options::default().env("LLM_PROXY_LOG", "debug")).await;
    let admin = server.admin_token().await;
    let mut body = sample_config("secret");
    body["api_key"] = json!(PROVIDER_KEY);
    let created = server
        .post("/api/admin/llm/configs", Some(&admin), body)
        .await;
    let id = created.body["data"]["id"].as_i64().unwrap();
    let mut seen = vec![created.text.clone()];
    for path in [
        "/api/admin/llm/configs".to_string(),
        format!("/api/admin/llm/configs/{id}"),
        "/api/openapi.json".to_string(),
    ] {
        seen.push(server.get(&path, Some(&admin)).await.text);
    }
    seen.push(
        server
            .put(
                &format!("/api/admin/llm/configs/{id}"),
                Some(&admin),
                json!({"name": "renamed"}),
            )
            .await
            .text,
    );
    let (client, _, _) = server.client_token(&admin).await;
    seen.push(server.get("/api/llm/configs", Some(&client)).await.text);
    // A validation failure must not echo the key either.
    let mut bad = sample_config("bad");
    bad["api_key"] = json!(PROVIDER_KEY);
    bad["temperature"] = json!(5);
    seen.push(
        server
            .post("/api/admin/llm/configs", Some(&admin), bad)
            .await
            .text,
    );

    server.stop();
    let log = server.output();
    for secret in [PROVIDER_KEY, JWT_SECRET, ENCRYPTION_KEY] {
        for text in &seen {
            assert!(!text.contains(secret), "a response leaked a secret: {text}");
        }
        assert!(!log.contains(secret), "the server log leaked a secret");
    }

    if is_postgres() {
        let db = Database::connect(&server.database_url).await.unwrap();
        let row = db
            .query_one_raw(Statement::from_string(
                db.get_database_backend(),
                "SELECT api_key FROM llm_configs",
            ))
            .await
            .unwrap()
            .unwrap();
        let stored: String = row.try_get("", "api_key").unwrap();
        assert_ne!(stored, PROVIDER_KEY);
        assert!(!stored.contains("PLAINTEXT"));
    } else {
        let leaks = files_containing(server.dir.path(), PROVIDER_KEY.as_bytes());
        assert!(leaks.is_empty(), "plaintext key found in {leaks:?}");
        let leaks = files_containing(&server.data_dir(), JWT_SECRET.as_bytes());
        assert!(
            leaks.is_empty(),
            "a configured JWT secret is not written to disk: {leaks:?}"
        );
    }
}
