//! The periodic checks: quota and budget usage per group, and error rates per config. Each
//! instance runs them; the database keeps each event to one row per period, so running them
//! on several instances repeats nothing.

use chrono::Duration;

use super::{Alerts, Event, Level, Measure, Scope, Settings};
use crate::db::{self, usage::DAY};

/// Runs the checks every `settings.check_interval` until the task is aborted.
pub async fn run(alerts: Alerts, settings: Settings) {
    let mut every = tokio::time::interval(settings.check_interval);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        if let Err(err) = quotas(&alerts).await {
            tracing::warn!(%err, "quota alert check failed");
        }
        if let Err(err) = error_rates(&alerts, &settings).await {
            tracing::warn!(%err, "error-rate alert check failed");
        }
    }
}

/// The share of a limit that warns before it is used up.
const WARN_AT: f64 = 0.8;

/// Each group's day and month counters against its token limits and money budgets: 80 %
/// and 100 % are each an event once per period.
pub async fn quotas(alerts: &Alerts) -> Result<(), crate::error::AppError> {
    let period = alerts.clock().period(alerts.clock().now());
    let groups = db::groups::list(alerts.db()).await?;
    let limited: Vec<_> = groups
        .iter()
        .filter(|g| {
            g.daily_token_limit.is_some()
                || g.monthly_token_limit.is_some()
                || g.daily_cost_limit.is_some()
                || g.monthly_cost_limit.is_some()
        })
        .collect();
    if limited.is_empty() {
        return Ok(());
    }
    let usage = db::usage::current(alerts.db(), &period.day, &period.month).await?;
    for row in usage {
        let Some(group) = limited.iter().find(|g| g.id == row.group_id) else {
            continue;
        };
        let (scope, key, tokens, cost) = if row.period == DAY {
            (
                Scope::Day,
                &period.day,
                group.daily_token_limit,
                group.daily_cost_limit,
            )
        } else {
            (
                Scope::Month,
                &period.month,
                group.monthly_token_limit,
                group.monthly_cost_limit,
            )
        };
        let measures = [
            tokens.map(|limit| (Measure::Tokens, row.used_tokens as f64, limit as f64)),
            cost.map(|limit| (Measure::Cost, row.spent, limit)),
        ];
        for (measure, used, limit) in measures.into_iter().flatten() {
            if limit <= 0.0 {
                continue;
            }
            let level = Level {
                used: Some(used),
                limit,
            };
            // The 80 % event is raised too when a group jumps past both at once: the admin
            // sees both steps.
            // Money is summed in floating point: a hair below the line is on it.
            let tolerance = limit * 1e-9;
            let warned = used + tolerance >= limit * WARN_AT;
            let full = used + tolerance >= limit;
            for (full, reached) in [(false, warned), (true, full)] {
                if reached {
                    let event = Event::quota(group, measure, scope, full, level, key);
                    alerts.raise_now(event).await?;
                }
            }
        }
    }
    Ok(())
}

/// Per config, the failed share of the calls recorded in the window.
pub async fn error_rates(alerts: &Alerts, settings: &Settings) -> Result<(), sea_orm::DbErr> {
    let now = alerts.clock().now();
    let window = Duration::minutes(settings.error_rate_window_minutes as i64);
    // Records are stamped with this same clock (shifted in tests), so the window is too.
    let since = now - window;
    let hour = alerts.clock().period(now).hour;
    for config in db::call_logs::errors_since(alerts.db(), since).await? {
        if config.calls < settings.error_rate_min_calls.max(1) {
            continue;
        }
        let rate = config.errors as f64 * 100.0 / config.calls as f64;
        if rate >= settings.error_rate_percent {
            let event = Event::error_rate(
                config.config_id,
                &config.config_name,
                config.errors,
                config.calls,
                settings.error_rate_window_minutes,
                &hour,
            );
            alerts.raise_now(event).await?;
        }
    }
    Ok(())
}
