//! `api_keys` repository: keys (`sk-…`) that tools call the model endpoints with.
//!
//! A key is shown once, when it is created; only its SHA-256 is stored. A key is 48 random
//! letters and digits (~285 bits), so a fast unsalted hash cannot be brute-forced and lets
//! a presented key be found by an indexed equality lookup.
//!
//! Keys are not cached: every request reads the row, so disabling or deleting a key refuses
//! it from the next request on, on every instance sharing the database.

use chrono::{DateTime, Duration, Utc};
use entity::api_keys::{ActiveModel, Column, Entity, Model};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, Set,
    sea_query::Expr,
};
use sha2::{Digest, Sha256};

use super::{Db, delete_row, find_row, write_error, write_txn};
use crate::{
    bootstrap::random_secret,
    error::{AppError, AppResult, AuthFailure},
    secret::Secret,
};

/// What every key starts with; it tells a key from a JWT.
pub const PREFIX: &str = "sk-";

/// `last_used_at` is written at most this often per key, not on every call.
const TOUCH_INTERVAL: Duration = Duration::minutes(1);

const WHAT: &str = "API Key";

/// Lower-case hex SHA-256 of the whole key, as stored in `key_hash`.
pub fn hash(key: &str) -> String {
    format!("{:x}", Sha256::digest(key.as_bytes()))
}

/// `sk-abcd…wxyz`: enough to tell keys apart, far too little to guess one.
fn masked(key: &str) -> String {
    let random = key.strip_prefix(PREFIX).unwrap_or(key);
    let head: String = random.chars().take(4).collect();
    let tail: String = random
        .chars()
        .rev()
        .take(4)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    format!("{PREFIX}{head}…{tail}")
}

pub async fn list(db: &Db) -> AppResult<Vec<Model>> {
    Ok(Entity::find()
        .order_by_desc(Column::Id)
        .all(&db.read)
        .await?)
}

pub async fn get(db: &Db, id: i32) -> AppResult<Model> {
    find_row::<Entity>(db, id, WHAT).await
}

/// Creates a key; the plaintext is returned here and never again.
pub async fn create(
    db: &Db,
    name: String,
    group_id: i32,
    expires_at: Option<DateTime<Utc>>,
) -> AppResult<(Model, Secret)> {
    let key = Secret::new(format!("{PREFIX}{}", random_secret()));
    let now = Utc::now();
    let row = ActiveModel {
        name: Set(name),
        group_id: Set(group_id),
        key_hash: Set(hash(key.expose())),
        key_prefix: Set(masked(key.expose())),
        is_active: Set(true),
        expires_at: Set(expires_at),
        last_used_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&db.write)
    .await
    .map_err(|err| write_error(err, "所属分组不存在"))?;
    Ok((row, key))
}

/// Renames and/or enables or disables a key; fields not given stay.
pub async fn update(
    db: &Db,
    id: i32,
    name: Option<String>,
    is_active: Option<bool>,
) -> AppResult<Model> {
    let mut row: ActiveModel = get(db, id).await?.into();
    if let Some(name) = name {
        row.name = Set(name);
    }
    if let Some(active) = is_active {
        row.is_active = Set(active);
    }
    row.updated_at = Set(Utc::now());
    Ok(row.update(&db.write).await?)
}

/// Revokes a key. Its call records keep the key's name; their `api_key_id` becomes NULL.
pub async fn delete(db: &Db, id: i32) -> AppResult<()> {
    delete_row::<Entity>(db, id, WHAT, "API Key 仍被引用").await
}

/// What a request's authentication needs of the key it presented.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PresentedKey {
    pub id: i32,
    pub group_id: i32,
    pub expires_at: Option<DateTime<Utc>>,
    last_used_at: Option<DateTime<Utc>>,
}

/// The presented key's row, by its hash: a fixed text with only the columns the check reads
/// (read on every request; through sea-orm, building the select and decoding the whole row
/// cost about as much as the rest of a `/v1` call's own work).
const FIND_BY_HASH: &str =
    "SELECT id, group_id, is_active, expires_at, last_used_at FROM api_keys WHERE key_hash = $1";

/// The key a caller presented, if it exists, is enabled and has not expired; each refusal
/// has its own `AuthFailure`. A database error is returned as it is (not as a refusal).
pub async fn find_active_by_key(db: &Db, presented: &str) -> AppResult<PresentedKey> {
    let invalid = AppError::Unauthorized(AuthFailure::ApiKeyInvalid);
    if !presented.starts_with(PREFIX) {
        return Err(invalid);
    }
    let hashed = hash(presented);
    let rows = write_txn::read_all(db, FIND_BY_HASH, &[hashed.as_str().into()]).await?;
    let row = rows.first().ok_or(invalid)?;
    if !row.get::<bool>(2)? {
        return Err(AppError::Unauthorized(AuthFailure::ApiKeyDisabled));
    }
    let key = PresentedKey {
        id: row.get(0)?,
        group_id: row.get(1)?,
        expires_at: row.get(3)?,
        last_used_at: row.get(4)?,
    };
    let now = Utc::now();
    if key.expires_at.is_some_and(|at| at <= now) {
        return Err(AppError::Unauthorized(AuthFailure::ApiKeyExpired));
    }
    touch(db, &key, now).await;
    Ok(key)
}

/// Records the use when the stored one is over a minute old. The same condition is in the
/// UPDATE, so instances sharing the database write it once a minute between them. Failing
/// to record it does not refuse the caller.
async fn touch(db: &Db, key: &PresentedKey, now: DateTime<Utc>) {
    let stale_before = now - TOUCH_INTERVAL;
    if key.last_used_at.is_some_and(|at| at > stale_before) {
        return;
    }
    let result = Entity::update_many()
        .col_expr(Column::LastUsedAt, Expr::value(now))
        .filter(Column::Id.eq(key.id))
        .filter(
            Condition::any()
                .add(Column::LastUsedAt.is_null())
                .add(Column::LastUsedAt.lte(stale_before)),
        )
        .exec(&db.write)
        .await;
    if let Err(err) = result {
        tracing::warn!(%err, key_id = key.id, "cannot record an API key's last use");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_hashed_as_hex_sha256_and_masked_to_their_ends() {
        assert_eq!(
            hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(masked("sk-abcdefghijklmnopwxyz"), "sk-abcd…wxyz");
    }
}
