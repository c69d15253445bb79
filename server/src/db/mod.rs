//! Database access. Connection set-up lives here; each aggregate has its own repository
//! file, and all SQL lives in this folder.
//!
//! SQLite gets two pools: one connection for writes (SQLite has one writer at a time, and a
//! single writer connection means a write never fails with "database is locked") and a few
//! for reads, which WAL lets run beside the writer. PostgreSQL uses one pool for both.

pub mod activation_codes;
pub mod alerts;
pub mod api_keys;
pub mod app_settings;
pub mod cache;
pub mod call_logs;
pub mod changes;
pub mod config_keys;
pub mod configs;
pub mod groups;
pub mod instances;
pub mod rate_limits;
pub mod search_index;
pub mod stats;
pub mod templates;
pub mod usage;
pub mod users;
pub mod webhooks;
pub(crate) mod write_txn;

use std::{
    path::PathBuf,
    str::FromStr,
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::Duration,
};

use migration::{Migrator, MigratorTrait};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseBackend, DatabaseConnection, DbErr,
    EntityTrait, PrimaryKeyTrait, RuntimeErr, Select, SqlErr,
    sqlx::{
        self, AssertSqlSafe, Row,
        sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous},
    },
};
use tokio::{sync::Notify, time::Instant};

use crate::error::AppError;
use cache::TtlCache;

#[derive(Debug, thiserror::Error)]
pub enum DbSetupError {
    #[error("cannot open the database: {0}")]
    Connect(DbErr),
    #[error(
        "the database was migrated by a newer llm-proxy ({0}); run that version, or restore a backup made for this one"
    )]
    NewerSchema(String),
    #[error("database migration failed: {0}")]
    Migrate(DbErr),
}

#[derive(Clone)]
pub struct Db {
    /// For statements that change data.
    pub write: DatabaseConnection,
    /// For queries; the same pool as `write` on PostgreSQL.
    pub read: DatabaseConnection,
    /// Copies of the rows every call reads.
    pub cache: Arc<Caches>,
    /// SQLite's write-ahead log file.
    wal: Option<PathBuf>,
    /// Set while the writer wants the log emptied (`bound_wal`): the background checkpoint
    /// stands aside meanwhile, since one in progress makes the writer's attempt fail.
    emptying_wanted: Arc<AtomicBool>,
    /// Told by the writers of records and of the search index after they commit, so that
    /// the background checkpoint (`checkpoint_often`) follows them.
    written: Arc<Written>,
    /// Held by every checkpoint of this process: the writer's restart waits for a background
    /// one still running instead of being refused by it (and writing on meanwhile).
    checkpointing: Arc<tokio::sync::Mutex<()>>,
}

/// What was committed since the background checkpoint last began (see `Db::wrote`).
#[derive(Default)]
struct Written {
    records: AtomicU64,
    enough: Notify,
}

/// The hot path's row copies; each repository drops its entry when it writes the row.
pub struct Caches {
    pub activation_codes: TtlCache<i32, entity::activation_codes::Model>,
    pub configs: TtlCache<i32, entity::llm_configs::Model>,
    /// The enabled config of each name an SDK's call named (`/v1`'s `model`); dropped whole
    /// on any config's change, as a rename moves a name.
    pub configs_by_name: TtlCache<String, entity::llm_configs::Model>,
    pub templates: TtlCache<i32, entity::llm_prompt_templates::Model>,
    pub groups: TtlCache<i32, entity::groups::Model>,
    /// Per config: the keys set aside.
    pub key_states: TtlCache<i32, Vec<entity::config_key_states::Model>>,
    /// Copies kept outside this layer that drop what a change touches (see
    /// [`changes::Follower`]); held weakly, pruned as they go.
    pub followers: std::sync::Mutex<Vec<std::sync::Weak<dyn changes::Follower>>>,
}

impl Default for Caches {
    fn default() -> Self {
        Self {
            activation_codes: TtlCache::new(cache::TTL),
            configs: TtlCache::new(cache::TTL),
            configs_by_name: TtlCache::new(cache::TTL),
            templates: TtlCache::new(cache::TTL),
            groups: TtlCache::new(cache::TTL),
            key_states: TtlCache::new(cache::TTL),
            followers: std::sync::Mutex::new(Vec::new()),
        }
    }
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Db")
            .field("backend", &self.backend())
            .finish()
    }
}

impl Db {
    pub async fn connect(url: &str) -> Result<Self, DbSetupError> {
        if url.starts_with("sqlite:") {
            let write = Database::connect(sqlite_options(url, 1, PoolRole::Writer))
                .await
                .map_err(DbSetupError::Connect)?;
            let read = Database::connect(sqlite_options(url, 4, PoolRole::Readers))
                .await
                .map_err(DbSetupError::Connect)?;
            let wal = SqliteConnectOptions::from_str(url)
                .map(|options| {
                    let mut path = options.get_filename().as_os_str().to_owned();
                    path.push("-wal");
                    PathBuf::from(path)
                })
                .ok();
            Ok(Self {
                write,
                read,
                cache: Arc::default(),
                wal,
                emptying_wanted: Arc::default(),
                written: Arc::default(),
                checkpointing: Arc::default(),
            })
        } else {
            let mut options = ConnectOptions::new(url);
            options
                .max_connections(16)
                .min_connections(1)
                .connect_timeout(Duration::from_secs(10))
                .acquire_timeout(Duration::from_secs(30))
                .sqlx_logging(false);
            let pool = Database::connect(options)
                .await
                .map_err(DbSetupError::Connect)?;
            Ok(Self {
                write: pool.clone(),
                read: pool,
                cache: Arc::default(),
                wal: None,
                emptying_wanted: Arc::default(),
                written: Arc::default(),
                checkpointing: Arc::default(),
            })
        }
    }

    pub fn backend(&self) -> DatabaseBackend {
        self.write.get_database_backend()
    }

    pub fn is_sqlite(&self) -> bool {
        self.backend() == DatabaseBackend::Sqlite
    }

    /// Applies pending migrations; refuses a database that a newer binary migrated.
    pub async fn migrate(&self) -> Result<usize, DbSetupError> {
        let pending = Migrator::get_pending_migrations(&self.write)
            .await
            .map_err(|err| match err {
                DbErr::Custom(message) if message.contains("is missing") => {
                    DbSetupError::NewerSchema(message)
                }
                other => DbSetupError::Migrate(other),
            })?;
        Migrator::up(&self.write, None)
            .await
            .map_err(DbSetupError::Migrate)?;
        Ok(pending.len())
    }

    /// Keeps SQLite's query planner statistics current (a bounded, approximate ANALYZE of
    /// tables that changed a lot), so a large log is searched through the right index.
    /// PostgreSQL's autovacuum does this by itself.
    pub async fn optimize(&self) {
        if !self.is_sqlite() {
            return;
        }
        for pragma in ["PRAGMA analysis_limit=1000", "PRAGMA optimize=0x10002"] {
            if let Err(err) = self.write.execute_unprepared(pragma).await {
                tracing::warn!(%err, "SQLite optimize failed");
                return;
            }
        }
    }

    /// Copies committed WAL pages back into the database file without blocking the writer
    /// (PASSIVE). The writer does not checkpoint after its commits (see
    /// `PoolRole::Writer`): `serve` runs this often, off the path of any call;
    /// the writer only steps in when the log grew too large (`bound_wal`).
    pub async fn checkpoint(&self) {
        if !self.is_sqlite() {
            return;
        }
        // The writer empties the log itself (`bound_wal`); a checkpoint running here then
        // would only make its attempt find the log busy.
        if self.emptying_wanted.load(Ordering::Relaxed) {
            return;
        }
        let _checkpointing = self.checkpointing.lock().await;
        if let Err(err) = self
            .read
            .execute_unprepared("PRAGMA wal_checkpoint(PASSIVE)")
            .await
        {
            tracing::warn!(%err, "WAL checkpoint failed");
        }
    }

    /// Says that a commit added `records` records' worth to SQLite's log (a long record
    /// counts as several, `NewCallLog::log_weight`; an indexed text as one).
    pub fn wrote(&self, records: u64) {
        let before = self.written.records.fetch_add(records, Ordering::Relaxed);
        if before < CHECKPOINT_AFTER && before + records >= CHECKPOINT_AFTER {
            self.written.enough.notify_one();
        }
    }

    /// `checkpoint` once `CHECKPOINT_AFTER` records' worth were written (`wrote`), at most
    /// every `CHECKPOINT_EVERY`, and every `CHECKPOINT_IDLE` whatever wrote (fewer records,
    /// the admin's changes, the instance's lease), until the task is aborted.
    pub async fn checkpoint_often(self) {
        if !self.is_sqlite() {
            return;
        }
        loop {
            let _ = tokio::time::timeout(CHECKPOINT_IDLE, self.written.enough.notified()).await;
            self.written.records.store(0, Ordering::Relaxed);
            self.checkpoint().await;
            tokio::time::sleep(CHECKPOINT_EVERY).await;
        }
    }

    /// Keeps the WAL file bounded under sustained load. The background PASSIVE checkpoint
    /// copies pages back but never makes SQLite start the log over while readers keep
    /// taking snapshots, so under constant reads the file grew (to ~1 GB). Once the log
    /// passes `WAL_RESTART_BYTES`, the writer's own connection checkpoints in TRUNCATE mode:
    /// new readers then read the database file, so only readers already on the log are
    /// waited for (up to `RESTART_WAIT`), and the log file is emptied. Emptied, not only
    /// restarted (RESTART): the file's size is what this watches, and a file left at its
    /// largest had the writer checkpoint, with two fsyncs, after every batch. A read longer
    /// than that wait postpones the restart (`retry_after`: less the fuller the log); the
    /// WAL then grows only for as long as that read lasts, and `journal_size_limit` cuts it
    /// back after.
    pub async fn bound_wal(&self, next_try: &mut Instant) {
        // 0 without a log (PostgreSQL).
        let size = self.wal_size();
        if size < WAL_RESTART_BYTES {
            self.emptying_wanted.store(false, Ordering::Relaxed);
            return;
        }
        if Instant::now() < *next_try {
            return;
        }
        self.emptying_wanted.store(true, Ordering::Relaxed);
        let started = Instant::now();
        match self.restart_wal().await {
            Ok(true) => self.emptying_wanted.store(false, Ordering::Relaxed),
            // Refused at once: a background checkpoint already running held the log (the
            // next ones stand aside). It ends soon: try again after the next batch, or the log
            // grows for a whole `RESTART_RETRY`.
            Ok(false) if started.elapsed() < RESTART_WAIT / 2 => {}
            Ok(false) => {
                tracing::debug!(
                    size,
                    "WAL restart waited for readers in vain; retrying later"
                );
                *next_try = Instant::now() + retry_after(size);
            }
            Err(err) => {
                tracing::warn!(%err, "WAL checkpoint failed");
                *next_try = Instant::now() + retry_after(size);
            }
        }
    }

    /// The SQLite log's size in bytes (0 without one).
    pub(crate) fn wal_size(&self) -> u64 {
        self.wal
            .as_ref()
            .and_then(|wal| std::fs::metadata(wal).ok())
            .map_or(0, |meta| meta.len())
    }

    /// Whether the TRUNCATE checkpoint completed (no reader kept it waiting too long).
    async fn restart_wal(&self) -> Result<bool, sqlx::Error> {
        let _checkpointing = self.checkpointing.lock().await;
        let mut conn = self.write.get_sqlite_connection_pool().acquire().await?;
        let wait = format!("PRAGMA busy_timeout = {}", RESTART_WAIT.as_millis());
        sqlx::query(AssertSqlSafe(wait)).execute(&mut *conn).await?;
        let checkpoint = sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
            .fetch_one(&mut *conn)
            .await;
        let usual = format!("PRAGMA busy_timeout = {}", BUSY_TIMEOUT.as_millis());
        sqlx::query(AssertSqlSafe(usual))
            .execute(&mut *conn)
            .await?;
        let busy: i64 = checkpoint?.try_get(0)?;
        Ok(busy == 0)
    }

    pub async fn close(self) {
        let _ = self.write.close().await;
        let _ = self.read.close().await;
    }
}

/// A migrated SQLite database in a new temporary folder, for tests (the folder goes when the
/// returned guard is dropped).
#[cfg(test)]
#[allow(clippy::unwrap_used)]
pub(crate) async fn temporary_sqlite() -> (Db, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("test.db");
    let db = Db::connect(&format!("sqlite://{}?mode=rwc", file.display()))
        .await
        .unwrap();
    db.migrate().await.unwrap();
    (db, dir)
}

/// A group without limits (the first one made is group 1), for tests.
#[cfg(test)]
#[allow(clippy::unwrap_used)]
pub(crate) async fn create_test_group(db: &Db) {
    groups::create(
        db,
        groups::GroupFields {
            name: "g".into(),
            description: None,
            daily_token_limit: None,
            monthly_token_limit: None,
            requests_per_minute: None,
            config_ids: None,
            daily_cost_limit: None,
            monthly_cost_limit: None,
            cost_currency: "CNY".into(),
        },
    )
    .await
    .unwrap();
}

/// How often the background checkpoint runs while records are written. Often, so that each
/// copies little: its work shares the machine with the calls, and the calls' p99 grew with
/// what one checkpoint copies (open loop, `bench/run.sh`'s sweep, p99 at 1,000 / 2,000
/// calls/s: 21–24 ms with a second, 10–14 / 16–19 ms with 250 ms, 6–8 / 8–12 ms with this).
/// Often enough, too, that under load SQLite starts the log over by itself, before it
/// reaches `WAL_RESTART_BYTES` and the writer stops recording to empty it.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(50);
/// How many records' worth the background checkpoint waits for (up to `CHECKPOINT_IDLE`).
/// Each checkpoint has a cost of its own whatever it copies (two fsyncs, and SQLite sorts
/// the log's page numbers up to the end of their 4,096-frame block): after every 50 ms of a
/// few calls a second that cost was the calls' (callgrind, sequential calls: ~25k
/// instructions a call), while under load 50 ms bring more than this anyway.
const CHECKPOINT_AFTER: u64 = 64;
/// How often the background checkpoint runs without records written: other writes reach the
/// log too, and an idle server wakes up for it once a second (four times before).
const CHECKPOINT_IDLE: Duration = Duration::from_secs(1);
/// The page size of a new SQLite database (an existing one keeps its own: SQLite changes it
/// only by a `VACUUM` outside WAL mode, which this server never runs). A commit writes every
/// page it changed to the log whole, and a record committed alone changes about ten (its
/// row, its text, four index entries, two group counters, the hourly row, the
/// `AUTOINCREMENT` sequence), most with a few dozen bytes new: with 4 KiB pages that was
/// ~44 KB written a call at c=1, with 1 KiB ~16 KB (c=50: 5.1 → 4.0 KB; `bench/writes.sh`).
/// The price: a page holds fewer rows, so the file is about a fifth larger.
const SQLITE_PAGE_SIZE: u32 = 1024;
/// How long a statement waits for a lock before it fails as busy.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);
/// The WAL size past which the writer makes SQLite start the log over (`Db::bound_wal`).
pub(crate) const WAL_RESTART_BYTES: u64 = 16 << 20;
/// When SQLite starts the log over, a WAL file larger than this is truncated to it.
pub(crate) const WAL_SIZE_LIMIT: u64 = 64 << 20;
/// How long the restart waits for readers still on the log.
const RESTART_WAIT: Duration = Duration::from_millis(200);
/// How long after a restart that readers kept waiting the writer tries again, at most.
pub(crate) const RESTART_RETRY: Duration = Duration::from_secs(1);
/// From this size on, the writer tries to restart the log after every batch.
const WAL_INSIST_BYTES: u64 = WAL_SIZE_LIMIT / 4 * 3;

/// When the writer tries again after readers kept a restart waiting: `RESTART_RETRY` just
/// past `WAL_RESTART_BYTES`, less the fuller the log, and after every batch from
/// `WAL_INSIST_BYTES`. Each try waits up to `RESTART_WAIT` with no record written, so on a
/// busy machine, where readers are slow to finish, they slow the writer down instead of
/// letting the log outgrow `WAL_SIZE_LIMIT` (a fixed second let it reach 85 MB under CI's
/// load).
fn retry_after(size: u64) -> Duration {
    let room = WAL_INSIST_BYTES.saturating_sub(size);
    RESTART_RETRY.mul_f64(room as f64 / (WAL_INSIST_BYTES - WAL_RESTART_BYTES) as f64)
}

/// Which of the two SQLite pools connections are for.
#[derive(Clone, Copy, PartialEq, Eq)]
enum PoolRole {
    /// Reads. SQLite's defaults: the connection that commits past 1000 WAL pages copies them
    /// back; large sorts spill to temporary files.
    Readers,
    /// The one writer. It leaves checkpoints (and their fsyncs) to `checkpoint()` and
    /// `bound_wal()`, so a call's commit never waits for one, and keeps its statement
    /// journals in memory: a batch's multi-row insert journals what it changes in case it
    /// fails part-way, and in a temporary file that was ~3.7 KB of disk writes a call at c=50.
    Writer,
}

fn sqlite_options(url: &str, connections: u32, role: PoolRole) -> ConnectOptions {
    let mut options = ConnectOptions::new(url);
    options
        .max_connections(connections)
        .min_connections(1)
        .acquire_timeout(Duration::from_secs(30))
        // A file is not a socket: nothing drops the connection while it idles in the pool,
        // and the test is a round trip to the connection's thread on every checkout (each
        // record's commit, each read) for nothing.
        .test_before_acquire(false)
        .sqlx_logging(false)
        .map_sqlx_sqlite_opts(move |opts: SqliteConnectOptions| {
            opts.page_size(SQLITE_PAGE_SIZE)
                .journal_mode(SqliteJournalMode::Wal)
                // NORMAL in WAL mode: a commit survives a crash of the process (kill -9);
                // only a power cut can lose the last transactions.
                .synchronous(SqliteSynchronous::Normal)
                .foreign_keys(true)
                .busy_timeout(BUSY_TIMEOUT)
                .create_if_missing(true)
                .pragma(
                    "wal_autocheckpoint",
                    if role == PoolRole::Writer {
                        "0"
                    } else {
                        "1000"
                    },
                )
                .pragma(
                    "temp_store",
                    if role == PoolRole::Writer {
                        "memory"
                    } else {
                        "default"
                    },
                )
                .pragma("journal_size_limit", WAL_SIZE_LIMIT.to_string())
        });
    options
}

/// Turns a failed write into the envelope error: a unique or foreign-key violation is a
/// 409 with `conflict` as its message, anything else a 500.
/// Like [`write_error`], but a unique value already taken is that field's error
/// (`taken`), and a missing referenced row is `missing`.
pub fn write_error_at(err: DbErr, field: &'static str, taken: &str, missing: &str) -> AppError {
    if matches!(err.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) {
        return AppError::Taken {
            field,
            message: taken.to_string(),
        };
    }
    write_error(err, missing)
}

pub fn write_error(err: DbErr, conflict: &str) -> AppError {
    let violates = matches!(
        err.sql_err(),
        Some(SqlErr::UniqueConstraintViolation(_) | SqlErr::ForeignKeyConstraintViolation(_))
    );
    if violates || is_sqlite_restrict(&err) {
        AppError::Conflict(conflict.to_string())
    } else {
        AppError::from(err)
    }
}

/// SQLite reports an `ON DELETE RESTRICT` hit as SQLITE_CONSTRAINT_TRIGGER (1811), which
/// SeaORM does not classify as a foreign-key violation.
fn is_sqlite_restrict(err: &DbErr) -> bool {
    let (DbErr::Exec(RuntimeErr::SqlxError(inner)) | DbErr::Query(RuntimeErr::SqlxError(inner))) =
        err
    else {
        return false;
    };
    inner
        .as_database_error()
        .and_then(|db| db.code())
        .is_some_and(|code| code == "1811")
}

/// Whether the same statement may succeed if tried again: the connection or pool failed,
/// SQLite was busy, or PostgreSQL dropped the transaction for a conflict or went away.
pub fn is_transient(err: &DbErr) -> bool {
    use sea_orm::sqlx::Error;
    let inner = match err {
        DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => return true,
        DbErr::Exec(RuntimeErr::SqlxError(inner)) | DbErr::Query(RuntimeErr::SqlxError(inner)) => {
            inner
        }
        _ => return false,
    };
    match inner.as_ref() {
        Error::Io(_) | Error::PoolTimedOut | Error::WorkerCrashed | Error::BeginFailed => true,
        Error::Database(db) => db.code().is_some_and(|code| {
            // SQLite: BUSY (5) and LOCKED (6), with their extended codes.
            matches!(code.as_ref(), "5" | "6" | "261" | "262" | "517")
                // PostgreSQL: connection lost, serialization failure, deadlock, shutdown,
                // too many connections.
                || code.starts_with("08")
                || matches!(code.as_ref(), "40001" | "40P01" | "53300" | "57P01" | "57P02" | "57P03")
        }),
        _ => false,
    }
}

/// Loads one row by id, or `NotFound(what)`.
pub(crate) async fn find_row<E>(db: &Db, id: i32, what: &'static str) -> Result<E::Model, AppError>
where
    E: EntityTrait,
    i32: Into<<E::PrimaryKey as PrimaryKeyTrait>::ValueType>,
{
    first_row(E::find_by_id(id), &db.read)
        .await?
        .ok_or(AppError::NotFound(what))
}

/// The row a lookup by a unique key finds, in place of sea-orm's `one()`, which binds a
/// `LIMIT 1`: SQLite writes a bound `LIMIT`'s value into the prepared statement, so binding
/// it again, even to the same value, makes the next run prepare the whole statement anew
/// (~100k instructions).
pub(crate) async fn first_row<E, C>(select: Select<E>, conn: &C) -> Result<Option<E::Model>, DbErr>
where
    E: EntityTrait,
    C: ConnectionTrait,
{
    Ok(select.all(conn).await?.into_iter().next())
}

/// Deletes one row by id; `NotFound(what)` when there was none, 409 `conflict` when other
/// rows still refer to it.
pub(crate) async fn delete_row<E>(
    db: &Db,
    id: i32,
    what: &'static str,
    conflict: &str,
) -> Result<(), AppError>
where
    E: EntityTrait,
    i32: Into<<E::PrimaryKey as PrimaryKeyTrait>::ValueType>,
{
    let result = E::delete_by_id(id)
        .exec(&db.write)
        .await
        .map_err(|err| write_error(err, conflict))?;
    if result.rows_affected == 0 {
        return Err(AppError::NotFound(what));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use sea_orm::Statement;

    use super::*;

    async fn page_size(db: &Db) -> i64 {
        let row = db
            .read
            .query_one_raw(Statement::from_string(
                DatabaseBackend::Sqlite,
                "PRAGMA page_size",
            ))
            .await
            .unwrap()
            .unwrap();
        row.try_get_by_index(0).unwrap()
    }

    #[tokio::test]
    async fn a_new_sqlite_database_has_small_pages() {
        let (db, _dir) = temporary_sqlite().await;
        assert_eq!(page_size(&db).await, i64::from(SQLITE_PAGE_SIZE));
    }

    /// A database made before (4 KiB pages, in WAL mode) opens, migrates and takes records
    /// with its pages as they are: SQLite could change them only by rewriting the file.
    #[tokio::test]
    async fn an_existing_sqlite_database_keeps_its_page_size() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("old.db").display());
        let old = SqliteConnectOptions::from_str(&url)
            .unwrap()
            .page_size(4096)
            .journal_mode(SqliteJournalMode::Wal);
        let mut conn = sqlx::ConnectOptions::connect(&old).await.unwrap();
        sqlx::query("CREATE TABLE made_before (id INTEGER PRIMARY KEY)")
            .execute(&mut conn)
            .await
            .unwrap();
        sqlx::Connection::close(conn).await.unwrap();

        let db = Db::connect(&url).await.unwrap();
        db.migrate().await.unwrap();
        crate::db::call_logs::insert_batch(&db, &[crate::db::call_logs::sample("问", "答")], &[])
            .await
            .unwrap();
        assert_eq!(page_size(&db).await, 4096);
    }

    #[test]
    fn restarts_readers_refused_are_tried_again_sooner_the_fuller_the_log() {
        assert_eq!(retry_after(WAL_RESTART_BYTES), RESTART_RETRY);
        let halfway = (WAL_RESTART_BYTES + WAL_INSIST_BYTES) / 2;
        assert_eq!(retry_after(halfway), RESTART_RETRY / 2);
        assert_eq!(retry_after(WAL_INSIST_BYTES), Duration::ZERO);
        assert_eq!(retry_after(WAL_SIZE_LIMIT * 2), Duration::ZERO);
    }
}
