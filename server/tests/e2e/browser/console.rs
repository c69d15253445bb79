//! The console of issue #12 in the browser: 测试连接 with the form's values and the
//! upstream's words, a session shared by tabs, 修改密码 for everyone, variables in Chinese.

use serde_json::json;

use super::{ADMIN_PASSWORD, Env, FakeUpstream, MODEL, ProviderKind, Reply, admin_login, scenario};

/// #1 and #2: the edit dialog tests a freshly typed key (not the stored one), the failure
/// shows the upstream's own words and links to the record; a new config is tested before
/// it is saved.
#[tokio::test]
async fn config_test_uses_the_form_and_shows_the_upstreams_words() {
    scenario("config_test_form", |ui, env| async move {
        let id = env.config("已保存配置").await;
        admin_login(&ui).await;

        ui.step("typed-bad-key");
        ui.click(&format!("config-edit-{id}")).await;
        ui.find("config-dialog").await;
        ui.fill("config-api-key", "sk-typed-but-wrong-0000").await;
        ui.click("dialog-test-config").await;
        ui.wait_text("test-about", &["未保存"]).await;
        ui.click("btn-run-test").await;
        ui.wait_text("test-upstream", &["Incorrect API key provided"])
            .await;
        let error = ui.text("test-error").await;
        assert!(error.contains("UPSTREAM_ERROR"), "{error}");
        assert!(!error.contains("sk-typed-but-wrong"), "{error}");
        let href = ui.attr("test-log-link", "href").await.unwrap();
        assert!(href.contains("/admin/llm-logs?log_id="), "{href}");
        ui.click_css("[data-testid=\"test-dialog\"] [data-testid=\"dialog-close\"]")
            .await;
        ui.wait_gone("test-dialog").await;
        ui.click("config-cancel").await;
        ui.wait_gone("config-dialog").await;
        let saved = env.configs().await;
        assert_eq!(
            saved[0]["api_key_masked"]
                .as_str()
                .unwrap()
                .contains("typed"),
            false
        );

        ui.step("open-the-record");
        let path = href
            .split_once("/admin/")
            .map(|(_, p)| format!("/admin/{p}"))
            .unwrap();
        ui.open(&path).await;
        ui.wait_text("log-error-message", &["Incorrect API key provided"])
            .await;
        ui.wait_text("log-detail-dialog", &["已保存配置"]).await;
        ui.click("log-detail-close").await;

        ui.step("new-config-before-saving");
        ui.click("nav-configs").await;
        ui.click("btn-add-config").await;
        ui.find("config-dialog").await;
        ui.fill("config-name", "还没保存").await;
        ui.select("config-provider", "openai").await;
        ui.fill("config-api-url", &env.fake.url(ProviderKind::Openai))
            .await;
        ui.fill("config-api-key", &FakeUpstream::key(ProviderKind::Openai))
            .await;
        ui.fill("config-model", MODEL).await;
        env.fake.push(Reply::new("未保存的配置也能连通"));
        ui.click("dialog-test-config").await;
        ui.wait_text("test-dialog", &["还没保存"]).await;
        ui.click("btn-run-test").await;
        ui.wait_text("test-response", &["未保存的配置也能连通"])
            .await;
        ui.find("test-log-link").await;
        assert_eq!(env.configs().await.len(), 1, "nothing was saved");
    })
    .await;
}

/// #4: a new tab (a bookmark, Ctrl-click) is signed in; 退出登录 in one tab signs out all.
#[tokio::test]
async fn the_session_is_shared_by_tabs_until_logout() {
    scenario("session_tabs", |ui, _env| async move {
        admin_login(&ui).await;
        let first = ui.tab().await;

        ui.step("new-tab");
        let second = ui.new_tab().await;
        ui.open("/admin/llm-logs").await;
        ui.wait_text("page-title", &["调用记录"]).await;
        ui.find("logs-page").await;

        ui.step("logout-in-first");
        ui.switch_tab(&first).await;
        ui.click("account").await;
        ui.click("logout").await;
        ui.find("login-form").await;

        ui.step("second-signed-out");
        ui.switch_tab(&second).await;
        ui.find("login-form").await;
        assert!(!ui.exists("sidebar").await);
        let stored = ui
            .script("return window.localStorage.getItem('llm-proxy.session');")
            .await;
        assert_eq!(stored, json!(null));
    })
    .await;
}

/// #5: an ordinary user changes their own password from the header's menu; mistakes are
/// shown at their fields, all at once; the tab stays signed in with the fresh token.
#[tokio::test]
async fn anyone_changes_their_password_from_the_header() {
    scenario("change_password", |ui, env| async move {
        let created = env
            .server
            .post(
                "/api/admin/users",
                Some(&env.admin),
                json!({"username": "wang", "password": "Passw0rd-1", "role": "user"}),
            )
            .await;
        assert_eq!(created.status, 200, "{}", created.text);
        let elsewhere = env.server.login("wang", "Passw0rd-1").await;

        ui.step("login");
        ui.open("/admin/").await;
        ui.login("wang", "Passw0rd-1").await;
        ui.find("no-access").await;

        ui.step("mistakes");
        ui.click("account").await;
        ui.click("change-password").await;
        ui.find("password-dialog").await;
        ui.fill("password-new", "short").await;
        ui.fill("password-confirm", "different").await;
        ui.click("password-save").await;
        ui.find("error-password-old").await;
        ui.find("error-password-new").await;
        ui.find("error-password-confirm").await;

        ui.step("wrong-old");
        ui.fill("password-old", "not-my-password").await;
        ui.fill("password-new", "Passw0rd-2").await;
        ui.fill("password-confirm", "Passw0rd-2").await;
        ui.click("password-save").await;
        ui.wait_text("error-password-old", &["当前密码不正确"])
            .await;

        ui.step("changed");
        ui.fill("password-old", "Passw0rd-1").await;
        ui.click("password-save").await;
        ui.wait_gone("password-dialog").await;
        // Still signed in, with the fresh token, after a reload too.
        ui.open("/admin/").await;
        ui.find("no-access").await;
        ui.wait_text("account", &["wang"]).await;
        let other = env.server.get("/api/auth/me", Some(&elsewhere)).await;
        assert_eq!(other.status, 401, "the other session ended: {}", other.text);
        env.server.login("wang", "Passw0rd-2").await;

        ui.step("admin-too");
        ui.click("account").await;
        ui.click("logout").await;
        ui.login("admin", ADMIN_PASSWORD).await;
        ui.click("account").await;
        ui.find("change-password").await;
    })
    .await;
}

/// #7: a variable named in Chinese is detected, previewed and listed.
#[tokio::test]
async fn template_variables_may_be_chinese() {
    scenario("chinese_variables", |ui, env| async move {
        let id = env.config("中文变量配置").await;
        admin_login(&ui).await;
        ui.click(&format!("config-templates-{id}")).await;
        ui.click("btn-add-template").await;
        ui.fill("template-name", "总结").await;
        ui.fill("template-content", "请总结：{对话内容}（客户 {客户名}）")
            .await;
        ui.wait_text("template-variables", &["对话内容", "客户名"])
            .await;
        ui.fill("sample-对话内容", "我想退货").await;
        ui.wait_text("template-preview", &["请总结：我想退货", "{客户名}"])
            .await;
        ui.click("template-save").await;
        ui.wait_gone("template-dialog").await;
        ui.wait_text_css(
            "[data-testid^=\"template-row-\"]",
            &["{对话内容}", "{客户名}"],
        )
        .await;
    })
    .await;
}
