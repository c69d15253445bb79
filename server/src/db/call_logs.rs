//! `llm_call_logs`: writing records in batches, and (for admins) reading them.

use std::{
    collections::{HashMap, HashSet},
    sync::LazyLock,
};

use chrono::{DateTime, Utc};
use entity::llm_call_logs::{Column, Entity, Model};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DatabaseBackend, DbErr, DeriveIden, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect, Select,
    sea_query::{
        Alias, Expr, ExprTrait, Func, LikeExpr, Query, SelectStatement, SimpleExpr,
        extension::postgres::PgExpr,
    },
};
use serde::Serialize;
use serde_json::{
    Value,
    value::{RawValue, to_raw_value},
};

use super::{
    Db, first_row, search_index,
    stats::{self, HourKey, Totals},
    usage::{self, DAY, MONTH, Reservation, SettleTotals},
    write_txn::{self, Param, Scripted, WriteTxn},
};
use crate::clock::Period;

/// What the log search looks through, one row per record (migration 000045).
#[derive(DeriveIden, Clone, Copy)]
enum LlmCallLogTexts {
    Table,
    LogId,
    Body,
}

/// SQLite's FTS5 trigram index over `llm_call_log_texts`, keyed by the log id (its rowid).
#[derive(DeriveIden, Clone, Copy)]
enum LlmCallLogSearch {
    Table,
    Body,
}

/// Trigram indexes (FTS5 `trigram`, `pg_trgm`) find substrings of at least this many
/// characters; shorter ones have no trigram to look up.
const TRIGRAM_CHARS: usize = 3;
/// A 1–2 character search reads the text of this many newest records (a bounded scan, since
/// no index helps): a million records' text would take seconds.
const SHORT_SEARCH_RECORDS: i64 = 100_000;

/// Whether a search text is looked up in the trigram index (else its texts are read).
/// SQLite's index is asked with a LIKE pattern in which `%` and `_` are wildcards (see
/// `TextMatch::new`), so there the text needs a run of 3 characters without them.
fn uses_trigrams(text: &str, backend: DatabaseBackend) -> bool {
    match backend {
        DatabaseBackend::Sqlite => text
            .split(['%', '_'])
            .any(|run| run.chars().count() >= TRIGRAM_CHARS),
        _ => text.chars().count() >= TRIGRAM_CHARS,
    }
}

/// How a call ended, as the `status` column says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallStatus {
    Success,
    Error,
    /// The server stopped (its shutdown grace ran out) while the call ran.
    Interrupted,
}

impl CallStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Success => "success",
            Self::Error => "error",
            Self::Interrupted => "interrupted",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        [Self::Success, Self::Error, Self::Interrupted]
            .into_iter()
            .find(|status| status.as_str() == value)
    }
}

/// JSON written out once, where the record is made from typed values (the request's
/// messages and parameters): the writer binds the text as it is, where a `Value` cost its
/// building, its writing out at the bind and its drop (~10k instructions a call).
#[derive(Debug, Clone)]
pub struct JsonText(Box<RawValue>);

impl JsonText {
    pub fn of<T: Serialize + ?Sized>(value: &T) -> Self {
        // Writing out a value in memory fails only for a map with non-string keys, which
        // no record holds; `null` then rather than a lost record.
        Self(to_raw_value(value).unwrap_or_else(|_| RawValue::NULL.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        self.0.get()
    }
}

impl PartialEq for JsonText {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl<'a> From<&'a JsonText> for Param<'a> {
    fn from(json: &'a JsonText) -> Self {
        Param::RawJson(Some(&json.0))
    }
}

/// One call's record, as the relay hands it over.
#[derive(Debug, Clone, PartialEq)]
pub struct NewCallLog {
    pub config_id: Option<i32>,
    pub template_id: Option<i32>,
    pub group_id: Option<i32>,
    pub activation_code: Option<String>,
    pub user_id: Option<i32>,
    pub api_key_id: Option<i32>,
    pub config_name: String,
    pub provider: String,
    pub model: String,
    pub request_messages: JsonText,
    pub request_params: Option<JsonText>,
    /// What the log search looks through (`log_text::search_text` of the messages and the
    /// reply), made with the record from the typed messages.
    pub search_text: String,
    pub response_content: Option<String>,
    pub response_data: Option<Value>,
    pub status: CallStatus,
    pub finish_reason: Option<String>,
    pub upstream_id: Option<String>,
    /// The configs that failed before the answering one (fallbacks), as JSON.
    pub fallback_attempts: Option<Value>,
    pub error_code: Option<String>,
    pub error_message: Option<String>,
    pub prompt_tokens: Option<i32>,
    pub completion_tokens: Option<i32>,
    pub tokens_estimated: bool,
    pub cost: f64,
    /// `cost` in the group's budget currency, and the factor it was converted at.
    pub charged: Option<f64>,
    pub exchange_rate: Option<f64>,
    /// What `cost` is in: the config's currency.
    pub currency: String,
    pub retry_count: i32,
    pub is_stream: bool,
    pub call_time: DateTime<Utc>,
    pub duration_ms: i32,
    /// The local calendar of `call_time`: the day, month and hour the call counts in.
    pub period: Period,
    /// Tokens reserved at admission, released by this record.
    pub reservation: Option<Reservation>,
}

impl NewCallLog {
    pub fn tokens_used(&self) -> Option<i32> {
        match (self.prompt_tokens, self.completion_tokens) {
            (None, None) => None,
            (prompt, completion) => Some(prompt.unwrap_or(0) + completion.unwrap_or(0)),
        }
    }

    /// The answer as it is stored (see `leave_out_reply`). The recorder does this on the
    /// call's own task before handing the record over, so the one writer does not copy the
    /// answer to strip it; a record written without it is stored with its answer whole.
    pub fn store_reply_once(&mut self) {
        if let Some(data) = self.response_data.as_mut() {
            leave_out_reply(data, self.response_content.as_deref());
        }
    }

    /// About how much this record adds to SQLite's log, in short records: one, and one
    /// more per 4 KiB of its text (`Db::wrote`).
    fn log_weight(&self) -> u64 {
        let text = self.request_messages.as_str().len() + self.search_text.len();
        1 + (text / 4096) as u64
    }

    /// The row's parameters, in the order of `log_values!`'s.
    fn params(&self) -> [Param<'_>; LOG_PARAMS] {
        [
            self.config_id.into(),
            self.template_id.into(),
            self.group_id.into(),
            self.user_id.into(),
            self.activation_code.as_deref().into(),
            self.config_name.as_str().into(),
            self.provider.as_str().into(),
            self.model.as_str().into(),
            (&self.request_messages).into(),
            self.request_params
                .as_ref()
                .map_or(Param::RawJson(None), Param::from),
            self.response_content.as_deref().into(),
            self.response_data.as_ref().into(),
            self.status.as_str().into(),
            self.finish_reason.as_deref().into(),
            self.upstream_id.as_deref().into(),
            self.fallback_attempts.as_ref().into(),
            self.error_code.as_deref().into(),
            self.error_message.as_deref().into(),
            self.tokens_used().into(),
            self.prompt_tokens.into(),
            self.completion_tokens.into(),
            self.tokens_estimated.into(),
            self.cost.into(),
            self.charged.into(),
            self.exchange_rate.into(),
            self.currency.as_str().into(),
            self.retry_count.into(),
            self.is_stream.into(),
            self.call_time.into(),
            self.duration_ms.into(),
            self.api_key_id.into(),
        ]
    }
}

/// Where upstream answers (and the stream's assembly, `Assembly::record`) carry the reply
/// text that the record also holds as `response_content`.
const REPLY_AT: [&str; 7] = [
    "/choices/0/message/content",
    "/text",
    "/aggregated_from_stream/text",
    "/content/0/text",
    "/output/text",
    "/output/choices/0/message/content",
    "/result",
];

/// The key a stored answer has in place of its reply text: where to put it back.
const REPLY_MARK: &str = "$response_content_at";

/// Makes `data` the answer as stored: its reply text, when it is `response_content` word for
/// word, is not written twice. `with_reply` puts it back, so the log detail shows the answer
/// whole. Applying it again changes nothing.
fn leave_out_reply(data: &mut Value, reply: Option<&str>) {
    let Some(reply) = reply.filter(|reply| !reply.is_empty()) else {
        return;
    };
    if data.get(REPLY_MARK).is_some() {
        return;
    }
    let Some(at) = REPLY_AT
        .iter()
        .find(|at| step_to(data, at).and_then(Value::as_str) == Some(reply))
    else {
        return;
    };
    let Some((parent, key)) = at.rsplit_once('/') else {
        return;
    };
    if let Some(parent) = step_to_mut(data, parent).and_then(Value::as_object_mut) {
        parent.remove(key);
    }
    if let Some(map) = data.as_object_mut() {
        map.insert(REPLY_MARK.into(), Value::from(*at));
    }
}

/// A record as read: its answer whole again (see `leave_out_reply`).
fn with_reply(mut row: Model) -> Model {
    if let Some(data) = row.response_data.as_mut() {
        put_reply_back(data, row.response_content.as_deref());
    }
    row
}

fn put_reply_back(data: &mut Value, reply: Option<&str>) {
    let Some(Value::String(at)) = data.as_object_mut().and_then(|map| map.remove(REPLY_MARK))
    else {
        return;
    };
    if let (Some((parent, key)), Some(reply)) = (at.rsplit_once('/'), reply)
        && let Some(parent) = step_to_mut(data, parent).and_then(Value::as_object_mut)
    {
        parent.insert(key.into(), Value::from(reply));
    }
}

/// `Value::pointer` for the plain paths of `REPLY_AT` (no `~` escapes), without the string
/// it allocates per step (~10k instructions a call across the paths tried).
fn step_to<'a>(data: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('/').skip(1).try_fold(data, |at, step| match at {
        Value::Object(map) => map.get(step),
        Value::Array(items) => items.get(step.parse::<usize>().ok()?),
        _ => None,
    })
}

fn step_to_mut<'a>(data: &'a mut Value, path: &str) -> Option<&'a mut Value> {
    path.split('/').skip(1).try_fold(data, |at, step| match at {
        Value::Object(map) => map.get_mut(step),
        Value::Array(items) => items.get_mut(step.parse::<usize>().ok()?),
        _ => None,
    })
}

/// A record's columns. The writer's statements are fixed texts, so each connection prepares
/// them once and reuses them: nothing is built per call.
macro_rules! log_columns {
    () => {
        "config_id, template_id, group_id, user_id, activation_code, config_name, provider,
model, request_messages, request_params, response_content, response_data, status,
finish_reason, upstream_id, fallback_attempts, error_code, error_message, tokens_used,
prompt_tokens, completion_tokens, tokens_estimated, cost, charged, exchange_rate, currency,
retry_count, is_stream, call_time, duration_ms, api_key_id, api_key_name"
    };
}

/// One record's values, in the order of [`NewCallLog::params`].
///
/// A reference to a config, template, group, user or API key is looked up as the row is
/// written: one deleted while the call ran becomes NULL (the snapshot of its name stays)
/// instead of failing the record. The API key's name is copied here from the same row (the
/// relay only knows the key's id), so records keep it after the key is deleted; a key
/// deleted while its call ran leaves both NULL.
macro_rules! log_values {
    () => {
        r#"(SELECT id FROM llm_configs WHERE id = $1),
(SELECT id FROM llm_prompt_templates WHERE id = $2), (SELECT id FROM "groups" WHERE id = $3),
(SELECT id FROM users WHERE id = $4), $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16,
$17, $18, $19, $20, $21, $22, $23, $24, $25, $26, $27, $28, $29, $30,
(SELECT id FROM api_keys WHERE id = $31), (SELECT name FROM api_keys WHERE id = $31)"#
    };
}

/// One record (SQLite's script for a record written alone).
const INSERT_LOG: &str = concat!(
    "INSERT INTO llm_call_logs (",
    log_columns!(),
    ")\nVALUES (",
    log_values!(),
    ")"
);
const LOG_PARAMS: usize = 31;

/// Records and their search texts go in with few statements, a batch cut into these sizes,
/// each statement text fixed (and prepared once): one statement per record cost a round trip
/// to the database each, and SQLite's FTS5 index (fed by a trigger) flushes its pending
/// entries at the end of every statement, so one text per statement made a batch of 50 cost
/// twice the CPU.
const CHUNKS: [usize; 7] = [64, 32, 16, 8, 4, 2, 1];

/// `items` cut into the `CHUNKS` sizes, largest first, each with its statement.
fn chunked<'a, T>(
    mut items: &'a [T],
    statements: &'static [String],
) -> impl Iterator<Item = (&'a [T], &'static str)> {
    std::iter::from_fn(move || {
        let (size, statement) = CHUNKS
            .iter()
            .zip(statements)
            .find(|(size, _)| **size <= items.len())?;
        let (now, rest) = items.split_at(*size);
        items = rest;
        Some((now, statement.as_str()))
    })
}

/// `head VALUES tuple, tuple, …` for each of the `CHUNKS` sizes.
fn multi_row(head: &str, tuple: &str, per_row: usize) -> Vec<String> {
    CHUNKS
        .iter()
        .map(|&rows| {
            format!(
                "{head} VALUES {}",
                write_txn::values_rows(tuple, per_row, rows)
            )
        })
        .collect()
}

/// SQLite numbers the rows of one statement itself; PostgreSQL takes each record's id (drawn
/// beforehand, see `insert_logs`) as its last parameter.
static INSERT_LOGS_SQLITE: LazyLock<Vec<String>> = LazyLock::new(|| {
    multi_row(
        concat!("INSERT INTO llm_call_logs (", log_columns!(), ")"),
        concat!("(", log_values!(), ")"),
        LOG_PARAMS,
    )
});
static INSERT_LOGS_POSTGRES: LazyLock<Vec<String>> = LazyLock::new(|| {
    multi_row(
        concat!("INSERT INTO llm_call_logs (", log_columns!(), ", id)"),
        concat!("(", log_values!(), ", $32)"),
        LOG_PARAMS + 1,
    )
});
const DRAW_LOG_IDS: &str =
    "SELECT nextval(pg_get_serial_sequence('llm_call_logs', 'id')) FROM generate_series(1, $1)";

static INSERT_TEXTS: LazyLock<Vec<String>> = LazyLock::new(|| {
    multi_row(
        "INSERT INTO llm_call_log_texts (log_id, body)",
        "($1, $2)",
        2,
    )
});

/// Inserts the rows inside the caller's transaction and returns their ids, in order.
/// In the same transaction, the group counters and hourly statistics take the rows'
/// totals and their reservations (and the `released` ones of calls that ended without a
/// record) are given back, so counters and records never disagree.
///
/// The records' searchable text goes in with them: a record is never found by text it no
/// longer has, nor missing from the search once committed. Deleting a record removes its
/// text (a trigger on SQLite, `ON DELETE CASCADE` on PostgreSQL). Once committed, the
/// background checkpoint is told what was written (`Db::wrote`).
pub async fn insert_batch(
    db: &Db,
    rows: &[NewCallLog],
    released: &[Reservation],
) -> Result<Vec<i64>, DbErr> {
    let ids = if let [row] = rows
        && db.is_sqlite()
        && released.is_empty()
    {
        vec![insert_alone(db, row).await?]
    } else {
        insert_together(db, rows, released).await?
    };
    db.wrote(rows.iter().map(NewCallLog::log_weight).sum());
    Ok(ids)
}

/// `insert_batch`'s one transaction for several records, or for records with reservations
/// to give back.
async fn insert_together(
    db: &Db,
    rows: &[NewCallLog],
    released: &[Reservation],
) -> Result<Vec<i64>, DbErr> {
    let mut txn = WriteTxn::begin(db).await?;
    let ids = insert_logs(&mut txn, rows).await?;
    insert_texts(&mut txn, &ids, rows).await?;
    let mut totals = group_totals(rows);
    let reservations: Vec<i64> = rows
        .iter()
        .filter_map(|row| row.reservation.as_ref())
        .chain(released)
        .map(|reservation| reservation.id)
        .collect();
    usage::take_reservations(&mut txn, &reservations, &mut totals).await?;
    usage::settle(&mut txn, totals).await?;
    stats::add(&mut txn, hourly_totals(rows)).await?;
    txn.commit().await?;
    Ok(ids)
}

async fn insert_texts(txn: &mut WriteTxn, ids: &[i64], rows: &[NewCallLog]) -> Result<(), DbErr> {
    let texts: Vec<(i64, &str)> = ids
        .iter()
        .zip(rows)
        .map(|(id, row)| (*id, row.search_text.as_str()))
        .filter(|(_, body)| !body.is_empty())
        .collect();
    for (chunk, sql) in chunked(&texts, &INSERT_TEXTS) {
        let params: Vec<Param<'_>> = chunk
            .iter()
            .flat_map(|(id, body)| [(*id).into(), (*body).into()])
            .collect();
        txn.execute(sql, &params).await?;
    }
    Ok(())
}

/// The records' ids, in order. SQLite gives the rows of one statement consecutive rowids
/// (an AUTOINCREMENT table's next rowid is one above the largest it ever held), so the last
/// names them all. PostgreSQL does not promise that a multi-row insert's `RETURNING` keeps
/// the rows' order, so there the ids are drawn from the sequence first and inserted with the
/// records.
async fn insert_logs(txn: &mut WriteTxn, rows: &[NewCallLog]) -> Result<Vec<i64>, DbErr> {
    let mut ids = Vec::with_capacity(rows.len());
    if txn.is_sqlite() {
        for (chunk, sql) in chunked(rows, &INSERT_LOGS_SQLITE) {
            let params: Vec<Param<'_>> = chunk.iter().flat_map(NewCallLog::params).collect();
            let last = txn.insert_last_rowid(sql, &params).await?;
            let first = last + 1 - chunk.len() as i64;
            ids.extend(first..=last);
        }
        return Ok(ids);
    }
    let count = i64::try_from(rows.len()).map_err(|err| DbErr::Custom(err.to_string()))?;
    for row in txn.fetch_all(DRAW_LOG_IDS, &[count.into()]).await? {
        ids.push(row.get(0)?);
    }
    let records: Vec<(&NewCallLog, i64)> = rows.iter().zip(ids.iter().copied()).collect();
    for (chunk, sql) in chunked(&records, &INSERT_LOGS_POSTGRES) {
        let params: Vec<Param<'_>> = chunk
            .iter()
            .flat_map(|(row, id)| row.params().into_iter().chain([(*id).into()]))
            .collect();
        txn.execute(sql, &params).await?;
    }
    Ok(ids)
}

/// SQLite: a record committed alone (no other record waited, no other reservation to give
/// back) goes in with one script from `BEGIN` to `COMMIT`, so one round trip to SQLite's
/// worker thread instead of one per statement: each trip wakes that thread and the caller's
/// task again, about 30 µs a trip at c=1. The same statements as `insert_batch`'s. A record
/// that gives back its reservation takes two: the counters can release only what the
/// reservation's delete took (a sweep may have taken it already), so the first script ends
/// with that delete and the second settles and commits.
async fn insert_alone(db: &Db, row: &NewCallLog) -> Result<i64, DbErr> {
    let mut params = row.params().to_vec();
    params.push(row.search_text.as_str().into());
    let mut settles = group_totals(std::slice::from_ref(row));
    let mut conn = Scripted::acquire(db).await?;
    let (id, settling) = match &row.reservation {
        Some(reservation) => {
            params.push(reservation.id.into());
            let done = conn.run(&ALONE_RELEASING, &params).await?;
            usage::add_released(usage::reservations_of(&done.rows)?, &mut settles);
            params.clear();
            (Some(done.inserted_by(RECORD_INSERT)?), &SETTLED)
        }
        None => (None, &ALONE),
    };
    let hours = hourly_totals(std::slice::from_ref(row));
    for (key, settled) in &settles {
        params.extend(usage::settle_params(key, settled));
    }
    for (key, (config_name, totals)) in &hours {
        params.extend(stats::add_params(key, config_name, totals));
    }
    // A record and its reservation add to at most four counters (their days and months).
    let script = settling
        .get(settles.len())
        .ok_or_else(|| DbErr::Custom(format!("{} counters for one record", settles.len())))?;
    let done = conn.run(script, &params).await?;
    match id {
        Some(id) => Ok(id),
        None => done.inserted_by(RECORD_INSERT),
    }
}

/// A record alone: it and its search text (none when empty, as in `insert_texts`).
const RECORD_ALONE: [&str; 2] = [
    INSERT_LOG,
    "INSERT INTO llm_call_log_texts (log_id, body) SELECT last_insert_rowid(), $1 WHERE $1 <> ''",
];

/// Where the record's insert is in the first script `insert_alone` runs (after `BEGIN`).
const RECORD_INSERT: usize = 1;

/// The end of `insert_alone`'s transaction for `counters` group counters: the counters, the
/// record's hour's statistics, `COMMIT`.
fn settled(counters: usize) -> Vec<&'static str> {
    let mut statements = vec![usage::SETTLE; counters];
    statements.extend([stats::ADD, "COMMIT"]);
    statements
}

/// A record without a reservation, by the number of its group's counters (none without a
/// group, else its day and month).
static ALONE: LazyLock<Vec<String>> = LazyLock::new(|| {
    (0..=2)
        .map(|counters| {
            write_txn::script(&[&["BEGIN"], &RECORD_ALONE[..], &settled(counters)].concat())
        })
        .collect()
});

/// A record that gives back its reservation: up to the reservation's delete, then `SETTLED`
/// for the counters the record and what the delete took add up to.
static ALONE_RELEASING: LazyLock<String> = LazyLock::new(|| {
    write_txn::script(&[&["BEGIN"], &RECORD_ALONE[..], &[usage::TAKE_RESERVATION]].concat())
});
static SETTLED: LazyLock<Vec<String>> = LazyLock::new(|| {
    (0..=4)
        .map(|counters| write_txn::script(&settled(counters)))
        .collect()
});

fn totals_of(row: &NewCallLog) -> Totals {
    Totals {
        calls: 1,
        success_calls: i64::from(row.status == CallStatus::Success),
        prompt_tokens: i64::from(row.prompt_tokens.unwrap_or(0)),
        completion_tokens: i64::from(row.completion_tokens.unwrap_or(0)),
        cost: row.cost,
        duration_ms_sum: i64::from(row.duration_ms),
    }
}

/// What the rows add to their groups' counters (their reservations are taken separately).
fn group_totals(rows: &[NewCallLog]) -> SettleTotals {
    let mut out = SettleTotals::new();
    for row in rows {
        let Some(group_id) = row.group_id else {
            continue;
        };
        let tokens = i64::from(row.tokens_used().unwrap_or(0));
        for (period, key) in [(DAY, &row.period.day), (MONTH, &row.period.month)] {
            let entry = out.entry((group_id, period, key.clone())).or_default();
            entry.tokens += tokens;
            entry.calls += 1;
            entry.spent += row.charged.unwrap_or(0.0);
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
            currency: row.currency.clone(),
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
    pub api_key_id: Option<i32>,
    pub status: Option<CallStatus>,
    /// Inclusive.
    pub from: Option<DateTime<Utc>>,
    /// Exclusive.
    pub until: Option<DateTime<Utc>>,
    /// Text searched in the request messages and the response.
    pub text: Option<String>,
}

impl LogFilter {
    fn condition(&self, backend: DatabaseBackend) -> Condition {
        let condition = self.condition_without_text();
        match &self.text {
            Some(text) => condition.add(Column::Id.in_subquery(TextMatch::new(text, backend).ids)),
            None => condition,
        }
    }

    /// Every filter but the text search.
    fn condition_without_text(&self) -> Condition {
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
        if let Some(id) = self.api_key_id {
            condition = condition.add(Column::ApiKeyId.eq(id));
        }
        if let Some(status) = self.status {
            condition = condition.add(Column::Status.eq(status.as_str()));
            if status != CallStatus::Success {
                // Implied, but said: a planner uses a partial index only when the query
                // states its predicate, and the indexes by status (alone, with a group, with
                // a config) hold only the calls that did not succeed (migration 000052).
                condition = condition.add(Column::Status.ne(CallStatus::Success.as_str()));
            }
        }
        if let Some(from) = self.from {
            condition = condition.add(Column::CallTime.gte(from));
        }
        if let Some(until) = self.until {
            condition = condition.add(Column::CallTime.lt(until));
        }
        condition
    }
}

/// The records whose text (messages and reply, see `log_text::search_text`) contains a
/// text, case-insensitively (SQLite's LIKE: Latin letters only). 3+ characters (see
/// `uses_trigrams`): through the trigram index. Shorter: a substring scan of the newest
/// `SHORT_SEARCH_RECORDS` records' text only.
struct TextMatch {
    /// `SELECT <record id> FROM <index or texts> WHERE <the text matches>`.
    ids: SelectStatement,
    /// The record id in `ids`' table (`rowid` of the FTS index, or `log_id`).
    id: Expr,
}

impl TextMatch {
    fn new(text: &str, backend: DatabaseBackend) -> Self {
        let body = || Expr::col((LlmCallLogTexts::Table, LlmCallLogTexts::Body));
        let log_id = Expr::col((LlmCallLogTexts::Table, LlmCallLogTexts::LogId));
        let mut ids = Query::select();
        if uses_trigrams(text, backend) {
            if backend == DatabaseBackend::Sqlite {
                let rowid = Expr::cust("llm_call_log_search.rowid");
                let indexed = || Expr::col((LlmCallLogSearch::Table, LlmCallLogSearch::Body));
                ids.expr(rowid.clone())
                    .from(LlmCallLogSearch::Table)
                    // FTS5 takes only a LIKE without ESCAPE (the text's `%` and `_` then
                    // wildcards): its index (`detail=none`, migration 000057) yields the
                    // records holding every trigram of the text, which SQLite reads and
                    // keeps if they hold the text itself, by this LIKE and the next one.
                    .and_where(indexed().like(LikeExpr::new(format!("%{text}%"))))
                    .and_where(indexed().like(contains(text)));
                return Self { ids, id: rowid };
            }
            ids.expr(log_id.clone())
                .from(LlmCallLogTexts::Table)
                .and_where(body().ilike(ilike_contains(text)));
            return Self { ids, id: log_id };
        }
        ids.expr(log_id.clone())
            .from(LlmCallLogTexts::Table)
            .and_where(log_id.clone().gt(short_search_start()))
            .and_where(match backend {
                // SQLite's LIKE ignores ASCII case already.
                DatabaseBackend::Sqlite => body().like(contains(text)),
                _ => body().ilike(ilike_contains(text)),
            });
        Self { ids, id: log_id }
    }

    /// The matching records that also pass `condition`: the text's index drives, and each
    /// match's record is looked up by id, so a `LIMIT` stops the walk early (`id IN (…)`
    /// would collect every match first).
    fn records(self, condition: Condition) -> SelectStatement {
        let mut select = self.ids;
        select
            .inner_join(Entity, Expr::col((Entity, Column::Id)).eq(self.id))
            .cond_where(condition);
        select
    }

    /// The matches with ids in `low..=high`.
    fn between(&self, low: i64, high: i64) -> SelectStatement {
        let mut select = self.ids.clone();
        select.and_where(self.id.clone().between(low, high));
        select
    }

    /// The matches among these ids.
    fn among(&self, ids: &[i64]) -> SelectStatement {
        let mut select = self.ids.clone();
        select.and_where(self.id.clone().is_in(ids.iter().copied()));
        select
    }
}

/// `%text%` for LIKE, where `%`, `_` and `\` typed by the admin are literal characters.
fn contains(text: &str) -> LikeExpr {
    LikeExpr::new(escaped_contains(text)).escape('\\')
}

/// The same for ILIKE: backslash is PostgreSQL's default escape character, so no ESCAPE
/// clause (sea-query would wrap `$1 ESCAPE …` in parentheses after ILIKE, which is invalid).
fn ilike_contains(text: &str) -> LikeExpr {
    LikeExpr::new(escaped_contains(text))
}

fn escaped_contains(text: &str) -> String {
    let escaped = text
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}

/// Counting stops after this many matching records (at least; see `MatchCount`): beyond
/// it an exact number costs a walk over every match (seconds on a million records) and
/// tells an admin nothing a "10,000+" does not.
const COUNT_LIMIT: u64 = 10_000;

/// A text search is "broad" when more records than this contain the text: its page is then
/// found by walking the records in page order (`broad_text_page`) instead of collecting
/// every match and sorting them.
const BROAD_TEXT_MATCHES: u64 = COUNT_LIMIT;

/// The broad text search walks the filtered records in page order this many at a time and
/// asks the text index which of them match (one id range per batch).
const WALK_BATCH: u64 = 2_000;

/// A text search sees every record committed before it: SQLite's index first takes the
/// texts it does not hold yet (it takes them in batches, see `search_index`). Searches of
/// 1–2 characters read the texts themselves.
async fn catch_up_for(db: &Db, filter: &LogFilter) -> Result<(), DbErr> {
    if filter
        .text
        .as_deref()
        .is_some_and(|text| uses_trigrams(text, db.backend()))
    {
        search_index::catch_up(db).await?;
    }
    Ok(())
}

/// How many records match a search.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MatchCount {
    /// Exact when `at_least` is false; otherwise a lower bound (more records match).
    pub total: u64,
    pub at_least: bool,
}

/// One page, newest first, and how many records match: exact up to `COUNT_LIMIT` or up
/// to this page's end, whichever is more, so that "is there a next page" always has an
/// answer.
pub async fn page(
    db: &Db,
    filter: &LogFilter,
    page: u64,
    page_size: u64,
) -> Result<(MatchCount, Vec<Model>), DbErr> {
    catch_up_for(db, filter).await?;
    let backend = db.backend();
    let offset = page.saturating_sub(1) * page_size;
    let bound = Ord::max(COUNT_LIMIT, offset + page_size);
    let count = count_up_to(db, filter, bound + 1).await?;
    let matches = MatchCount {
        total: Ord::min(count, bound),
        at_least: count > bound,
    };
    let broad = match &filter.text {
        // More records than that pass every filter: the text alone matches more still.
        Some(_) if count > BROAD_TEXT_MATCHES => true,
        Some(text) => {
            let text_only = TextMatch::new(text, backend)
                .ids
                .limit(BROAD_TEXT_MATCHES + 1)
                .to_owned();
            count_rows(db, text_only).await? > BROAD_TEXT_MATCHES
        }
        None => false,
    };
    let ids = match (&filter.text, broad) {
        (Some(text), true) => broad_text_page(db, filter, text, offset, page_size).await?,
        _ => {
            ids_in_page_order(filter, backend)
                .offset(offset)
                .limit(page_size)
                .into_tuple()
                .all(&db.read)
                .await?
        }
    };
    Ok((matches, in_page_order(db, ids).await?))
}

/// The ids of the records matching `filter`, newest first.
fn ids_in_page_order(filter: &LogFilter, backend: DatabaseBackend) -> Select<Entity> {
    Entity::find()
        .select_only()
        .column(Column::Id)
        .filter(filter.condition(backend))
        .order_by_desc(Column::CallTime)
        .order_by_desc(Column::Id)
}

/// The records with these ids, newest first. A page's ids are found first (from an index
/// alone where one holds the filtered columns), so the records an offset skips are never
/// read whole.
async fn in_page_order(db: &Db, ids: Vec<i64>) -> Result<Vec<Model>, DbErr> {
    let rows = Entity::find()
        .filter(Column::Id.is_in(ids))
        .order_by_desc(Column::CallTime)
        .order_by_desc(Column::Id)
        .all(&db.read)
        .await?;
    Ok(rows.into_iter().map(with_reply).collect())
}

/// How many records match `filter`, counting no further than `limit`.
async fn count_up_to(db: &Db, filter: &LogFilter, limit: u64) -> Result<u64, DbErr> {
    let mut matching = match &filter.text {
        Some(text) if !uses_trigrams(text, db.backend()) => {
            // A short search reads the newest records' texts only (see `TextMatch`): said of
            // the records too, so that the planners know it. Else PostgreSQL merge-joined the
            // window's texts with every record from the oldest (0.5 s on a million records)
            // and SQLite walked a filter's index from its oldest entry.
            let condition = filter
                .condition_without_text()
                .add(Expr::col((Entity, Column::Id)).gt(short_search_start()));
            TextMatch::new(text, db.backend()).records(condition)
        }
        Some(text) => TextMatch::new(text, db.backend()).records(filter.condition_without_text()),
        None => Query::select()
            .expr(Expr::val(1))
            .from(Entity)
            .cond_where(filter.condition_without_text())
            .to_owned(),
    };
    count_rows(db, matching.limit(limit).to_owned()).await
}

/// The id after which a 1–2 character search reads the texts: the newest
/// `SHORT_SEARCH_RECORDS` records.
fn short_search_start() -> Expr {
    let newest = Query::select()
        .expr(Func::max(Expr::col(Column::Id)))
        .from(Entity)
        .to_owned();
    SimpleExpr::SubQuery(None, Box::new(newest.into())).sub(SHORT_SEARCH_RECORDS)
}

/// The number of rows `select` gives.
async fn count_rows(db: &Db, select: SelectStatement) -> Result<u64, DbErr> {
    let count = Query::select()
        .expr(Expr::cust("COUNT(*)").cast_as(Alias::new("BIGINT")))
        .from_subquery(select, Alias::new("matching"))
        .to_owned();
    let row = db
        .read
        .query_one(&count)
        .await?
        .ok_or_else(|| DbErr::RecordNotFound("COUNT(*)".into()))?;
    let count: i64 = row.try_get_by_index(0)?;
    Ok(u64::try_from(count).unwrap_or(0))
}

/// The page's ids for a text found in many records: the records passing the other filters are
/// read in page order (their index, newest first, ids and times only) a batch at a time,
/// and the text search says which of a batch match. The walk stops once the page is full,
/// so it reads about `(offset + page_size) / share of matches` records, not every match.
/// Same rows, same order as `id IN (…)` sorted.
///
/// A search that reads the texts (ILIKE or LIKE) is asked for the batch's ids: their id
/// range holds every record between them, five times the batch with a config filter. SQLite's
/// FTS5 index is asked for the range instead: it reads no text, only a range of its entries,
/// while an id list is one search per id (2,000 ids ~180 ms, their range ~1 ms).
async fn broad_text_page(
    db: &Db,
    filter: &LogFilter,
    text: &str,
    offset: u64,
    page_size: u64,
) -> Result<Vec<i64>, DbErr> {
    let wanted = usize::try_from(offset + page_size).unwrap_or(usize::MAX);
    let mut found: Vec<i64> = Vec::new();
    let mut after: Option<(DateTime<Utc>, i64)> = None;
    let text_match = TextMatch::new(text, db.backend());
    let by_range = db.backend() == DatabaseBackend::Sqlite && uses_trigrams(text, db.backend());
    while found.len() < wanted {
        let mut condition = filter.condition_without_text();
        if let Some((time, id)) = after {
            condition = condition.add(
                Condition::any().add(Column::CallTime.lt(time)).add(
                    Condition::all()
                        .add(Column::CallTime.eq(time))
                        .add(Column::Id.lt(id)),
                ),
            );
        }
        let batch: Vec<(i64, DateTime<Utc>)> = Entity::find()
            .select_only()
            .column(Column::Id)
            .column(Column::CallTime)
            .filter(condition)
            .order_by_desc(Column::CallTime)
            .order_by_desc(Column::Id)
            .limit(WALK_BATCH)
            .into_tuple()
            .all(&db.read)
            .await?;
        let ids: Vec<i64> = batch.iter().map(|(id, _)| *id).collect();
        let (Some(&low), Some(&high), Some(&(last_id, last_time))) =
            (ids.iter().min(), ids.iter().max(), batch.last())
        else {
            break;
        };
        let matches = if by_range {
            text_match.between(low, high)
        } else {
            text_match.among(&ids)
        };
        let matching: HashSet<i64> = db
            .read
            .query_all(&matches)
            .await?
            .iter()
            .map(|row| row.try_get_by_index(0))
            .collect::<Result<_, _>>()?;
        found.extend(ids.into_iter().filter(|id| matching.contains(id)));
        after = Some((last_time, last_id));
    }
    let start = Ord::min(usize::try_from(offset).unwrap_or(usize::MAX), found.len());
    Ok(found.drain(start..).take(wanted - start).collect())
}

/// The totals of every record matching `filter`, one line per currency: what the log
/// page's cards show, so they always agree with its table.
pub async fn totals(db: &Db, filter: &LogFilter) -> Result<Vec<(String, Totals)>, DbErr> {
    catch_up_for(db, filter).await?;
    // SUM is numeric on PostgreSQL: cast back so both databases give i64.
    let sum = |expr: SimpleExpr| {
        Func::coalesce([Expr::from(Func::sum(expr)), Expr::val(0)]).cast_as(Alias::new("BIGINT"))
    };
    let rows = Entity::find()
        .filter(filter.condition(db.backend()))
        .select_only()
        .column(Column::Currency)
        .column_as(
            Expr::col(Column::Id).count().cast_as(Alias::new("BIGINT")),
            "calls",
        )
        .column_as(
            sum(Expr::cust("CASE WHEN status = 'success' THEN 1 ELSE 0 END")),
            "success_calls",
        )
        .column_as(sum(Expr::col(Column::PromptTokens)), "prompt_tokens")
        .column_as(
            sum(Expr::col(Column::CompletionTokens)),
            "completion_tokens",
        )
        .column_as(sum(Expr::col(Column::DurationMs)), "duration_ms_sum")
        .column_as(
            Expr::from(Func::coalesce([
                Expr::from(Func::sum(Expr::col(Column::Cost))),
                Expr::val(0.0),
            ])),
            "cost",
        )
        .group_by(Column::Currency)
        .into_tuple::<(String, i64, i64, i64, i64, i64, f64)>()
        .all(&db.read)
        .await?;
    Ok(rows
        .into_iter()
        .map(
            |(currency, calls, success, prompt, completion, duration, cost)| {
                let totals = Totals {
                    calls,
                    success_calls: success,
                    prompt_tokens: prompt,
                    completion_tokens: completion,
                    cost,
                    duration_ms_sum: duration,
                };
                (currency, totals)
            },
        )
        .collect())
}

pub async fn get(db: &Db, id: i64) -> Result<Option<Model>, DbErr> {
    Ok(first_row(Entity::find_by_id(id), &db.read)
        .await?
        .map(with_reply))
}

/// Records matching `filter` with ids below `before`, newest first: the export walks the
/// whole result this way, a bounded batch at a time.
pub async fn batch_before(
    db: &Db,
    filter: &LogFilter,
    before: Option<i64>,
    size: u64,
) -> Result<Vec<Model>, DbErr> {
    let mut query = Entity::find().filter(filter.condition(db.backend()));
    match before {
        // Once per walk: later batches read only ids below the first one's, all older than
        // anything a catch-up could add.
        None => catch_up_for(db, filter).await?,
        Some(before) => query = query.filter(Column::Id.lt(before)),
    }
    let rows = query
        .order_by_desc(Column::Id)
        .limit(size)
        .all(&db.read)
        .await?;
    Ok(rows.into_iter().map(with_reply).collect())
}

/// Deletes up to `batch` records older than `cutoff`; returns how many went.
pub async fn purge_before(db: &Db, cutoff: DateTime<Utc>, batch: u64) -> Result<u64, DbErr> {
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

/// One config's calls and failed calls in a window, for the error-rate alert.
#[derive(Debug, Clone, PartialEq, Eq, sea_orm::FromQueryResult)]
pub struct ConfigErrors {
    pub config_id: i32,
    pub config_name: String,
    pub calls: i64,
    pub errors: i64,
}

/// Per config, the calls recorded since `since` and how many failed (`error`; a call the
/// server interrupted at shutdown is not the upstream's failure). Counted from the records,
/// so every instance sharing the database sees the same rate.
pub async fn errors_since(db: &Db, since: DateTime<Utc>) -> Result<Vec<ConfigErrors>, DbErr> {
    let failed = Expr::case(Expr::col(Column::Status).eq(CallStatus::Error.as_str()), 1).finally(0);
    let query = Query::select()
        .column(Column::ConfigId)
        .expr_as(
            Func::max(Expr::col(Column::ConfigName)),
            Alias::new("config_name"),
        )
        .expr_as(Func::count(Expr::col(Column::Id)), Alias::new("calls"))
        .expr_as(Func::sum(failed), Alias::new("errors"))
        .from(Entity)
        .and_where(Expr::col(Column::CallTime).gte(since))
        .and_where(Expr::col(Column::ConfigId).is_not_null())
        .group_by_col(Column::ConfigId)
        .to_owned();
    let backend = db.read.get_database_backend();
    <ConfigErrors as sea_orm::FromQueryResult>::find_by_statement(backend.build(&query))
        .all(&db.read)
        .await
}

/// A successful record of a call that asked `question` and got `answer`, for tests.
#[cfg(test)]
pub(crate) fn sample(question: &str, answer: &str) -> NewCallLog {
    NewCallLog {
        config_id: None,
        template_id: None,
        group_id: None,
        activation_code: None,
        user_id: None,
        api_key_id: None,
        config_name: "c".into(),
        provider: "openai".into(),
        model: "m".into(),
        request_messages: JsonText::of(&serde_json::json!([{"role": "user", "content": question}])),
        request_params: None,
        search_text: crate::log_text::search_text([question.into()], Some(answer)),
        response_content: Some(answer.into()),
        response_data: None,
        status: CallStatus::Success,
        finish_reason: None,
        upstream_id: None,
        fallback_attempts: None,
        error_code: None,
        error_message: None,
        prompt_tokens: Some(1),
        completion_tokens: Some(1),
        tokens_estimated: false,
        cost: 0.0,
        charged: None,
        exchange_rate: None,
        currency: "CNY".into(),
        retry_count: 0,
        is_stream: false,
        call_time: Utc::now(),
        duration_ms: 1,
        period: Period {
            day: "2026-11-30".into(),
            month: "2026-11".into(),
            hour: "2026-11-30 12".into(),
            hour_of_day: 12,
        },
        reservation: None,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use sea_orm::{
        ConnectionTrait, DatabaseBackend, EntityTrait, PaginatorTrait, QueryFilter, QuerySelect,
        QueryTrait, Statement,
    };
    use serde_json::json;

    use super::{
        CallStatus, Entity, INSERT_LOG, JsonText, LogFilter, NewCallLog, Period, REPLY_AT,
        ids_in_page_order, insert_batch, leave_out_reply, put_reply_back, sample, usage,
    };

    /// SQLite writes a record without building a temporary B-tree for its `status` check
    /// (migration 000058: a CHECK's `IN` list of three values built one per row), and the
    /// check still refuses any other status.
    #[tokio::test]
    async fn sqlite_checks_a_records_status_without_a_temporary_table() {
        let (db, _dir) = crate::db::temporary_sqlite().await;
        let plan = db
            .read
            .query_all_raw(Statement::from_string(
                DatabaseBackend::Sqlite,
                format!("EXPLAIN {INSERT_LOG}"),
            ))
            .await
            .unwrap();
        let opcodes: Vec<String> = plan
            .iter()
            .map(|row| row.try_get_by_index(1).unwrap())
            .collect();
        assert!(opcodes.iter().any(|op| op == "Insert"), "{opcodes:?}");
        assert!(
            !opcodes.iter().any(|op| op == "OpenEphemeral"),
            "{opcodes:?}"
        );
        let refused = db
            .write
            .execute_unprepared(
                "INSERT INTO llm_call_logs (config_name, provider, model, request_messages, \
                 status, call_time) VALUES ('c', 'p', 'm', '[]', 'lost', '2026-12-01')",
            )
            .await
            .unwrap_err();
        assert!(refused.to_string().contains("CHECK"), "{refused}");
    }

    fn sql(filter: &LogFilter) -> String {
        Entity::find()
            .filter(filter.condition(DatabaseBackend::Sqlite))
            .build(DatabaseBackend::Sqlite)
            .to_string()
    }

    #[test]
    fn a_search_for_failed_calls_says_they_did_not_succeed() {
        for status in [CallStatus::Error, CallStatus::Interrupted] {
            for filter in [
                LogFilter::default(),
                LogFilter {
                    config_id: Some(2),
                    ..LogFilter::default()
                },
                LogFilter {
                    group_id: Some(7),
                    ..LogFilter::default()
                },
            ] {
                let sql = sql(&LogFilter {
                    status: Some(status),
                    ..filter
                });
                assert!(sql.contains(r#""status" <> 'success'"#), "{sql}");
            }
        }
        let successes = LogFilter {
            group_id: Some(7),
            status: Some(CallStatus::Success),
            ..LogFilter::default()
        };
        assert!(!sql(&successes).contains("<>"), "{}", sql(&successes));
    }

    /// SQLite's plan for a page of records by status: failures through the partial indexes
    /// of failed calls (migration 000052), which it may use only because the query says
    /// `status <> 'success'`; successes through the group's index.
    #[tokio::test]
    async fn a_page_by_status_reads_the_index_made_for_it() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("plan.db").display());
        let db = crate::db::Db::connect(&url).await.unwrap();
        db.migrate().await.unwrap();
        let by = |config_id, group_id, status| LogFilter {
            config_id,
            group_id,
            status: Some(status),
            ..LogFilter::default()
        };
        for (filter, index) in [
            (
                by(None, None, CallStatus::Error),
                "idx_llm_call_logs_status_time",
            ),
            (
                by(None, None, CallStatus::Interrupted),
                "idx_llm_call_logs_status_time",
            ),
            (
                by(None, Some(7), CallStatus::Error),
                "idx_llm_call_logs_group_status",
            ),
            (
                by(Some(2), None, CallStatus::Error),
                "idx_llm_call_logs_config_failed",
            ),
            (
                by(None, Some(7), CallStatus::Success),
                "idx_llm_call_logs_group ",
            ),
        ] {
            let page = ids_in_page_order(&filter, DatabaseBackend::Sqlite)
                .limit(20)
                .build(DatabaseBackend::Sqlite)
                .to_string();
            let plan: Vec<String> = db
                .read
                .query_all_raw(Statement::from_string(
                    DatabaseBackend::Sqlite,
                    format!("EXPLAIN QUERY PLAN {page}"),
                ))
                .await
                .unwrap()
                .iter()
                .map(|row| row.try_get("", "detail").unwrap())
                .collect();
            let plan = plan.join("\n");
            assert!(plan.contains(index), "{filter:?}: {plan}");
            assert!(!plan.contains("TEMP B-TREE"), "{filter:?}: {plan}");
        }
    }

    #[test]
    fn the_reply_is_stored_once_and_read_back_whole() {
        let answers = [
            json!({"id": "x", "choices": [{"index": 0,
                "message": {"role": "assistant", "content": "答案"}}]}),
            json!({"text": "答案", "reasoning": "想", "chunks": 3}),
            json!({"content": [{"type": "text", "text": "答案"}], "stop_reason": "end_turn"}),
            json!({"aggregated_from_stream": {"text": "答案", "chunks": 2}}),
            json!({"output": {"text": "答案", "finish_reason": "stop"}}),
            json!({"output": {"choices": [{"message": {"content": "答案"}}]}}),
            json!({"result": "答案", "is_truncated": false}),
        ];
        assert_eq!(answers.len(), REPLY_AT.len(), "one answer per place");
        for answer in answers {
            let mut stored = answer.clone();
            leave_out_reply(&mut stored, Some("答案"));
            assert!(!stored.to_string().contains("答案"), "{stored}");
            let once = stored.clone();
            leave_out_reply(&mut stored, Some("答案"));
            assert_eq!(stored, once);
            let mut read = stored;
            put_reply_back(&mut read, Some("答案"));
            assert_eq!(read, answer);
        }
    }

    #[test]
    fn an_answer_whose_text_differs_is_stored_as_it_came() {
        let answer = json!({"choices": [{"message": {"content": "答案"}}]});
        for reply in [Some("别的"), Some(""), None] {
            let mut stored = answer.clone();
            leave_out_reply(&mut stored, reply);
            assert_eq!(stored, answer);
            put_reply_back(&mut stored, reply);
            assert_eq!(stored, answer);
        }
    }

    /// What a database holds after some records: rows, search texts, group counters and
    /// hourly statistics.
    async fn stored(db: &crate::db::Db) -> String {
        let texts: Vec<(i64, String)> = db
            .read
            .query_all_raw(Statement::from_string(
                DatabaseBackend::Sqlite,
                "SELECT log_id, body FROM llm_call_log_texts ORDER BY log_id",
            ))
            .await
            .unwrap()
            .iter()
            .map(|row| {
                (
                    row.try_get("", "log_id").unwrap(),
                    row.try_get("", "body").unwrap(),
                )
            })
            .collect();
        let hours = entity::call_stats_hourly::Entity::find()
            .all(&db.read)
            .await
            .unwrap();
        format!(
            "{:?}\n{texts:?}\n{:?}\n{}",
            Entity::find().all(&db.read).await.unwrap(),
            in_key_order(&hours),
            counters(db).await,
        )
    }

    /// Rows in key order: a batch adds counter and statistics rows in a map's order.
    fn in_key_order<T: std::fmt::Debug>(rows: &[T]) -> Vec<String> {
        let mut rows: Vec<String> = rows.iter().map(|row| format!("{row:?}")).collect();
        rows.sort();
        rows
    }

    /// The group counters, and how many reservations are held.
    async fn counters(db: &crate::db::Db) -> String {
        let usage = entity::group_usage::Entity::find()
            .all(&db.read)
            .await
            .unwrap();
        let reservations = entity::quota_reservations::Entity::find()
            .count(&db.read)
            .await
            .unwrap();
        format!("{:?}\nreservations: {reservations}", in_key_order(&usage))
    }

    /// SQLite writes a record committed alone with one script (`insert_alone`): the records
    /// written one by one leave the database as the same records written in one batch.
    #[tokio::test]
    async fn records_written_alone_are_stored_as_in_a_batch() {
        let grouped = NewCallLog {
            group_id: Some(1),
            charged: Some(0.5),
            response_data: Some(json!({"choices": [{"message": {"content": "答案"}}]})),
            ..sample("问题", "答案")
        };
        let failed_without_text = NewCallLog {
            request_messages: JsonText::of(&json!([])),
            search_text: String::new(),
            response_content: None,
            status: CallStatus::Error,
            error_message: Some("超时".into()),
            ..sample("", "")
        };
        // A group deleted while its call ran: the record stays, its counters are skipped.
        let of_a_deleted_group = NewCallLog {
            group_id: Some(99),
            ..sample("问题", "答案")
        };
        let mut records = [
            grouped.clone(),
            failed_without_text,
            grouped,
            of_a_deleted_group,
        ];
        let mut databases = Vec::new();
        for alone in [true, false] {
            let (db, dir) = crate::db::temporary_sqlite().await;
            crate::db::create_test_group(&db).await;
            // The third record gives back a reservation made the day before (the call ran
            // past midnight): it releases from yesterday's counter and adds to today's.
            records[2].reservation = Some(reserve_yesterday(&db).await);
            if alone {
                for record in &records {
                    insert_batch(&db, std::slice::from_ref(record), &[])
                        .await
                        .unwrap();
                }
            } else {
                insert_batch(&db, &records, &[]).await.unwrap();
            }
            let kept = counters(&db).await;
            assert!(!kept.contains("group_id: 99"), "{kept}");
            databases.push((stored(&db).await, dir));
        }
        let alone = &databases[0].0;
        assert!(alone.contains("答案"), "{alone}");
        assert!(alone.contains("used_tokens: 4"), "{alone}");
        assert!(alone.contains("2026-11-29"), "{alone}");
        assert!(!alone.contains("reserved_tokens: 50"), "{alone}");
        assert!(alone.ends_with("reservations: 0"), "{alone}");
        assert_eq!(databases[0].0, databases[1].0);
    }

    /// A reservation of 50 tokens against group 1's 2026-11-29 and its month.
    async fn reserve_yesterday(db: &crate::db::Db) -> usage::Reservation {
        let period = Period {
            day: "2026-11-29".into(),
            month: "2026-11".into(),
            hour: "2026-11-29 23".into(),
            hour_of_day: 23,
        };
        let limits = usage::Limits {
            daily: Some(1_000),
            monthly: Some(10_000),
            daily_cost: None,
            monthly_cost: None,
        };
        let demand = usage::Demand {
            tokens: 50,
            cost: 0.0,
        };
        usage::reserve(db, "instance", 1, &period, limits, demand)
            .await
            .unwrap()
            .unwrap()
    }

    /// A script that fails part-way (here its last statement, the hourly statistics; for a
    /// record giving back its reservation, in the second of its two scripts) leaves nothing
    /// behind, and the writer's connection works again afterwards.
    #[tokio::test]
    async fn a_record_written_alone_is_all_or_nothing() {
        let (db, _dir) = crate::db::temporary_sqlite().await;
        let count = || async { Entity::find().count(&db.read).await.unwrap() };
        let rename = |from: &str, to: &str| {
            Statement::from_string(
                DatabaseBackend::Sqlite,
                format!("ALTER TABLE {from} RENAME TO {to}"),
            )
        };
        db.write
            .execute_raw(rename("call_stats_hourly", "hidden"))
            .await
            .unwrap();
        crate::db::create_test_group(&db).await;
        let plain = sample("问题", "答案");
        let releasing = NewCallLog {
            group_id: Some(1),
            reservation: Some(reserve_yesterday(&db).await),
            ..sample("问题", "答案")
        };
        // What the statistics table being away does not hide.
        let state = || async { format!("{} {}", count().await, counters(&db).await) };
        let before = state().await;
        assert!(before.contains("reserved_tokens: 50"), "{before}");
        for record in [&plain, &releasing] {
            insert_batch(&db, std::slice::from_ref(record), &[])
                .await
                .unwrap_err();
            assert_eq!(state().await, before);
        }
        db.write
            .execute_raw(rename("hidden", "call_stats_hourly"))
            .await
            .unwrap();
        for record in [&plain, &releasing] {
            insert_batch(&db, std::slice::from_ref(record), &[])
                .await
                .unwrap();
        }
        assert_eq!(count().await, 2);
        assert!(stored(&db).await.ends_with("reservations: 0"));
    }
}
