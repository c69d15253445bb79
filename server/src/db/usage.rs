//! `group_usage`: token quota and money budget counters, and `quota_reservations`: who holds
//! the reserved part.
//!
//! Admission is a conditional update, so several server instances sharing one PostgreSQL
//! cannot admit more than the limit allows. Every reservation is also a row owned by the
//! instance that made it; it is released exactly once — by the call's record, by a release
//! when the call ends without one, or by the sweep after its instance died — because each
//! of those first deletes the row and subtracts only what it deleted.

use std::{collections::HashMap, sync::LazyLock};

use chrono::{DateTime, Utc};
use entity::group_usage::{Column, Entity};
use sea_orm::{ColumnTrait, DbErr, EntityTrait, QueryFilter, sea_query::ExprTrait};

use super::{
    Db, first_row,
    write_txn::{self, Insert, Param, Scripted, WriteRow, WriteTxn},
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
    let (steps, mut reservation) = reserve_steps(group_id, period, limits, demand);
    let id = if db.is_sqlite() {
        reserve_scripted(db, instance, &steps, &reservation, limits).await?
    } else {
        reserve_stepwise(db, instance, &steps, &reservation).await?
    };
    Ok(id.map(|id| {
        reservation.id = id;
        reservation
    }))
}

/// One statement of an admission: a period's counters made sure of, or a conditional hold
/// that refuses the call when it changes no row.
struct Step<'a> {
    sql: &'static str,
    params: Vec<Param<'a>>,
    refuses: Option<Exhausted>,
}

/// Admission's statements for these limits, in order, and the reservation they make (its id
/// still 0).
fn reserve_steps(
    group_id: i32,
    period: &Period,
    limits: Limits,
    demand: Demand,
) -> (Vec<Step<'_>>, Reservation) {
    let mut steps = Vec::new();
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
        steps.push(Step {
            sql: ENSURE_COUNTERS,
            params: counter.to_vec(),
            refuses: None,
        });
        let (tokens_refusal, cost_refusal) = if name == DAY {
            (Exhausted::Day, Exhausted::DayBudget)
        } else {
            (Exhausted::Month, Exhausted::MonthBudget)
        };
        let holds = [
            tokens.map(|limit| {
                (
                    RESERVE_TOKENS,
                    demand.tokens.into(),
                    limit.into(),
                    tokens_refusal,
                )
            }),
            cost.map(|limit| (RESERVE_COST, demand.cost.into(), limit.into(), cost_refusal)),
        ];
        for (sql, amount, limit, refusal) in holds.into_iter().flatten() {
            steps.push(Step {
                sql,
                params: [counter.as_slice(), &[amount, limit]].concat(),
                refuses: Some(refusal),
            });
        }
        let held = (
            tokens.map_or(0, |_| demand.tokens),
            cost.map_or(0.0, |_| demand.cost),
        );
        if name == DAY {
            (reservation.day_tokens, reservation.day_cost) = held;
        } else {
            (reservation.month_tokens, reservation.month_cost) = held;
        }
    }
    (steps, reservation)
}

/// `INSERT_RESERVATION`'s parameters.
fn reservation_params<'a>(instance: &'a str, reservation: &'a Reservation) -> [Param<'a>; 8] {
    [
        instance.into(),
        reservation.group_id.into(),
        reservation.day_key.as_str().into(),
        reservation.month_key.as_str().into(),
        reservation.day_tokens.into(),
        reservation.month_tokens.into(),
        reservation.day_cost.into(),
        reservation.month_cost.into(),
    ]
}

/// PostgreSQL: statement by statement (each conditional hold re-checks its row against
/// concurrent admissions of other instances). The new reservation's id, or the refusal.
async fn reserve_stepwise(
    db: &Db,
    instance: &str,
    steps: &[Step<'_>],
    reservation: &Reservation,
) -> Result<Result<i64, Exhausted>, DbErr> {
    let mut txn = WriteTxn::begin(db).await?;
    for step in steps {
        let changed = txn.execute(step.sql, &step.params).await?;
        if let Some(exhausted) = step.refuses
            && changed == 0
        {
            txn.rollback().await?;
            return Ok(Err(exhausted));
        }
    }
    let id = txn
        .insert(
            &INSERT_RESERVATION,
            &reservation_params(instance, reservation),
        )
        .await?;
    txn.commit().await?;
    Ok(Ok(id))
}

/// SQLite: the same statements as one script, and a second one that commits, or rolls back
/// if a hold changed nothing (each statement's changed rows come back with its result): two
/// round trips to the connection's worker thread instead of about eight.
async fn reserve_scripted(
    db: &Db,
    instance: &str,
    steps: &[Step<'_>],
    reservation: &Reservation,
    limits: Limits,
) -> Result<Result<i64, Exhausted>, DbErr> {
    let params: Vec<Param<'_>> = steps
        .iter()
        .flat_map(|step| step.params.iter().copied())
        .chain(reservation_params(instance, reservation))
        .collect();
    let mut conn = Scripted::acquire(db).await?;
    let done = conn
        .run(&RESERVE_SCRIPTS[limits_shape(limits)], &params)
        .await?;
    // The script is `BEGIN`, the steps, the reservation's insert.
    for (at, step) in steps.iter().enumerate() {
        if let Some(exhausted) = step.refuses
            && done.changed_by(1 + at)? == 0
        {
            conn.run("ROLLBACK", &[]).await?;
            return Ok(Err(exhausted));
        }
    }
    let id = done.inserted_by(1 + steps.len())?;
    conn.run("COMMIT", &[]).await?;
    Ok(Ok(id))
}

/// Which limits are set, as an index into `RESERVE_SCRIPTS`.
fn limits_shape(limits: Limits) -> usize {
    [
        limits.daily.is_some(),
        limits.daily_cost.is_some(),
        limits.monthly.is_some(),
        limits.monthly_cost.is_some(),
    ]
    .iter()
    .enumerate()
    .map(|(bit, set)| usize::from(*set) << bit)
    .sum()
}

/// `reserve_scripted`'s first script for each shape of limits, made from the statements
/// `reserve_steps` gives for that shape, so the two cannot disagree.
static RESERVE_SCRIPTS: LazyLock<Vec<String>> = LazyLock::new(|| {
    let period = Period {
        day: String::new(),
        month: String::new(),
        hour: String::new(),
        hour_of_day: 0,
    };
    (0..16)
        .map(|shape| {
            let set = |bit: usize| shape & (1 << bit) != 0;
            let limits = Limits {
                daily: set(0).then_some(0),
                daily_cost: set(1).then_some(0.0),
                monthly: set(2).then_some(0),
                monthly_cost: set(3).then_some(0.0),
            };
            debug_assert_eq!(limits_shape(limits), shape);
            let (steps, _) = reserve_steps(0, &period, limits, Demand::default());
            let mut statements = vec!["BEGIN"];
            statements.extend(steps.iter().map(|step| step.sql));
            statements.push(INSERT_RESERVATION.sqlite);
            write_txn::script(&statements)
        })
        .collect()
});

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
pub(super) fn reservations_of(rows: &[WriteRow]) -> Result<Vec<Reservation>, DbErr> {
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

pub(super) fn add_released(
    taken: impl IntoIterator<Item = Reservation>,
    totals: &mut SettleTotals,
) {
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
pub(super) const TAKE_RESERVATION: &str = concat!(
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
        .filter(Column::PeriodKey.eq(key));
    let row = first_row(row, &db.read).await?;
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use sea_orm::PaginatorTrait;

    use super::*;

    const DEMAND: Demand = Demand {
        tokens: 50,
        cost: 1.0,
    };

    /// The limits set in `shape` (as `limits_shape` numbers them): generous, or so tight that
    /// `DEMAND` cannot be held.
    fn limits(shape: usize, tight: bool) -> Limits {
        let set = |bit: usize| shape & (1 << bit) != 0;
        let (tokens, money) = if tight { (50, 1.5) } else { (1_000, 100.0) };
        Limits {
            daily: set(0).then_some(tokens),
            daily_cost: set(1).then_some(money),
            monthly: set(2).then_some(tokens),
            monthly_cost: set(3).then_some(money),
        }
    }

    async fn state(db: &Db) -> String {
        let counters = Entity::find().all(&db.read).await.unwrap();
        // Without `created_at`, which is the clock's.
        let reservations: Vec<_> = entity::quota_reservations::Entity::find()
            .all(&db.read)
            .await
            .unwrap()
            .into_iter()
            .map(|row| {
                let held = (
                    row.day_tokens,
                    row.month_tokens,
                    row.day_cost,
                    row.month_cost,
                );
                (row.id, row.instance_id, row.day_key, row.month_key, held)
            })
            .collect();
        format!("{counters:?}\n{reservations:?}")
    }

    /// For every shape of limits, SQLite's two scripts and the statement-by-statement path
    /// (PostgreSQL's) admit and hold alike, refuse at the same first exhausted limit, and a
    /// refusal changes nothing, the connection working on afterwards.
    #[tokio::test]
    async fn admission_holds_and_refuses_alike_scripted_or_stepwise() {
        let period = Period {
            day: "2026-12-01".into(),
            month: "2026-12".into(),
            hour: "2026-12-01 09".into(),
            hour_of_day: 9,
        };
        let refusals = [
            Exhausted::Day,
            Exhausted::DayBudget,
            Exhausted::Month,
            Exhausted::MonthBudget,
        ];
        for shape in 1..16 {
            let mut outcomes = Vec::new();
            for scripted in [true, false] {
                let (db, _dir) = crate::db::temporary_sqlite().await;
                crate::db::create_test_group(&db).await;
                let reserve = async |limits: Limits| {
                    let (steps, reservation) = reserve_steps(1, &period, limits, DEMAND);
                    if scripted {
                        reserve_scripted(&db, "i", &steps, &reservation, limits).await
                    } else {
                        reserve_stepwise(&db, "i", &steps, &reservation).await
                    }
                    .unwrap()
                };
                let first = reserve(limits(shape, false)).await.unwrap();
                let held = state(&db).await;
                let refused = reserve(limits(shape, true)).await.unwrap_err();
                let expected = refusals[shape.trailing_zeros() as usize];
                assert_eq!(refused, expected, "shape {shape}");
                assert_eq!(
                    state(&db).await,
                    held,
                    "shape {shape}: a refusal changed something"
                );
                let second = reserve(limits(shape, false)).await.unwrap();
                assert_eq!(second, first + 1, "shape {shape}");
                let reservations = entity::quota_reservations::Entity::find()
                    .count(&db.read)
                    .await
                    .unwrap();
                assert_eq!(reservations, 2);
                outcomes.push(state(&db).await);
            }
            assert_eq!(outcomes[0], outcomes[1], "shape {shape}");
            // Each limited counter holds the demand, the others nothing.
            let limits = limits(shape, false);
            let held = (
                limits.daily.map_or(0, |_| DEMAND.tokens),
                limits.monthly.map_or(0, |_| DEMAND.tokens),
                limits.daily_cost.map_or(0.0, |_| DEMAND.cost),
                limits.monthly_cost.map_or(0.0, |_| DEMAND.cost),
            );
            assert!(
                outcomes[0].contains(&format!("{held:?})")),
                "shape {shape}: {}",
                outcomes[0]
            );
        }
    }
}
