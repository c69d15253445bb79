use sea_orm_migration::prelude::*;

use crate::timestamps::{add_column, drop_column};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum Groups {
    Table,
    ConfigIds,
}

/// The configs a group's clients may use, as a JSON array of ids; NULL = every enabled
/// config. Kept as text rather than a join table: it is read whole with the (cached) group
/// on every call, and an id whose config was deleted is simply never matched.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        add_column(
            manager,
            Groups::Table,
            ColumnDef::new(Groups::ConfigIds).text().null(),
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_column(manager, Groups::Table, Groups::ConfigIds).await
    }
}
