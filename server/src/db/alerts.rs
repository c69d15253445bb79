//! `alerts` and `alert_deliveries` repository: an event stored once per (kind, subject,
//! period), and its outbox of deliveries that any instance's sender claims when due.

use chrono::{DateTime, Utc};
use entity::{
    alert_deliveries::{self as deliveries},
    alerts::{ActiveModel, Column, Entity, Model},
};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, TransactionTrait, sea_query::OnConflict,
};

use super::{Db, first_row};

pub const PENDING: &str = "pending";
pub const DELIVERED: &str = "delivered";
pub const FAILED: &str = "failed";

/// An event as the alert checks produce it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAlert {
    pub kind: String,
    pub subject: String,
    pub period: String,
    pub severity: String,
    pub title: String,
    pub message: String,
}

/// Stores the event unless it was already stored for its period (by this or another
/// instance, before or after a restart), and queues one delivery per enabled webhook, in one
/// transaction. `None`: it was already there.
pub async fn insert_once(
    db: &Db,
    alert: NewAlert,
    now: DateTime<Utc>,
) -> Result<Option<Model>, DbErr> {
    let txn = db.write.begin().await?;
    let row = ActiveModel {
        kind: Set(alert.kind.clone()),
        subject: Set(alert.subject.clone()),
        period: Set(alert.period.clone()),
        severity: Set(alert.severity),
        title: Set(alert.title),
        message: Set(alert.message),
        read_at: Set(None),
        created_at: Set(now),
        ..Default::default()
    };
    let inserted = Entity::insert(row)
        .on_conflict(
            OnConflict::columns([Column::Kind, Column::Subject, Column::Period])
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(&txn)
        .await?;
    if inserted == 0 {
        txn.rollback().await?;
        return Ok(None);
    }
    let stored = Entity::find()
        .filter(Column::Kind.eq(alert.kind))
        .filter(Column::Subject.eq(alert.subject))
        .filter(Column::Period.eq(alert.period));
    let Some(stored) = first_row(stored, &txn).await? else {
        txn.rollback().await?;
        return Ok(None);
    };
    let rows: Vec<deliveries::ActiveModel> = super::webhooks::enabled(&txn)
        .await?
        .into_iter()
        .map(|webhook| deliveries::ActiveModel {
            alert_id: Set(stored.id),
            webhook_id: Set(webhook.id),
            status: Set(PENDING.into()),
            attempts: Set(0),
            next_attempt_at: Set(now),
            last_error: Set(None),
            log: Set("[]".into()),
            delivered_at: Set(None),
            updated_at: Set(now),
            ..Default::default()
        })
        .collect();
    if !rows.is_empty() {
        deliveries::Entity::insert_many(rows)
            .exec_without_returning(&txn)
            .await?;
    }
    txn.commit().await?;
    Ok(Some(stored))
}

/// One page of alerts, newest first, with the total and the number not yet read.
pub async fn page(db: &Db, page: u64, page_size: u64) -> Result<(u64, u64, Vec<Model>), DbErr> {
    let total = Entity::find().count(&db.read).await?;
    let unread = Entity::find()
        .filter(Column::ReadAt.is_null())
        .count(&db.read)
        .await?;
    let rows = Entity::find()
        .order_by_desc(Column::Id)
        .offset(page.saturating_sub(1) * page_size)
        .limit(page_size)
        .all(&db.read)
        .await?;
    Ok((total, unread, rows))
}

/// The deliveries of these alerts.
pub async fn deliveries_of(db: &Db, alert_ids: &[i32]) -> Result<Vec<deliveries::Model>, DbErr> {
    deliveries::Entity::find()
        .filter(deliveries::Column::AlertId.is_in(alert_ids.iter().copied()))
        .order_by_asc(deliveries::Column::Id)
        .all(&db.read)
        .await
}

/// Marks every alert up to `last_id` read (`None`: all); returns how many changed.
pub async fn mark_read(db: &Db, last_id: Option<i32>, now: DateTime<Utc>) -> Result<u64, DbErr> {
    let mut update = Entity::update_many()
        .col_expr(Column::ReadAt, now.into())
        .filter(Column::ReadAt.is_null());
    if let Some(last_id) = last_id {
        update = update.filter(Column::Id.lte(last_id));
    }
    Ok(update.exec(&db.write).await?.rows_affected)
}

pub async fn get(db: &Db, id: i32) -> Result<Option<Model>, DbErr> {
    first_row(Entity::find_by_id(id), &db.read).await
}

/// Deliveries whose time has come, oldest first.
pub async fn due(db: &Db, now: DateTime<Utc>, limit: u64) -> Result<Vec<deliveries::Model>, DbErr> {
    if !any_due(db, now).await? {
        return Ok(Vec::new());
    }
    deliveries::Entity::find()
        .filter(deliveries::Column::Status.eq(PENDING))
        .filter(deliveries::Column::NextAttemptAt.lte(now))
        .order_by_asc(deliveries::Column::Id)
        .limit(limit)
        .all(&db.read)
        .await
}

/// Whether some delivery is due, asked without binding the time or a `LIMIT`. SQLite writes
/// a bound `LIMIT`'s value into the prepared statement, so binding it again, even to the
/// same value, makes the next run prepare the statement anew (as it does for a value its
/// statistics planned a range with): `due`'s query, which the sender runs every second, was
/// prepared again every second (~130k instructions) on a server with nothing to send.
async fn any_due(db: &Db, now: DateTime<Utc>) -> Result<bool, DbErr> {
    let soonest: Vec<Option<DateTime<Utc>>> = deliveries::Entity::find()
        .select_only()
        .column_as(deliveries::Column::NextAttemptAt.min(), "soonest")
        .filter(deliveries::Column::Status.eq(PENDING))
        .into_tuple()
        .all(&db.read)
        .await?;
    Ok(soonest.into_iter().flatten().any(|soonest| soonest <= now))
}

/// Takes a due delivery for one attempt: counts the attempt and moves its next time to
/// `until`, so no other sender takes it meanwhile (and a sender that dies lets it come
/// due again). Only one of several racing senders sees `true`: the update is conditional
/// on the attempt count it read.
pub async fn claim(
    db: &Db,
    delivery: &deliveries::Model,
    until: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let result = deliveries::Entity::update_many()
        .col_expr(deliveries::Column::Attempts, (delivery.attempts + 1).into())
        .col_expr(deliveries::Column::NextAttemptAt, until.into())
        .filter(deliveries::Column::Id.eq(delivery.id))
        .filter(deliveries::Column::Status.eq(PENDING))
        .filter(deliveries::Column::Attempts.eq(delivery.attempts))
        .exec(&db.write)
        .await?;
    Ok(result.rows_affected == 1)
}

/// What one attempt ended in.
#[derive(Debug, Clone)]
pub struct AttemptOutcome {
    pub at: DateTime<Utc>,
    /// `None`: delivered.
    pub error: Option<String>,
    /// When to try again; `None` after a success or the last attempt (or a permanent
    /// refusal).
    pub retry_at: Option<DateTime<Utc>>,
    /// The attempt log after this attempt (JSON).
    pub log: String,
}

pub async fn finish_attempt(db: &Db, id: i64, outcome: AttemptOutcome) -> Result<(), DbErr> {
    let status = match (&outcome.error, outcome.retry_at) {
        (None, _) => DELIVERED,
        (Some(_), Some(_)) => PENDING,
        (Some(_), None) => FAILED,
    };
    let mut update = deliveries::Entity::update_many()
        .col_expr(deliveries::Column::Status, status.into())
        .col_expr(deliveries::Column::Log, outcome.log.into())
        .col_expr(deliveries::Column::UpdatedAt, outcome.at.into())
        .col_expr(
            deliveries::Column::NextAttemptAt,
            outcome.retry_at.unwrap_or(outcome.at).into(),
        );
    match outcome.error {
        // A delivery that succeeded after failures keeps its last error in `log` only.
        None => {
            update = update
                .col_expr(deliveries::Column::DeliveredAt, outcome.at.into())
                .col_expr(deliveries::Column::LastError, Option::<String>::None.into());
        }
        Some(error) => {
            update = update.col_expr(deliveries::Column::LastError, Some(error).into());
        }
    }
    update
        .filter(deliveries::Column::Id.eq(id))
        .exec(&db.write)
        .await
        .map(|_| ())
}
