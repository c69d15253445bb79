//! Requests per minute per group (governor, GCRA). Each group's limiter is rebuilt when
//! its limit changes, so an admin's edit applies to the next call. Counted per server
//! instance.

use std::{
    collections::HashMap,
    num::NonZeroU32,
    sync::{Arc, Mutex},
    time::Duration,
};

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter, clock::Clock};

#[derive(Default)]
pub struct RateLimits {
    groups: Mutex<HashMap<i32, (u32, Arc<DefaultDirectRateLimiter>)>>,
}

impl RateLimits {
    /// `Err(wait)` when the group has used its requests for now; 0 per minute is unlimited.
    pub fn check(&self, group_id: i32, per_minute: u32) -> Result<(), Duration> {
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
        assert!(limits.check(1, 2).is_ok());
        assert!(limits.check(1, 2).is_ok());
        let wait = limits.check(1, 2).unwrap_err();
        assert!(wait > Duration::ZERO && wait <= Duration::from_secs(30));
        assert!(limits.check(2, 2).is_ok(), "groups are independent");
        assert!(
            limits.check(1, 10).is_ok(),
            "a raised limit applies at once"
        );
        for _ in 0..100 {
            assert!(limits.check(3, 0).is_ok(), "0 is unlimited");
        }
    }
}
