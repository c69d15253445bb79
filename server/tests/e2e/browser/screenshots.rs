//! The README's screenshots, taken from the real console with a little demo data:
//! `cargo test -p llm-proxy --test e2e -- --ignored screenshots` rewrites
//! `docs/screenshots/*.png`. Ignored in the normal run: it asserts only that each page shows
//! up, and writes into the repository.

use std::path::PathBuf;

use serde_json::json;

use super::{Env, admin_login, scenario};
use crate::fake_upstream::{Outcome, Reply};

fn shot(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../docs/screenshots")
        .join(format!("{name}.png"))
}

/// A few calls, one failing, a second config in dollars, a group budget and a webhook.
async fn demo_data(env: &Env) -> (i64, i64) {
    let config = env.config("通义千问 · 客服回复").await;
    let other = env.config("GPT-4o · 内容生成").await;
    let (client, group_id) = env.client().await;
    let budget = env
        .server
        .put(
            &format!("/api/admin/groups/{group_id}"),
            Some(&env.admin),
            json!({"daily_token_limit": 200_000, "daily_cost_limit": 50.0}),
        )
        .await;
    assert_eq!(budget.status, 200, "{}", budget.text);
    let questions = [
        "请帮我回复客户：订单什么时候发货？",
        "把这段会议记录总结成三点",
        "写一段新品发布的朋友圈文案",
        "客户问能不能开发票，怎么回复？",
    ];
    let mut last = 0;
    for (i, question) in questions.iter().enumerate() {
        env.fake
            .push(Reply::new("您好，您的订单预计明天发货，我们会第一时间通知您。").usage(180, 60));
        last = env
            .call_ok(&client, if i % 2 == 0 { config } else { other }, question)
            .await;
    }
    env.fake.push(Outcome::http(
        401,
        "invalid_api_key",
        "Incorrect API key provided",
    ));
    env.call(&client, other, "这次会失败").await;
    let webhook = env
        .server
        .post(
            "/api/admin/webhooks",
            Some(&env.admin),
            json!({"name": "运维群", "type": "wecom",
                   "url": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=demo"}),
        )
        .await;
    assert_eq!(webhook.status, 200, "{}", webhook.text);
    (config, last)
}

#[tokio::test]
#[ignore = "rewrites docs/screenshots; run explicitly"]
async fn screenshots() {
    scenario("screenshots", |ui, env| async move {
        let (config, log_id) = demo_data(&env).await;
        ui.resize(1440, 900).await;
        ui.open("/admin/").await;
        ui.find("login-username").await;
        ui.save_screenshot(&shot("login")).await;
        admin_login(&ui).await;
        ui.save_screenshot(&shot("llm-config")).await;
        ui.click(&format!("config-edit-{config}")).await;
        ui.find("config-dialog").await;
        ui.save_screenshot(&shot("llm-config-dialog")).await;
        ui.click("config-cancel").await;
        ui.wait_gone("config-dialog").await;
        ui.click(&format!("config-templates-{config}")).await;
        ui.find("templates-dialog").await;
        ui.save_screenshot(&shot("prompt-template")).await;
        for (nav, page, name) in [
            ("nav-dashboard", "dashboard-page", "dashboard"),
            ("nav-logs", "logs-page", "llm-logs"),
            ("nav-stats", "stats-page", "llm-stats"),
            ("nav-alerts", "alerts-page", "alerts"),
            ("nav-groups", "groups-page", "groups"),
            ("nav-codes", "codes-page", "activation-codes"),
            ("nav-api-keys", "apikeys-page", "api-keys"),
            ("nav-users", "users-page", "users"),
            ("nav-settings", "settings-page", "settings"),
        ] {
            ui.step(name);
            ui.open("/admin/").await;
            ui.click(nav).await;
            ui.find(page).await;
            // Let the page's data and charts arrive.
            tokio::time::sleep(std::time::Duration::from_millis(800)).await;
            ui.save_screenshot(&shot(name)).await;
        }
        ui.click("nav-logs").await;
        ui.click(&format!("log-detail-{log_id}")).await;
        ui.find("log-detail-dialog").await;
        ui.save_screenshot(&shot("llm-log-detail")).await;
    })
    .await;
}
