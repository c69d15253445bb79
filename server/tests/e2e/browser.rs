//! The admin UI in a real browser: Debian's headless chromium, driven through chromedriver,
//! against the real server binary and a fake OpenAI upstream. Each test has its own server,
//! upstream and browser session, and does its flow through the UI; the HTTP API is used only
//! for set-up that is not the point of the test and for the client's side (activation code,
//! `POST /api/llm/call`, `GET /api/llm/configs`).
//!
//! Needs `chromium` and `chromium-driver` (paths from `CHROMIUM` / `CHROMEDRIVER`); a failure
//! leaves `target/browser-failures/<test>-<step>.png` and `.html` behind.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;
#[path = "browser/alerts.rs"]
mod alerts;
#[path = "browser/console.rs"]
mod console;
#[path = "browser/driver.rs"]
mod driver;
#[path = "browser/routing.rs"]
mod routing;
#[path = "browser/screenshots.rs"]
mod screenshots;
use crate::fake_upstream;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use common::{ADMIN_PASSWORD, TestServer};
use driver::{Browser, Ui};
use fake_upstream::{FakeUpstream, Outcome, Reply};
use llm_proxy::providers::ProviderKind;
use serde_json::{Value, json};

/// The longest one test may take, start to end.
const TEST_LIMIT: Duration = Duration::from_secs(120);
const MODEL: &str = "gpt-4o-mini";
const SYSTEM: &str = "你是浏览器测试的助手。";

/// The server, its fake upstream and an admin token, shared by a test's body.
struct Env {
    server: TestServer,
    fake: FakeUpstream,
    admin: String,
}

impl Env {
    async fn start() -> Self {
        let fake = FakeUpstream::start().await;
        let server = TestServer::start().await;
        let admin = server.admin_token().await;
        Self {
            server,
            fake,
            admin,
        }
    }

    /// An OpenAI config pointing at the fake upstream, created through the API (set-up).
    async fn config(&self, name: &str) -> i64 {
        let created = self
            .server
            .post(
                "/api/admin/llm/configs",
                Some(&self.admin),
                json!({
                    "name": name,
                    "provider": "openai",
                    "api_url": self.fake.url(ProviderKind::Openai),
                    "api_key": FakeUpstream::key(ProviderKind::Openai),
                    "model": MODEL,
                    "system_prompt": SYSTEM,
                    "max_retries": 0,
                    "timeout_seconds": 10,
                    "input_price": 2.0,
                    "output_price": 8.0,
                }),
            )
            .await;
        assert_eq!(created.status, 200, "{}", created.text);
        created.body["data"]["id"].as_i64().unwrap()
    }

    /// A Windows client's token (group, activation code, activation): `(token, group_id)`.
    async fn client(&self) -> (String, i64) {
        let (token, group_id, _) = self.server.client_token(&self.admin).await;
        (token, group_id)
    }

    /// `POST /api/llm/call` as the client; the whole answer.
    async fn call(&self, client: &str, config_id: i64, question: &str) -> common::Response {
        self.server
            .post(
                "/api/llm/call",
                Some(client),
                json!({
                    "config_id": config_id,
                    "messages": [{"role": "user", "content": question}],
                }),
            )
            .await
    }

    /// A successful call; its `call_log_id`.
    async fn call_ok(&self, client: &str, config_id: i64, question: &str) -> i64 {
        let answer = self.call(client, config_id, question).await;
        assert_eq!(answer.status, 200, "{}", answer.text);
        answer.body["data"]["call_log_id"].as_i64().unwrap()
    }

    /// The ids of the configs the client sees (`GET /api/llm/configs`).
    async fn client_config_ids(&self, client: &str) -> Vec<i64> {
        let list = self.server.get("/api/llm/configs", Some(client)).await;
        assert_eq!(list.status, 200, "{}", list.text);
        list.body["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["id"].as_i64().unwrap())
            .collect()
    }

    /// The admin's view of every config.
    async fn configs(&self) -> Vec<Value> {
        let list = self
            .server
            .get("/api/admin/llm/configs", Some(&self.admin))
            .await;
        assert_eq!(list.status, 200, "{}", list.text);
        list.body["data"].as_array().unwrap().clone()
    }
}

/// Starts a server, a fake upstream and a browser, runs `body` and cleans up; a failure
/// saves a screenshot and the page (see `driver`) and prints the end of the server's log.
async fn scenario<F, Fut>(test: &'static str, body: F)
where
    F: FnOnce(Ui, Arc<Env>) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let env = Arc::new(Env::start().await);
    let browser = Browser::launch(&env.server.base).await;
    let ui = browser.ui();
    let log_env = env.clone();
    browser
        .run(test, TEST_LIMIT, body(ui, env), move || {
            log_env.server.output()
        })
        .await;
}

/// Signs in as the admin through the form (landing on the overview) and opens the configs page.
async fn admin_login(ui: &Ui) {
    ui.step("login");
    ui.open("/admin/").await;
    ui.login("admin", ADMIN_PASSWORD).await;
    ui.find("dashboard-page").await;
    ui.click("nav-configs").await;
    ui.find("configs-page").await;
}

/// 登录 → 新增配置 (the dialog, pointing at the fake upstream) → 测试连接, a reply and an
/// upstream error.
#[tokio::test]
async fn admin_logs_in_creates_a_config_and_tests_its_connection() {
    scenario("create_and_test_config", |ui, env| async move {
        ui.step("wrong-password");
        ui.open("/admin/").await;
        ui.login("admin", "not-the-password").await;
        let error = ui.text("login-error").await;
        assert!(!error.trim().is_empty(), "an error is shown");
        assert!(!ui.exists("sidebar").await, "still signed out");

        ui.step("login");
        ui.fill("login-password", ADMIN_PASSWORD).await;
        ui.click("login-submit").await;
        ui.wait_text("page-title", &["概览"]).await;
        ui.click("nav-configs").await;
        ui.wait_text("page-title", &["大模型配置"]).await;
        ui.wait_text("account", &["admin"]).await;
        ui.find("config-table").await;
        ui.find("empty").await;

        ui.step("create-config");
        ui.click("btn-add-config").await;
        ui.find("config-dialog").await;
        let url = env.fake.url(ProviderKind::Openai);
        ui.fill("config-name", "浏览器测试配置").await;
        ui.select("config-provider", "openai").await;
        ui.fill("config-api-url", &url).await;
        ui.fill("config-api-key", &FakeUpstream::key(ProviderKind::Openai))
            .await;
        ui.fill("config-model", MODEL).await;
        ui.fill("config-system-prompt", SYSTEM).await;
        ui.fill("config-max-tokens", "512").await;
        ui.fill("config-timeout", "10").await;
        ui.click("config-save").await;
        ui.wait_gone("config-dialog").await;

        let configs = env.configs().await;
        assert_eq!(configs.len(), 1, "{configs:?}");
        let config = &configs[0];
        let id = config["id"].as_i64().unwrap();
        assert_eq!(config["name"], "浏览器测试配置");
        assert_eq!(config["provider"], "openai");
        assert_eq!(config["api_url"], url.as_str());
        assert_eq!(config["model"], MODEL);
        assert_eq!(config["system_prompt"], SYSTEM);
        assert_eq!(config["max_tokens"], 512);
        assert_eq!(config["timeout_seconds"], 10);
        assert_eq!(config["has_api_key"], true);
        assert_eq!(config["is_active"], true);
        ui.wait_text(
            &format!("config-row-{id}"),
            &["浏览器测试配置", MODEL, "启用"],
        )
        .await;

        ui.step("test-connection");
        env.fake.push(Reply::new("连接正常：来自假上游的回复"));
        ui.click(&format!("config-test-{id}")).await;
        ui.wait_text("test-dialog", &["测试连接", "浏览器测试配置"])
            .await;
        ui.fill("test-message", "浏览器发出的测试消息").await;
        ui.click("btn-run-test").await;
        ui.wait_text("test-response", &["连接正常：来自假上游的回复"])
            .await;
        ui.find("test-success").await;
        ui.wait_text("test-duration", &["耗时"]).await;
        let sent = env.fake.last_request();
        assert_eq!(
            sent.header("authorization"),
            Some(format!("Bearer {}", FakeUpstream::key(ProviderKind::Openai)).as_str())
        );
        let messages = sent.body["messages"].to_string();
        assert!(messages.contains(SYSTEM), "{messages}");
        assert!(messages.contains("浏览器发出的测试消息"), "{messages}");

        ui.step("test-connection-error");
        env.fake.push(Outcome::http(
            401,
            "invalid_api_key",
            "Incorrect API key provided",
        ));
        ui.click("btn-run-test").await;
        let error = ui.wait_text("test-error", &["HTTP"]).await;
        assert!(
            error
                .chars()
                .any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)),
            "a Chinese message: {error}"
        );
        assert!(!ui.exists("test-success").await, "the old reply is gone");
    })
    .await;
}

/// Prompt模板: a new template's variables are detected while typing, the preview fills in a
/// sample, and the saved template lists its variables (also for the client).
#[tokio::test]
async fn template_manager_shows_the_variables_of_a_new_template() {
    scenario("template_variables", |ui, env| async move {
        let id = env.config("模板测试配置").await;
        admin_login(&ui).await;

        ui.step("open-templates");
        ui.click(&format!("config-templates-{id}")).await;
        ui.wait_text("templates-dialog", &["模板测试配置"]).await;
        ui.css("[data-testid=\"template-table\"] [data-testid=\"empty\"]")
            .await;

        ui.step("type-template");
        ui.click("btn-add-template").await;
        ui.find("template-dialog").await;
        ui.fill("template-name", "欢迎语").await;
        ui.fill("template-description", "给新客户的欢迎语").await;
        ui.fill(
            "template-content",
            "你好 {customer_name}，您的留言是：{message}。{customer_name}，请稍候。",
        )
        .await;
        let chips = "[data-testid=\"template-variables\"] .chip";
        ui.until("two variable chips", || async {
            match ui.count(chips).await {
                2 => Ok(()),
                n => Err(format!("{n} chips")),
            }
        })
        .await;
        ui.wait_text("template-variables", &["customer_name", "message"])
            .await;
        ui.fill("sample-customer_name", "张三").await;
        ui.wait_text(
            "template-preview",
            &["你好 张三", "{message}", "张三，请稍候"],
        )
        .await;

        ui.step("save-template");
        ui.click("template-save").await;
        ui.wait_gone("template-dialog").await;
        ui.wait_text_css(
            "[data-testid^=\"template-row-\"]",
            &[
                "欢迎语",
                "给新客户的欢迎语",
                "{customer_name}",
                "{message}",
                "启用",
            ],
        )
        .await;
        assert_eq!(ui.count("[data-testid^=\"template-row-\"] .chip").await, 2);

        ui.step("client-sees-variables");
        let (client, _) = env.client().await;
        let list = env
            .server
            .get(&format!("/api/llm/templates?config_id={id}"), Some(&client))
            .await;
        assert_eq!(list.status, 200, "{}", list.text);
        let templates = list.body["data"].as_array().unwrap();
        assert_eq!(templates.len(), 1, "{}", list.text);
        assert_eq!(templates[0]["name"], "欢迎语");
        assert_eq!(
            templates[0]["variables"],
            json!(["customer_name", "message"])
        );
    })
    .await;
}

/// A client call through the API shows up on 调用记录; the keyword and status filters narrow
/// the list; the detail shows the request, the reply and the tokens.
#[tokio::test]
async fn client_call_is_found_filtered_and_opened_in_the_logs_page() {
    scenario("logs_filter_detail", |ui, env| async move {
        let config = env.config("日志测试配置").await;
        let (client, _) = env.client().await;
        env.fake
            .push(Reply::new("给浏览器测试的回答：一切正常").usage(21, 13));
        let wanted = env
            .call_ok(&client, config, "请回答唯一问题 alpha-needle")
            .await;
        env.fake.push(Reply::new("另一个回答").usage(5, 3));
        let other = env.call_ok(&client, config, "其他问题 beta").await;
        env.fake.push(Outcome::http(
            400,
            "invalid_request_error",
            "bad request from fake",
        ));
        let failed = env.call(&client, config, "会失败的问题 gamma").await;
        assert_eq!(failed.status, 502, "{}", failed.text);
        // The failed call's record lands just after its answer.
        let logs = env.server.wait_for_logs(3).await;
        let error_id = logs
            .iter()
            .find(|log| log.status == "error")
            .expect("the failed call's record")
            .id;
        let rows = |ids: &[i64]| {
            ids.iter()
                .map(|id| format!("log-row-{id}"))
                .collect::<Vec<_>>()
        };

        admin_login(&ui).await;
        ui.step("open-logs");
        ui.click("nav-logs").await;
        ui.wait_text("page-title", &["调用记录"]).await;
        ui.wait_testids("log-row-", &rows(&[error_id, other, wanted]))
            .await;
        ui.wait_text("pagination-total", &["3"]).await;
        ui.wait_text(
            &format!("log-row-{wanted}"),
            &["日志测试配置", MODEL, "成功", "34"],
        )
        .await;
        ui.wait_text("card-calls", &["3"]).await;

        ui.step("filter-keyword");
        ui.fill("filter-q", "alpha-needle").await;
        ui.click("btn-search").await;
        ui.wait_testids("log-row-", &rows(&[wanted])).await;
        ui.wait_text("pagination-total", &["1"]).await;

        ui.step("filter-status");
        ui.click("btn-reset").await;
        ui.wait_testids("log-row-", &rows(&[error_id, other, wanted]))
            .await;
        ui.select("filter-status", "error").await;
        ui.click("btn-search").await;
        ui.wait_testids("log-row-", &rows(&[error_id])).await;
        ui.wait_text(&format!("log-row-{error_id}"), &["失败"])
            .await;
        ui.select("filter-status", "success").await;
        ui.click("btn-search").await;
        ui.wait_testids("log-row-", &rows(&[other, wanted])).await;

        ui.step("detail");
        ui.click(&format!("log-detail-{wanted}")).await;
        ui.wait_text("log-detail-dialog", &[&wanted.to_string()])
            .await;
        ui.wait_text("log-response", &["给浏览器测试的回答：一切正常"])
            .await;
        ui.wait_text(
            "log-request-messages",
            &[SYSTEM, "请回答唯一问题 alpha-needle"],
        )
        .await;
        ui.wait_text("log-tokens", &["21", "13", "34"]).await;
        ui.wait_text("log-detail", &["日志测试配置", MODEL, "成功"])
            .await;
        ui.click("log-detail-close").await;
        ui.wait_gone("log-detail-dialog").await;

        ui.step("error-detail");
        ui.select("filter-status", "error").await;
        ui.click("btn-search").await;
        ui.wait_testids("log-row-", &rows(&[error_id])).await;
        ui.click(&format!("log-detail-{error_id}")).await;
        ui.wait_text("log-error-message", &["bad request from fake"])
            .await;
        ui.wait_text("log-request-messages", &["会失败的问题 gamma"])
            .await;
    })
    .await;
}

/// 调用统计 draws its cards, the daily line and the hourly bars from real calls.
#[tokio::test]
async fn stats_page_draws_its_charts() {
    scenario("stats_charts", |ui, env| async move {
        let config = env.config("统计测试配置").await;
        let (client, group_id) = env.client().await;
        env.fake.push(Reply::new("一").usage(100, 20));
        env.call_ok(&client, config, "统计问题一").await;
        env.fake.push(Reply::new("二").usage(200, 30));
        env.call_ok(&client, config, "统计问题二").await;
        let groups = env.server.get("/api/admin/groups", Some(&env.admin)).await;
        let group_name = groups.body["data"]
            .as_array()
            .unwrap()
            .iter()
            .find(|g| g["id"] == group_id)
            .unwrap()["name"]
            .as_str()
            .unwrap()
            .to_string();

        admin_login(&ui).await;
        ui.step("open-stats");
        ui.click("nav-stats").await;
        ui.wait_text("page-title", &["调用统计"]).await;
        ui.wait_text("stats-calls", &["2"]).await;
        ui.wait_text("stats-tokens", &["350"]).await;
        ui.wait_text("stats-rate", &["100"]).await;
        ui.wait_text("stats-config-table", &["统计测试配置"]).await;
        ui.wait_text("stats-group-table", &[&group_name]).await;

        ui.step("daily-chart");
        // 30 days ending today (the server's today), today's point at 2 calls, then tokens.
        let stats = env
            .server
            .get("/api/admin/llm/stats", Some(&env.admin))
            .await;
        let today = stats.body["data"]["end_date"].as_str().unwrap().to_string();
        let daily = "svg[data-testid=\"chart-daily\"]";
        let chart = ui.css(daily).await;
        assert_eq!(ui.count(&format!("{daily} circle.dot")).await, 30);
        let line = ui.css(&format!("{daily} polyline.line")).await;
        let points = line.attr("points").await.unwrap().unwrap_or_default();
        assert_eq!(points.split_whitespace().count(), 30, "{points}");
        let svg = chart.html(true).await.unwrap();
        assert!(svg.contains(&format!("{today}: 2</title>")), "{svg}");
        ui.click("metric-tokens").await;
        let chart = ui
            .css("svg.chart-violet[data-testid=\"chart-daily\"]")
            .await;
        let svg = chart.html(true).await.unwrap();
        assert!(svg.contains(&format!("{today}: 350</title>")), "{svg}");

        ui.step("hourly-chart");
        let hourly = "svg[data-testid=\"chart-hourly\"]";
        ui.css(hourly).await;
        let bars = ui.all(&format!("{hourly} rect.bar")).await;
        assert_eq!(bars.len(), 24);
        let mut tall = 0;
        for bar in bars {
            let height: f64 = bar.attr("height").await.unwrap().unwrap().parse().unwrap();
            if height > 0.0 {
                tall += 1;
            }
        }
        // Two calls a moment apart: one hour's bar (two if an hour began between them).
        assert!((1..=2).contains(&tall), "{tall} bars drawn");
    })
    .await;
}

/// Disabling a config in the list takes it out of the client's `GET /api/llm/configs`.
#[tokio::test]
async fn disabling_a_config_shrinks_the_client_list() {
    scenario("disable_config", |ui, env| async move {
        let kept = env.config("保留的配置").await;
        let disabled = env.config("要禁用的配置").await;
        let (client, _) = env.client().await;
        let mut before = env.client_config_ids(&client).await;
        before.sort_unstable();
        assert_eq!(before, vec![kept, disabled]);

        admin_login(&ui).await;
        ui.step("disable");
        let badge = format!("[data-testid=\"config-row-{disabled}\"] .badge");
        assert_eq!(ui.text_css(&badge).await, "启用");
        ui.wait_text(&format!("config-toggle-{disabled}"), &["禁用"])
            .await;
        ui.click(&format!("config-toggle-{disabled}")).await;
        ui.wait_text_css(&badge, &["禁用"]).await;
        ui.wait_text(&format!("config-toggle-{disabled}"), &["启用"])
            .await;
        let other = format!("[data-testid=\"config-row-{kept}\"] .badge");
        assert_eq!(ui.text_css(&other).await, "启用");

        ui.step("client-list");
        ui.until("the client's list without the disabled config", || async {
            match env.client_config_ids(&client).await {
                ids if ids == [kept] => Ok(()),
                ids => Err(format!("{ids:?}")),
            }
        })
        .await;
    })
    .await;
}

/// API Key: created in the UI, the full key shown once with its warning, then only the
/// masked key in the list; the key calls, shows in 调用记录, is disabled and revoked there.
#[tokio::test]
async fn api_key_is_created_shown_once_disabled_and_revoked_in_the_ui() {
    scenario("api_keys", |ui, env| async move {
        let config = env.config("API Key 测试配置").await;
        let (_, group_id) = env.client().await;

        admin_login(&ui).await;
        ui.step("create");
        ui.click("nav-api-keys").await;
        ui.wait_text("page-title", &["API Key"]).await;
        ui.find("apikey-table").await;
        // 新建 waits for the page's groups: a click before they load does nothing.
        ui.wait_enabled("btn-add-apikey").await;
        ui.click("btn-add-apikey").await;
        ui.find("apikey-dialog").await;
        ui.fill("apikey-name", "报表工具").await;
        ui.click("apikey-save").await;
        ui.wait_text("apikey-once-warning", &["无法再次查看"]).await;
        let key = ui.text("apikey-full").await.trim().to_string();
        assert!(key.starts_with("sk-") && key.len() >= 46, "{key}");
        let listed = env
            .server
            .get("/api/admin/api-keys", Some(&env.admin))
            .await;
        let row = &listed.body["data"][0];
        let id = row["id"].as_i64().unwrap();
        let prefix = row["key_prefix"].as_str().unwrap().to_string();
        assert_eq!(row["group_id"], group_id);
        assert!(prefix.starts_with(&key[..7]) && prefix.ends_with(&key[key.len() - 4..]));

        ui.step("list");
        ui.click("apikey-done").await;
        ui.wait_gone("apikey-created").await;
        let row_id = format!("apikey-row-{id}");
        let badge = format!("[data-testid=\"{row_id}\"] .badge");
        ui.wait_text(&row_id, &["报表工具", &prefix]).await;
        ui.wait_text_css(&badge, &["启用"]).await;
        let page = ui.text_css("body").await;
        assert!(!page.contains(&key), "the full key is gone from the page");

        ui.step("call-and-log");
        env.fake.push(Reply::new("工具的回答"));
        let log_id = env.call_ok(&key, config, "工具的问题").await;
        ui.click("nav-logs").await;
        ui.wait_text(&format!("log-row-{log_id}"), &["报表工具"])
            .await;

        ui.step("disable");
        ui.click("nav-api-keys").await;
        ui.click(&format!("apikey-toggle-{id}")).await;
        ui.wait_text_css(&badge, &["禁用"]).await;
        let refused = env.call(&key, config, "停用后").await;
        common::assert_error(&refused, 401, "API_KEY_DISABLED");

        ui.step("revoke");
        ui.click(&format!("apikey-revoke-{id}")).await;
        ui.wait_text("confirm-dialog", &["报表工具"]).await;
        ui.click("confirm-ok").await;
        ui.wait_gone(&row_id).await;
        let refused = env.call(&key, config, "吊销后").await;
        common::assert_error(&refused, 401, "API_KEY_INVALID");
    })
    .await;
}

/// An ordinary user signs in and sees no LLM menu and no LLM page, even by address.
#[tokio::test]
async fn ordinary_user_sees_no_llm_menu() {
    scenario("ordinary_user", |ui, env| async move {
        env.config("用户不可见的配置").await;
        let group = env
            .server
            .post("/api/admin/groups", Some(&env.admin), json!({"name": "普通用户组"}))
            .await;
        let group_id = group.body["data"]["id"].as_i64().unwrap();
        let user = env
            .server
            .post(
                "/api/admin/users",
                Some(&env.admin),
                json!({"username": "plain", "password": "Passw0rd-1", "role": "user", "group_id": group_id}),
            )
            .await;
        assert_eq!(user.status, 200, "{}", user.text);

        ui.step("login-user");
        ui.open("/admin/").await;
        ui.login("plain", "Passw0rd-1").await;
        ui.find("no-access").await;
        ui.wait_text("account", &["plain"]).await;
        let sidebar = ui.text("sidebar").await;
        assert!(!sidebar.contains("大模型"), "{sidebar}");
        assert!(ui.testids("nav-").await.is_empty(), "no menu entries");
        assert!(!ui.text("page-title").await.contains("大模型配置"));

        ui.step("llm-pages-by-address");
        for path in [
            "/admin/llm-config",
            "/admin/llm-logs",
            "/admin/llm-stats",
            "/admin/settings",
        ] {
            ui.open(path).await;
            ui.find("no-access").await;
            assert!(ui.testids("nav-").await.is_empty(), "{path}");
            for page in [
                "configs-page",
                "logs-page",
                "stats-page",
                "config-table",
                "settings-page",
            ] {
                assert!(!ui.exists(page).await, "{path} shows {page}");
            }
            let body = ui.text_css("body").await;
            assert!(!body.contains("用户不可见的配置"), "{path}: {body}");
        }

        ui.step("admin-sees-menu");
        ui.click("noaccess-logout").await;
        ui.find("login-form").await;
        ui.login("admin", ADMIN_PASSWORD).await;
        ui.wait_testids(
            "nav-",
            &[
                "nav-dashboard",
                "nav-configs",
                "nav-logs",
                "nav-stats",
                "nav-alerts",
                "nav-groups",
                "nav-codes",
                "nav-api-keys",
                "nav-users",
                "nav-settings",
            ]
            .map(String::from),
        )
        .await;
    })
    .await;
}
