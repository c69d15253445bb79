//! `webhooks` repository. Takes and returns the URL and signing secret already encrypted:
//! encryption is the caller's (the API's) concern, and nothing here can log a plaintext.

use chrono::{DateTime, Utc};
use entity::webhooks::{ActiveModel, Column, Entity, Model};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    Set,
};

use super::{Db, delete_row, find_row, first_row};
use crate::error::AppResult;

const WHAT: &str = "Webhook";

/// A webhook's fields as an admin sets them; the secrets already encrypted.
#[derive(Debug, Clone)]
pub struct WebhookFields {
    pub name: String,
    pub kind: String,
    pub url_encrypted: String,
    pub url_hint: String,
    pub secret_encrypted: Option<String>,
    pub enabled: bool,
}

pub async fn list(db: &Db) -> AppResult<Vec<Model>> {
    Ok(Entity::find()
        .order_by_asc(Column::Id)
        .all(&db.read)
        .await?)
}

pub async fn enabled(conn: &impl ConnectionTrait) -> Result<Vec<Model>, DbErr> {
    Entity::find()
        .filter(Column::Enabled.eq(true))
        .order_by_asc(Column::Id)
        .all(conn)
        .await
}

pub async fn get(db: &Db, id: i32) -> AppResult<Model> {
    find_row::<Entity>(db, id, WHAT).await
}

pub async fn create(db: &Db, fields: WebhookFields) -> AppResult<Model> {
    let now = Utc::now();
    let row = ActiveModel {
        name: Set(fields.name),
        kind: Set(fields.kind),
        url_encrypted: Set(fields.url_encrypted),
        url_hint: Set(fields.url_hint),
        secret_encrypted: Set(fields.secret_encrypted),
        enabled: Set(fields.enabled),
        last_status: Set(None),
        last_error: Set(None),
        last_attempt_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    };
    Ok(row.insert(&db.write).await?)
}

/// Replaces the fields an admin set; the last delivery's outcome stays.
pub async fn update(db: &Db, id: i32, fields: WebhookFields) -> AppResult<Model> {
    get(db, id).await?;
    let row = ActiveModel {
        id: Set(id),
        name: Set(fields.name),
        kind: Set(fields.kind),
        url_encrypted: Set(fields.url_encrypted),
        url_hint: Set(fields.url_hint),
        secret_encrypted: Set(fields.secret_encrypted),
        enabled: Set(fields.enabled),
        updated_at: Set(Utc::now()),
        ..Default::default()
    };
    Ok(row.update(&db.write).await?)
}

/// Deletes the webhook and, by cascade, its pending deliveries.
pub async fn delete(db: &Db, id: i32) -> AppResult<()> {
    delete_row::<Entity>(db, id, WHAT, "Webhook 仍被引用，无法删除").await
}

/// Keeps the outcome of the latest attempt on the webhook, for the admin's list.
pub async fn record_outcome(
    db: &Db,
    id: i32,
    at: DateTime<Utc>,
    error: Option<&str>,
) -> Result<(), DbErr> {
    let status = if error.is_some() {
        "failed"
    } else {
        "delivered"
    };
    Entity::update_many()
        .col_expr(Column::LastStatus, status.into())
        .col_expr(Column::LastError, error.map(str::to_owned).into())
        .col_expr(Column::LastAttemptAt, at.into())
        .filter(Column::Id.eq(id))
        .exec(&db.write)
        .await
        .map(|_| ())
}

/// How many messages a webhook may be sent within a span of time.
#[derive(Debug, Clone, Copy)]
pub struct SendLimit {
    pub within: chrono::Duration,
    pub at_most: usize,
}

/// Takes a send for the webhook at `now` if every one of `limits` allows one more; `false`
/// means the message must wait. The times of recent sends live on the webhook's row, so
/// the senders of every instance keep to the limits together: the update applies only to
/// the list it read, and a sender that lost that race reads again.
pub async fn take_send_slot(
    db: &Db,
    id: i32,
    limits: &[SendLimit],
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let kept_for = limits
        .iter()
        .map(|limit| limit.within)
        .max()
        .unwrap_or_default();
    for _ in 0..5 {
        let Some(row) = first_row(Entity::find_by_id(id), &db.read).await? else {
            return Ok(false);
        };
        let mut sends: Vec<DateTime<Utc>> =
            serde_json::from_str(&row.recent_sends).unwrap_or_default();
        sends.retain(|at| *at > now - kept_for);
        let full = limits.iter().any(|limit| {
            sends.iter().filter(|at| **at > now - limit.within).count() >= limit.at_most
        });
        if full {
            return Ok(false);
        }
        sends.push(now);
        let listed = serde_json::to_string(&sends).map_err(|err| DbErr::Custom(err.to_string()))?;
        let taken = Entity::update_many()
            .col_expr(Column::RecentSends, listed.into())
            .filter(Column::Id.eq(id))
            .filter(Column::RecentSends.eq(row.recent_sends))
            .exec(&db.write)
            .await?;
        if taken.rows_affected == 1 {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Every webhook's encrypted URL and secret, for `rotate-key`.
pub async fn all_secrets(
    conn: &impl ConnectionTrait,
) -> Result<Vec<(i32, String, Option<String>)>, DbErr> {
    Ok(Entity::find()
        .all(conn)
        .await?
        .into_iter()
        .map(|row| (row.id, row.url_encrypted, row.secret_encrypted))
        .collect())
}

pub async fn set_secrets(
    conn: &impl ConnectionTrait,
    id: i32,
    url_encrypted: String,
    secret_encrypted: Option<String>,
) -> Result<(), DbErr> {
    ActiveModel {
        id: Set(id),
        url_encrypted: Set(url_encrypted),
        secret_encrypted: Set(secret_encrypted),
        ..Default::default()
    }
    .update(conn)
    .await
    .map(|_| ())
}
