//! The alerts page in the browser: a webhook added through its dialog is listed with its
//! host only (the token and secret never reach the page), and an alert shows on the overview.

use serde_json::json;

use super::{FakeUpstream, ProviderKind, admin_login, scenario};

const TOKEN: &str = "ding-browser-token-8e1f0c";
const SECRET: &str = "SECbrowser0123456789";

#[tokio::test]
async fn a_webhook_is_added_and_listed_masked_and_an_alert_shows_on_the_overview() {
    scenario("alerts_page", |ui, env| async move {
        // A config whose first key the upstream refuses: the call sets it aside, an alert.
        let good = FakeUpstream::key(ProviderKind::Openai);
        let created = env
            .server
            .post(
                "/api/admin/llm/configs",
                Some(&env.admin),
                json!({
                    "name": "告警配置", "provider": "openai",
                    "api_url": env.fake.url(ProviderKind::Openai),
                    "api_key": format!("sk-revoked-browser-0000000\n{good}"),
                    "model": "gpt-4o-mini", "max_retries": 0,
                }),
            )
            .await;
        assert_eq!(created.status, 200, "{}", created.text);
        let config_id = created.body["data"]["id"].as_i64().unwrap();
        let (client, _) = env.client().await;
        env.call_ok(&client, config_id, "hi").await;

        admin_login(&ui).await;
        ui.step("add-webhook");
        ui.click("nav-alerts").await;
        ui.find("alerts-page").await;
        ui.click("btn-add-webhook").await;
        ui.find("webhook-dialog").await;
        ui.fill("webhook-name", "值班钉钉群").await;
        ui.select("webhook-kind", "dingtalk").await;
        ui.fill(
            "webhook-url",
            &format!("https://oapi.dingtalk.com/robot/send?access_token={TOKEN}"),
        )
        .await;
        ui.fill("webhook-secret", SECRET).await;
        ui.click("webhook-save").await;
        ui.wait_gone("webhook-dialog").await;

        ui.step("listed-masked");
        let hooks = env
            .server
            .get("/api/admin/webhooks", Some(&env.admin))
            .await;
        let id = hooks.body["data"][0]["id"].as_i64().unwrap();
        ui.wait_text(
            &format!("webhook-url-{id}"),
            &["https://oapi.dingtalk.com/…"],
        )
        .await;
        let row = ui.text(&format!("webhook-row-{id}")).await;
        assert!(row.contains("值班钉钉群") && row.contains("钉钉"), "{row}");
        let page = ui.script("return document.body.innerHTML;").await;
        let page = page.as_str().unwrap_or_default();
        assert!(
            !page.contains(TOKEN) && !page.contains(SECRET),
            "secret on the page"
        );
        ui.wait_text("alerts-list", &["密钥已被搁置"]).await;

        ui.step("unread-then-read");
        let listed = env.server.get("/api/admin/alerts", Some(&env.admin)).await;
        let alert = format!("alert-{}", listed.body["data"]["items"][0]["id"]);
        ui.wait_text(&alert, &["未读"]).await;
        assert!(
            ui.attr(&alert, "class")
                .await
                .unwrap_or_default()
                .contains("unread"),
            "an unread alert is marked"
        );
        ui.click("btn-mark-read").await;
        ui.until("the alert marked read", || async {
            let class = ui.attr(&alert, "class").await.unwrap_or_default();
            let text = ui.text(&alert).await;
            if class.contains("unread") || text.contains("未读") {
                Err(format!("class {class:?}, text {text:?}"))
            } else {
                Ok(())
            }
        })
        .await;

        ui.step("overview");
        ui.open("/admin/").await;
        ui.find("dashboard-page").await;
        let panel = ui
            .wait_text("dash-alerts", &["告警配置", "第 1 个密钥"])
            .await;
        assert!(!panel.contains("sk-revoked-browser"), "{panel}");
    })
    .await;
}
