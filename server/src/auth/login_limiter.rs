//! Login and activation attempts per source address, so passwords and activation codes
//! cannot be guessed at speed. Each kind has its own budget: failed logins behind one office
//! NAT do not block the Windows clients activating from the same address.
//!
//! Logins also back off per account name, so guessing one account's password from many
//! addresses is slow too: after [`FREE_FAILURES`] failures in a row the name is refused for
//! [`FIRST_LOCK`], doubling with each further failure up to [`MAX_LOCK`]; a success resets it.
//! Unknown names are counted the same way, so a lock does not tell whether a name exists.

use std::{
    collections::HashMap,
    net::IpAddr,
    num::NonZeroU32,
    sync::Mutex,
    time::{Duration, Instant},
};

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter, clock::Clock};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attempt {
    Login,
    Activation,
}

pub const FREE_FAILURES: u32 = 5;
pub const FIRST_LOCK: Duration = Duration::from_secs(30);
pub const MAX_LOCK: Duration = Duration::from_secs(15 * 60);
/// Names tracked at most; beyond it, names no longer locked are forgotten.
const MAX_ACCOUNTS: usize = 10_000;

pub struct LoginLimiter {
    login: DefaultKeyedRateLimiter<IpAddr>,
    activation: DefaultKeyedRateLimiter<IpAddr>,
    accounts: Mutex<HashMap<String, Failures>>,
}

#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    locked_until: Option<Instant>,
}

impl LoginLimiter {
    pub fn new(per_minute: u32) -> Self {
        let per_minute = NonZeroU32::new(per_minute.max(1)).unwrap_or(NonZeroU32::MIN);
        Self {
            login: RateLimiter::keyed(Quota::per_minute(per_minute)),
            activation: RateLimiter::keyed(Quota::per_minute(per_minute)),
            accounts: Mutex::new(HashMap::new()),
        }
    }

    /// `Err(wait)` while this account name is locked after repeated failures.
    pub fn check_account(&self, name: &str) -> Result<(), Duration> {
        self.check_account_at(name, Instant::now())
    }

    /// A wrong password (or unknown name): counts towards the lock.
    pub fn account_failed(&self, name: &str) {
        self.account_failed_at(name, Instant::now());
    }

    /// A right password: the name starts afresh.
    pub fn account_succeeded(&self, name: &str) {
        self.accounts().remove(name);
    }

    fn check_account_at(&self, name: &str, now: Instant) -> Result<(), Duration> {
        match self.accounts().get(name).and_then(|f| f.locked_until) {
            Some(until) if until > now => Err(until - now),
            _ => Ok(()),
        }
    }

    fn account_failed_at(&self, name: &str, now: Instant) {
        let mut accounts = self.accounts();
        if accounts.len() >= MAX_ACCOUNTS {
            accounts.retain(|_, f| f.locked_until.is_some_and(|until| until > now));
        }
        let failures = accounts.entry(name.to_owned()).or_insert(Failures {
            count: 0,
            locked_until: None,
        });
        failures.count = failures.count.saturating_add(1);
        if failures.count >= FREE_FAILURES {
            let doublings = (failures.count - FREE_FAILURES).min(16);
            let lock = FIRST_LOCK.saturating_mul(1 << doublings).min(MAX_LOCK);
            failures.locked_until = Some(now + lock);
        }
    }

    fn accounts(&self) -> std::sync::MutexGuard<'_, HashMap<String, Failures>> {
        // A panic while holding the lock leaves a valid map: keep using it.
        self.accounts
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
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
    fn an_account_is_locked_after_repeated_failures_for_an_increasing_time() {
        let limiter = LoginLimiter::new(100);
        let now = Instant::now();
        for _ in 0..FREE_FAILURES - 1 {
            limiter.account_failed_at("boss", now);
            assert!(limiter.check_account_at("boss", now).is_ok());
        }
        limiter.account_failed_at("boss", now);
        assert_eq!(limiter.check_account_at("boss", now), Err(FIRST_LOCK));
        assert!(limiter.check_account_at("other", now).is_ok());
        let later = now + FIRST_LOCK;
        assert!(limiter.check_account_at("boss", later).is_ok());
        limiter.account_failed_at("boss", later);
        assert_eq!(limiter.check_account_at("boss", later), Err(FIRST_LOCK * 2));
        for _ in 0..40 {
            limiter.account_failed_at("boss", later);
        }
        assert_eq!(limiter.check_account_at("boss", later), Err(MAX_LOCK));
        limiter.account_succeeded("boss");
        assert!(limiter.check_account_at("boss", later).is_ok());
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
