use sea_orm_migration::prelude::*;

use crate::timestamps::timestamp;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum ConfigKeyStates {
    Table,
    ConfigId,
    KeyId,
    Reason,
    SetAsideAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum LlmConfigs {
    Table,
    Id,
}

/// Provider keys the upstream refused (bad key, exhausted balance), set aside until an admin
/// puts them back. A key is named by `crypto::key_id`, never stored here; a row exists only
/// while its key is set aside, and goes with its config.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ConfigKeyStates::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(ConfigKeyStates::ConfigId)
                            .integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(ConfigKeyStates::KeyId)
                            .string_len(64)
                            .not_null(),
                    )
                    .col(ColumnDef::new(ConfigKeyStates::Reason).text().not_null())
                    .col(timestamp(ConfigKeyStates::SetAsideAt))
                    .primary_key(
                        Index::create()
                            .col(ConfigKeyStates::ConfigId)
                            .col(ConfigKeyStates::KeyId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(ConfigKeyStates::Table, ConfigKeyStates::ConfigId)
                            .to(LlmConfigs::Table, LlmConfigs::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(ConfigKeyStates::Table).to_owned())
            .await
    }
}
