//! `app_settings`: small facts stored with the data.

use chrono::Utc;
use entity::app_settings::{ActiveModel, Column, Entity};
use sea_orm::{ConnectionTrait, DbErr, EntityTrait, Set, sea_query::OnConflict};

use super::first_row;

pub const ENCRYPTION_KEY_FINGERPRINT: &str = "encryption_key_fingerprint";

pub async fn get(conn: &impl ConnectionTrait, key: &str) -> Result<Option<String>, DbErr> {
    Ok(first_row(Entity::find_by_id(key.to_string()), conn)
        .await?
        .map(|row| row.value))
}

pub async fn put(conn: &impl ConnectionTrait, key: &str, value: &str) -> Result<(), DbErr> {
    let row = ActiveModel {
        key: Set(key.to_string()),
        value: Set(value.to_string()),
        updated_at: Set(Utc::now()),
    };
    Entity::insert(row)
        .on_conflict(
            OnConflict::column(Column::Key)
                .update_columns([Column::Value, Column::UpdatedAt])
                .to_owned(),
        )
        .exec(conn)
        .await
        .map(|_| ())
}
