//! Limits per group: requests per minute, and daily/monthly token quotas with
//! reservations. A call is admitted here before anything is sent upstream; its record
//! settles the reservation to the actual usage (see `relay::recorder`).

mod rate;
pub mod retention;

use crate::{
    clock::Clock,
    db::{
        self, Db,
        usage::{Exhausted, Limits, Reservation},
    },
    error::{AppError, AppResult},
    relay::{PreparedCall, usage::estimate_tokens},
};
use rate::RateLimits;

/// When and against what a call was admitted.
#[derive(Debug, Clone, PartialEq)]
pub struct Admission {
    pub at: chrono::DateTime<chrono::Utc>,
    pub period: crate::clock::Period,
    pub reservation: Reservation,
}

#[derive(Debug, Clone, Copy)]
struct GroupLimits {
    requests_per_minute: Option<i32>,
    limits: Limits,
}

pub struct Quotas {
    clock: Clock,
    default_per_minute: u32,
    rate: RateLimits,
}

impl Quotas {
    pub fn new(clock: Clock, default_per_minute: u32) -> Self {
        Self {
            clock,
            default_per_minute,
            rate: RateLimits::default(),
        }
    }

    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    /// Checks the caller's group and reserves the call's worst case (prompt estimate plus
    /// `max_tokens`) against its token quotas. Nothing is sent upstream when this fails.
    pub async fn admit(&self, db: &Db, call: &PreparedCall) -> AppResult<Admission> {
        let at = self.clock.now();
        let period = self.clock.period(at);
        let Some(group_id) = call.caller.group_id else {
            return Ok(Admission {
                at,
                period,
                reservation: Reservation::default(),
            });
        };
        let group = self.group_limits(db, group_id).await?;
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
        if group.limits == Limits::default() {
            return Ok(Admission {
                at,
                period,
                reservation: Reservation::default(),
            });
        }
        let worst_case = i64::from(call.request.max_tokens)
            + call
                .request
                .messages
                .iter()
                .map(|m| i64::from(estimate_tokens(&m.content)) + 4)
                .sum::<i64>();
        match db::usage::reserve(db, group_id, &period, group.limits, worst_case).await? {
            Ok(reservation) => Ok(Admission {
                at,
                period,
                reservation,
            }),
            Err(exhausted) => Err(AppError::TooManyRequests {
                code: "QUOTA_EXCEEDED",
                message: match exhausted {
                    Exhausted::Day => "今日Token配额已用完".into(),
                    Exhausted::Month => "本月Token配额已用完".into(),
                },
                retry_after: None,
            }),
        }
    }

    async fn group_limits(&self, db: &Db, group_id: i32) -> AppResult<GroupLimits> {
        let group = db::groups::cached(db, group_id).await?;
        Ok(GroupLimits {
            requests_per_minute: group.requests_per_minute,
            limits: Limits {
                daily: group.daily_token_limit,
                monthly: group.monthly_token_limit,
            },
        })
    }
}
