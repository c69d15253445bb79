//! The admin API through the real server: CRUD of every resource, partial updates,
//! validation and conflict errors in the envelope.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use common::{TestServer, assert_error, sample_config};
use serde_json::{Value, json};

#[tokio::test]
async fn config_crud_keeps_key_secret_and_updates_partially() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;

    let created = server
        .post(
            "/api/admin/llm/configs",
            Some(&admin),
            sample_config("GPT-4配置"),
        )
        .await;
    assert_eq!(created.status, 200, "{}", created.text);
    let data = &created.body["data"];
    let id = data["id"].as_i64().unwrap();
    assert_eq!(data["has_api_key"], true);
    assert_eq!(data["api_key_masked"], "sk-…cdef");
    assert_eq!(data["max_tokens"], 2000, "requirements' default");
    assert_eq!(data["temperature"], 0.7);
    assert_eq!(data["timeout_seconds"], 30);
    assert_eq!(data["max_retries"], 3);
    assert_eq!(data["currency"], "CNY");
    assert!(data.get("api_key").is_none());

    // Provider default URL when none is given.
    let mut claude = sample_config("Claude配置");
    claude["provider"] = json!("anthropic");
    claude.as_object_mut().unwrap().remove("api_url");
    let claude = server
        .post("/api/admin/llm/configs", Some(&admin), claude)
        .await;
    assert_eq!(
        claude.body["data"]["api_url"],
        "https://api.anthropic.com/v1/messages"
    );

    // 启用/禁用 is a partial PUT; the key and other fields stay.
    let disabled = server
        .put(
            &format!("/api/admin/llm/configs/{id}"),
            Some(&admin),
            json!({"is_active": false}),
        )
        .await;
    assert_eq!(disabled.status, 200, "{}", disabled.text);
    assert_eq!(disabled.body["data"]["is_active"], false);
    assert_eq!(disabled.body["data"]["name"], "GPT-4配置");
    assert_eq!(disabled.body["data"]["api_key_masked"], "sk-…cdef");

    let rekeyed = server
        .put(
            &format!("/api/admin/llm/configs/{id}"),
            Some(&admin),
            json!({"api_key": "sk-another-key-9999", "temperature": 1.5, "system_prompt": ""}),
        )
        .await;
    assert_eq!(rekeyed.body["data"]["api_key_masked"], "sk-…9999");
    assert_eq!(rekeyed.body["data"]["temperature"], 1.5);
    assert_eq!(rekeyed.body["data"]["system_prompt"], Value::Null);

    let list = server.get("/api/admin/llm/configs", Some(&admin)).await;
    assert_eq!(list.body["data"].as_array().unwrap().len(), 2);

    let duplicate = server
        .post(
            "/api/admin/llm/configs",
            Some(&admin),
            sample_config("GPT-4配置"),
        )
        .await;
    assert_error(&duplicate, 409, "CONFLICT");

    let deleted = server
        .delete(&format!("/api/admin/llm/configs/{id}"), Some(&admin))
        .await;
    assert_eq!(deleted.status, 200);
    let gone = server
        .get(&format!("/api/admin/llm/configs/{id}"), Some(&admin))
        .await;
    assert_error(&gone, 404, "NOT_FOUND");
    let again = server
        .delete(&format!("/api/admin/llm/configs/{id}"), Some(&admin))
        .await;
    assert_error(&again, 404, "NOT_FOUND");
}

#[tokio::test]
async fn config_validation_names_the_field() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let cases: [(&str, Value); 12] = [
        ("provider", json!("gemini")),
        ("api_url", json!("ftp://example.com")),
        ("api_url", json!("not a url")),
        ("max_tokens", json!(0)),
        ("max_tokens", json!(32001)),
        ("temperature", json!(2.5)),
        ("top_p", json!(-0.1)),
        ("frequency_penalty", json!(-2.5)),
        ("presence_penalty", json!(3)),
        ("timeout_seconds", json!(601)),
        ("max_retries", json!(11)),
        ("name", json!("x".repeat(101))),
    ];
    for (field, value) in cases {
        let mut body = sample_config("valid");
        body[field] = value.clone();
        let response = server
            .post("/api/admin/llm/configs", Some(&admin), body)
            .await;
        assert_error(&response, 422, "VALIDATION_FAILED");
        assert_eq!(
            response.body["field"], field,
            "{field}={value}: {}",
            response.text
        );
    }
    let mut blank = sample_config("valid");
    blank["name"] = json!("   ");
    assert_error(
        &server
            .post("/api/admin/llm/configs", Some(&admin), blank)
            .await,
        422,
        "VALIDATION_FAILED",
    );
    let mut custom = sample_config("custom");
    custom["provider"] = json!("custom");
    custom.as_object_mut().unwrap().remove("api_url");
    let response = server
        .post("/api/admin/llm/configs", Some(&admin), custom)
        .await;
    assert_eq!(response.body["field"], "api_url", "custom needs a URL");

    // Nothing was stored by the failures.
    let list = server.get("/api/admin/llm/configs", Some(&admin)).await;
    assert_eq!(list.body["data"], json!([]));

    // A bad PUT leaves the row untouched.
    let created = server
        .post("/api/admin/llm/configs", Some(&admin), sample_config("ok"))
        .await;
    let id = created.body["data"]["id"].as_i64().unwrap();
    let bad = server
        .put(
            &format!("/api/admin/llm/configs/{id}"),
            Some(&admin),
            json!({"name": "renamed", "temperature": 9}),
        )
        .await;
    assert_error(&bad, 422, "VALIDATION_FAILED");
    let row = server
        .get(&format!("/api/admin/llm/configs/{id}"), Some(&admin))
        .await;
    assert_eq!(row.body["data"]["name"], "ok");
}

#[tokio::test]
async fn malformed_bodies_and_unknown_routes_use_the_envelope() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let raw = server
        .client
        .post(server.url("/api/admin/llm/configs"))
        .bearer_auth(&admin)
        .header("content-type", "application/json")
        .body("{\"name\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(raw.status(), 400);
    let body: Value = raw.json().await.unwrap();
    assert_eq!(body["code"], "BAD_REQUEST");

    let mut wrong_type = sample_config("typed");
    wrong_type["max_tokens"] = json!("many");
    let response = server
        .post("/api/admin/llm/configs", Some(&admin), wrong_type)
        .await;
    assert_error(&response, 400, "BAD_REQUEST");

    let missing = server
        .post("/api/admin/llm/configs", Some(&admin), json!({"name": "x"}))
        .await;
    assert_error(&missing, 400, "BAD_REQUEST");

    let unknown = server.get("/api/admin/nothing-here", Some(&admin)).await;
    assert_error(&unknown, 404, "NOT_FOUND");
    let bad_id = server.get("/api/admin/llm/configs/abc", Some(&admin)).await;
    assert_error(&bad_id, 400, "BAD_REQUEST");
}

#[tokio::test]
async fn templates_derive_and_check_variables() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let config = server
        .post("/api/admin/llm/configs", Some(&admin), sample_config("c"))
        .await;
    let config_id = config.body["data"]["id"].as_i64().unwrap();

    let created = server
        .post(
            "/api/admin/llm/templates",
            Some(&admin),
            json!({
                "config_id": config_id,
                "template_name": "客户问候",
                "template_content": "你是一个专业的客服，客户名叫{customer_name}。请回复：{message}",
                "description": "用于客户问候的模板"
            }),
        )
        .await;
    assert_eq!(created.status, 200, "{}", created.text);
    assert_eq!(
        created.body["data"]["variables"],
        json!(["customer_name", "message"])
    );
    let id = created.body["data"]["id"].as_i64().unwrap();

    let mismatch = server
        .post(
            "/api/admin/llm/templates",
            Some(&admin),
            json!({"config_id": config_id, "template_name": "t2", "template_content": "{a}", "variables": ["b"]}),
        )
        .await;
    assert_error(&mismatch, 422, "VALIDATION_FAILED");
    assert_eq!(mismatch.body["field"], "variables");

    let matching = server
        .post(
            "/api/admin/llm/templates",
            Some(&admin),
            json!({"config_id": config_id, "template_name": "内容总结", "template_content": "请总结：{conversation}", "variables": ["conversation"]}),
        )
        .await;
    assert_eq!(matching.status, 200);

    let duplicate = server
        .post(
            "/api/admin/llm/templates",
            Some(&admin),
            json!({"config_id": config_id, "template_name": "客户问候", "template_content": "x"}),
        )
        .await;
    assert_error(&duplicate, 409, "CONFLICT");

    let orphan = server
        .post(
            "/api/admin/llm/templates",
            Some(&admin),
            json!({"config_id": 9999, "template_name": "x", "template_content": "x"}),
        )
        .await;
    assert_error(&orphan, 404, "NOT_FOUND");

    let updated = server
        .put(
            &format!("/api/admin/llm/templates/{id}"),
            Some(&admin),
            json!({"template_content": "{x} and {y}"}),
        )
        .await;
    assert_eq!(updated.body["data"]["variables"], json!(["x", "y"]));
    assert_eq!(updated.body["data"]["template_name"], "客户问候");

    let filtered = server
        .get(
            &format!("/api/admin/llm/templates?config_id={config_id}"),
            Some(&admin),
        )
        .await;
    assert_eq!(filtered.body["data"].as_array().unwrap().len(), 2);
    let none = server
        .get("/api/admin/llm/templates?config_id=424242", Some(&admin))
        .await;
    assert_eq!(none.body["data"], json!([]));

    // Deleting the config removes its templates.
    server
        .delete(&format!("/api/admin/llm/configs/{config_id}"), Some(&admin))
        .await;
    let after = server.get("/api/admin/llm/templates", Some(&admin)).await;
    assert_eq!(after.body["data"], json!([]));
}

#[tokio::test]
async fn groups_codes_and_users_lifecycle() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;

    let group = server
        .post(
            "/api/admin/groups",
            Some(&admin),
            json!({"name": "销售部", "daily_token_limit": 100000, "requests_per_minute": 30}),
        )
        .await;
    assert_eq!(group.status, 200, "{}", group.text);
    let group_id = group.body["data"]["id"].as_i64().unwrap();
    assert_eq!(group.body["data"]["monthly_token_limit"], Value::Null);
    let negative = server
        .post(
            "/api/admin/groups",
            Some(&admin),
            json!({"name": "x", "daily_token_limit": -1}),
        )
        .await;
    assert_error(&negative, 422, "VALIDATION_FAILED");
    let cleared = server
        .put(
            &format!("/api/admin/groups/{group_id}"),
            Some(&admin),
            json!({"monthly_token_limit": 5000000, "clear_limits": ["daily_token_limit"]}),
        )
        .await;
    assert_eq!(cleared.body["data"]["daily_token_limit"], Value::Null);
    assert_eq!(cleared.body["data"]["monthly_token_limit"], 5000000);
    assert_eq!(cleared.body["data"]["requests_per_minute"], 30);
    assert_error(
        &server
            .post("/api/admin/groups", Some(&admin), json!({"name": "销售部"}))
            .await,
        409,
        "CONFLICT",
    );

    // Codes: generated, or given; duplicates and bad shapes refused.
    let generated = server
        .post(
            "/api/admin/activation-codes",
            Some(&admin),
            json!({"group_id": group_id, "note": "前台电脑"}),
        )
        .await;
    assert_eq!(generated.status, 200, "{}", generated.text);
    let code = generated.body["data"]["code"].as_str().unwrap();
    assert_eq!(code.len(), 16);
    let code_id = generated.body["data"]["id"].as_i64().unwrap();
    let given = server
        .post(
            "/api/admin/activation-codes",
            Some(&admin),
            json!({"group_id": group_id, "code": "ABC123"}),
        )
        .await;
    assert_eq!(given.body["data"]["code"], "ABC123");
    assert_error(
        &server
            .post(
                "/api/admin/activation-codes",
                Some(&admin),
                json!({"group_id": group_id, "code": "ABC123"}),
            )
            .await,
        409,
        "CONFLICT",
    );
    assert_error(
        &server
            .post(
                "/api/admin/activation-codes",
                Some(&admin),
                json!({"group_id": group_id, "code": "a b"}),
            )
            .await,
        422,
        "VALIDATION_FAILED",
    );
    assert_error(
        &server
            .post(
                "/api/admin/activation-codes",
                Some(&admin),
                json!({"group_id": 999}),
            )
            .await,
        404,
        "NOT_FOUND",
    );

    // A group with codes cannot be deleted.
    assert_error(
        &server
            .delete(&format!("/api/admin/groups/{group_id}"), Some(&admin))
            .await,
        409,
        "CONFLICT",
    );

    // Activation works, then stops working when the code is disabled.
    let activated = server
        .post("/api/auth/activate", None, json!({"activation_code": code}))
        .await;
    assert_eq!(activated.status, 200, "{}", activated.text);
    assert_eq!(activated.body["data"]["group_id"], group_id);
    let client = activated.body["data"]["token"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        server.get("/api/llm/configs", Some(&client)).await.status,
        200
    );
    let disabled = server
        .put(
            &format!("/api/admin/activation-codes/{code_id}"),
            Some(&admin),
            json!({"is_active": false}),
        )
        .await;
    assert_eq!(disabled.body["data"]["is_active"], false);
    assert_error(
        &server.get("/api/llm/configs", Some(&client)).await,
        401,
        "ACTIVATION_CODE_DISABLED",
    );
    assert_error(
        &server
            .post("/api/auth/activate", None, json!({"activation_code": code}))
            .await,
        401,
        "ACTIVATION_CODE_DISABLED",
    );
    assert_error(
        &server
            .post(
                "/api/auth/activate",
                None,
                json!({"activation_code": "NOPE0000"}),
            )
            .await,
        401,
        "ACTIVATION_CODE_INVALID",
    );
    let expired = server
        .post(
            "/api/admin/activation-codes",
            Some(&admin),
            json!({"group_id": group_id, "expires_at": "2020-01-01T00:00:00Z"}),
        )
        .await;
    let expired_code = expired.body["data"]["code"].as_str().unwrap();
    assert_error(
        &server
            .post(
                "/api/auth/activate",
                None,
                json!({"activation_code": expired_code}),
            )
            .await,
        401,
        "ACTIVATION_CODE_EXPIRED",
    );

    // Users and sub-accounts.
    let user = server
        .post(
            "/api/admin/users",
            Some(&admin),
            json!({"username": "zhang", "password": "Passw0rd-1", "role": "user", "group_id": group_id}),
        )
        .await;
    assert_eq!(user.status, 200, "{}", user.text);
    assert!(user.body["data"].get("password_hash").is_none());
    let user_id = user.body["data"]["id"].as_i64().unwrap();
    let sub = server
        .post(
            "/api/admin/users",
            Some(&admin),
            json!({"username": "zhang-sub", "password": "Passw0rd-2", "role": "subaccount", "parent_id": user_id}),
        )
        .await;
    assert_eq!(sub.status, 200, "{}", sub.text);
    let orphan_sub = server
        .post(
            "/api/admin/users",
            Some(&admin),
            json!({"username": "nobody-sub", "password": "Passw0rd-2", "role": "subaccount"}),
        )
        .await;
    assert_error(&orphan_sub, 422, "VALIDATION_FAILED");
    assert_error(
        &server
            .post(
                "/api/admin/users",
                Some(&admin),
                json!({"username": "short", "password": "1234", "role": "user"}),
            )
            .await,
        422,
        "VALIDATION_FAILED",
    );
    assert_error(
        &server
            .post(
                "/api/admin/users",
                Some(&admin),
                json!({"username": "zhang", "password": "Passw0rd-9", "role": "user"}),
            )
            .await,
        409,
        "CONFLICT",
    );

    // Deactivated users cannot log in; their tokens stop working.
    let user_token = server.login("zhang", "Passw0rd-1").await;
    server
        .put(
            &format!("/api/admin/users/{user_id}"),
            Some(&admin),
            json!({"is_active": false}),
        )
        .await;
    assert_error(
        &server.get("/api/auth/me", Some(&user_token)).await,
        401,
        "ACCOUNT_DISABLED",
    );
    assert_error(
        &server
            .post(
                "/api/auth/login",
                None,
                json!({"username": "zhang", "password": "Passw0rd-1"}),
            )
            .await,
        401,
        "ACCOUNT_DISABLED",
    );

    // The last admin stays.
    let me = server.get("/api/auth/me", Some(&admin)).await;
    let admin_id = me.body["data"]["id"].as_i64().unwrap();
    assert_error(
        &server
            .put(
                &format!("/api/admin/users/{admin_id}"),
                Some(&admin),
                json!({"role": "user"}),
            )
            .await,
        409,
        "CONFLICT",
    );
    assert_error(
        &server
            .delete(&format!("/api/admin/users/{admin_id}"), Some(&admin))
            .await,
        409,
        "CONFLICT",
    );

    // Deleting the user removes the sub-account too.
    assert_eq!(
        server
            .delete(&format!("/api/admin/users/{user_id}"), Some(&admin))
            .await
            .status,
        200
    );
    let users = server.get("/api/admin/users", Some(&admin)).await;
    assert_eq!(users.body["data"].as_array().unwrap().len(), 1);
}
