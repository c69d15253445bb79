use sea_orm_migration::prelude::*;

use crate::{
    m20261126_000002_create_users::Users,
    timestamps::{flag, id, index, timestamp},
};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
pub enum LlmConfigs {
    Table,
    Id,
    Name,
    Provider,
    ApiUrl,
    ApiKey,
    Model,
    MaxTokens,
    Temperature,
    TopP,
    FrequencyPenalty,
    PresencePenalty,
    SystemPrompt,
    TimeoutSeconds,
    MaxRetries,
    InputPrice,
    OutputPrice,
    Currency,
    IsActive,
    CreatedAt,
    UpdatedAt,
    CreatedBy,
}

fn ranged_double(column: LlmConfigs, default: f64, min: f64, max: f64) -> ColumnDef {
    ColumnDef::new(column)
        .double()
        .not_null()
        .default(default)
        .check(Expr::col(column).between(min, max))
        .to_owned()
}

fn ranged_integer(column: LlmConfigs, default: i32, min: i32, max: i32) -> ColumnDef {
    ColumnDef::new(column)
        .integer()
        .not_null()
        .default(default)
        .check(Expr::col(column).between(min, max))
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(LlmConfigs::Table)
                    .col(id(LlmConfigs::Id))
                    .col(
                        ColumnDef::new(LlmConfigs::Name)
                            .string_len(100)
                            .not_null()
                            .unique_key(),
                    )
                    .col(
                        ColumnDef::new(LlmConfigs::Provider)
                            .string_len(50)
                            .not_null()
                            .check((
                                "check_provider",
                                Expr::col(LlmConfigs::Provider).is_in([
                                    "openai",
                                    "anthropic",
                                    "aliyun",
                                    "xunfei",
                                    "baidu",
                                    "zhipu",
                                    "custom",
                                ]),
                            )),
                    )
                    .col(
                        ColumnDef::new(LlmConfigs::ApiUrl)
                            .string_len(500)
                            .not_null(),
                    )
                    .col(ColumnDef::new(LlmConfigs::ApiKey).text().not_null())
                    .col(ColumnDef::new(LlmConfigs::Model).string_len(100).not_null())
                    .col(ranged_integer(LlmConfigs::MaxTokens, 2000, 1, 32000))
                    .col(ranged_double(LlmConfigs::Temperature, 0.7, 0.0, 2.0))
                    .col(ranged_double(LlmConfigs::TopP, 1.0, 0.0, 1.0))
                    .col(ranged_double(LlmConfigs::FrequencyPenalty, 0.0, -2.0, 2.0))
                    .col(ranged_double(LlmConfigs::PresencePenalty, 0.0, -2.0, 2.0))
                    .col(ColumnDef::new(LlmConfigs::SystemPrompt).text())
                    .col(ranged_integer(LlmConfigs::TimeoutSeconds, 30, 1, 600))
                    .col(ranged_integer(LlmConfigs::MaxRetries, 3, 0, 10))
                    .col(ranged_double(LlmConfigs::InputPrice, 0.0, 0.0, 1_000_000.0))
                    .col(ranged_double(
                        LlmConfigs::OutputPrice,
                        0.0,
                        0.0,
                        1_000_000.0,
                    ))
                    .col(
                        ColumnDef::new(LlmConfigs::Currency)
                            .string_len(8)
                            .not_null()
                            .default("CNY"),
                    )
                    .col(flag(LlmConfigs::IsActive, true))
                    .col(timestamp(LlmConfigs::CreatedAt))
                    .col(timestamp(LlmConfigs::UpdatedAt))
                    .col(ColumnDef::new(LlmConfigs::CreatedBy).integer())
                    .foreign_key(
                        ForeignKey::create()
                            .from(LlmConfigs::Table, LlmConfigs::CreatedBy)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                LlmConfigs::Table,
                "idx_llm_configs_provider",
                &[LlmConfigs::Provider.into_iden()],
            ))
            .await?;
        manager
            .create_index(index(
                LlmConfigs::Table,
                "idx_llm_configs_is_active",
                &[LlmConfigs::IsActive.into_iden()],
            ))
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(LlmConfigs::Table).to_owned())
            .await
    }
}
