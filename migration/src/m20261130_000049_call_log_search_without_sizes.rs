//! SQLite's search index without its per-record size table (`columnsize=0`): FTS5 keeps
//! the sizes only for ranking (bm25), which the log search does not use, and writing them
//! cost every record one more B-tree page. The index is rebuilt from `llm_call_log_texts`.
//! PostgreSQL's trigram index has no such table: nothing changes there.

use sea_orm_migration::{prelude::*, sea_orm::DatabaseBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The index, its triggers as migration 000045 made them, and a rebuild.
fn sqlite_search(options: &str) -> String {
    format!(
        "
DROP TRIGGER IF EXISTS llm_call_logs_unindex;
DROP TRIGGER IF EXISTS llm_call_log_texts_index;
DROP TABLE IF EXISTS llm_call_log_search;
CREATE VIRTUAL TABLE llm_call_log_search USING fts5(
    body, content = 'llm_call_log_texts', content_rowid = 'log_id', tokenize = 'trigram'{options});
INSERT INTO llm_call_log_search (llm_call_log_search) VALUES ('rebuild');
CREATE TRIGGER llm_call_log_texts_index AFTER INSERT ON llm_call_log_texts BEGIN
    INSERT INTO llm_call_log_search (rowid, body) VALUES (new.log_id, new.body);
END;
CREATE TRIGGER llm_call_logs_unindex AFTER DELETE ON llm_call_logs BEGIN
    INSERT INTO llm_call_log_search (llm_call_log_search, rowid, body)
        SELECT 'delete', log_id, body FROM llm_call_log_texts WHERE log_id = old.id;
    DELETE FROM llm_call_log_texts WHERE log_id = old.id;
END;
"
    )
}

async fn recreate(manager: &SchemaManager<'_>, options: &str) -> Result<(), DbErr> {
    if manager.get_database_backend() != DatabaseBackend::Sqlite {
        return Ok(());
    }
    manager
        .get_connection()
        .execute_unprepared(&sqlite_search(options))
        .await?;
    Ok(())
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        recreate(manager, ", columnsize = 0").await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        recreate(manager, "").await
    }
}
