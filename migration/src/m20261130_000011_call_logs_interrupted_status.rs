//! Call records say how a call ended:
//! - `status` also allows `interrupted` (the server stopped while the call ran);
//! - `finish_reason`: why the model stopped (`stop`, `length`, `tool_calls` …).
//!
//! PostgreSQL alters the table in place. SQLite cannot change a constraint, so the table is
//! rebuilt: created anew, filled from the old one (ids and the id sequence kept), swapped in.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DatabaseBackend};

use crate::m20261126_000006_create_llm_call_logs::{self as call_logs, LlmCallLogs};
use crate::timestamps::add_column;

#[derive(DeriveMigrationName)]
pub struct Migration;

pub(crate) const STATUSES: [&str; 3] = ["success", "error", "interrupted"];

#[derive(DeriveIden)]
enum Rebuilt {
    #[sea_orm(iden = "llm_call_logs_rebuilt")]
    Table,
    FinishReason,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        match manager.get_database_backend() {
            DatabaseBackend::Sqlite => rebuild_sqlite(manager).await,
            _ => alter_postgres(manager).await,
        }
    }

    async fn down(&self, _manager: &SchemaManager) -> Result<(), DbErr> {
        Err(DbErr::Migration(
            "call records may hold the status `interrupted`; restore a backup instead".into(),
        ))
    }
}

fn finish_reason() -> ColumnDef {
    ColumnDef::new(Rebuilt::FinishReason)
        .string_len(32)
        .to_owned()
}

async fn rebuild_sqlite(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    let mut create = call_logs::table(Rebuilt::Table, &STATUSES);
    call_logs::with_references(&mut create);
    create.col(finish_reason());
    manager.create_table(create).await?;
    let conn = manager.get_connection();
    // Same columns in the same order; `finish_reason` stays NULL for older records.
    conn.execute_unprepared("INSERT INTO llm_call_logs_rebuilt SELECT *, NULL FROM llm_call_logs")
        .await?;
    // Purged records must not have their ids handed out again.
    conn.execute_unprepared(
        "UPDATE sqlite_sequence SET seq = MAX(seq, (SELECT seq FROM sqlite_sequence \
         WHERE name = 'llm_call_logs')) WHERE name = 'llm_call_logs_rebuilt'",
    )
    .await?;
    manager
        .drop_table(Table::drop().table(LlmCallLogs::Table).to_owned())
        .await?;
    manager
        .rename_table(
            Table::rename()
                .table(Rebuilt::Table, LlmCallLogs::Table)
                .to_owned(),
        )
        .await?;
    let mut indexes = call_logs::indexes();
    indexes.push(crate::m20261126_000010_index_call_logs_status_time::index());
    for statement in indexes {
        manager.create_index(statement).await?;
    }
    Ok(())
}

async fn alter_postgres(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    manager
        .get_connection()
        .execute_unprepared(
            "ALTER TABLE llm_call_logs DROP CONSTRAINT IF EXISTS check_status, \
         ADD CONSTRAINT check_status CHECK (status IN ('success', 'error', 'interrupted'))",
        )
        .await?;
    add_column(manager, LlmCallLogs::Table, finish_reason()).await
}
