use sea_orm_migration::prelude::*;

use crate::timestamps::{add_column, drop_column};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum LlmConfigs {
    Table,
    BreakerThreshold,
    BreakerCooldownSeconds,
}

/// An optional circuit breaker per config: after `breaker_threshold` consecutive failed
/// calls the config is skipped for `breaker_cooldown_seconds` (NULL threshold = off).
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        add_column(
            manager,
            LlmConfigs::Table,
            ColumnDef::new(LlmConfigs::BreakerThreshold)
                .integer()
                .null(),
        )
        .await?;
        add_column(
            manager,
            LlmConfigs::Table,
            ColumnDef::new(LlmConfigs::BreakerCooldownSeconds)
                .integer()
                .not_null()
                .default(60),
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [
            LlmConfigs::BreakerThreshold,
            LlmConfigs::BreakerCooldownSeconds,
        ] {
            drop_column(manager, LlmConfigs::Table, column).await?;
        }
        Ok(())
    }
}
