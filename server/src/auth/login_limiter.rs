//! Login and activation attempts per source address, so passwords and activation codes
//! cannot be guessed at speed.

use std::{net::IpAddr, num::NonZeroU32, time::Duration};

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter, clock::Clock};

pub struct LoginLimiter {
    limiter: DefaultKeyedRateLimiter<IpAddr>,
}

impl LoginLimiter {
    pub fn new(per_minute: u32) -> Self {
        let per_minute = NonZeroU32::new(per_minute.max(1)).unwrap_or(NonZeroU32::MIN);
        Self {
            limiter: RateLimiter::keyed(Quota::per_minute(per_minute)),
        }
    }

    /// `Err(wait)` when this address has used up its attempts.
    pub fn check(&self, addr: IpAddr) -> Result<(), Duration> {
        // The wait must be measured on the limiter's own clock.
        self.limiter
            .check_key(&addr)
            .map_err(|not_until| not_until.wait_time_from(self.limiter.clock().now()))?;
        if self.limiter.len() > 10_000 {
            self.limiter.retain_recent();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn limits_per_address() {
        let limiter = LoginLimiter::new(2);
        let one: IpAddr = [10, 0, 0, 1].into();
        let two: IpAddr = [10, 0, 0, 2].into();
        assert!(limiter.check(one).is_ok());
        assert!(limiter.check(one).is_ok());
        let wait = limiter.check(one).unwrap_err();
        assert!(wait > Duration::ZERO);
        assert!(limiter.check(two).is_ok());
    }
}
