//! The record writer's transaction: fixed statement texts run on sqlx directly.
//!
//! Every recorded call passes through here, and every admission of a group with limits.
//! Through sea-orm, its transaction wrapper, the values of each statement (JSON trees cloned
//! into them) and their conversion into sqlx's arguments cost ~120k instructions of a JSON
//! call's ~800k (callgrind), and building the admission's statements ~170k more for a group
//! with limits. Here parameters are borrowed from the record and bound once; each text is
//! prepared once per connection (sqlx's statement cache). On SQLite, where every statement is
//! a round trip to the connection's worker thread, work that can be written as one text runs
//! as a script ([`Scripted`]): a lone record, an admission.

use std::{
    collections::HashMap,
    sync::{LazyLock, Mutex},
};

use chrono::{DateTime, Utc};
use futures::{FutureExt, TryStreamExt};
use sea_orm::{
    DatabaseBackend, DbErr, RuntimeErr,
    sqlx::{
        self, Database, Either, Encode, Executor, Postgres, Row, Sqlite, Transaction, Type,
        pool::PoolConnection,
        postgres::PgRow,
        query::Query,
        sqlite::{SqliteArguments, SqliteQueryResult, SqliteRow},
    },
};
use serde_json::{Value, value::RawValue};

use super::Db;

pub(crate) enum WriteTxn {
    Sqlite(Transaction<'static, Sqlite>),
    Postgres(Transaction<'static, Postgres>),
}

/// One statement parameter, borrowed from what is written.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Param<'a> {
    Int(Option<i32>),
    BigInt(Option<i64>),
    Real(Option<f64>),
    Bool(Option<bool>),
    Text(Option<&'a str>),
    Json(Option<&'a Value>),
    /// JSON already written out (`call_logs::JsonText`), bound as it is.
    RawJson(Option<&'a RawValue>),
    Time(Option<DateTime<Utc>>),
}

/// `From` each Rust type a parameter holds, and from its `Option` (NULL).
macro_rules! param_from {
    ($($variant:ident: $ty:ty),* $(,)?) => {$(
        impl<'a> From<$ty> for Param<'a> {
            fn from(value: $ty) -> Self {
                Self::$variant(Some(value))
            }
        }

        impl<'a> From<Option<$ty>> for Param<'a> {
            fn from(value: Option<$ty>) -> Self {
                Self::$variant(value)
            }
        }
    )*};
}

param_from!(
    Int: i32,
    BigInt: i64,
    Real: f64,
    Bool: bool,
    Text: &'a str,
    Json: &'a Value,
    RawJson: &'a RawValue,
    Time: DateTime<Utc>,
);

/// A row a statement returned.
pub(crate) enum WriteRow {
    Sqlite(SqliteRow),
    Postgres(PgRow),
}

impl WriteRow {
    pub fn get<T>(&self, index: usize) -> Result<T, DbErr>
    where
        T: for<'r> sqlx::Decode<'r, Sqlite> + Type<Sqlite>,
        T: for<'r> sqlx::Decode<'r, Postgres> + Type<Postgres>,
    {
        match self {
            Self::Sqlite(row) => row.try_get(index),
            Self::Postgres(row) => row.try_get(index),
        }
        .map_err(query_error)
    }
}

impl WriteTxn {
    /// sqlx's `begin` future is ~14 KB: boxed, so that an admission's future, which every
    /// layer of a request moves, stays small.
    pub async fn begin(db: &Db) -> Result<Self, DbErr> {
        let txn = match db.backend() {
            DatabaseBackend::Sqlite => Self::Sqlite(
                db.write
                    .get_sqlite_connection_pool()
                    .begin()
                    .boxed()
                    .await
                    .map_err(exec_error)?,
            ),
            DatabaseBackend::Postgres => Self::Postgres(
                db.write
                    .get_postgres_connection_pool()
                    .begin()
                    .boxed()
                    .await
                    .map_err(exec_error)?,
            ),
            other => {
                return Err(DbErr::BackendNotSupported {
                    db: other.as_str(),
                    ctx: "WriteTxn",
                });
            }
        };
        Ok(txn)
    }

    pub async fn commit(self) -> Result<(), DbErr> {
        match self {
            Self::Sqlite(txn) => txn.commit().await,
            Self::Postgres(txn) => txn.commit().await,
        }
        .map_err(exec_error)
    }

    pub async fn rollback(self) -> Result<(), DbErr> {
        match self {
            Self::Sqlite(txn) => txn.rollback().await,
            Self::Postgres(txn) => txn.rollback().await,
        }
        .map_err(exec_error)
    }

    /// Runs a statement; returns how many rows it changed.
    pub async fn execute(&mut self, sql: &'static str, params: &[Param<'_>]) -> Result<u64, DbErr> {
        match self {
            Self::Sqlite(txn) => bound_sqlite(sql, params)
                .execute(&mut **txn)
                .await
                .map(|done| done.rows_affected()),
            Self::Postgres(txn) => bound(sql, params.iter().copied())
                .execute(&mut **txn)
                .await
                .map(|done| done.rows_affected()),
        }
        .map_err(exec_error)
    }

    /// Inserts one row and returns its id. On SQLite the text has no `RETURNING`: SQLite
    /// buffers returned rows in a temporary table (~15k instructions a record), while the
    /// connection knows the rowid it just inserted.
    pub async fn insert(&mut self, texts: &Insert, params: &[Param<'_>]) -> Result<i64, DbErr> {
        match self {
            Self::Sqlite(_) => self.insert_last_rowid(texts.sqlite, params).await,
            Self::Postgres(txn) => bound(texts.postgres, params.iter().copied())
                .fetch_one(&mut **txn)
                .await
                .and_then(|row| row.try_get(0))
                .map_err(exec_error),
        }
    }

    /// SQLite: runs an insert and returns the rowid of the last row it inserted.
    pub async fn insert_last_rowid(
        &mut self,
        sql: &'static str,
        params: &[Param<'_>],
    ) -> Result<i64, DbErr> {
        match self {
            Self::Sqlite(txn) => bound_sqlite(sql, params)
                .execute(&mut **txn)
                .await
                .map(|done| done.last_insert_rowid())
                .map_err(exec_error),
            Self::Postgres(_) => Err(DbErr::BackendNotSupported {
                db: "PostgreSQL",
                ctx: "insert_last_rowid",
            }),
        }
    }

    pub fn is_sqlite(&self) -> bool {
        matches!(self, Self::Sqlite(_))
    }

    /// Runs a statement that returns rows.
    pub async fn fetch_all(
        &mut self,
        sql: &'static str,
        params: &[Param<'_>],
    ) -> Result<Vec<WriteRow>, DbErr> {
        let rows = match self {
            Self::Sqlite(txn) => bound_sqlite(sql, params)
                .fetch_all(&mut **txn)
                .await
                .map(|rows| rows.into_iter().map(WriteRow::Sqlite).collect()),
            Self::Postgres(txn) => bound(sql, params.iter().copied())
                .fetch_all(&mut **txn)
                .await
                .map(|rows| rows.into_iter().map(WriteRow::Postgres).collect()),
        };
        rows.map_err(exec_error)
    }
}

/// Runs a fixed text that returns rows on the read connections, outside any transaction:
/// for a lookup made on every request, where sea-orm's building of the statement and
/// decoding of the row by column names cost more than the query itself.
pub(crate) async fn read_all(
    db: &Db,
    sql: &'static str,
    params: &[Param<'_>],
) -> Result<Vec<WriteRow>, DbErr> {
    let rows = match db.backend() {
        DatabaseBackend::Sqlite => bound_sqlite(sql, params)
            .fetch_all(db.read.get_sqlite_connection_pool())
            .await
            .map(|rows| rows.into_iter().map(WriteRow::Sqlite).collect()),
        DatabaseBackend::Postgres => bound(sql, params.iter().copied())
            .fetch_all(db.read.get_postgres_connection_pool())
            .await
            .map(|rows| rows.into_iter().map(WriteRow::Postgres).collect()),
        other => {
            return Err(DbErr::BackendNotSupported {
                db: other.as_str(),
                ctx: "read_all",
            });
        }
    };
    rows.map_err(query_error)
}

/// SQLite: a pooled connection that runs scripts, each one round trip to its worker thread.
/// A transaction may span two scripts, for work that must see what the first part did before
/// deciding how to end (admission's conditional updates; a record's released reservation):
/// two round trips instead of one per statement. A connection left inside a transaction (a
/// statement failed, or the caller went away between the two scripts) is closed instead of
/// going back to the pool, which rolls the transaction back.
pub(crate) struct Scripted {
    conn: PoolConnection<Sqlite>,
    in_transaction: bool,
}

impl Scripted {
    pub async fn acquire(db: &Db) -> Result<Self, DbErr> {
        let conn = db
            .write
            .get_sqlite_connection_pool()
            .acquire()
            .await
            .map_err(exec_error)?;
        Ok(Self {
            conn,
            in_transaction: false,
        })
    }

    /// Runs `script`: what each of its statements did, and the rows they returned. A script
    /// that ends with `COMMIT` or `ROLLBACK` leaves no transaction open; any other leaves one
    /// (or continues it).
    pub async fn run(
        &mut self,
        script: &'static str,
        params: &[Param<'_>],
    ) -> Result<ScriptOutput, DbErr> {
        self.in_transaction = true;
        let mut out = ScriptOutput::default();
        let mut results = self.conn.fetch_many(bound_sqlite(script, params));
        while let Some(result) = results.try_next().await.map_err(exec_error)? {
            match result {
                Either::Left(done) => out.done.push(done),
                Either::Right(row) => out.rows.push(WriteRow::Sqlite(row)),
            }
        }
        self.in_transaction = !(script.ends_with("COMMIT") || script.ends_with("ROLLBACK"));
        Ok(out)
    }
}

/// What a script's statements did. sqlx reports each statement's changed rows and the
/// connection's last inserted rowid as the statement finishes, so a script asks SQLite for
/// neither (`SELECT changes()`, `SELECT last_insert_rowid()`): each such statement was one
/// more result, and one more wake-up of the caller's task, per script.
#[derive(Default)]
pub(crate) struct ScriptOutput {
    /// One per statement, in the script's order.
    done: Vec<SqliteQueryResult>,
    /// The rows every statement returned, in order.
    pub rows: Vec<WriteRow>,
}

impl ScriptOutput {
    /// How many rows the script's `statement`-th statement (from 0) changed.
    pub fn changed_by(&self, statement: usize) -> Result<u64, DbErr> {
        self.statement(statement)
            .map(SqliteQueryResult::rows_affected)
    }

    /// The rowid the script's `statement`-th statement (from 0) inserted last.
    pub fn inserted_by(&self, statement: usize) -> Result<i64, DbErr> {
        self.statement(statement)
            .map(SqliteQueryResult::last_insert_rowid)
    }

    fn statement(&self, statement: usize) -> Result<&SqliteQueryResult, DbErr> {
        self.done.get(statement).ok_or_else(|| {
            DbErr::Custom(format!(
                "the script ran {} statements, not {}",
                self.done.len(),
                statement + 1
            ))
        })
    }
}

impl Drop for Scripted {
    fn drop(&mut self) {
        if self.in_transaction {
            self.conn.close_on_drop();
        }
    }
}

/// `rows` copies of `tuple` (one row's values, its parameters `$1` to `$per_row`) for a
/// multi-row `VALUES`, each copy's parameters numbered on after the previous copy's.
pub(crate) fn values_rows(tuple: &str, per_row: usize, rows: usize) -> String {
    let copies: Vec<String> = (0..rows)
        .map(|row| shift_params(tuple, row * per_row).0)
        .collect();
    copies.join(",\n")
}

/// Statements joined into one script for [`Scripted::run`]: each statement's `$N` parameters
/// are numbered on after the previous statement's, so the script takes all their parameters
/// in order.
pub(crate) fn script(statements: &[&str]) -> String {
    let mut parts = Vec::with_capacity(statements.len());
    let mut offset = 0;
    for statement in statements {
        let (shifted, highest) = shift_params(statement, offset);
        parts.push(shifted);
        offset = highest;
    }
    parts.join(";\n")
}

/// `sql` with every `$N` made `$(N + by)`, and the highest parameter number it then has
/// (`by` when it has none).
fn shift_params(sql: &str, by: usize) -> (String, usize) {
    let mut highest = by;
    let shifted = rewrite_params(sql, |number| {
        highest = highest.max(number + by);
        Some(format!("${}", number + by))
    });
    (shifted, highest)
}

/// `sql` with each `$N` parameter replaced by what `replace` makes of `N` (left as it is
/// when that is `None`), in order of appearance.
fn rewrite_params(sql: &str, mut replace: impl FnMut(usize) -> Option<String>) -> String {
    let mut out = String::with_capacity(sql.len() + 16);
    let mut rest = sql;
    while let Some(at) = rest.find('$') {
        let (before, after) = rest.split_at(at);
        out.push_str(before);
        let digits = after[1..].bytes().take_while(u8::is_ascii_digit).count();
        let parameter = &after[..=digits];
        match parameter[1..].parse().ok().and_then(&mut replace) {
            Some(replaced) => out.push_str(&replaced),
            None => out.push_str(parameter),
        }
        rest = &after[1 + digits..];
    }
    out.push_str(rest);
    out
}

/// An insert's text per database: without `RETURNING` for SQLite, with `RETURNING id` for
/// PostgreSQL (see [`WriteTxn::insert`]).
pub(crate) struct Insert {
    pub sqlite: &'static str,
    pub postgres: &'static str,
}

fn bound<'q, DB>(
    sql: &'static str,
    params: impl IntoIterator<Item = Param<'q>>,
) -> Query<'q, DB, DB::Arguments>
where
    DB: Database,
    Option<i32>: Encode<'q, DB> + Type<DB>,
    Option<i64>: Encode<'q, DB> + Type<DB>,
    Option<f64>: Encode<'q, DB> + Type<DB>,
    Option<bool>: Encode<'q, DB> + Type<DB>,
    Option<&'q str>: Encode<'q, DB> + Type<DB>,
    Option<&'q Value>: Encode<'q, DB> + Type<DB>,
    Option<&'q RawValue>: Encode<'q, DB> + Type<DB>,
    Option<DateTime<Utc>>: Encode<'q, DB> + Type<DB>,
{
    params
        .into_iter()
        .fold(sqlx::query(sql), |query, param| match param {
            Param::Int(value) => query.bind(value),
            Param::BigInt(value) => query.bind(value),
            Param::Real(value) => query.bind(value),
            Param::Bool(value) => query.bind(value),
            Param::Text(value) => query.bind(value),
            Param::Json(value) => query.bind(value),
            Param::RawJson(value) => query.bind(value),
            Param::Time(value) => query.bind(value),
        })
}

/// SQLite looks a named parameter (`$N`) up by a linear search of the statement's names, and
/// sqlx asks for the name of every parameter it binds: binding is quadratic in the number of
/// parameters (a 64-record insert has 1,984, ~150k instructions a record). So on SQLite each
/// fixed text runs with anonymous `?` parameters, bound in the order they appear (a parameter
/// used twice is bound twice). A parameter the text names but `params` lacks is NULL, as sqlx
/// makes it.
fn bound_sqlite<'q>(sql: &'static str, params: &[Param<'q>]) -> Query<'q, Sqlite, SqliteArguments> {
    let text = anonymous(sql);
    let in_order = text
        .order
        .iter()
        .map(|&number| params.get(number).copied().unwrap_or(Param::Int(None)));
    bound(text.sql, in_order)
}

/// A fixed text with its `$N` parameters made anonymous `?`s, and for each `?` the index of
/// the parameter it stands for.
struct Anonymous {
    sql: &'static str,
    order: Vec<usize>,
}

/// Each fixed text is converted once and kept for the life of the process, as the text itself
/// is (they are a fixed set: constants and the texts made once from them).
fn anonymous(sql: &'static str) -> &'static Anonymous {
    static CONVERTED: LazyLock<Mutex<HashMap<(usize, usize), &'static Anonymous>>> =
        LazyLock::new(Mutex::default);
    let key = (sql.as_ptr() as usize, sql.len());
    let mut converted = CONVERTED
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    converted.entry(key).or_insert_with(|| {
        let mut order = Vec::new();
        let out = rewrite_params(sql, |number: usize| {
            order.push(number.checked_sub(1)?);
            Some("?".into())
        });
        Box::leak(Box::new(Anonymous {
            sql: Box::leak(out.into_boxed_str()),
            order,
        }))
    })
}

/// The same errors sea-orm reports, so `db::is_transient` judges them alike.
fn exec_error(err: sqlx::Error) -> DbErr {
    DbErr::Exec(RuntimeErr::SqlxError(err.into()))
}

fn query_error(err: sqlx::Error) -> DbErr {
    DbErr::Query(RuntimeErr::SqlxError(err.into()))
}

#[cfg(test)]
mod tests {
    use super::{anonymous, script, values_rows};

    #[test]
    fn sqlite_runs_a_text_with_anonymous_parameters_in_order_of_appearance() {
        let text = anonymous("INSERT INTO a VALUES ($1, $2, $1, '$x');\nUPDATE b SET y = $10");
        assert_eq!(
            text.sql,
            "INSERT INTO a VALUES (?, ?, ?, '$x');\nUPDATE b SET y = ?"
        );
        assert_eq!(text.order, [0, 1, 0, 9]);
    }

    #[test]
    fn multi_row_values_number_each_rows_parameters_on() {
        assert_eq!(
            values_rows("($1, (SELECT x FROM t WHERE id = $2), $1)", 2, 3),
            "($1, (SELECT x FROM t WHERE id = $2), $1),\n\
             ($3, (SELECT x FROM t WHERE id = $4), $3),\n\
             ($5, (SELECT x FROM t WHERE id = $6), $5)"
        );
    }

    #[test]
    fn a_script_numbers_each_statements_parameters_on_after_the_last() {
        let sql = script(&[
            "BEGIN",
            "INSERT INTO a VALUES ($1, $2, $1)",
            "SELECT 1",
            "UPDATE b SET x = $2 WHERE id = $1",
            "COMMIT",
        ]);
        assert_eq!(
            sql,
            "BEGIN;\nINSERT INTO a VALUES ($1, $2, $1);\nSELECT 1;\n\
             UPDATE b SET x = $4 WHERE id = $3;\nCOMMIT"
        );
    }
}
