use sea_orm_migration::prelude::*;

use crate::timestamps::{add_column, drop_column};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum Users {
    Table,
    CredentialsChangedAt,
}

/// When the account's password, role or active flag last changed: tokens issued before
/// are refused. Nullable (never changed), so it can be added to a filled table on SQLite.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        add_column(
            manager,
            Users::Table,
            ColumnDef::new(Users::CredentialsChangedAt)
                .timestamp_with_time_zone()
                .null(),
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_column(manager, Users::Table, Users::CredentialsChangedAt).await
    }
}
