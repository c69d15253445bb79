//! `/api/admin/alerts` (the events, newest first, with each webhook delivery's outcome) and
//! `/api/admin/webhooks` (where they are sent). A webhook's URL carries its robot's token
//! and its signing secret is a credential: both are write-only here, stored encrypted, and
//! shown only as the URL's host and whether a secret is set.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use entity::{alert_deliveries, alerts::Model as AlertRow, webhooks::Model as WebhookRow};
use poem::web::Data;
use poem_openapi::{
    Enum, Object, OpenApi,
    param::{Path, Query},
    payload::Json,
};

use crate::{
    alerts::{
        delivery::Sender,
        format::{self, Message, WebhookKind},
    },
    api::{
        ApiTags,
        envelope::{Deleted, Reply, deleted, ok},
    },
    auth::AdminAuth,
    db::{self, webhooks::WebhookFields},
    error::{AppError, AppResult},
    state::AppState,
    validate,
};

const DEFAULT_PAGE_SIZE: u64 = 20;
const URL_MAX: usize = 1000;
const SECRET_MAX: usize = 200;

/// The webhook's message format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename_all = "lowercase")]
pub enum WebhookType {
    /// JSON POST of the alert's fields.
    Generic,
    /// 企业微信群机器人 (markdown).
    Wecom,
    /// 钉钉自定义机器人 (markdown; 加签 with the secret).
    Dingtalk,
    /// 飞书自定义机器人 (text; signed with the secret).
    Feishu,
}

impl WebhookType {
    fn kind(self) -> WebhookKind {
        match self {
            Self::Generic => WebhookKind::Generic,
            Self::Wecom => WebhookKind::WeCom,
            Self::Dingtalk => WebhookKind::DingTalk,
            Self::Feishu => WebhookKind::Feishu,
        }
    }

    fn of(kind: WebhookKind) -> Self {
        match kind {
            WebhookKind::Generic => Self::Generic,
            WebhookKind::WeCom => Self::Wecom,
            WebhookKind::DingTalk => Self::Dingtalk,
            WebhookKind::Feishu => Self::Feishu,
        }
    }
}

#[derive(Debug, Object)]
pub struct WebhookView {
    pub id: i32,
    pub name: String,
    #[oai(rename = "type")]
    pub kind: WebhookType,
    /// Scheme and host only, e.g. `https://oapi.dingtalk.com/…`: the token is never shown.
    pub url_hint: String,
    /// Whether a signing secret is set (it is never shown).
    pub has_secret: bool,
    pub enabled: bool,
    /// The last delivery attempt: `delivered` or `failed`; none before the first.
    #[oai(nullable)]
    pub last_status: Option<String>,
    /// What the last failed attempt ended in (no token or secret in it).
    #[oai(nullable)]
    pub last_error: Option<String>,
    #[oai(nullable)]
    pub last_attempt_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

// No `Debug`: the URL and secret must not reach a log line through `{:?}`.
#[derive(Object)]
pub struct CreateWebhook {
    /// 1–100 characters.
    #[oai(deserialize_with = "crate::api::strict::strings")]
    #[oai(validator(max_length = 100, pattern = "\\S"))]
    pub name: String,
    #[oai(rename = "type")]
    pub kind: WebhookType,
    /// The full webhook URL with its token (http or https), at most 1000 characters.
    #[oai(validator(max_length = 1000))]
    pub url: String,
    /// DingTalk's 加签 secret (`SEC…`) or Feishu's signing secret; only for those two.
    #[oai(nullable, validator(max_length = 200))]
    pub secret: Option<String>,
    /// Default true.
    #[oai(nullable)]
    pub enabled: Option<bool>,
}

/// Change only the fields given; the URL and secret stay when omitted, an empty secret
/// removes it.
#[derive(Object)]
pub struct UpdateWebhook {
    #[oai(nullable, deserialize_with = "crate::api::strict::strings")]
    #[oai(validator(max_length = 100, pattern = "\\S"))]
    pub name: Option<String>,
    #[oai(rename = "type", nullable)]
    pub kind: Option<WebhookType>,
    #[oai(nullable, validator(max_length = 1000))]
    pub url: Option<String>,
    #[oai(nullable, validator(max_length = 200))]
    pub secret: Option<String>,
    #[oai(nullable)]
    pub enabled: Option<bool>,
}

/// The test message's outcome (an answer even when the webhook refused it).
#[derive(Debug, Object)]
pub struct WebhookTestResult {
    pub delivered: bool,
    /// Why it was not delivered (no token or secret in it).
    #[oai(nullable)]
    pub error: Option<String>,
}

#[derive(Debug, Object)]
pub struct DeliveryAttempt {
    pub at: String,
    pub ok: bool,
    pub detail: String,
}

#[derive(Debug, Object)]
pub struct DeliveryView {
    pub webhook_id: i32,
    /// The webhook's name (empty when it was deleted).
    pub webhook_name: String,
    /// `pending` (being sent or waiting for a retry), `delivered` or `failed` (gave up).
    pub status: String,
    pub attempts: i32,
    /// The latest failure, while pending or after giving up.
    #[oai(nullable)]
    pub last_error: Option<String>,
    #[oai(nullable)]
    pub delivered_at: Option<DateTime<Utc>>,
    /// Each attempt's outcome, oldest first (the last 10).
    pub log: Vec<DeliveryAttempt>,
}

#[derive(Debug, Object)]
pub struct AlertView {
    pub id: i32,
    /// `token_quota_80`, `token_quota_100`, `cost_budget_80`, `cost_budget_100`,
    /// `key_set_aside`, `error_rate` or `crash_restart`.
    pub kind: String,
    /// `warning` or `critical`.
    pub severity: String,
    /// What it is about, e.g. `group:3:day`, `config:2:key:1`, `config:2`, `instance:…`.
    pub subject: String,
    /// The period it fires once in (a day, a month, an hour, an instance's start).
    pub period: String,
    pub title: String,
    pub message: String,
    pub created_at: DateTime<Utc>,
    #[oai(nullable)]
    pub read_at: Option<DateTime<Utc>>,
    pub deliveries: Vec<DeliveryView>,
}

#[derive(Debug, Object)]
pub struct AlertPage {
    pub items: Vec<AlertView>,
    pub total: u64,
    /// Alerts not marked read yet.
    pub unread: u64,
    pub page: u64,
    pub page_size: u64,
}

#[derive(Debug, Object)]
pub struct MarkRead {
    /// Mark alerts up to this id read; omitted = all.
    #[oai(nullable)]
    pub up_to_id: Option<i32>,
}

#[derive(Debug, Object)]
pub struct MarkedRead {
    pub updated: u64,
}

pub struct AlertsApi;

#[OpenApi(prefix_path = "/admin", tag = "ApiTags::AdminAlerts")]
impl AlertsApi {
    /// 告警列表（最新在前，含各 Webhook 的投递结果）
    #[oai(path = "/alerts", method = "get", operation_id = "admin_list_alerts")]
    async fn list_alerts(
        &self,
        state: Data<&AppState>,
        _auth: AdminAuth,
        /// Default 1.
        #[oai(validator(minimum(value = "1"), maximum(value = "1000000")))]
        page: Query<Option<u64>>,
        /// Default 20, at most 100.
        #[oai(validator(minimum(value = "1"), maximum(value = "100")))]
        page_size: Query<Option<u64>>,
    ) -> AppResult<Reply<AlertPage>> {
        let page = page.0.unwrap_or(1);
        let page_size = page_size.0.unwrap_or(DEFAULT_PAGE_SIZE);
        let (total, unread, rows) = db::alerts::page(&state.db, page, page_size).await?;
        let ids: Vec<i32> = rows.iter().map(|row| row.id).collect();
        let deliveries = db::alerts::deliveries_of(&state.db, &ids).await?;
        let names: HashMap<i32, String> = db::webhooks::list(&state.db)
            .await?
            .into_iter()
            .map(|webhook| (webhook.id, webhook.name))
            .collect();
        let items = rows
            .into_iter()
            .map(|row| alert_view(row, &deliveries, &names))
            .collect();
        Ok(ok(AlertPage {
            items,
            total,
            unread,
            page,
            page_size,
        }))
    }

    /// 将告警标记为已读
    #[oai(
        path = "/alerts/read",
        method = "post",
        operation_id = "admin_mark_alerts_read"
    )]
    async fn mark_read(
        &self,
        state: Data<&AppState>,
        _auth: AdminAuth,
        body: Json<MarkRead>,
    ) -> AppResult<Reply<MarkedRead>> {
        let updated = db::alerts::mark_read(&state.db, body.0.up_to_id, Utc::now()).await?;
        Ok(ok(MarkedRead { updated }))
    }

    /// Webhook 列表（地址只显示主机，密钥不显示）
    #[oai(
        path = "/webhooks",
        method = "get",
        operation_id = "admin_list_webhooks"
    )]
    async fn list_webhooks(
        &self,
        state: Data<&AppState>,
        _auth: AdminAuth,
    ) -> AppResult<Reply<Vec<WebhookView>>> {
        let rows = db::webhooks::list(&state.db).await?;
        Ok(ok(rows.iter().map(webhook_view).collect()))
    }

    /// 添加 Webhook（地址与密钥加密保存）
    #[oai(
        path = "/webhooks",
        method = "post",
        operation_id = "admin_create_webhook"
    )]
    async fn create_webhook(
        &self,
        state: Data<&AppState>,
        _auth: AdminAuth,
        body: Json<CreateWebhook>,
    ) -> AppResult<Reply<WebhookView>> {
        let body = body.0;
        let kind = body.kind.kind();
        let fields = WebhookFields {
            name: validated_name(&body.name)?,
            kind: kind.as_str().into(),
            url_encrypted: String::new(),
            url_hint: String::new(),
            secret_encrypted: None,
            enabled: body.enabled.unwrap_or(true),
        };
        let url = validated_url(&body.url)?;
        let secret = validated_secret(kind, body.secret.as_deref())?;
        let fields = sealed(&state, fields, &url, secret.as_deref());
        let row = db::webhooks::create(&state.db, fields).await?;
        tracing::info!(webhook_id = row.id, kind = %row.kind, "webhook created");
        Ok(ok(webhook_view(&row)))
    }

    /// 修改 Webhook（未提供的地址与密钥保持不变）
    #[oai(
        path = "/webhooks/:id",
        method = "put",
        operation_id = "admin_update_webhook"
    )]
    async fn update_webhook(
        &self,
        state: Data<&AppState>,
        _auth: AdminAuth,
        id: Path<i32>,
        body: Json<UpdateWebhook>,
    ) -> AppResult<Reply<WebhookView>> {
        let body = body.0;
        let row = db::webhooks::get(&state.db, id.0).await?;
        let kind = match body.kind {
            Some(kind) => kind.kind(),
            None => stored_kind(&row)?,
        };
        let mut fields = WebhookFields {
            name: match &body.name {
                Some(name) => validated_name(name)?,
                None => row.name.clone(),
            },
            kind: kind.as_str().into(),
            url_encrypted: row.url_encrypted.clone(),
            url_hint: row.url_hint.clone(),
            secret_encrypted: row.secret_encrypted.clone(),
            enabled: body.enabled.unwrap_or(row.enabled),
        };
        if let Some(url) = &body.url {
            let url = validated_url(url)?;
            fields.url_encrypted = state.cipher.encrypt(&url);
            fields.url_hint = format::url_hint(&url);
        }
        match body.secret.as_deref().map(str::trim) {
            Some("") => fields.secret_encrypted = None,
            Some(secret) => {
                let secret = validated_secret(kind, Some(secret))?;
                fields.secret_encrypted = secret.map(|s| state.cipher.encrypt(&s));
            }
            None if !kind.signs() => fields.secret_encrypted = None,
            None => {}
        }
        let row = db::webhooks::update(&state.db, id.0, fields).await?;
        Ok(ok(webhook_view(&row)))
    }

    /// 删除 Webhook（其未送达的投递一并删除）
    #[oai(
        path = "/webhooks/:id",
        method = "delete",
        operation_id = "admin_delete_webhook"
    )]
    async fn delete_webhook(
        &self,
        state: Data<&AppState>,
        _auth: AdminAuth,
        id: Path<i32>,
    ) -> AppResult<Reply<Deleted>> {
        db::webhooks::delete(&state.db, id.0).await?;
        tracing::info!(webhook_id = id.0, "webhook deleted");
        Ok(deleted(id.0))
    }

    /// 发送测试消息（立即发送一次，不重试）
    ///
    /// 与告警一样计入机器人的频率上限（企业微信、钉钉、飞书：每分钟 20 条、每秒 5 条），
    /// 超出时返回 429 `WEBHOOK_RATE_LIMITED`。
    #[oai(
        path = "/webhooks/:id/test",
        method = "post",
        operation_id = "admin_test_webhook"
    )]
    async fn test_webhook(
        &self,
        state: Data<&AppState>,
        _auth: AdminAuth,
        id: Path<i32>,
    ) -> AppResult<Reply<WebhookTestResult>> {
        let row = db::webhooks::get(&state.db, id.0).await?;
        let now = Utc::now();
        let message = Message {
            alert_id: 0,
            kind: crate::alerts::Kind::Test.as_str().into(),
            severity: "info".into(),
            subject: format!("webhook:{}", row.id),
            period: now.to_rfc3339(),
            title: "测试消息".into(),
            text: "这是一条来自 llm-proxy 的测试告警，收到即表示 Webhook 配置正确。".into(),
            created_at: now,
        };
        let sender = Sender::new(state.db.clone(), state.cipher.clone());
        // A test counts against the robot's limit like an alert (钉钉 blocks a robot for
        // 10 minutes when it is exceeded).
        if !sender.may_send(&row, now).await? {
            return Err(AppError::TooManyRequests {
                code: "WEBHOOK_RATE_LIMITED",
                message: "该 Webhook 一分钟内发送的消息已达机器人的上限，请稍后再试".into(),
                retry_after: Some(std::time::Duration::from_secs(60)),
            });
        }
        let error = sender.send(&row, &message).await.err().map(|r| r.detail);
        db::webhooks::record_outcome(&state.db, row.id, Utc::now(), error.as_deref()).await?;
        Ok(ok(WebhookTestResult {
            delivered: error.is_none(),
            error,
        }))
    }
}

fn validated_name(name: &str) -> AppResult<String> {
    validate::text("name", "名称", name, 100)
}

fn validated_url(url: &str) -> AppResult<String> {
    let url = url.trim();
    let invalid = || AppError::validation("url", "Webhook 地址必须是有效的 http(s) URL");
    let parsed = url::Url::parse(url).map_err(|_| invalid())?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
        return Err(invalid());
    }
    if url.chars().count() > URL_MAX {
        return Err(AppError::validation(
            "url",
            "Webhook 地址不能超过 1000 个字符",
        ));
    }
    Ok(url.to_string())
}

/// A secret only for the kinds that sign; blank means none.
fn validated_secret(kind: WebhookKind, secret: Option<&str>) -> AppResult<Option<String>> {
    let Some(secret) = secret.map(str::trim).filter(|s| !s.is_empty()) else {
        return Ok(None);
    };
    if !kind.signs() {
        return Err(AppError::validation(
            "secret",
            "只有钉钉和飞书机器人使用签名密钥",
        ));
    }
    if secret.chars().count() > SECRET_MAX || secret.chars().any(char::is_control) {
        return Err(AppError::validation(
            "secret",
            "签名密钥不能超过 200 个字符，且不能含控制字符",
        ));
    }
    Ok(Some(secret.to_string()))
}

/// The fields with the URL and secret encrypted and the URL's hint.
fn sealed(
    state: &AppState,
    mut fields: WebhookFields,
    url: &str,
    secret: Option<&str>,
) -> WebhookFields {
    fields.url_encrypted = state.cipher.encrypt(url);
    fields.url_hint = format::url_hint(url);
    fields.secret_encrypted = secret.map(|s| state.cipher.encrypt(s));
    fields
}

fn stored_kind(row: &WebhookRow) -> AppResult<WebhookKind> {
    WebhookKind::parse(&row.kind)
        .ok_or_else(|| AppError::Internal(format!("webhook {} has unknown kind", row.id)))
}

fn webhook_view(row: &WebhookRow) -> WebhookView {
    WebhookView {
        id: row.id,
        name: row.name.clone(),
        kind: WebhookType::of(WebhookKind::parse(&row.kind).unwrap_or(WebhookKind::Generic)),
        url_hint: row.url_hint.clone(),
        has_secret: row.secret_encrypted.is_some(),
        enabled: row.enabled,
        last_status: row.last_status.clone(),
        last_error: row.last_error.clone(),
        last_attempt_at: row.last_attempt_at,
        created_at: row.created_at,
        updated_at: row.updated_at,
    }
}

fn alert_view(
    row: AlertRow,
    deliveries: &[alert_deliveries::Model],
    names: &HashMap<i32, String>,
) -> AlertView {
    let deliveries = deliveries
        .iter()
        .filter(|d| d.alert_id == row.id)
        .map(|d| DeliveryView {
            webhook_id: d.webhook_id,
            webhook_name: names.get(&d.webhook_id).cloned().unwrap_or_default(),
            status: d.status.clone(),
            attempts: d.attempts,
            last_error: d.last_error.clone(),
            delivered_at: d.delivered_at,
            log: attempts(&d.log),
        })
        .collect();
    AlertView {
        id: row.id,
        kind: row.kind,
        severity: row.severity,
        subject: row.subject,
        period: row.period,
        title: row.title,
        message: row.message,
        created_at: row.created_at,
        read_at: row.read_at,
        deliveries,
    }
}

fn attempts(log: &str) -> Vec<DeliveryAttempt> {
    let entries: Vec<serde_json::Value> = serde_json::from_str(log).unwrap_or_default();
    entries
        .iter()
        .map(|entry| DeliveryAttempt {
            at: entry["at"].as_str().unwrap_or_default().to_string(),
            ok: entry["ok"].as_bool().unwrap_or(false),
            detail: entry["detail"].as_str().unwrap_or_default().to_string(),
        })
        .collect()
}
