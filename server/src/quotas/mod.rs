//! Limits per group: requests per minute, and daily/monthly token quotas with reservations.
//! A leaf: it takes plain values (a group, a worst case in tokens) and knows nothing of the
//! relay. A call is admitted here before anything is sent upstream; its record settles the
//! reservation to the actual usage, and `lease` releases what a dead instance held.

pub mod lease;
mod rate;
pub mod retention;

use crate::{
    clock::{Clock, Period},
    db::{
        self, Db,
        usage::{Exhausted, Limits, Reservation},
    },
    error::{AppError, AppResult},
};
use rate::RateLimits;

/// When and against what a call was admitted.
#[derive(Debug, Clone, PartialEq)]
pub struct Admission {
    pub at: chrono::DateTime<chrono::Utc>,
    pub period: Period,
    /// `None` when the group has no token limit (nothing is held).
    pub reservation: Option<Reservation>,
}

/// The code of a refusal that only the next day or month lifts (clients must not retry).
pub const QUOTA_EXCEEDED: &str = "QUOTA_EXCEEDED";

pub struct Quotas {
    clock: Clock,
    default_per_minute: u32,
    rate: RateLimits,
    instance: lease::InstanceId,
}

impl Quotas {
    pub fn new(clock: Clock, default_per_minute: u32, instance: lease::InstanceId) -> Self {
        Self {
            clock,
            default_per_minute,
            rate: RateLimits::default(),
            instance,
        }
    }

    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    pub fn instance(&self) -> &lease::InstanceId {
        &self.instance
    }

    /// Checks the group's request rate and reserves `worst_case` tokens against its token
    /// quotas. Nothing may be sent upstream when this fails.
    pub async fn admit(
        &self,
        db: &Db,
        group_id: Option<i32>,
        worst_case: i64,
    ) -> AppResult<Admission> {
        let at = self.clock.now();
        let period = self.clock.period(at);
        let mut admission = Admission {
            at,
            period,
            reservation: None,
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
            .check(group_id, per_minute)
            .map_err(|wait| AppError::TooManyRequests {
                code: "RATE_LIMITED",
                message: "请求过于频繁，请稍后再试".into(),
                retry_after: Some(wait),
            })?;
        let limits = Limits {
            daily: group.daily_token_limit,
            monthly: group.monthly_token_limit,
        };
        if limits.is_unlimited() {
            return Ok(admission);
        }
        let reserved = db::usage::reserve(
            db,
            self.instance.as_str(),
            group_id,
            &admission.period,
            limits,
            worst_case,
        )
        .await?;
        match reserved {
            Ok(reservation) => {
                admission.reservation = Some(reservation);
                Ok(admission)
            }
            Err(exhausted) => Err(AppError::TooManyRequests {
                code: QUOTA_EXCEEDED,
                message: match exhausted {
                    Exhausted::Day => "今日Token配额已用完".into(),
                    Exhausted::Month => "本月Token配额已用完".into(),
                },
                retry_after: None,
            }),
        }
    }
}
