//! Login and activation attempts per source address, so passwords and activation codes
//! cannot be guessed at speed. Each kind has its own budget: failed logins behind one office
//! NAT do not block the Windows clients activating from the same address.

use std::{net::IpAddr, num::NonZeroU32, time::Duration};

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter, clock::Clock};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attempt {
    Login,
    Activation,
}

pub struct LoginLimiter {
    login: DefaultKeyedRateLimiter<IpAddr>,
    activation: DefaultKeyedRateLimiter<IpAddr>,
}

impl LoginLimiter {
    pub fn new(per_minute: u32) -> Self {
        let per_minute = NonZeroU32::new(per_minute.max(1)).unwrap_or(NonZeroU32::MIN);
        Self {
            login: RateLimiter::keyed(Quota::per_minute(per_minute)),
            activation: RateLimiter::keyed(Quota::per_minute(per_minute)),
        }
    }

    /// `Err(wait)` when this address has used up its attempts of this kind.
    pub fn check(&self, attempt: Attempt, addr: IpAddr) -> Result<(), Duration> {
        let limiter = match attempt {
            Attempt::Login => &self.login,
            Attempt::Activation => &self.activation,
        };
        // The wait must be measured on the limiter's own clock.
        limiter
            .check_key(&addr)
            .map_err(|not_until| not_until.wait_time_from(limiter.clock().now()))?;
        if limiter.len() > 10_000 {
            limiter.retain_recent();
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
        assert!(limiter.check(Attempt::Login, one).is_ok());
        assert!(limiter.check(Attempt::Login, one).is_ok());
        let wait = limiter.check(Attempt::Login, one).unwrap_err();
        assert!(wait > Duration::ZERO);
        assert!(limiter.check(Attempt::Login, two).is_ok());
    }

    #[test]
    fn logins_and_activations_have_separate_budgets() {
        let limiter = LoginLimiter::new(1);
        let office: IpAddr = [10, 0, 0, 1].into();
        assert!(limiter.check(Attempt::Login, office).is_ok());
        assert!(limiter.check(Attempt::Login, office).is_err());
        assert!(limiter.check(Attempt::Activation, office).is_ok());
        assert!(limiter.check(Attempt::Activation, office).is_err());
    }
}
