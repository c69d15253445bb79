//! Alerts: events an admin should know about, stored once per period and sent to the
//! webhooks the admin configured.
//!
//! - `Event` here says what happened, in Chinese, with no secret in it (keys only by their
//!   position and mask, no prompts, no webhook URLs).
//! - `checks` looks at the database periodically (quota usage, error rates from the call
//!   records, so every instance sees the same numbers); the relay, the quotas and the lease
//!   sweep raise the events they witness (a key set aside, a refusal at a limit, a crash).
//! - `delivery` sends the queued deliveries, retrying with backoff; `format` builds each
//!   robot's request and reads its answer.
//!
//! "Once per period" is the database's unique (kind, subject, period): several instances and
//! restarts cannot repeat an event.

pub mod checks;
pub mod delivery;
pub mod format;

use std::{
    collections::HashSet,
    sync::{Arc, Mutex, PoisonError},
    time::Duration,
};

use chrono::Utc;
use entity::{alerts::Model, groups, instances};
use sea_orm::DbErr;

use crate::{
    clock::Clock,
    db::{self, Db, alerts::NewAlert},
};

/// What kind of event an alert is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    TokenQuota80,
    TokenQuota100,
    CostBudget80,
    CostBudget100,
    KeySetAside,
    ErrorRate,
    CrashRestart,
    /// Sent by the webhook test button; never stored.
    Test,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::TokenQuota80 => "token_quota_80",
            Self::TokenQuota100 => "token_quota_100",
            Self::CostBudget80 => "cost_budget_80",
            Self::CostBudget100 => "cost_budget_100",
            Self::KeySetAside => "key_set_aside",
            Self::ErrorRate => "error_rate",
            Self::CrashRestart => "crash_restart",
            Self::Test => "test",
        }
    }

    fn severity(self) -> &'static str {
        match self {
            Self::TokenQuota80 | Self::CostBudget80 => "warning",
            Self::Test => "info",
            _ => "critical",
        }
    }
}

/// One event, ready to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub kind: Kind,
    pub subject: String,
    pub period: String,
    pub title: String,
    pub message: String,
}

/// Which counter of a group a quota event is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Measure {
    Tokens,
    Cost,
}

/// The day or the month of a quota.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Day,
    Month,
}

impl Scope {
    fn as_str(self) -> &'static str {
        match self {
            Self::Day => "day",
            Self::Month => "month",
        }
    }

    fn words(self) -> &'static str {
        match self {
            Self::Day => "今日",
            Self::Month => "本月",
        }
    }
}

/// Where a quota stands: `used` of `limit`, or refused at it (`used` unknown).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Level {
    pub used: Option<f64>,
    pub limit: f64,
}

impl Event {
    /// A group reached 80 % (`full == false`) or 100 % of a limit. Once per group, limit
    /// and day or month (`period_key`).
    pub fn quota(
        group: &groups::Model,
        measure: Measure,
        scope: Scope,
        full: bool,
        level: Level,
        period_key: &str,
    ) -> Self {
        let kind = match (measure, full) {
            (Measure::Tokens, false) => Kind::TokenQuota80,
            (Measure::Tokens, true) => Kind::TokenQuota100,
            (Measure::Cost, false) => Kind::CostBudget80,
            (Measure::Cost, true) => Kind::CostBudget100,
        };
        let (what, decimals) = match measure {
            Measure::Tokens => ("Token配额", 0),
            Measure::Cost => ("费用预算", 2),
        };
        let amount = |v: f64| format!("{v:.decimals$}");
        let unit = match measure {
            Measure::Tokens => String::new(),
            Measure::Cost => format!(" {}", group.cost_currency),
        };
        let state = match level.used {
            Some(used) => format!(
                "已用 {} / {}{unit}（{:.0}%）",
                amount(used),
                amount(level.limit),
                percent(used, level.limit)
            ),
            None => format!("上限 {}{unit}，新的调用已被拒绝", amount(level.limit)),
        };
        let reached = if full { "已用完" } else { "已达 80%" };
        Self {
            kind,
            subject: format!("group:{}:{}", group.id, scope.as_str()),
            period: period_key.to_string(),
            title: format!("分组「{}」{}{what}{reached}", group.name, scope.words()),
            message: format!(
                "分组「{}」{}{what}{reached}：{state}。",
                group.name,
                scope.words()
            ),
        }
    }

    /// A config's key was refused by the upstream and set aside. The key is named by its
    /// position and mask only. Once per key and day (`day`).
    pub fn key_set_aside(
        config_id: i32,
        config_name: &str,
        position: usize,
        masked: &str,
        reason: &str,
        day: &str,
    ) -> Self {
        Self {
            kind: Kind::KeySetAside,
            subject: format!("config:{config_id}:key:{position}"),
            period: day.to_string(),
            title: format!("模型配置「{config_name}」的第 {position} 个密钥已被搁置"),
            message: format!(
                "模型配置「{config_name}」的第 {position} 个密钥（{masked}）被上游拒绝，已搁置，调用改用其他密钥。原因：{reason}。管理员可在模型配置中恢复该密钥。"
            ),
        }
    }

    /// A config's error rate over the window passed the threshold. Once per config and hour
    /// (`hour`), so a lasting outage is reported again each hour, not every check.
    pub fn error_rate(
        config_id: i32,
        config_name: &str,
        errors: i64,
        calls: i64,
        window_minutes: u64,
        hour: &str,
    ) -> Self {
        let rate = percent(errors as f64, calls as f64);
        Self {
            kind: Kind::ErrorRate,
            subject: format!("config:{config_id}"),
            period: hour.to_string(),
            title: format!("模型配置「{config_name}」错误率 {rate:.0}%"),
            message: format!(
                "模型配置「{config_name}」最近 {window_minutes} 分钟内 {calls} 次调用失败 {errors} 次，错误率 {rate:.0}%。"
            ),
        }
    }

    /// An instance stopped renewing its lease without a clean stop (killed, crashed, cut
    /// off) and a server found it. Once per instance run.
    pub fn crash(instance: &instances::Model) -> Self {
        let last = instance.heartbeat_at.format("%Y-%m-%d %H:%M:%S UTC");
        Self {
            kind: Kind::CrashRestart,
            subject: format!("instance:{}", instance.id),
            period: instance.started_at.to_rfc3339(),
            title: "服务异常退出后已恢复".into(),
            message: format!(
                "服务实例（主机 {}，进程 {}）未正常停止，最后一次心跳 {last}；其未完成调用预留的配额已释放。",
                instance.hostname, instance.pid
            ),
        }
    }

    fn stored(self) -> NewAlert {
        NewAlert {
            kind: self.kind.as_str().into(),
            subject: self.subject,
            period: self.period,
            severity: self.kind.severity().into(),
            title: self.title,
            message: self.message,
        }
    }
}

fn percent(part: f64, whole: f64) -> f64 {
    if whole <= 0.0 {
        100.0
    } else {
        part / whole * 100.0
    }
}

/// The handle the relay, the quotas and the checks raise events through.
#[derive(Clone)]
pub struct Alerts(Arc<Inner>);

struct Inner {
    db: Db,
    clock: Clock,
    /// Events this process already stored or found stored, so a burst of refused calls
    /// does not write the same event again and again. The database stays the judge.
    raised: Mutex<HashSet<(Kind, String, String)>>,
}

/// More remembered events than this and the memory starts over (the database still
/// refuses repeats).
const REMEMBERED: usize = 10_000;

impl Alerts {
    pub fn new(db: Db, clock: Clock) -> Self {
        Self(Arc::new(Inner {
            db,
            clock,
            raised: Mutex::new(HashSet::new()),
        }))
    }

    pub fn clock(&self) -> &Clock {
        &self.0.clock
    }

    pub fn db(&self) -> &Db {
        &self.0.db
    }

    /// Raises the event in the background: a call never waits for it.
    pub fn raise(&self, event: Event) {
        if self.seen(&event) {
            return;
        }
        let alerts = self.clone();
        tokio::spawn(async move {
            if let Err(err) = alerts.store(event).await {
                tracing::warn!(%err, "storing an alert failed");
            }
        });
    }

    /// Stores the event unless its period already has it; `Some` when this call stored it.
    pub async fn raise_now(&self, event: Event) -> Result<Option<Model>, DbErr> {
        if self.seen(&event) {
            return Ok(None);
        }
        self.store(event).await
    }

    async fn store(&self, event: Event) -> Result<Option<Model>, DbErr> {
        let key = (event.kind, event.subject.clone(), event.period.clone());
        let stored = db::alerts::insert_once(&self.0.db, event.stored(), Utc::now()).await;
        if stored.is_err() {
            // Not stored: the next occurrence must try again.
            self.raised().remove(&key);
        }
        let stored = stored?;
        if let Some(alert) = &stored {
            tracing::warn!(alert_id = alert.id, kind = %alert.kind, subject = %alert.subject, "alert raised");
        }
        Ok(stored)
    }

    /// Whether the event was raised before by this process; remembers it otherwise.
    fn seen(&self, event: &Event) -> bool {
        let mut raised = self.raised();
        if raised.len() >= REMEMBERED {
            raised.clear();
        }
        !raised.insert((event.kind, event.subject.clone(), event.period.clone()))
    }

    fn raised(&self) -> std::sync::MutexGuard<'_, HashSet<(Kind, String, String)>> {
        self.0.raised.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Alert thresholds and timing, from `[alerts]` in `config.toml`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Settings {
    /// How often the quota and error-rate checks run.
    pub check_interval: Duration,
    /// The error-rate window.
    pub error_rate_window_minutes: u64,
    /// Fires when the window's failed share reaches this percentage …
    pub error_rate_percent: f64,
    /// … over at least this many calls (a single failure is not an outage).
    pub error_rate_min_calls: i64,
}
