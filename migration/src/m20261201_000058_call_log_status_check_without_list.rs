//! SQLite checks a record's `status` with `=` comparisons instead of `IN (…)`. SQLite
//! evaluates a CHECK's list of three or more values through a temporary B-tree that it
//! builds for every row written: about 10k instructions per record, several percent of a
//! recorded call. The constraint allows the same values as before.
//!
//! SQLite cannot alter a constraint. Its documented way to make a change that leaves every
//! stored row valid, without copying the table, is to edit the table's definition in
//! `sqlite_schema` under `writable_schema` and bump `schema_version` so that every
//! connection reads the new definition (<https://sqlite.org/lang_altertable.html>,
//! "making other kinds of table schema changes"). A definition not in the expected form is
//! left as it is. PostgreSQL: nothing changes (its `IN` costs nothing of the kind).

use sea_orm_migration::{
    prelude::*,
    sea_orm::{DatabaseBackend, Statement},
};

#[derive(DeriveMigrationName)]
pub struct Migration;

const LIST: &str = r#"CHECK ("status" IN ('success', 'error', 'interrupted'))"#;
const COMPARISONS: &str =
    r#"CHECK ("status" = 'success' OR "status" = 'error' OR "status" = 'interrupted')"#;

async fn replace_check(manager: &SchemaManager<'_>, from: &str, to: &str) -> Result<(), DbErr> {
    if manager.get_database_backend() != DatabaseBackend::Sqlite {
        return Ok(());
    }
    let db = manager.get_connection();
    let version: i64 = db
        .query_one_raw(Statement::from_string(
            DatabaseBackend::Sqlite,
            "PRAGMA schema_version",
        ))
        .await?
        .ok_or_else(|| DbErr::Custom("no schema version".into()))?
        .try_get_by_index(0)?;
    db.execute_unprepared("PRAGMA writable_schema = ON").await?;
    db.execute_raw(Statement::from_sql_and_values(
        DatabaseBackend::Sqlite,
        "UPDATE sqlite_schema SET sql = replace(sql, $1, $2) \
         WHERE type = 'table' AND name = 'llm_call_logs'",
        [from.into(), to.into()],
    ))
    .await?;
    db.execute_unprepared(&format!("PRAGMA schema_version = {}", version + 1))
        .await?;
    db.execute_unprepared("PRAGMA writable_schema = OFF")
        .await?;
    Ok(())
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    // The definition and the version that announces it change together, or neither does.
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        replace_check(manager, LIST, COMPARISONS).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        replace_check(manager, COMPARISONS, LIST).await
    }
}
