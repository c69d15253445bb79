//! SQLite's search index takes new records' text in batches instead of in each record's
//! commit. FTS5 writes a new index segment (and its structure record) per transaction, so
//! a record committed alone cost about 7 more page writes (of ~22) for its text. The text
//! row is still written with the record; `llm_call_log_search_progress` says up to which
//! record id the index holds the texts, and the server indexes what follows about once a
//! second and before every text search. PostgreSQL's trigram index (GIN, with its pending
//! list) has no such cost: nothing changes there.
//!
//! Deleting a record takes its text out of the index only when the index holds it: FTS5's
//! `delete` of an entry it never had would corrupt the index.

use sea_orm_migration::{prelude::*, sea_orm::DatabaseBackend};

use crate::timestamps::execute_all;

#[derive(DeriveMigrationName)]
pub struct Migration;

const UP: &[&str] = &[
    "CREATE TABLE llm_call_log_search_progress (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        indexed_up_to INTEGER NOT NULL
    )",
    "INSERT INTO llm_call_log_search_progress (id, indexed_up_to)
        SELECT 1, COALESCE(MAX(log_id), 0) FROM llm_call_log_texts",
    "DROP TRIGGER IF EXISTS llm_call_log_texts_index",
    "DROP TRIGGER IF EXISTS llm_call_logs_unindex",
    "CREATE TRIGGER llm_call_logs_unindex AFTER DELETE ON llm_call_logs BEGIN
        INSERT INTO llm_call_log_search (llm_call_log_search, rowid, body)
            SELECT 'delete', log_id, body FROM llm_call_log_texts
            WHERE log_id = old.id
              AND log_id <= (SELECT indexed_up_to FROM llm_call_log_search_progress);
        DELETE FROM llm_call_log_texts WHERE log_id = old.id;
    END",
];

/// The index takes what it does not hold yet, and the triggers of migration 000045 return.
const DOWN: &[&str] = &[
    "INSERT INTO llm_call_log_search (rowid, body)
        SELECT log_id, body FROM llm_call_log_texts
        WHERE log_id > (SELECT indexed_up_to FROM llm_call_log_search_progress)",
    "DROP TRIGGER IF EXISTS llm_call_logs_unindex",
    "DROP TABLE llm_call_log_search_progress",
    "CREATE TRIGGER llm_call_log_texts_index AFTER INSERT ON llm_call_log_texts BEGIN
        INSERT INTO llm_call_log_search (rowid, body) VALUES (new.log_id, new.body);
    END",
    "CREATE TRIGGER llm_call_logs_unindex AFTER DELETE ON llm_call_logs BEGIN
        INSERT INTO llm_call_log_search (llm_call_log_search, rowid, body)
            SELECT 'delete', log_id, body FROM llm_call_log_texts WHERE log_id = old.id;
        DELETE FROM llm_call_log_texts WHERE log_id = old.id;
    END",
];

async fn on_sqlite(manager: &SchemaManager<'_>, statements: &[&str]) -> Result<(), DbErr> {
    if manager.get_database_backend() != DatabaseBackend::Sqlite {
        return Ok(());
    }
    execute_all(manager, statements).await
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        on_sqlite(manager, UP).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        on_sqlite(manager, DOWN).await
    }
}
