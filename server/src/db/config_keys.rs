//! `config_key_states` repository: which of a config's provider keys are set aside.

use chrono::Utc;
use entity::config_key_states::{ActiveModel, Column, Entity, Model};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, Set, sea_query::OnConflict};

use super::{Db, changes::Change};
use crate::error::AppResult;

/// The keys of `config_id` set aside, as the hot path reads them (at most `cache::TTL` old).
pub async fn set_aside(db: &Db, config_id: i32) -> AppResult<Vec<Model>> {
    db.cache
        .key_states
        .get_or_load(config_id, async || {
            Ok(Entity::find()
                .filter(Column::ConfigId.eq(config_id))
                .all(&db.read)
                .await?)
        })
        .await
}

/// Every key set aside, for the admin's config list.
pub async fn all(db: &Db) -> AppResult<Vec<Model>> {
    Ok(Entity::find().all(&db.read).await?)
}

/// Sets a key aside with the upstream's reason; a key already set aside keeps its first
/// reason and time. `true` when this call set it aside (not another call before it).
pub async fn put_aside(db: &Db, config_id: i32, key_id: &str, reason: &str) -> AppResult<bool> {
    let row = ActiveModel {
        config_id: Set(config_id),
        key_id: Set(key_id.to_owned()),
        reason: Set(reason.chars().take(500).collect()),
        set_aside_at: Set(Utc::now()),
    };
    let inserted = Entity::insert(row)
        .on_conflict(
            OnConflict::columns([Column::ConfigId, Column::KeyId])
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(&db.write)
        .await?;
    db.changed(Change::KeyStates(config_id)).await;
    Ok(inserted == 1)
}

/// Puts a key back in use.
pub async fn restore(db: &Db, config_id: i32, key_id: &str) -> AppResult<()> {
    Entity::delete_many()
        .filter(Column::ConfigId.eq(config_id))
        .filter(Column::KeyId.eq(key_id))
        .exec(&db.write)
        .await?;
    db.changed(Change::KeyStates(config_id)).await;
    Ok(())
}
