//! Limits per group: requests per minute, and daily/monthly token quotas and money budgets
//! with reservations. A leaf: it takes plain values (a group, a worst case in tokens and
//! money) and knows nothing of the relay. A call is admitted here before anything is sent upstream; its record settles the
//! reservation to the actual usage, and `lease` releases what a dead instance held.

pub mod lease;
pub mod money;
mod rate;
pub mod retention;

use crate::{
    alerts::{Alerts, Event, Level, Measure, Scope},
    clock::{Clock, Period},
    db::{
        self, Db,
        usage::{Demand, Exhausted, Limits, Reservation},
    },
    error::{AppError, AppResult},
};
use rate::RateLimits;

/// When and against what a call was admitted.
#[derive(Debug, Clone, PartialEq)]
pub struct Admission {
    pub at: chrono::DateTime<chrono::Utc>,
    pub period: Period,
    /// `None` when the group has no limit (nothing is held).
    pub reservation: Option<Reservation>,
    /// The group's currency and rates, to charge the call in (`None` without a group).
    pub budget: Option<money::Budget>,
}

/// The most one call may use: tokens, and per config it may be answered by, the money in
/// that config's currency.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WorstCase {
    pub tokens: i64,
    pub costs: Vec<(f64, String)>,
}

/// The codes of refusals that only the next day or month lifts (clients must not retry).
pub const QUOTA_EXCEEDED: &str = "QUOTA_EXCEEDED";
pub const BUDGET_EXCEEDED: &str = "BUDGET_EXCEEDED";

pub struct Quotas {
    clock: Clock,
    default_per_minute: u32,
    rate: RateLimits,
    instance: lease::InstanceId,
    alerts: Alerts,
}

impl Quotas {
    pub fn new(
        clock: Clock,
        default_per_minute: u32,
        instance: lease::InstanceId,
        alerts: Alerts,
    ) -> Self {
        Self {
            clock,
            default_per_minute,
            rate: RateLimits::default(),
            instance,
            alerts,
        }
    }

    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    pub fn instance(&self) -> &lease::InstanceId {
        &self.instance
    }

    /// Checks the group's request rate and reserves the worst case against its token quotas
    /// and money budgets. Nothing may be sent upstream when this fails.
    pub async fn admit(
        &self,
        db: &Db,
        group_id: Option<i32>,
        currencies: &[&str],
        worst_case: impl FnOnce() -> WorstCase,
    ) -> AppResult<Admission> {
        let at = self.clock.now();
        let period = self.clock.period(at);
        let mut admission = Admission {
            at,
            period,
            reservation: None,
            budget: None,
        };
        let Some(group_id) = group_id else {
            return Ok(admission);
        };
        let group = db::groups::cached(db, group_id).await?;
        let per_minute = group
            .requests_per_minute
            .map(|n| n.max(0) as u32)
            .unwrap_or(self.default_per_minute);
        self.rate
            .check(db, group_id, per_minute, at)
            .await?
            .map_err(|wait| AppError::TooManyRequests {
                code: "RATE_LIMITED",
                message: "请求过于频繁，请稍后再试".into(),
                retry_after: Some(wait),
            })?;
        let limits = Limits {
            daily: group.daily_token_limit,
            monthly: group.monthly_token_limit,
            daily_cost: group.daily_cost_limit,
            monthly_cost: group.monthly_cost_limit,
        };
        let foreign = currencies
            .iter()
            .any(|currency| !currency.eq_ignore_ascii_case(&group.cost_currency));
        let budget = money::Budget {
            currency: group.cost_currency.clone(),
            // Read only when some price is in another currency.
            rates: match foreign {
                true => money::rates(db).await?,
                false => money::Rates::default(),
            },
        };
        if limits.is_unlimited() {
            admission.budget = Some(budget);
            return Ok(admission);
        }
        // Counted only now: the prompt's tokens cost a tokenizer pass, needed for limits only.
        let worst_case = worst_case();
        // Money is held only against a budget.
        let budgeted = limits.daily_cost.is_some() || limits.monthly_cost.is_some();
        let mut cost = 0.0_f64;
        for (amount, currency) in worst_case.costs.iter().filter(|_| budgeted) {
            cost = cost.max(budget.require(*amount, currency)?);
        }
        admission.budget = Some(budget);
        let demand = Demand {
            tokens: worst_case.tokens,
            cost,
        };
        let reserved = db::usage::reserve(
            db,
            self.instance.as_str(),
            group_id,
            &admission.period,
            limits,
            demand,
        )
        .await?;
        match reserved {
            Ok(reservation) => {
                admission.reservation = Some(reservation);
                Ok(admission)
            }
            Err(exhausted) => {
                self.alert_refusal(&group, exhausted, limits, &admission.period);
                let (code, message) = match exhausted {
                    Exhausted::Day => (QUOTA_EXCEEDED, "今日Token配额已用完"),
                    Exhausted::Month => (QUOTA_EXCEEDED, "本月Token配额已用完"),
                    Exhausted::DayBudget => (BUDGET_EXCEEDED, "今日费用预算已用完"),
                    Exhausted::MonthBudget => (BUDGET_EXCEEDED, "本月费用预算已用完"),
                };
                let monthly = matches!(exhausted, Exhausted::Month | Exhausted::MonthBudget);
                Err(AppError::TooManyRequests {
                    code,
                    message: message.into(),
                    // When the period ends: the latest the quota can come back (calls still
                    // running may give some back earlier).
                    retry_after: Some(self.clock.until_next_period(at, monthly)),
                })
            }
        }
    }
}

impl Quotas {
    /// A refusal at a limit is that limit reached (100 %), even when the counter stays
    /// below it: a money budget refuses a call whose worst case would not fit.
    fn alert_refusal(
        &self,
        group: &entity::groups::Model,
        exhausted: Exhausted,
        limits: Limits,
        period: &Period,
    ) {
        let (measure, scope, limit, key) = match exhausted {
            Exhausted::Day => (
                Measure::Tokens,
                Scope::Day,
                limits.daily.map(|l| l as f64),
                &period.day,
            ),
            Exhausted::Month => (
                Measure::Tokens,
                Scope::Month,
                limits.monthly.map(|l| l as f64),
                &period.month,
            ),
            Exhausted::DayBudget => (Measure::Cost, Scope::Day, limits.daily_cost, &period.day),
            Exhausted::MonthBudget => (
                Measure::Cost,
                Scope::Month,
                limits.monthly_cost,
                &period.month,
            ),
        };
        let level = Level {
            used: None,
            limit: limit.unwrap_or_default(),
        };
        self.alerts
            .raise(Event::quota(group, measure, scope, true, level, key));
    }
}
