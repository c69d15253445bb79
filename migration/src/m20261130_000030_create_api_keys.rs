//! API keys for tools (`sk-…`), bound to a group like activation codes, and the key a call
//! was made with on its record.
//!
//! Only a SHA-256 hash of a key is stored: a key is 256+ random bits, so a fast hash is
//! enough and the key can be looked up by it. `key_prefix` is a masked form for display.

use sea_orm_migration::prelude::*;

use crate::timestamps::{add_column, drop_column};
use sea_orm_migration::sea_orm::ConnectionTrait;

use crate::{
    m20261126_000001_create_groups::Groups,
    timestamps::{flag, id, index, timestamp},
};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum ApiKeys {
    Table,
    Id,
    Name,
    GroupId,
    KeyHash,
    KeyPrefix,
    IsActive,
    ExpiresAt,
    LastUsedAt,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum LlmCallLogs {
    Table,
    ApiKeyName,
    ApiKeyId,
    CallTime,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ApiKeys::Table)
                    .col(id(ApiKeys::Id))
                    .col(ColumnDef::new(ApiKeys::Name).string_len(100).not_null())
                    .col(ColumnDef::new(ApiKeys::GroupId).integer().not_null())
                    .col(
                        ColumnDef::new(ApiKeys::KeyHash)
                            .string_len(64)
                            .not_null()
                            .unique_key(),
                    )
                    .col(ColumnDef::new(ApiKeys::KeyPrefix).string_len(32).not_null())
                    .col(flag(ApiKeys::IsActive, true))
                    .col(ColumnDef::new(ApiKeys::ExpiresAt).timestamp_with_time_zone())
                    .col(ColumnDef::new(ApiKeys::LastUsedAt).timestamp_with_time_zone())
                    .col(timestamp(ApiKeys::CreatedAt))
                    .col(timestamp(ApiKeys::UpdatedAt))
                    // Like activation codes: a group with keys cannot be deleted, or the
                    // tools using them would silently lose access.
                    .foreign_key(
                        ForeignKey::create()
                            .from(ApiKeys::Table, ApiKeys::GroupId)
                            .to(Groups::Table, Groups::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                ApiKeys::Table,
                "idx_api_keys_group",
                &[ApiKeys::GroupId.into_iden()],
            ))
            .await?;
        // The other references of a record (config, group …) are foreign keys that become
        // NULL when their row is deleted, while the record keeps a snapshot of the name.
        // sea-query cannot add a foreign key to an existing SQLite table, but both databases
        // accept a REFERENCES clause on ADD COLUMN when the column defaults to NULL.
        let conn = manager.get_connection();
        conn.execute_unprepared(
            "ALTER TABLE llm_call_logs ADD COLUMN api_key_id INTEGER NULL \
             REFERENCES api_keys (id) ON DELETE SET NULL",
        )
        .await?;
        add_column(
            manager,
            LlmCallLogs::Table,
            ColumnDef::new(LlmCallLogs::ApiKeyName)
                .string_len(100)
                .null(),
        )
        .await?;
        // For the log filter (newest first, like the per-group index) and for the
        // ON DELETE SET NULL above, which would otherwise scan the whole log.
        manager
            .create_index(
                Index::create()
                    .name("idx_llm_call_logs_api_key")
                    .table(LlmCallLogs::Table)
                    .col(LlmCallLogs::ApiKeyId)
                    .col((LlmCallLogs::CallTime, IndexOrder::Desc))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("idx_llm_call_logs_api_key")
                    .table(LlmCallLogs::Table)
                    .to_owned(),
            )
            .await?;
        for column in [LlmCallLogs::ApiKeyId, LlmCallLogs::ApiKeyName] {
            drop_column(manager, LlmCallLogs::Table, column).await?;
        }
        manager
            .drop_table(Table::drop().table(ApiKeys::Table).to_owned())
            .await
    }
}
