//! Which of a config's provider keys a call tries, in what order: calls take turns over the
//! keys, and a key the upstream rate-limited cools off (on this instance) for the time it
//! asked for. Keys the upstream refused outright are set aside in the database instead
//! (`db::config_keys`), for every instance, until an admin puts them back.

use std::{
    collections::HashMap,
    sync::{
        Mutex, PoisonError,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use crate::{
    crypto::{Cipher, CryptoError, key_id},
    memo::Memo,
    providers::Target,
    secret::Secret,
};

/// One usable key of a config, as a target.
#[derive(Debug, Clone)]
pub struct KeyedTarget {
    /// The key's position in the config's list (what the admin sees).
    pub position: usize,
    /// `crypto::key_id` of the key.
    pub key_id: String,
    pub target: Target,
}

/// A config's stored keys (`Cipher::encrypt_all`), opened for one call: decrypted only then,
/// and named by their `crypto::key_id`. The ids are kept by the stored text (see [`Memo`]):
/// hashing every key on every call cost ~6k instructions a call, and an edited key list is
/// another text (each encryption takes a fresh nonce), so an id is never stale.
pub struct StoredKeys {
    cipher: Cipher,
    ids: Memo<Vec<String>>,
}

impl StoredKeys {
    pub fn new(cipher: Cipher) -> Self {
        Self {
            cipher,
            ids: Memo::default(),
        }
    }

    /// The keys of `stored` in their order, each with its id.
    pub fn open(&self, stored: &str) -> Result<Vec<(Secret, String)>, CryptoError> {
        let keys = self.cipher.decrypt_all(stored)?;
        let ids = self.ids.get_or_try(stored, || {
            Ok::<_, CryptoError>(keys.iter().map(|key| key_id(key.expose())).collect())
        })?;
        Ok(keys.into_iter().zip(ids).collect())
    }
}

/// How long a rate-limited key rests when the upstream did not say.
const DEFAULT_COOL_OFF: Duration = Duration::from_secs(30);

#[derive(Debug, Default)]
pub struct KeyRotation {
    turn: AtomicUsize,
    cooling: Mutex<HashMap<String, Instant>>,
}

impl KeyRotation {
    /// The keys to try: starting at the next turn, the rested ones first, then the cooling
    /// ones, soonest rested first (better than refusing the call outright).
    pub fn order<'a>(&self, keys: &'a [KeyedTarget]) -> Vec<&'a KeyedTarget> {
        if keys.is_empty() {
            return Vec::new();
        }
        let start = self.turn.fetch_add(1, Ordering::Relaxed) % keys.len();
        let mut ordered: Vec<&KeyedTarget> = keys[start..].iter().chain(&keys[..start]).collect();
        let now = Instant::now();
        let cooling = self.lock();
        let rests_until = |key: &KeyedTarget| {
            cooling
                .get(&key.key_id)
                .filter(|until| **until > now)
                .copied()
        };
        ordered.sort_by_key(|key| rests_until(key));
        ordered
    }

    pub fn cool(&self, key_id: &str, wait: Option<Duration>) {
        let until = Instant::now() + wait.unwrap_or(DEFAULT_COOL_OFF);
        let mut cooling = self.lock();
        cooling.retain(|_, rested| *rested > Instant::now());
        cooling.insert(key_id.to_owned(), until);
    }

    /// While a rate-limited key rests on this instance: when it is rested again.
    pub fn cooling_until(&self, key_id: &str) -> Option<chrono::DateTime<chrono::Utc>> {
        let now = Instant::now();
        let until = *self.lock().get(key_id)?;
        let left = until.checked_duration_since(now)?;
        chrono::Duration::from_std(left)
            .ok()
            .map(|left| chrono::Utc::now() + left)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Instant>> {
        self.cooling.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::providers::ProviderKind;

    fn key(position: usize) -> KeyedTarget {
        KeyedTarget {
            position,
            key_id: format!("k{position}"),
            target: Target {
                provider: ProviderKind::Openai,
                api_url: String::new(),
                api_key: Secret::new(format!("sk-{position}")),
            },
        }
    }

    #[test]
    fn calls_take_turns_and_cooling_keys_go_last() {
        let rotation = KeyRotation::default();
        let keys = [key(0), key(1), key(2)];
        let first = |r: &KeyRotation| r.order(&keys)[0].position;
        assert_eq!(
            [first(&rotation), first(&rotation), first(&rotation)],
            [0, 1, 2]
        );
        rotation.cool("k0", Some(Duration::from_secs(60)));
        let order: Vec<usize> = rotation.order(&keys).iter().map(|k| k.position).collect();
        assert_eq!(order, [1, 2, 0]);
        assert!(rotation.order(&[]).is_empty());
        let left = rotation
            .cooling_until("k0")
            .map(|until| until - chrono::Utc::now());
        assert!(
            left.is_some_and(|left| left > chrono::Duration::seconds(55)
                && left <= chrono::Duration::seconds(60)),
            "{left:?}"
        );
        assert_eq!(rotation.cooling_until("k1"), None);
    }

    #[test]
    fn stored_keys_are_named_by_their_own_text_and_an_edit_is_never_served_stale() {
        let cipher = Cipher::from_secret(&Secret::new("0123456789abcdef0123456789abcdef")).unwrap();
        let stored = StoredKeys::new(cipher.clone());
        let opened = |text: &str| -> Vec<(String, String)> {
            let keys = stored.open(text).unwrap();
            keys.into_iter()
                .map(|(key, id)| (key.expose().to_owned(), id))
                .collect()
        };
        let named = |plain: &[&str]| -> Vec<(String, String)> {
            plain.iter().map(|p| (p.to_string(), key_id(p))).collect()
        };
        let before = cipher.encrypt_all(&["sk-a", "sk-b"]);
        let after = cipher.encrypt_all(&["sk-c"]);
        assert_eq!(opened(&before), named(&["sk-a", "sk-b"]));
        assert_eq!(opened(&before), named(&["sk-a", "sk-b"]));
        assert_eq!(opened(&after), named(&["sk-c"]));
        assert_eq!(opened(&before), named(&["sk-a", "sk-b"]));
        assert!(stored.open("damaged").is_err());
    }
}
