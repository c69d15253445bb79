//! Issue #13 in the browser: the configs a group may use, several keys per config with
//! their states and 恢复, fallbacks with the server's cycle error, the circuit breaker in the
//! list, and the exchange rates on 系统设置. Each result is checked through the admin API.

use serde_json::{Value, json};

use super::{Env, FakeUpstream, Outcome, ProviderKind, Reply, admin_login, scenario};

/// The admin's view of one config.
async fn config(env: &Env, id: i64) -> Value {
    let one = env
        .server
        .get(&format!("/api/admin/llm/configs/{id}"), Some(&env.admin))
        .await;
    assert_eq!(one.status, 200, "{}", one.text);
    one.body["data"].clone()
}

/// The admin's view of the group named `name`.
async fn group_named(env: &Env, name: &str) -> Value {
    let groups = env.server.get("/api/admin/groups", Some(&env.admin)).await;
    groups.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["name"] == name)
        .cloned()
        .unwrap_or_else(|| panic!("no group {name}: {}", groups.text))
}

/// 仅以下配置 with one config ticked is saved as that list, shown in the list by name, and
/// 全部已启用的配置 clears it again.
#[tokio::test]
async fn a_group_is_restricted_to_one_config_in_its_dialog() {
    scenario("group_access", |ui, env| async move {
        let allowed = env.config("客服配置").await;
        env.config("翻译配置").await;
        admin_login(&ui).await;
        ui.click("nav-groups").await;

        ui.step("restrict");
        ui.click("btn-add-group").await;
        ui.fill("group-name", "客服部").await;
        ui.click("group-access-only").await;
        ui.click("group-save").await;
        ui.wait_text("error-group-access", &["至少选择一个配置"])
            .await;
        ui.click(&format!("group-config-{allowed}")).await;
        ui.click("group-save").await;
        ui.wait_gone("group-dialog").await;
        let group = group_named(&env, "客服部").await;
        assert_eq!(group["config_ids"], json!([allowed]), "{group}");
        let id = group["id"].as_i64().unwrap();
        let shown = ui
            .wait_text(&format!("group-access-{id}"), &["客服配置"])
            .await;
        assert!(!shown.contains("翻译配置"), "{shown}");

        ui.step("all-again");
        ui.click(&format!("group-edit-{id}")).await;
        ui.click("group-access-all").await;
        ui.click("group-save").await;
        ui.wait_gone("group-dialog").await;
        assert!(group_named(&env, "客服部").await["config_ids"].is_null());
        ui.wait_text(&format!("group-access-{id}"), &["全部"]).await;
    })
    .await;
}

/// A config saved with two keys (one per line) shows both as 正常; after a call the upstream
/// refuses the first one it is 已搁置 with the reason, and 恢复 in the dialog puts it back.
#[tokio::test]
async fn two_keys_are_shown_and_a_set_aside_key_is_restored_in_the_dialog() {
    scenario("config_keys", |ui, env| async move {
        admin_login(&ui).await;

        ui.step("two-keys");
        ui.click("btn-add-config").await;
        ui.fill("config-name", "双Key配置").await;
        ui.fill("config-api-url", &env.fake.url(ProviderKind::Openai))
            .await;
        let good = FakeUpstream::key(ProviderKind::Openai);
        ui.fill("config-api-key", &format!("sk-revoked-0000000000\n{good}"))
            .await;
        ui.fill("config-model", super::MODEL).await;
        ui.fill("config-retries", "0").await;
        ui.click("config-save").await;
        ui.wait_gone("config-dialog").await;
        let configs = env.configs().await;
        let id = configs[0]["id"].as_i64().unwrap();
        assert_eq!(configs[0]["api_keys"].as_array().unwrap().len(), 2);
        ui.wait_text(&format!("config-routing-{id}"), &["2 个 Key"])
            .await;
        ui.click(&format!("config-edit-{id}")).await;
        ui.wait_text("key-state-0", &["正常"]).await;
        ui.wait_text("key-state-1", &["正常"]).await;
        ui.click("config-cancel").await;
        ui.wait_gone("config-dialog").await;

        ui.step("refused");
        let (client, _) = env.client().await;
        env.fake.push(Reply::new("第二个 Key 的回答"));
        env.call_ok(&client, id, "你好").await;
        assert_eq!(config(&env, id).await["api_keys"][0]["set_aside"], true);
        ui.click("btn-refresh").await;
        ui.wait_text(&format!("config-routing-{id}"), &["1 个已搁置"])
            .await;

        ui.step("restore");
        ui.click(&format!("config-edit-{id}")).await;
        ui.wait_text("key-state-0", &["已搁置"]).await;
        ui.wait_text("key-reason-0", &["401"]).await;
        ui.wait_text("key-state-1", &["正常"]).await;
        ui.click("key-restore-0").await;
        ui.wait_text("key-state-0", &["正常"]).await;
        assert!(!ui.exists("key-restore-0").await);
        assert_eq!(config(&env, id).await["api_keys"][0]["set_aside"], false);
        // Nothing typed: the dialog closes without asking, and the list shows no set-aside key.
        ui.click("config-cancel").await;
        ui.wait_gone("config-dialog").await;
        let row = ui.text(&format!("config-routing-{id}")).await;
        assert!(!row.contains("已搁置"), "{row}");
    })
    .await;
}

/// A fallback chosen in the dialog is saved; choosing the way back is refused with the
/// server's cycle error at the field; a breaker set in the dialog opens after a failure and
/// shows in the list.
#[tokio::test]
async fn a_fallback_and_a_breaker_are_chosen_in_the_dialog() {
    scenario("config_fallback", |ui, env| async move {
        let main = env.config("主配置").await;
        let backup = env.config("备用配置").await;
        admin_login(&ui).await;

        ui.step("fallback");
        ui.click(&format!("config-edit-{main}")).await;
        let offered = ui.text("config-fallback-add").await;
        assert!(!offered.contains("主配置"), "never itself: {offered}");
        ui.select("config-fallback-add", &backup.to_string()).await;
        ui.click("config-fallback-add-btn").await;
        ui.wait_text(&format!("fallback-{backup}"), &["备用配置"])
            .await;
        ui.fill("config-breaker-threshold", "1").await;
        ui.click("config-save").await;
        ui.wait_gone("config-dialog").await;
        let saved = config(&env, main).await;
        assert_eq!(saved["fallback_config_ids"], json!([backup]), "{saved}");
        assert_eq!(saved["breaker_threshold"], 1);
        ui.wait_text(&format!("config-routing-{main}"), &["备用：备用配置"])
            .await;

        ui.step("cycle");
        ui.click(&format!("config-edit-{backup}")).await;
        ui.select("config-fallback-add", &main.to_string()).await;
        ui.click("config-fallback-add-btn").await;
        ui.click("config-save").await;
        ui.wait_text("error-config-fallback-add", &["循环"]).await;
        assert!(!ui.exists("config-error").await, "shown once, at the field");
        ui.click("config-cancel").await;
        ui.click("confirm-ok").await;
        ui.wait_gone("config-dialog").await;
        assert_eq!(config(&env, backup).await["fallback_config_ids"], json!([]));

        ui.step("circuit");
        let (client, _) = env.client().await;
        env.fake.push(Outcome::http(503, "server_error", "down"));
        env.fake.push(Reply::new("备用的回答"));
        env.call_ok(&client, main, "你好").await;
        ui.click("btn-refresh").await;
        ui.wait_text(&format!("config-circuit-{main}"), &["已熔断"])
            .await;
    })
    .await;
}

/// 系统设置 → 汇率: a rate is added and saved, a mistake is marked on its row, and a changed
/// rate replaces the stored one.
#[tokio::test]
async fn an_exchange_rate_is_edited_and_saved_on_the_settings_page() {
    scenario("exchange_rates", |ui, env| async move {
        admin_login(&ui).await;
        ui.click("nav-settings").await;
        ui.wait_text("page-title", &["系统设置"]).await;
        ui.wait_text("rates-section", &["汇率", "预算"]).await;
        ui.find("empty").await;

        ui.step("add");
        ui.click("rate-add").await;
        ui.fill("rate-currency-0", "usd").await;
        ui.fill("rate-value-0", "7.1").await;
        ui.click("rate-add").await;
        ui.fill("rate-currency-1", "CNY").await;
        ui.fill("rate-value-1", "1").await;
        ui.click("rates-save").await;
        ui.wait_text("rate-error-1", &["基准"]).await;
        ui.click("rate-remove-1").await;
        ui.click("rates-save").await;
        ui.wait_gone("rates-unsaved").await;
        let rates = env
            .server
            .get("/api/admin/settings/exchange-rates", Some(&env.admin))
            .await;
        assert_eq!(
            rates.body["data"]["rates"],
            json!({"USD": 7.1}),
            "{}",
            rates.text
        );

        ui.step("edit");
        ui.open("/admin/settings").await;
        let value = ui.find("rate-value-0").await.prop("value").await.unwrap();
        assert_eq!(value.as_deref(), Some("7.1"));
        ui.fill("rate-value-0", "7.25").await;
        ui.click("rates-save").await;
        ui.wait_gone("rates-unsaved").await;
        let rates = env
            .server
            .get("/api/admin/settings/exchange-rates", Some(&env.admin))
            .await;
        assert_eq!(
            rates.body["data"]["rates"],
            json!({"USD": 7.25}),
            "{}",
            rates.text
        );
    })
    .await;
}
