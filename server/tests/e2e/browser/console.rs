//! The console of issue #12 in the browser: 测试连接 with the form's values and the
//! upstream's words, a session shared by tabs, 修改密码 for everyone, variables in Chinese,
//! the overview, money per currency, names, the server's zone, cards that follow the
//! filters, and dialogs that ask before dropping unsaved input.

use serde_json::json;

use super::{
    ADMIN_PASSWORD, Env, FakeUpstream, MODEL, Outcome, ProviderKind, Reply, admin_login, scenario,
};

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
        // The typed key is unsaved input: closing asks first.
        ui.click("config-cancel").await;
        ui.click("confirm-ok").await;
        ui.wait_gone("config-dialog").await;
        // The typed key was only tested: the stored one still works.
        env.fake.push(Reply::new("仍然可用"));
        let stored = env
            .server
            .post(
                &format!("/api/admin/llm/configs/{id}/test"),
                Some(&env.admin),
                json!({}),
            )
            .await;
        assert_eq!(stored.status, 200, "{}", stored.text);

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

/// A client of a new group with a daily token limit: `(token, group_id)`.
async fn limited_client(env: &Env, name: &str, daily_tokens: i64) -> (String, i64) {
    let group = env
        .server
        .post(
            "/api/admin/groups",
            Some(&env.admin),
            json!({"name": name, "daily_token_limit": daily_tokens}),
        )
        .await;
    assert_eq!(group.status, 200, "{}", group.text);
    let group_id = group.body["data"]["id"].as_i64().unwrap();
    let code = env
        .server
        .post(
            "/api/admin/activation-codes",
            Some(&env.admin),
            json!({"group_id": group_id}),
        )
        .await;
    let code = code.body["data"]["code"].as_str().unwrap().to_string();
    let activated = env
        .server
        .post("/api/auth/activate", None, json!({"activation_code": code}))
        .await;
    assert_eq!(activated.status, 200, "{}", activated.text);
    (
        activated.body["data"]["token"]
            .as_str()
            .unwrap()
            .to_string(),
        group_id,
    )
}

/// The overview: today's numbers, a group near its limit, the latest failure; its links
/// open the filtered log and the failed record.
#[tokio::test]
async fn the_overview_shows_today_and_links_to_the_logs() {
    scenario("dashboard", |ui, env| async move {
        let config = env.config("概览配置").await;
        let (client, group_id) = limited_client(&env, "快满的分组", 36_000).await;
        // 30,005 of 36,000 tokens: over 80 %, with room for the next call's reservation.
        env.fake.push(Reply::new("好").usage(30_000, 5));
        env.call_ok(&client, config, "第一个问题").await;
        env.fake
            .push(Outcome::http(400, "invalid_request_error", "概览里的失败"));
        let failed = env.call(&client, config, "会失败").await;
        assert_eq!(failed.status, 502, "{}", failed.text);
        let failed_id = env
            .server
            .wait_for_logs(2)
            .await
            .into_iter()
            .find(|log| log.status == "error")
            .unwrap()
            .id;

        ui.step("overview");
        ui.open("/admin/").await;
        ui.login("admin", ADMIN_PASSWORD).await;
        ui.find("dashboard-page").await;
        ui.wait_text("page-title", &["概览"]).await;
        ui.wait_text("dash-today-calls", &["2"]).await;
        ui.wait_text("dash-today-cost", &["¥"]).await;
        ui.wait_text("dash-today-errors", &["50%", "1 次失败"])
            .await;
        ui.wait_text("dash-month-calls", &["2"]).await;
        ui.wait_text("dash-configs", &["概览配置"]).await;
        ui.wait_text("dash-groups", &["快满的分组"]).await;
        ui.wait_text(&format!("dash-near-{group_id}"), &["快满的分组", "今日"])
            .await;
        ui.wait_text(
            &format!("dash-failure-{failed_id}"),
            &["概览配置", "会失败"],
        )
        .await;
        ui.wait_text("zone-note", &["Asia/Shanghai", "UTC+08:00"])
            .await;

        ui.step("open-failure");
        ui.click(&format!("dash-failure-{failed_id}")).await;
        ui.wait_text("log-error-message", &["概览里的失败"]).await;
        ui.click("log-detail-close").await;

        ui.step("errors-link");
        ui.click("nav-dashboard").await;
        ui.click("dash-today-errors").await;
        ui.find("logs-page").await;
        ui.wait_testids("log-row-", &[format!("log-row-{failed_id}")])
            .await;
        ui.wait_text("card-calls", &["1"]).await;
        let status = ui.find("filter-status").await.prop("value").await.unwrap();
        assert_eq!(status.as_deref(), Some("error"));
    })
    .await;
}

/// #3, #6, #9, #10, #12: costs per currency with their signs, a renamed config under its
/// new name, the zone said, cards that follow every filter, names and 展开 in the detail.
#[tokio::test]
async fn money_names_zone_cards_and_detail() {
    scenario("money_names", |ui, env| async move {
        let usd = env.config("美元配置").await;
        let cny = env.config("人民币配置").await;
        let long_prompt = "很长的系统提示。".repeat(300);
        for (id, body) in [
            (usd, json!({"currency": "USD"})),
            (cny, json!({"system_prompt": long_prompt})),
        ] {
            let changed = env
                .server
                .put(
                    &format!("/api/admin/llm/configs/{id}"),
                    Some(&env.admin),
                    body,
                )
                .await;
            assert_eq!(changed.status, 200, "{}", changed.text);
        }
        let (client, _) = limited_client(&env, "货币分组", 1_000_000).await;
        env.fake.push(Reply::new("美元回答").usage(1000, 0));
        env.call_ok(&client, usd, "美元问题").await;
        env.fake.push(Reply::new("人民币回答").usage(1000, 0));
        let cny_call = env.call_ok(&client, cny, "人民币问题").await;
        let renamed = env
            .server
            .put(
                &format!("/api/admin/llm/configs/{usd}"),
                Some(&env.admin),
                json!({"name": "美元配置·新名"}),
            )
            .await;
        assert_eq!(renamed.status, 200, "{}", renamed.text);
        admin_login(&ui).await;

        ui.step("stats");
        ui.click("nav-stats").await;
        // 1000 prompt tokens at 2 per million: 0.002 in each currency, never 0.004.
        let cost = ui.wait_text("stats-cost", &["¥0.002", "$0.002"]).await;
        assert!(!cost.contains("0.004"), "{cost}");
        ui.wait_text("stats-config-table", &["美元配置·新名", "$0.002", "¥0.002"])
            .await;
        ui.wait_text("stats-range", &["Asia/Shanghai"]).await;

        ui.step("cards-follow-filters");
        ui.click("nav-logs").await;
        ui.wait_text("card-calls", &["2"]).await;
        ui.wait_text("card-cost", &["¥0.002", "$0.002"]).await;
        ui.select("filter-status", "error").await;
        ui.click("btn-search").await;
        ui.find("empty").await;
        ui.wait_text("card-calls", &["0"]).await;
        ui.click("btn-reset").await;
        ui.fill("filter-q", "美元问题").await;
        ui.click("btn-search").await;
        ui.wait_text("card-calls", &["1"]).await;
        ui.wait_text("card-cost", &["$0.002"]).await;

        ui.step("detail-names");
        ui.click("btn-reset").await;
        ui.click(&format!("log-detail-{cny_call}")).await;
        ui.wait_text("log-detail", &["货币分组", "OpenAI", "¥0.002"])
            .await;
        let messages = ui.text("log-request-messages").await;
        assert!(!messages.contains(&long_prompt), "collapsed at first");
        ui.click_css("[data-testid=\"log-request-messages\"] [data-testid=\"toggle-long\"]")
            .await;
        ui.wait_text("log-request-messages", &[&long_prompt]).await;
    })
    .await;
}

/// #11: a half-filled dialog asks before Esc or 取消 throws it away; an untouched one
/// closes at once.
#[tokio::test]
async fn half_filled_dialogs_ask_before_closing() {
    scenario("unsaved_guard", |ui, env| async move {
        // A group, so that codes and API keys can be added.
        env.client().await;
        admin_login(&ui).await;

        ui.step("untouched");
        ui.click("btn-add-config").await;
        ui.escape("config-name").await;
        ui.wait_gone("config-dialog").await;

        ui.step("escape");
        ui.click("btn-add-config").await;
        ui.fill("config-name", "写了一半").await;
        ui.escape("config-name").await;
        ui.wait_text("confirm-dialog", &["放弃未保存的修改"]).await;
        ui.click("confirm-cancel").await;
        ui.wait_gone("confirm-dialog").await;
        let kept = ui.find("config-name").await.prop("value").await.unwrap();
        assert_eq!(kept.as_deref(), Some("写了一半"));

        ui.step("cancel-button");
        ui.click("config-cancel").await;
        ui.click("confirm-ok").await;
        ui.wait_gone("config-dialog").await;
        assert!(!ui.exists("confirm-dialog").await);

        // The other pages' dialogs share the same form dialog, guard included.
        for (nav, add, field, dialog) in [
            ("nav-codes", "btn-add-code", "code-note", "code"),
            ("nav-users", "btn-add-user", "user-username", "user"),
            ("nav-api-keys", "btn-add-apikey", "apikey-name", "apikey"),
        ] {
            ui.step(dialog);
            let dialog_id = format!("{dialog}-dialog");
            ui.click(nav).await;
            // 新增 waits for the page's groups.
            ui.wait_enabled(add).await;
            ui.click(add).await;
            ui.escape(field).await;
            ui.wait_gone(&dialog_id).await;
            ui.click(add).await;
            ui.fill(field, "写了一半").await;
            ui.escape(field).await;
            ui.wait_text("confirm-dialog", &["放弃未保存的修改"]).await;
            ui.click("confirm-cancel").await;
            let kept = ui.find(field).await.prop("value").await.unwrap();
            assert_eq!(kept.as_deref(), Some("写了一半"), "{dialog}");
            ui.click(&format!("{dialog}-cancel")).await;
            ui.click("confirm-ok").await;
            ui.wait_gone(&dialog_id).await;
        }
    })
    .await;
}

/// Log filters survive a reload through the address, and a changed address changes them.
#[tokio::test]
async fn log_filters_live_in_the_address() {
    scenario("logs_address", |ui, env| async move {
        let config = env.config("地址配置").await;
        let (client, _) = env.client().await;
        env.fake.push(Reply::new("一"));
        let first = env.call_ok(&client, config, "第一个 needle-a").await;
        env.fake.push(Reply::new("二"));
        let second = env.call_ok(&client, config, "第二个 needle-b").await;
        admin_login(&ui).await;

        ui.step("filter");
        ui.click("nav-logs").await;
        ui.wait_testids(
            "log-row-",
            &[format!("log-row-{second}"), format!("log-row-{first}")],
        )
        .await;
        ui.fill("filter-q", "needle-a").await;
        ui.click("btn-search").await;
        ui.wait_testids("log-row-", &[format!("log-row-{first}")])
            .await;
        let url = ui.script("return window.location.search;").await;
        assert!(url.as_str().unwrap().contains("q=needle-a"), "{url}");

        ui.step("reload");
        ui.script("window.location.reload(); return null;").await;
        ui.wait_testids("log-row-", &[format!("log-row-{first}")])
            .await;
        let typed = ui.find("filter-q").await.prop("value").await.unwrap();
        assert_eq!(typed.as_deref(), Some("needle-a"));

        ui.step("back");
        ui.click("btn-reset").await;
        ui.wait_testids(
            "log-row-",
            &[format!("log-row-{second}"), format!("log-row-{first}")],
        )
        .await;
        ui.open("/admin/llm-logs?q=needle-b").await;
        ui.wait_testids("log-row-", &[format!("log-row-{second}")])
            .await;

        ui.step("auto-refresh");
        ui.click("auto-refresh").await;
        ui.fill("filter-q", "").await;
        ui.click("btn-search").await;
        env.fake.push(Reply::new("三"));
        let third = env.call_ok(&client, config, "第三个").await;
        // No click: the list refreshes itself.
        ui.wait_testids(
            "log-row-",
            &[
                format!("log-row-{third}"),
                format!("log-row-{second}"),
                format!("log-row-{first}"),
            ],
        )
        .await;
    })
    .await;
}

/// #8, #13, configs extras: the key field says what the provider's key looks like and a
/// wrong shape is refused at the field; a taken name is the name field's error, shown once;
/// search, 复制为新配置; no 停用/删除 on one's own row.
#[tokio::test]
async fn config_form_errors_copy_and_search() {
    scenario("config_extras", |ui, env| async move {
        let id = env.config("已有配置").await;
        env.config("另一个配置").await;
        admin_login(&ui).await;

        ui.step("every-mistake");
        ui.click("btn-add-config").await;
        ui.click("config-save").await;
        for field in ["config-name", "config-api-key", "config-model"] {
            ui.find(&format!("error-{field}")).await;
        }

        ui.step("key-shape");
        ui.select("config-provider", "baidu").await;
        let placeholder = ui.attr("config-api-key", "placeholder").await.unwrap();
        assert!(
            placeholder.contains("client_id:client_secret"),
            "{placeholder}"
        );
        ui.fill("config-name", "已有配置").await;
        ui.fill("config-api-key", "only-one-part").await;
        ui.fill("config-model", "ernie-4.0-8k").await;
        ui.click("config-save").await;
        ui.wait_text("error-config-api-key", &["client_id:client_secret"])
            .await;
        assert!(!ui.exists("config-error").await, "shown once, at the field");

        ui.step("taken-name");
        ui.fill("config-api-key", "id:secret").await;
        ui.click("config-save").await;
        ui.wait_text("error-config-name", &["配置名称已存在"]).await;
        assert!(!ui.exists("config-error").await, "shown once, at the field");
        ui.click("config-cancel").await;
        ui.click("confirm-ok").await;

        ui.step("search");
        ui.fill("config-search", "另一个").await;
        assert_eq!(ui.testids("config-row-").await.len(), 1);
        ui.fill("config-search", "没有这个").await;
        ui.wait_text("empty", &["没有匹配的配置"]).await;
        ui.fill("config-search", "").await;

        ui.step("copy");
        ui.click(&format!("config-copy-{id}")).await;
        let name = ui.find("config-name").await.prop("value").await.unwrap();
        assert_eq!(name.as_deref(), Some("已有配置 副本"));
        let model = ui.find("config-model").await.prop("value").await.unwrap();
        assert_eq!(model.as_deref(), Some(MODEL));
        ui.fill("config-api-key", &FakeUpstream::key(ProviderKind::Openai))
            .await;
        ui.click("config-save").await;
        ui.wait_gone("config-dialog").await;
        let copied = env
            .configs()
            .await
            .into_iter()
            .find(|c| c["name"] == "已有配置 副本")
            .unwrap();
        assert_eq!(copied["model"], MODEL);
        assert_eq!(copied["system_prompt"], super::SYSTEM);

        ui.step("code-column");
        ui.click("nav-codes").await;
        ui.find("codes-page").await;
        let head = ui.text_css("[data-testid=\"codes-page\"] thead").await;
        assert!(
            head.contains("最后激活") && !head.contains("最后使用"),
            "{head}"
        );

        ui.step("own-row");
        ui.click("nav-users").await;
        ui.wait_text("user-row-1", &["admin"]).await;
        assert!(!ui.exists("user-toggle-1").await);
        assert!(!ui.exists("user-delete-1").await);
        ui.find("user-edit-1").await;
    })
    .await;
}

/// The pages fit a 1366×768 laptop and a 1920×1080 screen: nothing wider than the window.
#[tokio::test]
async fn pages_fit_common_screens() {
    scenario("screens", |ui, env| async move {
        let config = env.config("屏幕配置").await;
        let (client, _) = env.client().await;
        env.fake.push(Reply::new("好"));
        env.call_ok(&client, config, "问题").await;
        admin_login(&ui).await;
        for (width, height) in [(1366, 768), (1920, 1080)] {
            ui.resize(width, height).await;
            for (nav, page) in [
                ("nav-dashboard", "dashboard-page"),
                ("nav-configs", "configs-page"),
                ("nav-logs", "logs-page"),
                ("nav-stats", "stats-page"),
                ("nav-groups", "groups-page"),
                ("nav-users", "users-page"),
                ("nav-settings", "settings-page"),
            ] {
                ui.step(&format!("{width}x{height}-{page}"));
                ui.click(nav).await;
                ui.find(page).await;
                let overflow = ui
                    .script(
                        "return document.documentElement.scrollWidth - document.documentElement.clientWidth;",
                    )
                    .await;
                assert!(
                    overflow.as_i64().unwrap_or(0) <= 0,
                    "{page} at {width}×{height} is {overflow} px too wide"
                );
            }
        }
    })
    .await;
}

/// A group's money budget set in its dialog reaches the server in its currency.
#[tokio::test]
async fn a_group_budget_is_set_in_its_dialog() {
    scenario("group_budget", |ui, env| async move {
        admin_login(&ui).await;
        ui.click("nav-groups").await;
        ui.click("btn-add-group").await;
        ui.fill("group-name", "预算部").await;
        ui.fill("group-daily-cost", "12.5").await;
        ui.fill("group-cost-currency", "usd").await;
        ui.click("group-save").await;
        ui.wait_gone("group-dialog").await;
        let groups = env.server.get("/api/admin/groups", Some(&env.admin)).await;
        let group = groups.body["data"]
            .as_array()
            .unwrap()
            .iter()
            .find(|g| g["name"] == "预算部")
            .cloned()
            .unwrap();
        assert_eq!(group["daily_cost_limit"], 12.5);
        assert!(group["monthly_cost_limit"].is_null());
        assert_eq!(group["cost_currency"], "USD");
    })
    .await;
}

/// More records than the server counts (10,000): the pager says "10,000+", offers the page
/// after the last full one and pages on; the last page's count is exact again.
#[tokio::test]
async fn the_pager_pages_past_a_count_that_stopped() {
    scenario("logs_count_at_least", |ui, env| async move {
        crate::log_search::seed_many(&env.server).await;
        admin_login(&ui).await;

        ui.step("first page");
        ui.open("/admin/llm-logs").await;
        ui.wait_text("pagination-total", &["共 10,000+ 条"]).await;
        ui.find("page-501").await;

        ui.step("past the count");
        ui.open("/admin/llm-logs?page=500").await;
        ui.wait_enabled("page-next").await;
        ui.click("page-next").await;
        ui.wait_text("pagination-total", &["共 10,020+ 条"]).await;
        let url = ui.script("return window.location.search;").await;
        assert!(url.as_str().unwrap().contains("page=501"), "{url}");

        ui.step("last page");
        ui.open("/admin/llm-logs?page=503").await;
        ui.wait_text("pagination-total", &["共 10,050 条"]).await;
        assert!(!ui.find("page-next").await.is_enabled().await.unwrap());
    })
    .await;
}
