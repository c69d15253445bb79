//! `call_stats_hourly`: call totals kept with every record, and the statistics read from
//! them. Reading aggregates keeps statistics fast on any log size and lets them outlive
//! the purge of old records.

use std::collections::HashMap;

use entity::call_stats_hourly::{Column, Entity};
use sea_orm::{
    ConnectionTrait, DbErr,
    sea_query::{Alias, Expr, ExprTrait, Func, Query, SelectStatement},
};

use super::{
    Db,
    write_txn::{Param, WriteTxn},
};

/// Totals of some calls, as added per record or read per group of rows.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Totals {
    pub calls: i64,
    pub success_calls: i64,
    pub prompt_tokens: i64,
    pub completion_tokens: i64,
    pub cost: f64,
    pub duration_ms_sum: i64,
}

impl Totals {
    pub fn add(&mut self, other: &Totals) {
        self.calls += other.calls;
        self.success_calls += other.success_calls;
        self.prompt_tokens += other.prompt_tokens;
        self.completion_tokens += other.completion_tokens;
        self.cost += other.cost;
        self.duration_ms_sum += other.duration_ms_sum;
    }

    pub fn tokens(&self) -> i64 {
        self.prompt_tokens + self.completion_tokens
    }
}

/// The key of one hourly row.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct HourKey {
    pub hour: String,
    pub day: String,
    pub hour_of_day: i32,
    pub config_id: i32,
    pub group_id: i32,
    pub currency: String,
}

/// One hour's totals added to its row (created on its first call).
pub(super) const ADD: &str = "INSERT INTO call_stats_hourly (hour, day, hour_of_day, config_id, group_id, \
currency, config_name, calls, success_calls, prompt_tokens, completion_tokens, cost, \
duration_ms_sum) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) \
ON CONFLICT (hour, config_id, group_id, currency) DO UPDATE SET \
calls = call_stats_hourly.calls + excluded.calls, \
success_calls = call_stats_hourly.success_calls + excluded.success_calls, \
prompt_tokens = call_stats_hourly.prompt_tokens + excluded.prompt_tokens, \
completion_tokens = call_stats_hourly.completion_tokens + excluded.completion_tokens, \
cost = call_stats_hourly.cost + excluded.cost, \
duration_ms_sum = call_stats_hourly.duration_ms_sum + excluded.duration_ms_sum, \
config_name = excluded.config_name";

/// Adds a batch's totals, inside the transaction that writes its records (a fixed
/// statement, prepared once per connection).
pub(super) async fn add(
    txn: &mut WriteTxn,
    rows: HashMap<HourKey, (String, Totals)>,
) -> Result<(), DbErr> {
    for (key, (config_name, totals)) in &rows {
        txn.execute(ADD, &add_params(key, config_name, totals))
            .await?;
    }
    Ok(())
}

/// `ADD`'s parameters for one hourly row.
pub(super) fn add_params<'a>(
    key: &'a HourKey,
    config_name: &'a str,
    totals: &Totals,
) -> [Param<'a>; 13] {
    [
        key.hour.as_str().into(),
        key.day.as_str().into(),
        key.hour_of_day.into(),
        key.config_id.into(),
        key.group_id.into(),
        key.currency.as_str().into(),
        config_name.into(),
        totals.calls.into(),
        totals.success_calls.into(),
        totals.prompt_tokens.into(),
        totals.completion_tokens.into(),
        totals.cost.into(),
        totals.duration_ms_sum.into(),
    ]
}

/// Which aggregate rows to read: local days (inclusive), optionally one config or group.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StatsFilter {
    pub start_day: String,
    pub end_day: String,
    pub config_id: Option<i32>,
    pub group_id: Option<i32>,
}

/// How to split the totals.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SplitBy {
    Nothing,
    Config,
    Group,
    Day,
    HourOfDay,
}

/// One line of a split: its key as text (id, day or hour), a name if any, the currency of
/// its cost, and totals. Every split is also by currency: one key may have a line per
/// currency, so no sum ever adds money in different currencies.
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    pub key: String,
    pub name: String,
    pub currency: String,
    pub totals: Totals,
}

pub async fn totals(db: &Db, filter: &StatsFilter, split: SplitBy) -> Result<Vec<Line>, DbErr> {
    let mut select = Query::select();
    select.from(Entity);
    let key_column = match split {
        SplitBy::Nothing => None,
        SplitBy::Config => Some(Column::ConfigId),
        SplitBy::Group => Some(Column::GroupId),
        SplitBy::Day => Some(Column::Day),
        SplitBy::HourOfDay => Some(Column::HourOfDay),
    };
    match key_column {
        Some(column) => {
            select
                .expr_as(
                    Expr::col(column).cast_as(Alias::new("TEXT")),
                    Alias::new("k"),
                )
                .group_by_col(column);
        }
        None => {
            select.expr_as(Expr::val(""), Alias::new("k"));
        }
    }
    select.expr_as(Func::max(Expr::col(Column::ConfigName)), Alias::new("n"));
    select
        .expr_as(Expr::col(Column::Currency), Alias::new("currency"))
        .group_by_col(Column::Currency);
    for (column, alias) in [
        (Column::Calls, "calls"),
        (Column::SuccessCalls, "success_calls"),
        (Column::PromptTokens, "prompt_tokens"),
        (Column::CompletionTokens, "completion_tokens"),
        (Column::DurationMsSum, "duration_ms_sum"),
    ] {
        // SUM of a bigint is numeric on PostgreSQL: cast back so both databases give i64.
        select.expr_as(
            Func::coalesce([Expr::from(Func::sum(Expr::col(column))), Expr::val(0)])
                .cast_as(Alias::new("BIGINT")),
            Alias::new(alias),
        );
    }
    select.expr_as(
        Func::coalesce([
            Expr::from(Func::sum(Expr::col(Column::Cost))),
            Expr::val(0.0),
        ]),
        Alias::new("cost"),
    );
    apply_filter(&mut select, filter);
    let rows = db.read.query_all(&select).await?;
    rows.into_iter()
        .map(|row| {
            Ok(Line {
                key: row.try_get("", "k")?,
                name: row.try_get::<Option<String>>("", "n")?.unwrap_or_default(),
                currency: row.try_get("", "currency")?,
                totals: Totals {
                    calls: row.try_get("", "calls")?,
                    success_calls: row.try_get("", "success_calls")?,
                    prompt_tokens: row.try_get("", "prompt_tokens")?,
                    completion_tokens: row.try_get("", "completion_tokens")?,
                    cost: row.try_get("", "cost")?,
                    duration_ms_sum: row.try_get("", "duration_ms_sum")?,
                },
            })
        })
        .collect()
}

fn apply_filter(select: &mut SelectStatement, filter: &StatsFilter) {
    select
        .and_where(Expr::col(Column::Day).gte(filter.start_day.as_str()))
        .and_where(Expr::col(Column::Day).lte(filter.end_day.as_str()));
    if let Some(config_id) = filter.config_id {
        select.and_where(Expr::col(Column::ConfigId).eq(config_id));
    }
    if let Some(group_id) = filter.group_id {
        select.and_where(Expr::col(Column::GroupId).eq(group_id));
    }
}
