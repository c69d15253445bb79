//! SQLite's search index without token positions (`detail=none`): a search now asks FTS5
//! with a LIKE pattern, for which FTS5 only narrows the records to those holding every
//! trigram of the text and SQLite checks the text itself, so the positions (kept for phrase
//! queries) were never needed. Without them the index is about a third of its size and
//! taking a record's text in costs about half (the background indexing's CPU per record
//! and its pages, and how long the record writer waits for it). The index is rebuilt from
//! `llm_call_log_texts` and then holds every text. PostgreSQL: nothing changes.

use sea_orm_migration::{prelude::*, sea_orm::DatabaseBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The index with these FTS5 options, rebuilt, and marked as holding every text.
fn recreate(options: &str) -> String {
    format!(
        "
DROP TABLE IF EXISTS llm_call_log_search;
CREATE VIRTUAL TABLE llm_call_log_search USING fts5(
    body, content = 'llm_call_log_texts', content_rowid = 'log_id', tokenize = 'trigram',
    columnsize = 0{options});
INSERT INTO llm_call_log_search (llm_call_log_search) VALUES ('rebuild');
UPDATE llm_call_log_search_progress
    SET indexed_up_to = (SELECT COALESCE(MAX(log_id), 0) FROM llm_call_log_texts);
"
    )
}

async fn on_sqlite(manager: &SchemaManager<'_>, options: &str) -> Result<(), DbErr> {
    if manager.get_database_backend() != DatabaseBackend::Sqlite {
        return Ok(());
    }
    manager
        .get_connection()
        .execute_unprepared(&recreate(options))
        .await?;
    Ok(())
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    // Dropping, creating and filling the index is all or nothing.
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        on_sqlite(manager, ", detail = none").await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        on_sqlite(manager, "").await
    }
}
