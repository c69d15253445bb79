//! Telling every instance that a cached row changed. The writer drops its own copy at once;
//! on PostgreSQL it also sends a `NOTIFY`, and each instance's listener drops its copy as
//! the notification arrives, instead of serving it until the cache TTL runs out. (A SQLite
//! deployment is one machine: the local drop is all there is.)
//!
//! Copies kept outside the database layer (the verified-token cache) follow the same
//! changes through [`Db::follow`].

use std::{
    sync::{Arc, MutexGuard, Weak},
    time::Duration,
};

use sea_orm::{ConnectionTrait, Statement};

use super::Db;

const CHANNEL: &str = "llm_proxy_cache";

/// A cached row (or set of rows) that changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    ActivationCode(i32),
    Config(i32),
    Template(i32),
    /// A config's templates went with it.
    AllTemplates,
    Group(i32),
    KeyStates(i32),
}

/// Something that drops its own copies when a row changes.
pub trait Follower: Send + Sync {
    fn changed(&self, change: Change);
}

impl Change {
    fn encode(self) -> String {
        match self {
            Self::ActivationCode(id) => format!("code:{id}"),
            Self::Config(id) => format!("config:{id}"),
            Self::Template(id) => format!("template:{id}"),
            Self::AllTemplates => "templates".into(),
            Self::Group(id) => format!("group:{id}"),
            Self::KeyStates(id) => format!("keys:{id}"),
        }
    }

    fn decode(text: &str) -> Option<Self> {
        if text == "templates" {
            return Some(Self::AllTemplates);
        }
        let (kind, id) = text.split_once(':')?;
        let id = id.parse().ok()?;
        Some(match kind {
            "code" => Self::ActivationCode(id),
            "config" => Self::Config(id),
            "template" => Self::Template(id),
            "group" => Self::Group(id),
            "keys" => Self::KeyStates(id),
            _ => return None,
        })
    }
}

impl Db {
    /// Drops this instance's copy, and on PostgreSQL tells the others to drop theirs.
    pub async fn changed(&self, change: Change) {
        self.forget(change);
        if self.is_sqlite() {
            return;
        }
        let notify = Statement::from_sql_and_values(
            self.backend(),
            "SELECT pg_notify($1, $2)",
            [CHANNEL.into(), change.encode().into()],
        );
        if let Err(err) = self.write.execute_raw(notify).await {
            // The others still see the change within the cache TTL.
            tracing::warn!(%err, "could not notify other instances of a change");
        }
    }

    /// `follower` hears every change made through this database handle or announced by
    /// another instance, for as long as it lives.
    pub fn follow(&self, follower: Weak<dyn Follower>) {
        let mut all = self.followers();
        all.retain(|follower| follower.strong_count() > 0);
        all.push(follower);
    }

    fn followers(&self) -> MutexGuard<'_, Vec<Weak<dyn Follower>>> {
        self.cache
            .followers
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn forget(&self, change: Change) {
        let cache = &self.cache;
        match change {
            Change::ActivationCode(id) => cache.activation_codes.forget(id),
            Change::Config(id) => {
                cache.configs.forget(id);
                cache.configs_by_name.clear();
            }
            Change::Template(id) => cache.templates.forget(id),
            Change::AllTemplates => cache.templates.clear(),
            Change::Group(id) => cache.groups.forget(id),
            Change::KeyStates(id) => cache.key_states.forget(id),
        }
        // Upgraded first: a follower is never called with the list locked.
        let following: Vec<Arc<dyn Follower>> =
            self.followers().iter().filter_map(Weak::upgrade).collect();
        for follower in following {
            follower.changed(change);
        }
    }

    /// On PostgreSQL: drops cached rows as other instances announce their changes, until the
    /// task is aborted (reconnecting after a lost connection). Returns at once on SQLite.
    pub async fn follow_changes(self) {
        if self.is_sqlite() {
            return;
        }
        let pool = self.write.get_postgres_connection_pool().clone();
        loop {
            match sea_orm::sqlx::postgres::PgListener::connect_with(&pool).await {
                Ok(mut listener) => {
                    if let Err(err) = listener.listen(CHANNEL).await {
                        tracing::warn!(%err, "cannot listen for other instances' changes");
                    } else {
                        while let Ok(notification) = listener.recv().await {
                            match Change::decode(notification.payload()) {
                                Some(change) => self.forget(change),
                                None => tracing::debug!(
                                    payload = notification.payload(),
                                    "unknown change"
                                ),
                            }
                        }
                    }
                }
                Err(err) => tracing::warn!(%err, "cannot listen for other instances' changes"),
            }
            // Changes missed meanwhile still expire with the cache TTL.
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use std::sync::Mutex;

    #[derive(Default)]
    struct Heard(Mutex<Vec<Change>>);

    impl Follower for Heard {
        fn changed(&self, change: Change) {
            self.0.lock().unwrap().push(change);
        }
    }

    #[tokio::test]
    async fn followers_hear_the_changes_made_through_their_own_database_only() {
        let dir = tempfile::tempdir().unwrap();
        let url = |name: &str| format!("sqlite://{}?mode=rwc", dir.path().join(name).display());
        let (one, two) = (
            Db::connect(&url("one.db")).await.unwrap(),
            Db::connect(&url("two.db")).await.unwrap(),
        );
        let heard = Arc::new(Heard::default());
        let follower: Arc<dyn Follower> = heard.clone();
        one.follow(Arc::downgrade(&follower));
        one.clone().changed(Change::Group(1)).await;
        two.changed(Change::Group(2)).await;
        assert_eq!(*heard.0.lock().unwrap(), [Change::Group(1)]);
    }

    #[test]
    fn changes_round_trip_through_their_payload() {
        for change in [
            Change::ActivationCode(1),
            Change::Config(2),
            Change::Template(3),
            Change::AllTemplates,
            Change::Group(4),
            Change::KeyStates(5),
        ] {
            assert_eq!(Change::decode(&change.encode()), Some(change));
        }
        assert_eq!(Change::decode("config:x"), None);
        assert_eq!(Change::decode("what:1"), None);
    }
}
