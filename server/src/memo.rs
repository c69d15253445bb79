//! Values worked out once per text and kept for the next call with the same text (a config's
//! upstream URL parsed, the ids of its stored keys). Keyed by the text itself, so an edited
//! config is another text and is worked out afresh, never answered with what it was.

use std::{
    collections::HashMap,
    sync::{Mutex, PoisonError},
};

/// More distinct texts than configs are kept: past this the map starts over, so the texts of
/// edited or deleted configs cannot pile up.
const MAX_TEXTS: usize = 1024;

#[derive(Debug)]
pub struct Memo<V>(Mutex<HashMap<String, V>>);

impl<V> Default for Memo<V> {
    fn default() -> Self {
        Self(Mutex::new(HashMap::new()))
    }
}

impl<V: Clone> Memo<V> {
    /// The value kept for `text`, or `work`'s, which is kept when it is `Ok`.
    pub fn get_or_try<E>(&self, text: &str, work: impl FnOnce() -> Result<V, E>) -> Result<V, E> {
        let mut kept = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(value) = kept.get(text) {
            return Ok(value.clone());
        }
        let value = work()?;
        if kept.len() >= MAX_TEXTS {
            kept.clear();
        }
        kept.insert(text.to_owned(), value.clone());
        Ok(value)
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).len()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn the_map_starts_over_rather_than_grow_without_bound() {
        let memo = Memo::default();
        for port in 0..MAX_TEXTS + 10 {
            let text = format!("http://127.0.0.1:{port}/");
            memo.get_or_try(&text, || Ok::<_, ()>(port)).unwrap();
        }
        assert!(memo.len() <= MAX_TEXTS);
    }
}
