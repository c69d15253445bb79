//! `group_usage`: token quota counters. Reservations are conditional updates, so several
//! server instances sharing one PostgreSQL cannot admit more than the limit allows.

use std::collections::HashMap;

use entity::group_usage::{Column, Entity};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, TransactionTrait,
    sea_query::{Expr, ExprTrait, OnConflict, Query},
};

use super::Db;
use crate::clock::Period;

pub const DAY: &str = "day";
pub const MONTH: &str = "month";

/// Tokens a running call holds against each limited period.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Reservation {
    pub day: i64,
    pub month: i64,
}

/// A period whose limit is reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exhausted {
    Day,
    Month,
}

/// Limits to check; `None` is unlimited.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Limits {
    pub daily: Option<i64>,
    pub monthly: Option<i64>,
}

/// Admits a call while the period's used plus reserved tokens are below its limit, and
/// reserves `tokens` for it in every limited period, atomically.
pub async fn reserve(
    db: &Db,
    group_id: i32,
    period: &Period,
    limits: Limits,
    tokens: i64,
) -> Result<Result<Reservation, Exhausted>, DbErr> {
    let txn = db.write.begin().await?;
    let mut reservation = Reservation::default();
    for (name, key, limit, exhausted) in [
        (DAY, &period.day, limits.daily, Exhausted::Day),
        (MONTH, &period.month, limits.monthly, Exhausted::Month),
    ] {
        let Some(limit) = limit else { continue };
        ensure_row(&txn, group_id, name, key).await?;
        let update = Query::update()
            .table(Entity)
            .value(
                Column::ReservedTokens,
                Expr::col(Column::ReservedTokens).add(tokens),
            )
            .and_where(Expr::col(Column::GroupId).eq(group_id))
            .and_where(Expr::col(Column::Period).eq(name))
            .and_where(Expr::col(Column::PeriodKey).eq(key.as_str()))
            .and_where(
                Expr::col(Column::UsedTokens)
                    .add(Expr::col(Column::ReservedTokens))
                    .lt(limit),
            )
            .to_owned();
        if txn.execute(&update).await?.rows_affected() == 0 {
            txn.rollback().await?;
            return Ok(Err(exhausted));
        }
        match exhausted {
            Exhausted::Day => reservation.day = tokens,
            Exhausted::Month => reservation.month = tokens,
        }
    }
    txn.commit().await?;
    Ok(Ok(reservation))
}

async fn ensure_row(
    conn: &impl ConnectionTrait,
    group_id: i32,
    period: &str,
    key: &str,
) -> Result<(), DbErr> {
    let insert = Query::insert()
        .into_table(Entity)
        .columns([Column::GroupId, Column::Period, Column::PeriodKey])
        .values_panic([group_id.into(), period.into(), key.into()])
        .on_conflict(
            OnConflict::columns([Column::GroupId, Column::Period, Column::PeriodKey])
                .do_nothing()
                .to_owned(),
        )
        .to_owned();
    conn.execute(&insert).await.map(|_| ())
}

/// What finished calls add to one group's period.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Settled {
    pub tokens: i64,
    pub released: i64,
    pub calls: i64,
    pub cost: f64,
}

/// Adds finished calls to the counters and releases their reservations, inside the
/// transaction that writes their records: one upsert per group and period.
pub async fn settle(
    conn: &impl ConnectionTrait,
    totals: HashMap<(i32, &'static str, String), Settled>,
) -> Result<(), DbErr> {
    let sum = |column: Column| super::plus_excluded(Entity, column);
    for ((group_id, period, key), settled) in totals {
        let upsert = Query::insert()
            .into_table(Entity)
            .columns([
                Column::GroupId,
                Column::Period,
                Column::PeriodKey,
                Column::UsedTokens,
                Column::ReservedTokens,
                Column::Calls,
                Column::Cost,
            ])
            .values_panic([
                group_id.into(),
                period.into(),
                key.into(),
                settled.tokens.into(),
                // A reservation is always made before its release, so this row exists then;
                // the negative value only ever meets an existing row.
                (-settled.released).into(),
                settled.calls.into(),
                settled.cost.into(),
            ])
            .on_conflict(
                OnConflict::columns([Column::GroupId, Column::Period, Column::PeriodKey])
                    .value(Column::UsedTokens, sum(Column::UsedTokens))
                    .value(Column::ReservedTokens, sum(Column::ReservedTokens))
                    .value(Column::Calls, sum(Column::Calls))
                    .value(Column::Cost, sum(Column::Cost))
                    .to_owned(),
            )
            .to_owned();
        conn.execute(&upsert).await?;
    }
    Ok(())
}

/// One group's counters for a period key (zeros when nothing was used yet).
pub async fn read(
    db: &Db,
    group_id: i32,
    period: &str,
    key: &str,
) -> Result<entity::group_usage::Model, DbErr> {
    let row = Entity::find()
        .filter(Column::GroupId.eq(group_id))
        .filter(Column::Period.eq(period))
        .filter(Column::PeriodKey.eq(key))
        .one(&db.read)
        .await?;
    Ok(row.unwrap_or(entity::group_usage::Model {
        group_id,
        period: period.to_string(),
        period_key: key.to_string(),
        used_tokens: 0,
        reserved_tokens: 0,
        calls: 0,
        cost: 0.0,
    }))
}
