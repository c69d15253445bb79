//! Purges call records older than `log_retention_days`, in small batches so calls are
//! never held up. Hourly statistics are separate rows and stay.

use std::time::Duration;

use chrono::Duration as Days;

use crate::{clock::Clock, db::Db};

const BATCH: u64 = 1000;
const PAUSE_BETWEEN_BATCHES: Duration = Duration::from_millis(50);
const INTERVAL: Duration = Duration::from_secs(3600);

/// Runs until the process ends: shortly after start, then every hour. Also keeps the
/// database's planner statistics fresh, since the log is what grows.
pub async fn run(db: Db, clock: Clock, retention_days: u32) {
    tokio::time::sleep(Duration::from_secs(5)).await;
    loop {
        if retention_days > 0 {
            let deleted = purge(&db, &clock, retention_days).await;
            if deleted > 0 {
                tracing::info!(deleted, retention_days, "purged old call records");
            }
        }
        db.optimize().await;
        tokio::time::sleep(INTERVAL).await;
    }
}

/// Deletes every record older than the retention, batch by batch; returns the count.
pub async fn purge(db: &Db, clock: &Clock, retention_days: u32) -> u64 {
    let cutoff = clock.now() - Days::days(i64::from(retention_days));
    let mut total = 0;
    loop {
        match crate::db::call_logs::purge_before(db, cutoff, BATCH).await {
            Ok(0) => return total,
            Ok(deleted) => {
                total += deleted;
                tokio::time::sleep(PAUSE_BETWEEN_BATCHES).await;
            }
            Err(err) => {
                tracing::error!(%err, "purging old call records failed");
                return total;
            }
        }
    }
}
