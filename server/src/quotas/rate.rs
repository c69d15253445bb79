//! Requests per minute per group (GCRA). On SQLite (one machine) counted in memory with
//! governor, each group's limiter rebuilt when its limit changes; on PostgreSQL, where
//! several instances may share the database, counted in it (`db::rate_limits`), so the
//! limit holds across instances. Either way an admin's edit applies to the next call.

use std::{
    collections::HashMap,
    num::NonZeroU32,
    sync::{Arc, Mutex},
    time::Duration,
};

use chrono::{DateTime, Utc};
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter, clock::Clock};
use sea_orm::DbErr;

use crate::db::{self, Db};

#[derive(Default)]
pub struct RateLimits {
    groups: Mutex<HashMap<i32, (u32, Arc<DefaultDirectRateLimiter>)>>,
}

impl RateLimits {
    /// `Err(wait)` when the group has used its requests for now; 0 per minute is unlimited.
    pub async fn check(
        &self,
        db: &Db,
        group_id: i32,
        per_minute: u32,
        now: DateTime<Utc>,
    ) -> Result<Result<(), Duration>, DbErr> {
        if per_minute == 0 {
            return Ok(Ok(()));
        }
        if db.is_sqlite() {
            return Ok(self.check_here(group_id, per_minute));
        }
        let now = now.timestamp_micros() as f64 / 1e6;
        db::rate_limits::acquire(db, group_id, per_minute, now).await
    }

    fn check_here(&self, group_id: i32, per_minute: u32) -> Result<(), Duration> {
        let Some(rate) = NonZeroU32::new(per_minute) else {
            return Ok(());
        };
        let limiter = {
            let mut groups = self
                .groups
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            let entry = groups.entry(group_id).or_insert_with(|| {
                (
                    per_minute,
                    Arc::new(RateLimiter::direct(Quota::per_minute(rate))),
                )
            });
            if entry.0 != per_minute {
                *entry = (
                    per_minute,
                    Arc::new(RateLimiter::direct(Quota::per_minute(rate))),
                );
            }
            entry.1.clone()
        };
        limiter
            .check()
            .map_err(|not_until| not_until.wait_time_from(limiter.clock().now()))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn limits_each_group_and_follows_changes() {
        let limits = RateLimits::default();
        assert!(limits.check_here(1, 2).is_ok());
        assert!(limits.check_here(1, 2).is_ok());
        let wait = limits.check_here(1, 2).unwrap_err();
        assert!(wait > Duration::ZERO && wait <= Duration::from_secs(30));
        assert!(limits.check_here(2, 2).is_ok(), "groups are independent");
        assert!(
            limits.check_here(1, 10).is_ok(),
            "a raised limit applies at once"
        );
    }
}
