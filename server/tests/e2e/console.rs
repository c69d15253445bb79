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

#[tokio::test]
async fn template_variables_may_be_named_in_chinese() {
    let fake = FakeUpstream::start().await;
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let (client, _, _) = server.client_token(&admin).await;
    let created = server
        .post(
            "/api/admin/llm/configs",
            Some(&admin),
            openai_config(&fake, "中文变量", &FakeUpstream::key(ProviderKind::Openai)),
        )
        .await;
    let config_id = created.body["data"]["id"].as_i64().unwrap();
    let template = server
        .post(
            "/api/admin/llm/templates",
            Some(&admin),
            json!({"config_id": config_id, "template_name": "总结",
                   "template_content": "请总结：{对话内容}（客户：{客户名}）"}),
        )
        .await;
    assert_eq!(template.status, 200, "{}", template.text);
    assert_eq!(
        template.body["data"]["variables"],
        json!(["对话内容", "客户名"])
    );
    let template_id = template.body["data"]["id"].as_i64().unwrap();
    let listed = server
        .get(
            &format!("/api/llm/templates?config_id={config_id}"),
            Some(&client),
        )
        .await;
    assert_eq!(
        listed.body["data"][0]["variables"],
        json!(["对话内容", "客户名"])
    );

    let missing = server
        .post(
            "/api/llm/call-template",
            Some(&client),
            json!({"template_id": template_id, "variables": {"对话内容": "我想退货"}}),
        )
        .await;
    assert_error(&missing, 400, "TEMPLATE_VARIABLES_MISSING");
    assert!(missing.body["message"].as_str().unwrap().contains("客户名"));

    fake.push(Reply::new("好的"));
    let called = server
        .post(
            "/api/llm/call-template",
            Some(&client),
            json!({"template_id": template_id,
                   "variables": {"对话内容": "我想退货", "客户名": "张三"}}),
        )
        .await;
    assert_eq!(called.status, 200, "{}", called.text);
    let sent = fake.last_request().body["messages"].to_string();
    assert!(sent.contains("请总结：我想退货（客户：张三）"), "{sent}");
}

#[tokio::test]
async fn activation_codes_ignore_case_and_spaces() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let group = server
        .post("/api/admin/groups", Some(&admin), json!({"name": "大小写"}))
        .await;
    let group_id = group.body["data"]["id"].as_i64().unwrap();
    let generated = server
        .post(
            "/api/admin/activation-codes",
            Some(&admin),
            json!({"group_id": group_id}),
        )
        .await;
    let code = generated.body["data"]["code"].as_str().unwrap().to_string();
    assert_eq!(code, code.to_uppercase(), "generated codes are upper-case");
    let (head, tail) = code.split_at(8);
    let typed = format!("  {} {}\n", head.to_lowercase(), tail.to_lowercase());
    let activated = server
        .post(
            "/api/auth/activate",
            None,
            json!({"activation_code": typed}),
        )
        .await;
    assert_eq!(activated.status, 200, "{}", activated.text);

    // A custom code is stored upper-case, so one differing only by case is a duplicate.
    let custom = server
        .post(
            "/api/admin/activation-codes",
            Some(&admin),
            json!({"group_id": group_id, "code": "shop-01"}),
        )
        .await;
    assert_eq!(custom.status, 200, "{}", custom.text);
    assert_eq!(custom.body["data"]["code"], "SHOP-01");
    let twin = server
        .post(
            "/api/admin/activation-codes",
            Some(&admin),
            json!({"group_id": group_id, "code": "Shop-01"}),
        )
        .await;
    assert_eq!(twin.status, 409, "{}", twin.text);
    let activated = server
        .post(
            "/api/auth/activate",
            None,
            json!({"activation_code": " Shop-01 "}),
        )
        .await;
    assert_eq!(activated.status, 200, "{}", activated.text);
    let wrong = server
        .post(
            "/api/auth/activate",
            None,
            json!({"activation_code": "shop-02"}),
        )
        .await;
    assert_error(&wrong, 401, "ACTIVATION_CODE_INVALID");
}

#[tokio::test]
async fn anyone_signed_in_changes_their_own_password_and_other_sessions_end() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let created = server
        .post(
            "/api/admin/users",
            Some(&admin),
            json!({"username": "li", "password": "first-password", "role": "user"}),
        )
        .await;
    assert_eq!(created.status, 200, "{}", created.text);
    let first = server.login("li", "first-password").await;
    let second = server.login("li", "first-password").await;

    let wrong = server
        .post(
            "/api/auth/change-password",
            Some(&first),
            json!({"old_password": "not-it-at-all", "new_password": "second-password"}),
        )
        .await;
    assert_error(&wrong, 422, "VALIDATION_FAILED");
    assert_eq!(wrong.body["field"], "old_password");
    let short = server
        .post(
            "/api/auth/change-password",
            Some(&first),
            json!({"old_password": "first-password", "new_password": "short"}),
        )
        .await;
    assert_error(&short, 422, "VALIDATION_FAILED");
    assert_eq!(short.body["field"], "new_password");

    // Tokens carry whole seconds: wait into the next one, so the old ones predate the change.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let changed = server
        .post(
            "/api/auth/change-password",
            Some(&first),
            json!({"old_password": "first-password", "new_password": "second-password"}),
        )
        .await;
    assert_eq!(changed.status, 200, "{}", changed.text);
    assert!(!changed.text.contains("second-password"));
    let fresh = changed.body["data"]["token"].as_str().unwrap();
    assert_eq!(changed.body["data"]["role"], "user");
    assert_eq!(server.get("/api/auth/me", Some(fresh)).await.status, 200);
    for old in [&first, &second] {
        assert_error(
            &server.get("/api/auth/me", Some(old)).await,
            401,
            "TOKEN_REVOKED",
        );
    }
    server.login("li", "second-password").await;
    let refused = server
        .post(
            "/api/auth/login",
            None,
            json!({"username": "li", "password": "first-password"}),
        )
        .await;
    assert_error(&refused, 401, "INVALID_CREDENTIALS");
    let anonymous = server
        .post(
            "/api/auth/change-password",
            None,
            json!({"old_password": "a", "new_password": "b"}),
        )
        .await;
    assert_eq!(anonymous.status, 401);
}

/// Two configs priced in different currencies, one renamed after its calls.
async fn priced_calls() -> (FakeUpstream, TestServer, String, i64, i64) {
    let fake = FakeUpstream::start().await;
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let (client, group_id, _) = server.client_token(&admin).await;
    let key = FakeUpstream::key(ProviderKind::Openai);
    let mut usd = openai_config(&fake, "美元配置", &key);
    usd["currency"] = json!("USD");
    usd["input_price"] = json!(1000.0);
    let mut cny = openai_config(&fake, "人民币配置", &key);
    cny["input_price"] = json!(2000.0);
    let mut ids = Vec::new();
    for body in [usd, cny] {
        let created = server
            .post("/api/admin/llm/configs", Some(&admin), body)
            .await;
        assert_eq!(created.status, 200, "{}", created.text);
        ids.push(created.body["data"]["id"].as_i64().unwrap());
    }
    for (id, question) in [(ids[0], "美元问题"), (ids[1], "人民币问题")] {
        fake.push(Reply::new("好").usage(100, 0));
        let called = server
            .post(
                "/api/llm/call",
                Some(&client),
                json!({"config_id": id, "messages": [{"role": "user", "content": question}]}),
            )
            .await;
        assert_eq!(called.status, 200, "{}", called.text);
    }
    let renamed = server
        .put(
            &format!("/api/admin/llm/configs/{}", ids[0]),
            Some(&admin),
            json!({"name": "美元配置（新名）"}),
        )
        .await;
    assert_eq!(renamed.status, 200, "{}", renamed.text);
    (fake, server, admin, ids[0], group_id)
}

#[tokio::test]
async fn money_is_kept_per_currency_and_names_are_current() {
    let (_fake, server, admin, usd_id, group_id) = priced_calls().await;
    let stats = server.get("/api/admin/llm/stats", Some(&admin)).await;
    assert_eq!(stats.status, 200, "{}", stats.text);
    let data = &stats.body["data"];
    // 100 prompt tokens at 1000 and 2000 per million: 0.1 USD and 0.2 CNY, never 0.3.
    assert_eq!(
        data["summary"]["costs"],
        json!([{"currency": "CNY", "amount": 0.2}, {"currency": "USD", "amount": 0.1}])
    );
    let usd = data["by_config"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["config_id"] == usd_id)
        .unwrap();
    assert_eq!(usd["config_name"], "美元配置（新名）", "the name now");
    assert_eq!(usd["currency"], "USD");
    let usage = server
        .get(&format!("/api/admin/groups/{group_id}/usage"), Some(&admin))
        .await;
    assert_eq!(usage.status, 200, "{}", usage.text);
    for period in ["today", "month"] {
        assert_eq!(
            usage.body["data"][period]["costs"],
            json!([{"currency": "CNY", "amount": 0.2}, {"currency": "USD", "amount": 0.1}]),
            "a group's usage keeps currencies apart too"
        );
    }
    let group = data["by_group"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["group_id"] == group_id)
        .unwrap();
    assert_eq!(group["costs"].as_array().unwrap().len(), 2, "{group}");
    let today = data["daily"].as_array().unwrap().last().unwrap();
    assert_eq!(today["costs"].as_array().unwrap().len(), 2, "{today}");

    let logs = server
        .get("/api/admin/llm/logs?summary=true", Some(&admin))
        .await;
    assert_eq!(logs.body["summary"]["total_calls"], 2, "{}", logs.text);
    assert_eq!(logs.body["summary"]["costs"], data["summary"]["costs"]);
    assert!(
        logs.body["data"]
            .as_array()
            .unwrap()
            .iter()
            .any(|row| row["currency"] == "USD")
    );
    let csv = server.get("/api/admin/llm/logs/export", Some(&admin)).await;
    assert!(csv.text.contains(",币种,"), "{}", csv.text);
}

#[tokio::test]
async fn log_cards_count_exactly_what_the_filters_match() {
    let (_fake, server, admin, usd_id, _) = priced_calls().await;
    // Status, text and key filters narrow the cards as they narrow the table.
    for (query, calls) in [
        ("status=error", 0),
        ("status=success", 2),
        ("q=%E7%BE%8E%E5%85%83", 1),
        (&format!("config_id={usd_id}") as &str, 1),
    ] {
        let page = server
            .get(
                &format!("/api/admin/llm/logs?summary=true&{query}"),
                Some(&admin),
            )
            .await;
        assert_eq!(page.status, 200, "{}", page.text);
        assert_eq!(page.body["total"], calls, "{query}");
        assert_eq!(page.body["summary"]["total_calls"], calls, "{query}");
    }
    let plain = server.get("/api/admin/llm/logs", Some(&admin)).await;
    assert!(plain.body.get("summary").is_none(), "only when asked");
}

#[tokio::test]
async fn log_detail_names_its_group_template_and_user() {
    let fake = FakeUpstream::start().await;
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let (client, _, _) = server.client_token(&admin).await;
    let created = server
        .post(
            "/api/admin/llm/configs",
            Some(&admin),
            openai_config(&fake, "名称配置", &FakeUpstream::key(ProviderKind::Openai)),
        )
        .await;
    let config_id = created.body["data"]["id"].as_i64().unwrap();
    let template = server
        .post(
            "/api/admin/llm/templates",
            Some(&admin),
            json!({"config_id": config_id, "template_name": "问候模板", "template_content": "你好"}),
        )
        .await;
    let template_id = template.body["data"]["id"].as_i64().unwrap();
    fake.push(Reply::new("好"));
    let called = server
        .post(
            "/api/llm/call-template",
            Some(&client),
            json!({"template_id": template_id}),
        )
        .await;
    let id = called.body["data"]["call_log_id"].as_i64().unwrap();
    let detail = server
        .get(&format!("/api/admin/llm/logs/{id}"), Some(&admin))
        .await;
    assert_eq!(
        detail.body["data"]["template_name"], "问候模板",
        "{}",
        detail.text
    );
    assert!(
        detail.body["data"]["group_name"]
            .as_str()
            .unwrap()
            .starts_with("group-")
    );
    assert_eq!(detail.body["data"]["currency"], "CNY");

    fake.push(Reply::new("ok"));
    let tested = server
        .post(
            &format!("/api/admin/llm/configs/{config_id}/test"),
            Some(&admin),
            json!({}),
        )
        .await;
    let test_id = tested.body["call_log_id"].as_i64().unwrap();
    let detail = server
        .get(&format!("/api/admin/llm/logs/{test_id}"), Some(&admin))
        .await;
    assert_eq!(detail.body["data"]["username"], "admin", "{}", detail.text);
}

#[tokio::test]
async fn keys_are_checked_for_their_providers_shape_and_taken_names_name_their_field() {
    let fake = FakeUpstream::start().await;
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let config = |provider: &str, key: &str| {
        let mut body = openai_config(&fake, &format!("{provider}-{key}"), key);
        body["provider"] = json!(provider);
        body
    };
    for (provider, key) in [
        ("baidu", "only-an-api-key"),
        ("baidu", "id:"),
        ("zhipu", "id.secret.extra"),
        ("openai", "sk-half copied"),
    ] {
        let refused = server
            .post(
                "/api/admin/llm/configs",
                Some(&admin),
                config(provider, key),
            )
            .await;
        assert_error(&refused, 422, "VALIDATION_FAILED");
        assert_eq!(refused.body["field"], "api_key", "{provider} {key}");
    }
    for (provider, key) in [
        ("baidu", "client-id:client-secret"),
        ("zhipu", "abc.def"),
        ("zhipu", "a-plain-zhipu-key"),
        ("xunfei", "spark-api-password"),
    ] {
        let saved = server
            .post(
                "/api/admin/llm/configs",
                Some(&admin),
                config(provider, key),
            )
            .await;
        assert_eq!(saved.status, 200, "{provider} {key}: {}", saved.text);
    }
    let id = server
        .post(
            "/api/admin/llm/configs",
            Some(&admin),
            config("baidu", "x:y"),
        )
        .await
        .body["data"]["id"]
        .as_i64()
        .unwrap();
    let retyped = server
        .put(
            &format!("/api/admin/llm/configs/{id}"),
            Some(&admin),
            json!({"api_key": "no-colon"}),
        )
        .await;
    assert_error(&retyped, 422, "VALIDATION_FAILED");

    let taken = server
        .post(
            "/api/admin/llm/configs",
            Some(&admin),
            config("baidu", "x:y"),
        )
        .await;
    assert_error(&taken, 409, "CONFLICT");
    assert_eq!(taken.body["field"], "name");
    let group = server
        .post("/api/admin/groups", Some(&admin), json!({"name": "同名"}))
        .await;
    assert_eq!(group.status, 200);
    let twin = server
        .post("/api/admin/groups", Some(&admin), json!({"name": "同名"}))
        .await;
    assert_error(&twin, 409, "CONFLICT");
    assert_eq!(twin.body["field"], "name");
}

/// Records and hourly totals written before costs had a currency take their config's
/// currency on upgrade (SQLite file or PostgreSQL, as the suite runs).
#[tokio::test]
async fn upgrading_gives_old_costs_their_configs_currency() {
    use migration::{Migrator, MigratorTrait};
    use sea_orm::{ActiveModelTrait, ConnectionTrait, Database, Set};

    let dir = tempfile::tempdir().unwrap();
    let url = match common::fresh_database_url().await {
        url if url.is_empty() => {
            format!("sqlite://{}?mode=rwc", dir.path().join("old.db").display())
        }
        url => url,
    };
    let db = Database::connect(&url).await.unwrap();
    // The schema as it was before the currency migration (later ones are not its business).
    let before_currency = Migrator::migrations()
        .iter()
        .position(|m| m.name() == "m20261130_000040_call_currency")
        .unwrap() as u32;
    Migrator::up(&db, Some(before_currency)).await.unwrap();
    let now = chrono::Utc::now();
    let config = entity::llm_configs::ActiveModel {
        name: Set("旧美元配置".into()),
        provider: Set("openai".into()),
        api_url: Set("https://example.invalid/v1/chat/completions".into()),
        api_key: Set("not-a-ciphertext".into()),
        model: Set("gpt-4o".into()),
        max_tokens: Set(100),
        temperature: Set(0.7),
        top_p: Set(1.0),
        frequency_penalty: Set(0.0),
        presence_penalty: Set(0.0),
        reasoning_model: Set(false),
        system_prompt: Set(None),
        timeout_seconds: Set(30),
        max_retries: Set(0),
        input_price: Set(1.0),
        output_price: Set(1.0),
        currency: Set("USD".into()),
        is_active: Set(true),
        created_at: Set(now),
        updated_at: Set(now),
        created_by: Set(None),
        ..Default::default()
    }
    .insert(&db)
    .await
    .unwrap();
    for sql in [
        format!(
            "INSERT INTO call_stats_hourly (hour, day, hour_of_day, config_id, group_id, \
             config_name, calls, success_calls, prompt_tokens, completion_tokens, cost, \
             duration_ms_sum) VALUES ('2026-06-01 10', '2026-06-01', 10, {id}, 0, '旧美元配置', \
             3, 3, 300, 0, 0.5, 90), ('2026-06-01 10', '2026-06-01', 10, 999, 0, '已删除', \
             1, 1, 100, 0, 0.25, 30)",
            id = config.id
        ),
        format!(
            "INSERT INTO llm_call_logs (config_id, config_name, provider, model, \
             request_messages, status, cost, call_time) VALUES ({id}, '旧美元配置', 'openai', \
             'gpt-4o', '[]', 'success', 0.5, '2026-06-01T10:00:00+00:00')",
            id = config.id
        ),
    ] {
        db.execute_unprepared(&sql).await.unwrap();
    }
    db.close().await.unwrap();

    let server = TestServer::start_with(common::Options {
        database_url: Some(url),
        ..common::Options::default()
    })
    .await;
    let admin = server.admin_token().await;
    let stats = server
        .get(
            "/api/admin/llm/stats?start_date=2026-06-01&end_date=2026-06-01",
            Some(&admin),
        )
        .await;
    assert_eq!(stats.status, 200, "{}", stats.text);
    // The deleted config's totals have no currency to take: CNY, the default.
    assert_eq!(
        stats.body["data"]["summary"]["costs"],
        json!([{"currency": "CNY", "amount": 0.25}, {"currency": "USD", "amount": 0.5}])
    );
    let logs = server.get("/api/admin/llm/logs", Some(&admin)).await;
    assert_eq!(logs.body["data"][0]["currency"], "USD", "{}", logs.text);
}
