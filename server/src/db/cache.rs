//! Short-lived copies of rows the hot path reads on every call (activation codes, configs,
//! templates, group limits). Writes through this server drop the copy at once; writes by
//! another instance sharing the database are seen within `TTL`.
//!
//! A load that began before a write and ends after it carries the row as it was: it is handed
//! to its caller but not kept, so the next read loads again.

use std::{
    collections::HashMap,
    hash::Hash,
    sync::{
        Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

pub const TTL: Duration = Duration::from_secs(1);

pub struct TtlCache<K, V> {
    ttl: Duration,
    entries: Mutex<HashMap<K, (Instant, V)>>,
    /// Bumped under the lock by every `forget` and `clear`: a load that began before one stores
    /// nothing.
    generation: AtomicU64,
}

impl<K: Eq + Hash, V: Clone> TtlCache<K, V> {
    pub fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            entries: Mutex::new(HashMap::new()),
            generation: AtomicU64::new(0),
        }
    }

    /// The cached value, or `load`'s (which is then cached when it is `Ok`).
    pub async fn get_or_load<E, F>(&self, key: K, load: F) -> Result<V, E>
    where
        F: AsyncFnOnce() -> Result<V, E>,
    {
        if let Some((stored, value)) = self.lock().get(&key)
            && stored.elapsed() < self.ttl
        {
            return Ok(value.clone());
        }
        let generation = self.generation.load(Ordering::Acquire);
        // Boxed, and only on a miss: the loader (a query) is large, and every layer above that
        // moves the caller's future would copy it on every call, hit or miss.
        let value = Box::pin(load()).await?;
        let mut entries = self.lock();
        if self.generation.load(Ordering::Acquire) != generation {
            return Ok(value);
        }
        // Bounded: a burst of distinct keys cannot grow it without limit.
        if entries.len() > 10_000 {
            entries.retain(|_, (stored, _)| stored.elapsed() < self.ttl);
        }
        entries.insert(key, (Instant::now(), value.clone()));
        Ok(value)
    }

    pub fn forget(&self, key: K) {
        let mut entries = self.lock();
        self.generation.fetch_add(1, Ordering::AcqRel);
        entries.remove(&key);
    }

    pub fn clear(&self) {
        let mut entries = self.lock();
        self.generation.fetch_add(1, Ordering::AcqRel);
        entries.clear();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<K, (Instant, V)>> {
        self.entries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[tokio::test]
    async fn serves_copies_until_forgotten_or_expired() {
        let cache: TtlCache<i32, String> = TtlCache::new(Duration::from_millis(50));
        let loads = std::sync::atomic::AtomicU32::new(0);
        let load = async || {
            loads.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            Ok::<_, ()>("v".to_string())
        };
        assert_eq!(cache.get_or_load(1, load).await.unwrap(), "v");
        cache.get_or_load(1, load).await.unwrap();
        assert_eq!(loads.load(std::sync::atomic::Ordering::SeqCst), 1);
        cache.forget(1);
        cache.get_or_load(1, load).await.unwrap();
        assert_eq!(loads.load(std::sync::atomic::Ordering::SeqCst), 2);
        tokio::time::sleep(Duration::from_millis(60)).await;
        cache.get_or_load(1, load).await.unwrap();
        assert_eq!(loads.load(std::sync::atomic::Ordering::SeqCst), 3);
        let failed: Result<String, &str> = cache.get_or_load(2, async || Err("no")).await;
        assert!(failed.is_err());
    }

    #[tokio::test]
    async fn a_load_that_raced_a_change_is_not_kept() {
        let cache: TtlCache<i32, String> = TtlCache::new(Duration::from_secs(60));
        // The row changes (and its copy is forgotten) while it is being read.
        let read = cache
            .get_or_load(1, async || {
                cache.forget(1);
                Ok::<_, ()>("before the change".to_string())
            })
            .await
            .unwrap();
        assert_eq!(read, "before the change");
        let next = cache
            .get_or_load(1, async || Ok::<_, ()>("after the change".to_string()))
            .await
            .unwrap();
        assert_eq!(next, "after the change");
    }
}
