//! This instance's lease among the servers sharing the database, and the sweep that releases
//! the quota reservations of instances that stopped renewing theirs (killed, crashed, cut
//! off). On one SQLite file the "other instance" is usually this server's previous run.

use std::time::Duration;

use chrono::Utc;
use rand::Rng;

use crate::{
    alerts::{Alerts, Event},
    db::{self, Db},
};

/// A random id per process run, so a restarted server never mistakes its predecessor's
/// reservations for its own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstanceId(String);

impl InstanceId {
    pub fn generate() -> Self {
        let bytes: [u8; 8] = rand::rng().random();
        Self(hex::encode(bytes))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Registers the instance and releases what dead instances held; run once before serving.
pub async fn start(
    db: &Db,
    instance: &InstanceId,
    lease: Duration,
    alerts: &Alerts,
) -> Result<(), sea_orm::DbErr> {
    db::instances::renew(db, instance.as_str(), std::process::id(), Utc::now()).await?;
    sweep(db, lease, alerts).await;
    Ok(())
}

/// Renews the lease and sweeps, three times per lease, until the task is aborted.
pub async fn run(db: Db, instance: InstanceId, lease: Duration, alerts: Alerts) {
    // `start` has just renewed and swept: the first tick is one period away, not immediate.
    let period = lease / 3;
    let mut every = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        if let Err(err) =
            db::instances::renew(&db, instance.as_str(), std::process::id(), Utc::now()).await
        {
            tracing::warn!(%err, "renewing the instance lease failed");
        }
        sweep(&db, lease, &alerts).await;
    }
}

/// Releases what dead instances held. An instance whose lease ran out was not stopped
/// cleanly (a clean stop removes its row): each is reported once as a crash. On one SQLite
/// file that is this server's previous run, found one lease after the restart.
async fn sweep(db: &Db, lease: Duration, alerts: &Alerts) {
    let cutoff = Utc::now() - chrono::Duration::from_std(lease).unwrap_or(chrono::Duration::MAX);
    let orphans = match db::usage::release_orphans(db, cutoff).await {
        Ok(orphans) => orphans,
        Err(err) => {
            tracing::warn!(%err, "releasing reservations of stopped instances failed");
            return;
        }
    };
    if orphans.released > 0 {
        tracing::warn!(
            released = orphans.released,
            "released quota reservations of a stopped instance"
        );
    }
    for dead in &orphans.dead {
        tracing::warn!(instance = %dead.id, pid = dead.pid, "an instance stopped without a clean stop");
        if let Err(err) = alerts.raise_now(Event::crash(dead)).await {
            tracing::warn!(%err, "storing the crash alert failed");
        }
    }
}

/// Leaves the table at a clean stop, once every call of this instance is recorded.
pub async fn stop(db: &Db, instance: &InstanceId) {
    if let Err(err) = db::instances::remove(db, instance.as_str()).await {
        tracing::warn!(%err, "removing the instance registration failed");
    }
}
