//! `group_usage`: token quota and money budget counters, and `quota_reservations`: who holds
//! the reserved part.
//!
//! Admission is a conditional update, so several server instances sharing one PostgreSQL
//! cannot admit more than the limit allows. Every reservation is also a row owned by the
//! instance that made it; it is released exactly once — by the call's record, by a release
//! when the call ends without one, or by the sweep after its instance died — because each
//! of those first deletes the row and subtracts only what it deleted.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use entity::group_usage::{Column, Entity};
use sea_orm::{ColumnTrait, DbErr, EntityTrait, QueryFilter, sea_query::ExprTrait};

use super::{
    Db,
    write_txn::{Insert, Param, WriteRow, WriteTxn},
};
use crate::clock::Period;

pub const DAY: &str = "day";
pub const MONTH: &str = "month";

/// Tokens and money one running call holds against its group's day and month.
#[derive(Debug, Clone, PartialEq)]
pub struct Reservation {
    /// The `quota_reservations` row.
    pub id: i64,
    pub group_id: i32,
    pub day_key: String,
    pub month_key: String,
    pub day_tokens: i64,
    pub month_tokens: i64,
    pub day_cost: f64,
    pub month_cost: f64,
}

/// A limit that is reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exhausted {
    Day,
    Month,
    DayBudget,
    MonthBudget,
}

/// Limits to check; `None` is unlimited. Costs are in the group's budget currency.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Limits {
    pub daily: Option<i64>,
    pub monthly: Option<i64>,
    pub daily_cost: Option<f64>,
    pub monthly_cost: Option<f64>,
}

impl Limits {
    pub fn is_unlimited(&self) -> bool {
        self.daily.is_none()
            && self.monthly.is_none()
            && self.daily_cost.is_none()
            && self.monthly_cost.is_none()
    }
}

/// The most a call may use: tokens, and money in the group's budget currency.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Demand {
    pub tokens: i64,
    pub cost: f64,
}

/// Admits a call while each token counter's used plus reserved tokens are below its limit
/// and each money counter's spent plus reserved money plus the call's worst case fits in its
/// budget, and reserves the worst case on every limited counter, atomically, as a row owned
/// by `instance`.
pub async fn reserve(
    db: &Db,
    instance: &str,
    group_id: i32,
    period: &Period,
    limits: Limits,
    demand: Demand,
) -> Result<Result<Reservation, Exhausted>, DbErr> {
    let mut txn = WriteTxn::begin(db).await?;
    let mut reservation = Reservation {
        id: 0,
        group_id,
        day_key: period.day.clone(),
        month_key: period.month.clone(),
        day_tokens: 0,
        month_tokens: 0,
        day_cost: 0.0,
        month_cost: 0.0,
    };
    let periods = [
        (DAY, &period.day, limits.daily, limits.daily_cost),
        (MONTH, &period.month, limits.monthly, limits.monthly_cost),
    ];
    for (name, key, tokens, cost) in periods {
        if tokens.is_none() && cost.is_none() {
            continue;
        }
        let counter: [Param<'_>; 3] = [group_id.into(), name.into(), key.as_str().into()];
        txn.execute(ENSURE_COUNTERS, &counter).await?;
        let held = [
            tokens.map(|limit| {
                let exhausted = if name == DAY {
                    Exhausted::Day
                } else {
                    Exhausted::Month
                };
                (
                    RESERVE_TOKENS,
                    demand.tokens.into(),
                    limit.into(),
                    exhausted,
                )
            }),
            cost.map(|limit| {
                let exhausted = if name == DAY {
                    Exhausted::DayBudget
                } else {
                    Exhausted::MonthBudget
                };
                (RESERVE_COST, demand.cost.into(), limit.into(), exhausted)
            }),
        ];
        for (sql, amount, limit, exhausted) in held.into_iter().flatten() {
            let [group, period, key] = counter;
            if txn
                .execute(sql, &[group, period, key, amount, limit])
                .await?
                == 0
            {
                txn.rollback().await?;
                return Ok(Err(exhausted));
            }
        }
        let (held_tokens, held_cost) = (
            tokens.map_or(0, |_| demand.tokens),
            cost.map_or(0.0, |_| demand.cost),
        );
        if name == DAY {
            (reservation.day_tokens, reservation.day_cost) = (held_tokens, held_cost);
        } else {
            (reservation.month_tokens, reservation.month_cost) = (held_tokens, held_cost);
        }
    }
    let row: [Param<'_>; 8] = [
        instance.into(),
        group_id.into(),
        reservation.day_key.as_str().into(),
        reservation.month_key.as_str().into(),
        reservation.day_tokens.into(),
        reservation.month_tokens.into(),
        reservation.day_cost.into(),
        reservation.month_cost.into(),
    ];
    reservation.id = txn.insert(&INSERT_RESERVATION, &row).await?;
    txn.commit().await?;
    Ok(Ok(reservation))
}

/// A group's counters for one period, created at zero on its first call.
const ENSURE_COUNTERS: &str = "INSERT INTO group_usage (group_id, period, period_key) \
VALUES ($1, $2, $3) ON CONFLICT (group_id, period, period_key) DO NOTHING";

/// Holds `$4` tokens while the used and held tokens are below the limit `$5`.
const RESERVE_TOKENS: &str = "UPDATE group_usage SET reserved_tokens = reserved_tokens + $4 \
WHERE group_id = $1 AND period = $2 AND period_key = $3 AND used_tokens + reserved_tokens < $5";

/// Holds `$4` of money only while it still fits in the budget `$5`, so a budget is never
/// overspent.
const RESERVE_COST: &str = "UPDATE group_usage SET reserved_cost = reserved_cost + $4 \
WHERE group_id = $1 AND period = $2 AND period_key = $3 AND spent + reserved_cost + $4 <= $5";

macro_rules! insert_reservation {
    () => {
        "INSERT INTO quota_reservations (instance_id, group_id, day_key, month_key, day_tokens, \
         month_tokens, day_cost, month_cost) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
    };
}
const INSERT_RESERVATION: Insert = Insert {
    sqlite: insert_reservation!(),
    postgres: concat!(insert_reservation!(), " RETURNING id"),
};

/// What finished calls add to one group's period.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Settled {
    pub tokens: i64,
    pub released: i64,
    pub calls: i64,
    /// In the group's budget currency.
    pub spent: f64,
    pub released_cost: f64,
}

/// The counters one group's period takes from a batch of finished calls and releases.
pub type SettleTotals = HashMap<(i32, &'static str, String), Settled>;

/// Deletes the reservation rows with these ids and adds, for each row actually deleted, its
/// tokens to `totals` as released. A row already released elsewhere (a sweep) counts nothing.
pub(super) async fn take_reservations(
    txn: &mut WriteTxn,
    ids: &[i64],
    totals: &mut SettleTotals,
) -> Result<(), DbErr> {
    for id in ids {
        let taken = txn.fetch_all(TAKE_RESERVATION, &[(*id).into()]).await?;
        add_released(reservations_of(&taken)?, totals);
    }
    Ok(())
}

/// Reservation rows as `TAKE_RESERVATION` and `RELEASE_ORPHANS` return them.
fn reservations_of(rows: &[WriteRow]) -> Result<Vec<Reservation>, DbErr> {
    rows.iter()
        .map(|row| {
            Ok(Reservation {
                id: row.get(0)?,
                group_id: row.get(1)?,
                day_key: row.get(2)?,
                month_key: row.get(3)?,
                day_tokens: row.get(4)?,
                month_tokens: row.get(5)?,
                day_cost: row.get(6)?,
                month_cost: row.get(7)?,
            })
        })
        .collect()
}

fn add_released(taken: impl IntoIterator<Item = Reservation>, totals: &mut SettleTotals) {
    for row in taken {
        for (period, key, tokens, cost) in [
            (DAY, row.day_key, row.day_tokens, row.day_cost),
            (MONTH, row.month_key, row.month_tokens, row.month_cost),
        ] {
            if tokens != 0 || cost != 0.0 {
                let entry = totals.entry((row.group_id, period, key)).or_default();
                entry.released += tokens;
                entry.released_cost += cost;
            }
        }
    }
}

/// The columns `reservations_of` reads, in its order, of the reservations a statement deletes.
macro_rules! returning_reservations {
    () => {
        " RETURNING id, group_id, day_key, month_key, day_tokens, month_tokens, day_cost, \
         month_cost"
    };
}

/// One reservation given back: the row goes, and what it held is what gets released.
const TAKE_RESERVATION: &str = concat!(
    "DELETE FROM quota_reservations WHERE id = $1",
    returning_reservations!()
);

/// What one group's period takes from a batch. A group deleted meanwhile is skipped (its
/// counters went with it). `reserved_*` only ever go down here: a reservation is always
/// made before its release, so the negative value only ever meets an existing row.
pub(super) const SETTLE: &str = r#"INSERT INTO group_usage (group_id, period, period_key, used_tokens,
reserved_tokens, calls, spent, reserved_cost)
SELECT $1, $2, $3, $4, $5, $6, $7, $8 WHERE EXISTS (SELECT 1 FROM "groups" WHERE id = $1)
ON CONFLICT (group_id, period, period_key) DO UPDATE SET
used_tokens = group_usage.used_tokens + excluded.used_tokens,
reserved_tokens = group_usage.reserved_tokens + excluded.reserved_tokens,
calls = group_usage.calls + excluded.calls,
spent = group_usage.spent + excluded.spent,
reserved_cost = group_usage.reserved_cost + excluded.reserved_cost"#;

/// Adds finished calls to the counters and releases their reservations, inside the
/// transaction that writes their records: one upsert per group and period.
pub(super) async fn settle(txn: &mut WriteTxn, totals: SettleTotals) -> Result<(), DbErr> {
    for (key, settled) in &totals {
        txn.execute(SETTLE, &settle_params(key, settled)).await?;
    }
    Ok(())
}

/// `SETTLE`'s parameters for one group's period.
pub(super) fn settle_params<'a>(
    (group_id, period, key): &'a (i32, &'static str, String),
    settled: &Settled,
) -> [Param<'a>; 8] {
    [
        (*group_id).into(),
        (*period).into(),
        key.as_str().into(),
        settled.tokens.into(),
        (-settled.released).into(),
        settled.calls.into(),
        settled.spent.into(),
        (-settled.released_cost).into(),
    ]
}

/// Releases every reservation whose instance is gone (no lease renewed since `cutoff`, or
/// no instance row at all), and forgets those instances. Returns the rows released.
pub async fn release_orphans(db: &Db, cutoff: DateTime<Utc>) -> Result<Orphans, DbErr> {
    let mut txn = WriteTxn::begin(db).await?;
    let taken = reservations_of(&txn.fetch_all(RELEASE_ORPHANS, &[cutoff.into()]).await?)?;
    let released = taken.len();
    let mut totals = SettleTotals::new();
    add_released(taken, &mut totals);
    settle(&mut txn, totals).await?;
    // The rows taken are the instances that stopped without a clean stop (a clean stop
    // removes its own row): the crash alert reports them.
    let dead = txn
        .fetch_all(FORGET_DEAD_INSTANCES, &[cutoff.into()])
        .await?
        .iter()
        .map(|row| {
            Ok(entity::instances::Model {
                id: row.get(0)?,
                hostname: row.get(1)?,
                pid: row.get(2)?,
                started_at: row.get(3)?,
                heartbeat_at: row.get(4)?,
            })
        })
        .collect::<Result<_, DbErr>>()?;
    txn.commit().await?;
    Ok(Orphans { released, dead })
}

/// The reservations of instances without a lease renewed since `$1` (or without a row).
const RELEASE_ORPHANS: &str = concat!(
    "DELETE FROM quota_reservations WHERE instance_id NOT IN \
     (SELECT id FROM instances WHERE heartbeat_at >= $1)",
    returning_reservations!()
);

const FORGET_DEAD_INSTANCES: &str = "DELETE FROM instances WHERE heartbeat_at < $1 \
RETURNING id, hostname, pid, started_at, heartbeat_at";

/// What a sweep found: reservations released, and the instances whose lease ran out.
#[derive(Debug, Default)]
pub struct Orphans {
    pub released: usize,
    pub dead: Vec<entity::instances::Model>,
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
        spent: 0.0,
        reserved_cost: 0.0,
    }))
}

/// Every group's counters for the given day and month, for the quota alerts.
pub async fn current(
    db: &Db,
    day_key: &str,
    month_key: &str,
) -> Result<Vec<entity::group_usage::Model>, DbErr> {
    Entity::find()
        .filter(
            sea_orm::Condition::any()
                .add(Column::Period.eq(DAY).and(Column::PeriodKey.eq(day_key)))
                .add(
                    Column::Period
                        .eq(MONTH)
                        .and(Column::PeriodKey.eq(month_key)),
                ),
        )
        .all(&db.read)
        .await
}
