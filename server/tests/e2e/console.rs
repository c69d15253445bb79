//! The server side of the admin console (issue #12): connection tests of unsaved values
//! that say what the upstream said, template variables in any language, forgiving
//! activation-code input, and changing one's own password.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;
use crate::fake_upstream;

use common::{TestServer, assert_error};
use fake_upstream::{FakeUpstream, Reply};
use llm_proxy::providers::ProviderKind;
use serde_json::{Value, json};

fn openai_config(fake: &FakeUpstream, name: &str, key: &str) -> Value {
    json!({
        "name": name,
        "provider": "openai",
        "api_url": fake.url(ProviderKind::Openai),
        "api_key": key,
        "model": "gpt-4o-mini",
        "max_retries": 0,
        "timeout_seconds": 5,
    })
}

#[tokio::test]
async fn a_failed_test_says_what_the_upstream_said_and_names_its_record() {
    let fake = FakeUpstream::start().await;
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let bad_key = "sk-typed-but-wrong-000000000000";
    let mut body = openai_config(&fake, "未保存", bad_key);
    body["test_message"] = json!("Hello");
    let failed = server
        .post("/api/admin/llm/configs/test", Some(&admin), body)
        .await;
    assert_error(&failed, 502, "UPSTREAM_ERROR");
    let detail = failed.body["detail"].as_str().unwrap();
    assert!(detail.contains("Incorrect API key provided"), "{detail}");
    assert!(!failed.text.contains(bad_key));
    let record_id = failed.body["call_log_id"].as_i64().unwrap();
    let record = server
        .get(&format!("/api/admin/llm/logs/{record_id}"), Some(&admin))
        .await;
    assert_eq!(record.status, 200, "{}", record.text);
    assert_eq!(record.body["data"]["status"], "error");
    assert_eq!(record.body["data"]["config_id"], Value::Null);
    // Nothing was saved.
    let list = server.get("/api/admin/llm/configs", Some(&admin)).await;
    assert_eq!(list.body["data"].as_array().unwrap().len(), 0);

    // The unsaved form of a new config succeeds with the right key.
    fake.push(Reply::new("你好"));
    let passed = server
        .post(
            "/api/admin/llm/configs/test",
            Some(&admin),
            openai_config(&fake, "未保存", &FakeUpstream::key(ProviderKind::Openai)),
        )
        .await;
    assert_eq!(passed.status, 200, "{}", passed.text);
    assert_eq!(passed.body["success"], true);
    assert_eq!(passed.body["response"], "你好");

    // A field error of the unsaved form is the form's, in place.
    let mut invalid = openai_config(&fake, "x", "sk-x");
    invalid["temperature"] = json!(3.5);
    let invalid = server
        .post("/api/admin/llm/configs/test", Some(&admin), invalid)
        .await;
    assert_error(&invalid, 422, "VALIDATION_FAILED");
    assert_eq!(invalid.body["field"], "temperature");
}

#[tokio::test]
async fn a_saved_config_is_tested_with_the_forms_unsaved_values() {
    let fake = FakeUpstream::start().await;
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let created = server
        .post(
            "/api/admin/llm/configs",
            Some(&admin),
            openai_config(&fake, "已保存", &FakeUpstream::key(ProviderKind::Openai)),
        )
        .await;
    assert_eq!(created.status, 200, "{}", created.text);
    let id = created.body["data"]["id"].as_i64().unwrap();

    // A freshly typed bad key is what is tested, not the stored good one.
    let failed = server
        .post(
            &format!("/api/admin/llm/configs/{id}/test"),
            Some(&admin),
            json!({"api_key": "sk-freshly-typed-bad", "model": "gpt-4o"}),
        )
        .await;
    assert_error(&failed, 502, "UPSTREAM_ERROR");
    assert!(
        failed.body["detail"]
            .as_str()
            .unwrap()
            .contains("Incorrect API key")
    );
    assert!(!failed.text.contains("sk-freshly-typed-bad"));
    let record_id = failed.body["call_log_id"].as_i64().unwrap();
    let record = server
        .get(&format!("/api/admin/llm/logs/{record_id}"), Some(&admin))
        .await;
    assert_eq!(record.body["data"]["config_id"], id);
    assert_eq!(record.body["data"]["model"], "gpt-4o");

    // Nothing of it was saved: the stored key still works.
    fake.push(Reply::new("ok"));
    let passed = server
        .post(
            &format!("/api/admin/llm/configs/{id}/test"),
            Some(&admin),
            json!({}),
        )
        .await;
    assert_eq!(passed.status, 200, "{}", passed.text);
    let saved = server
        .get(&format!("/api/admin/llm/configs/{id}"), Some(&admin))
        .await;
    assert_eq!(saved.body["data"]["model"], "gpt-4o-mini");
}
