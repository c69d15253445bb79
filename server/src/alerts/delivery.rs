//! Sending queued deliveries. Every instance runs a sender; a delivery is claimed by a
//! conditional update before it is sent, so only one sends it, and one that was claimed by
//! a sender that died comes due again. A failed attempt is retried with a doubling backoff
//! unless the answer says it cannot succeed; each attempt's outcome is kept on the delivery
//! and on the webhook, with every secret removed.

use std::time::Duration;

use chrono::{DateTime, Utc};
use entity::{alert_deliveries, alerts, webhooks};
use sea_orm::EntityTrait;
use serde_json::{Value, json};

use super::format::{self, Message, Refusal, WebhookKind};
use crate::{
    crypto::Cipher,
    db::{self, Db},
};

/// Attempts per delivery, the first included.
pub const MAX_ATTEMPTS: i32 = 5;
/// How long a claimed delivery is left to its sender before another may take it.
const CLAIM: Duration = Duration::from_secs(60);
/// Due deliveries read per round; those held back by a robot's limit leave room for others.
const DUE_AT_ONCE: u64 = 100;
/// How long one POST may take.
const SEND_TIMEOUT: Duration = Duration::from_secs(10);
/// Attempts kept in a delivery's log.
const LOG_ENTRIES: usize = 10;

/// Wait before attempt `n + 1` after `n` attempts: 2 s, 4 s, 8 s, 16 s.
fn backoff(attempts: i32) -> chrono::Duration {
    chrono::Duration::seconds(1_i64 << attempts.clamp(1, 10))
}

#[derive(Clone)]
pub struct Sender {
    db: Db,
    cipher: Cipher,
    client: reqwest::Client,
}

impl Sender {
    pub fn new(db: Db, cipher: Cipher) -> Self {
        let client = reqwest::Client::builder()
            // A robot never redirects; following one could send the token elsewhere.
            .redirect(reqwest::redirect::Policy::none())
            .timeout(SEND_TIMEOUT)
            .user_agent(concat!("llm-proxy/", env!("CARGO_PKG_VERSION")))
            .build()
            .unwrap_or_else(|_| reqwest::Client::new());
        Self { db, cipher, client }
    }

    /// Sends what is due, once a second, until the task is aborted.
    pub async fn run(self) {
        let mut every = tokio::time::interval(Duration::from_secs(1));
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            every.tick().await;
            if let Err(err) = self.send_due().await {
                tracing::warn!(%err, "sending alert deliveries failed");
            }
        }
    }

    async fn send_due(&self) -> Result<(), sea_orm::DbErr> {
        let now = Utc::now();
        for delivery in db::alerts::due(&self.db, now, DUE_AT_ONCE).await? {
            let webhook = webhooks::Entity::find_by_id(delivery.webhook_id);
            let Some(webhook) = db::first_row(webhook, &self.db.read).await? else {
                // Deleted meanwhile: the cascade removes the delivery too.
                continue;
            };
            // Over a robot's limit the delivery stays due, untouched, until a send is free.
            if !self.may_send(&webhook, now).await? {
                continue;
            }
            let until = now + chrono::Duration::from_std(CLAIM).unwrap_or_default();
            if !db::alerts::claim(&self.db, &delivery, until).await? {
                continue;
            }
            self.attempt(delivery, &webhook).await?;
        }
        Ok(())
    }

    async fn attempt(
        &self,
        delivery: alert_deliveries::Model,
        webhook: &webhooks::Model,
    ) -> Result<(), sea_orm::DbErr> {
        let attempts = delivery.attempts + 1;
        let Some(alert) = db::alerts::get(&self.db, delivery.alert_id).await? else {
            return Ok(());
        };
        let result = self.send(webhook, &message(&alert)).await;
        let at = Utc::now();
        let error = result.as_ref().err().map(|refusal| refusal.detail.clone());
        let retry_at = match &result {
            Err(refusal) if refusal.retry && attempts < MAX_ATTEMPTS => {
                Some(at + backoff(attempts))
            }
            _ => None,
        };
        let outcome = db::alerts::AttemptOutcome {
            at,
            log: appended(&delivery.log, at, error.as_deref()),
            error: error.clone(),
            retry_at,
        };
        match &error {
            Some(detail) => tracing::warn!(
                delivery_id = delivery.id,
                webhook_id = delivery.webhook_id,
                attempts,
                %detail,
                "alert delivery failed"
            ),
            None => tracing::info!(delivery_id = delivery.id, attempts, "alert delivered"),
        }
        db::alerts::finish_attempt(&self.db, delivery.id, outcome).await?;
        db::webhooks::record_outcome(&self.db, delivery.webhook_id, at, error.as_deref()).await
    }

    /// Takes one of the webhook's sends if its robot's limits leave one at `now`.
    pub async fn may_send(
        &self,
        webhook: &webhooks::Model,
        now: DateTime<Utc>,
    ) -> Result<bool, sea_orm::DbErr> {
        let limits = WebhookKind::parse(&webhook.kind).map_or(&[][..], WebhookKind::send_limits);
        if limits.is_empty() {
            return Ok(true);
        }
        db::webhooks::take_send_slot(&self.db, webhook.id, limits, now).await
    }

    /// One POST of `message` to `webhook`, its answer checked. Every error text is cleaned
    /// of the webhook's URL, token and secret.
    pub async fn send(&self, webhook: &webhooks::Model, message: &Message) -> Result<(), Refusal> {
        let kind = WebhookKind::parse(&webhook.kind).ok_or_else(|| Refusal {
            detail: format!("未知的 Webhook 类型 {}", webhook.kind),
            retry: false,
        })?;
        let unreadable = || Refusal {
            detail: "Webhook 地址或密钥无法解密（加密密钥已更换？）".into(),
            retry: false,
        };
        let url = self
            .cipher
            .decrypt(&webhook.url_encrypted)
            .map_err(|_| unreadable())?;
        let secret = match &webhook.secret_encrypted {
            Some(stored) => Some(self.cipher.decrypt(stored).map_err(|_| unreadable())?),
            None => None,
        };
        let (url, secret) = (url.expose(), secret.as_ref().map(|s| s.expose()));
        let request = format::request(kind, url, secret, message, Utc::now());
        let clean = |text: String| format::redact(&text, url, secret);
        let response = self
            .client
            .post(&request.url)
            .json(&request.body)
            .send()
            .await
            .map_err(|err| Refusal {
                detail: clean(transport_error(err)),
                retry: true,
            })?;
        let status = response.status().as_u16();
        // A robot's answer is small; a large body is cut, it only has to show the code.
        let body = response.text().await.unwrap_or_default();
        format::check_reply(kind, status, &body).map_err(|refusal| Refusal {
            detail: clean(refusal.detail),
            retry: refusal.retry,
        })
    }
}

/// The error and its causes, without the URL (reqwest puts it in its message).
fn transport_error(err: reqwest::Error) -> String {
    let kind = if err.is_timeout() {
        "超时"
    } else if err.is_connect() {
        "无法连接"
    } else {
        "请求失败"
    };
    let err = err.without_url();
    let mut text = format!("{kind}: {err}");
    // The causes say why (refused, DNS, TLS); none of them carries the URL.
    let mut cause = std::error::Error::source(&err);
    while let Some(inner) = cause {
        text.push_str(&format!(": {inner}"));
        cause = inner.source();
    }
    text
}

/// The alert as a message: what every webhook kind is built from.
pub fn message(alert: &alerts::Model) -> Message {
    Message {
        alert_id: alert.id,
        kind: alert.kind.clone(),
        severity: alert.severity.clone(),
        subject: alert.subject.clone(),
        period: alert.period.clone(),
        title: alert.title.clone(),
        text: alert.message.clone(),
        created_at: alert.created_at,
    }
}

/// The delivery's log with this attempt added (the oldest dropped past `LOG_ENTRIES`).
fn appended(log: &str, at: DateTime<Utc>, error: Option<&str>) -> String {
    let mut entries: Vec<Value> = serde_json::from_str(log).unwrap_or_default();
    entries.push(json!({
        "at": at.to_rfc3339(),
        "ok": error.is_none(),
        "detail": error.unwrap_or("已送达"),
    }));
    let skip = entries.len().saturating_sub(LOG_ENTRIES);
    Value::Array(entries.into_iter().skip(skip).collect()).to_string()
}
