//! `llm_call_logs`: writing records in batches, and (for admins) reading them.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use entity::llm_call_logs::{ActiveModel, Column, Entity, Model};
use sea_orm::{
    ActiveValue::NotSet,
    ColumnTrait, Condition, ConnectionTrait, DatabaseTransaction, DbErr, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set,
    sea_query::{Alias, Expr, ExprTrait, LikeExpr, Query},
};
use serde_json::Value;

use super::{
    stats::{self, HourKey, Totals},
    usage::{self, DAY, MONTH, Reservation, Settled},
};
use crate::clock::Period;

/// One call's record, as the relay hands it over.
#[derive(Debug, Clone, PartialEq)]
pub struct NewCallLog {
    pub config_id: Option<i32>,
    pub template_id: Option<i32>,
    pub group_id: Option<i32>,
    pub activation_code: Option<String>,
    pub user_id: Option<i32>,
    pub config_name: String,
    pub provider: String,
    pub model: String,
    pub request_messages: Value,
    pub request_params: Option<Value>,
    pub response_content: Option<String>,
    pub response_data: Option<Value>,
    pub success: bool,
    pub error_code: Option<String>,
    pub error_message: Option<String>,
    pub prompt_tokens: Option<i32>,
    pub completion_tokens: Option<i32>,
    pub tokens_estimated: bool,
    pub cost: f64,
    pub retry_count: i32,
    pub is_stream: bool,
    pub call_time: DateTime<Utc>,
    pub duration_ms: i32,
    /// The local calendar of `call_time`: the day, month and hour the call counts in.
    pub period: Period,
    /// Tokens reserved at admission, released by this record.
    pub reservation: Reservation,
}

impl NewCallLog {
    pub fn tokens_used(&self) -> Option<i32> {
        match (self.prompt_tokens, self.completion_tokens) {
            (None, None) => None,
            (prompt, completion) => Some(prompt.unwrap_or(0) + completion.unwrap_or(0)),
        }
    }

    fn to_row(&self) -> ActiveModel {
        ActiveModel {
            id: NotSet,
            tokens_used: Set(self.tokens_used()),
            config_id: Set(self.config_id),
            template_id: Set(self.template_id),
            group_id: Set(self.group_id),
            activation_code: Set(self.activation_code.clone()),
            user_id: Set(self.user_id),
            config_name: Set(self.config_name.clone()),
            provider: Set(self.provider.clone()),
            model: Set(self.model.clone()),
            request_messages: Set(self.request_messages.clone()),
            request_params: Set(self.request_params.clone()),
            response_content: Set(self.response_content.clone()),
            response_data: Set(self.response_data.clone()),
            status: Set(if self.success { "success" } else { "error" }.to_string()),
            error_code: Set(self.error_code.clone()),
            error_message: Set(self.error_message.clone()),
            prompt_tokens: Set(self.prompt_tokens),
            completion_tokens: Set(self.completion_tokens),
            tokens_estimated: Set(self.tokens_estimated),
            cost: Set(self.cost),
            retry_count: Set(self.retry_count),
            is_stream: Set(self.is_stream),
            call_time: Set(self.call_time),
            duration_ms: Set(Some(self.duration_ms)),
        }
    }
}

/// Inserts the rows inside the caller's transaction and returns their ids, in order.
/// In the same transaction, the group counters and hourly statistics take the rows'
/// totals, so counters and records never disagree.
pub async fn insert_batch(
    txn: &DatabaseTransaction,
    rows: &[NewCallLog],
) -> Result<Vec<i64>, DbErr> {
    let mut ids = Vec::with_capacity(rows.len());
    for row in rows {
        let result = Entity::insert(row.to_row()).exec(txn).await?;
        ids.push(result.last_insert_id);
    }
    usage::settle(txn, group_totals(rows)).await?;
    stats::add(txn, hourly_totals(rows)).await?;
    Ok(ids)
}

fn totals_of(row: &NewCallLog) -> Totals {
    Totals {
        calls: 1,
        success_calls: i64::from(row.success),
        prompt_tokens: i64::from(row.prompt_tokens.unwrap_or(0)),
        completion_tokens: i64::from(row.completion_tokens.unwrap_or(0)),
        cost: row.cost,
        duration_ms_sum: i64::from(row.duration_ms),
    }
}

fn group_totals(rows: &[NewCallLog]) -> HashMap<(i32, &'static str, String), Settled> {
    let mut out: HashMap<(i32, &'static str, String), Settled> = HashMap::new();
    for row in rows {
        let Some(group_id) = row.group_id else {
            continue;
        };
        let tokens = i64::from(row.tokens_used().unwrap_or(0));
        for (period, key, released) in [
            (DAY, &row.period.day, row.reservation.day),
            (MONTH, &row.period.month, row.reservation.month),
        ] {
            let entry = out.entry((group_id, period, key.clone())).or_default();
            entry.tokens += tokens;
            entry.released += released;
            entry.calls += 1;
            entry.cost += row.cost;
        }
    }
    out
}

fn hourly_totals(rows: &[NewCallLog]) -> HashMap<HourKey, (String, Totals)> {
    let mut out: HashMap<HourKey, (String, Totals)> = HashMap::new();
    for row in rows {
        let key = HourKey {
            hour: row.period.hour.clone(),
            day: row.period.day.clone(),
            hour_of_day: row.period.hour_of_day,
            config_id: row.config_id.unwrap_or(0),
            group_id: row.group_id.unwrap_or(0),
        };
        let entry = out
            .entry(key)
            .or_insert_with(|| (row.config_name.clone(), Totals::default()));
        entry.1.add(&totals_of(row));
    }
    out
}

/// The admin's search over call records.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LogFilter {
    pub config_id: Option<i32>,
    pub group_id: Option<i32>,
    pub activation_code: Option<String>,
    /// `Some(true)`: successes only; `Some(false)`: errors only.
    pub success: Option<bool>,
    /// Inclusive.
    pub from: Option<DateTime<Utc>>,
    /// Exclusive.
    pub until: Option<DateTime<Utc>>,
    /// Text searched in the request messages and the response.
    pub text: Option<String>,
}

impl LogFilter {
    fn condition(&self) -> Condition {
        let mut condition = Condition::all();
        if let Some(id) = self.config_id {
            condition = condition.add(Column::ConfigId.eq(id));
        }
        if let Some(id) = self.group_id {
            condition = condition.add(Column::GroupId.eq(id));
        }
        if let Some(code) = &self.activation_code {
            condition = condition.add(Column::ActivationCode.eq(code.as_str()));
        }
        if let Some(success) = self.success {
            condition = condition.add(Column::Status.eq(if success { "success" } else { "error" }));
        }
        if let Some(from) = self.from {
            condition = condition.add(Column::CallTime.gte(from));
        }
        if let Some(until) = self.until {
            condition = condition.add(Column::CallTime.lt(until));
        }
        if let Some(text) = &self.text {
            // `%` and `_` typed by the admin are literal characters, not wildcards.
            let escaped = text
                .replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_");
            let pattern = LikeExpr::new(format!("%{escaped}%")).escape('\\');
            condition = condition.add(
                Condition::any()
                    .add(
                        Expr::col(Column::RequestMessages)
                            .cast_as(Alias::new("TEXT"))
                            .like(pattern.clone()),
                    )
                    .add(Expr::col(Column::ResponseContent).like(pattern)),
            );
        }
        condition
    }
}

/// One page, newest first, and the number of matching records.
pub async fn page(
    db: &super::Db,
    filter: &LogFilter,
    page: u64,
    page_size: u64,
) -> Result<(u64, Vec<Model>), DbErr> {
    let query = Entity::find().filter(filter.condition());
    let total = query.clone().count(&db.read).await?;
    let rows = query
        .order_by_desc(Column::CallTime)
        .order_by_desc(Column::Id)
        .offset((page.saturating_sub(1)) * page_size)
        .limit(page_size)
        .all(&db.read)
        .await?;
    Ok((total, rows))
}

pub async fn get(db: &super::Db, id: i64) -> Result<Option<Model>, DbErr> {
    Entity::find_by_id(id).one(&db.read).await
}

/// Records matching `filter` with ids below `before`, newest first: the export walks the
/// whole result this way, a bounded batch at a time.
pub async fn batch_before(
    db: &super::Db,
    filter: &LogFilter,
    before: Option<i64>,
    size: u64,
) -> Result<Vec<Model>, DbErr> {
    let mut query = Entity::find().filter(filter.condition());
    if let Some(before) = before {
        query = query.filter(Column::Id.lt(before));
    }
    query
        .order_by_desc(Column::Id)
        .limit(size)
        .all(&db.read)
        .await
}

/// Deletes up to `batch` records older than `cutoff`; returns how many went.
pub async fn purge_before(db: &super::Db, cutoff: DateTime<Utc>, batch: u64) -> Result<u64, DbErr> {
    let oldest = Query::select()
        .column(Column::Id)
        .from(Entity)
        .and_where(Expr::col(Column::CallTime).lt(cutoff))
        .limit(batch)
        .to_owned();
    let delete = Query::delete()
        .from_table(Entity)
        .and_where(Expr::col(Column::Id).in_subquery(oldest))
        .to_owned();
    Ok(db.write.execute(&delete).await?.rows_affected())
}
