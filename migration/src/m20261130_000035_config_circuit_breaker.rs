use sea_orm_migration::prelude::*;

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
        manager
            .alter_table(
                Table::alter()
                    .table(LlmConfigs::Table)
                    .add_column(
                        ColumnDef::new(LlmConfigs::BreakerThreshold)
                            .integer()
                            .null(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(LlmConfigs::Table)
                    .add_column(
                        ColumnDef::new(LlmConfigs::BreakerCooldownSeconds)
                            .integer()
                            .not_null()
                            .default(60),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [
            LlmConfigs::BreakerThreshold,
            LlmConfigs::BreakerCooldownSeconds,
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(LlmConfigs::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
