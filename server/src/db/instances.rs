//! `instances`: this server's registration and lease among those sharing the database.

use chrono::{DateTime, Utc};
use entity::instances::{ActiveModel, Column, Entity};
use sea_orm::{ActiveValue::Set, DbErr, EntityTrait, sea_query::OnConflict};

use super::Db;

/// Registers the instance, or renews its lease (re-registering it if a sweep had taken it
/// for dead, e.g. after the database was unreachable for longer than the lease).
pub async fn renew(db: &Db, id: &str, pid: u32, now: DateTime<Utc>) -> Result<(), DbErr> {
    let row = ActiveModel {
        id: Set(id.to_owned()),
        hostname: Set(hostname()),
        pid: Set(i32::try_from(pid).unwrap_or(i32::MAX)),
        started_at: Set(now),
        heartbeat_at: Set(now),
    };
    Entity::insert(row)
        .on_conflict(
            OnConflict::column(Column::Id)
                .update_column(Column::HeartbeatAt)
                .to_owned(),
        )
        .exec_without_returning(&db.write)
        .await
        .map(|_| ())
}

/// Forgets the instance at a clean stop (its reservations are all released by then).
pub async fn remove(db: &Db, id: &str) -> Result<(), DbErr> {
    Entity::delete_by_id(id.to_owned())
        .exec(&db.write)
        .await
        .map(|_| ())
}

/// For an admin reading the table: which machine an instance runs on.
fn hostname() -> String {
    ["HOSTNAME", "COMPUTERNAME"]
        .iter()
        .find_map(|var| std::env::var(var).ok().filter(|name| !name.is_empty()))
        .unwrap_or_else(|| "unknown".into())
}
