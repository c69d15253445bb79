//! Callers verified in the last moment, so a client's every call does not decode its JWT
//! and check its activation code again (which callers may be kept is decided in `schemes`).
//! A change to an activation code or group drops the copies that depend on it at once: on
//! this instance as the write happens, on the others as its change notification arrives
//! (see [`crate::db::changes`]). Without a notification (instances sharing a SQLite file, a
//! listener reconnecting) a copy lives at most `TTL`, on top of the cached row it was made
//! from.

use std::{
    collections::HashMap,
    sync::{
        Mutex, MutexGuard,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use chrono::{DateTime, Utc};

use super::Principal;
use crate::db::{cache::TTL, changes::Change, changes::Follower};

/// A burst of distinct tokens cannot grow the map past this.
const MAX_ENTRIES: usize = 10_000;

#[derive(Default)]
pub struct VerifiedTokens {
    entries: Mutex<HashMap<String, Entry>>,
    /// Bumped by every change, so a verification that started before a change does not
    /// store what it read before the change.
    generation: AtomicU64,
}

struct Entry {
    until: Instant,
    principal: Principal,
}

impl VerifiedTokens {
    /// The caller behind `token`, if it was verified within `TTL` and nothing it depends on
    /// changed since.
    pub fn get(&self, token: &str) -> Option<Principal> {
        let entries = self.lock();
        let entry = entries.get(token)?;
        (entry.until > Instant::now()).then(|| entry.principal.clone())
    }

    /// Taken before verifying; [`Self::remember`] stores nothing if a change came between.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Keeps a verification for `TTL`, or until `expires_at` (of the token, code or key)
    /// if that comes first.
    pub fn remember(
        &self,
        token: &str,
        principal: Principal,
        expires_at: Option<DateTime<Utc>>,
        generation: u64,
    ) {
        let left = match expires_at {
            Some(at) => (at - Utc::now())
                .to_std()
                .unwrap_or(Duration::ZERO)
                .min(TTL),
            None => TTL,
        };
        if left.is_zero() {
            return;
        }
        let now = Instant::now();
        let mut entries = self.lock();
        // Under the lock that `changed` bumps it under: no change can slip in between.
        if self.generation.load(Ordering::Acquire) != generation {
            return;
        }
        if entries.len() >= MAX_ENTRIES {
            entries.retain(|_, entry| entry.until > now);
            if entries.len() >= MAX_ENTRIES {
                entries.clear();
            }
        }
        entries.insert(
            token.to_owned(),
            Entry {
                until: now + left,
                principal,
            },
        );
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<String, Entry>> {
        self.entries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Follower for VerifiedTokens {
    fn changed(&self, change: Change) {
        let mut entries = self.lock();
        self.generation.fetch_add(1, Ordering::AcqRel);
        match change {
            Change::ActivationCode(id) => entries.retain(|_, entry| {
                !matches!(entry.principal, Principal::Client { code_id, .. } if code_id == id)
            }),
            // A rare admin step: every copy goes rather than tracking who is in the group.
            Change::Group(_) => entries.clear(),
            Change::Config(_) | Change::Template(_) | Change::AllTemplates | Change::KeyStates(_) => {
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn client(code_id: i32) -> Principal {
        Principal::Client {
            code_id,
            code: format!("CODE{code_id}"),
            group_id: 1,
        }
    }

    fn filled() -> VerifiedTokens {
        let cache = VerifiedTokens::default();
        for (token, principal) in [("c1", client(1)), ("c2", client(2))] {
            cache.remember(token, principal, None, cache.generation());
        }
        cache
    }

    #[test]
    fn a_change_drops_the_copies_that_depend_on_it() {
        let cache = filled();
        assert_eq!(cache.get("c1"), Some(client(1)));
        cache.changed(Change::ActivationCode(1));
        assert_eq!(cache.get("c1"), None);
        assert_eq!(cache.get("c2"), Some(client(2)));

        cache.changed(Change::Config(1));
        assert_eq!(cache.get("c2"), Some(client(2)));
        cache.changed(Change::Group(3));
        assert_eq!(cache.get("c2"), None);
    }

    #[test]
    fn a_verification_that_raced_a_change_is_not_kept() {
        let cache = VerifiedTokens::default();
        let before = cache.generation();
        cache.changed(Change::ActivationCode(9));
        cache.remember("c1", client(1), None, before);
        assert_eq!(cache.get("c1"), None);
    }

    #[test]
    fn nothing_is_kept_past_the_expiry_of_the_token_code_or_key() {
        let cache = VerifiedTokens::default();
        let gone = Utc::now() - chrono::Duration::seconds(1);
        cache.remember("c1", client(1), Some(gone), cache.generation());
        assert_eq!(cache.get("c1"), None);
        let later = Utc::now() + chrono::Duration::hours(1);
        cache.remember("c2", client(2), Some(later), cache.generation());
        assert_eq!(cache.get("c2"), Some(client(2)));
    }
}
