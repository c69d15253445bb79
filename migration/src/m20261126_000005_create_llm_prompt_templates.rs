use sea_orm_migration::prelude::*;

use crate::{
    m20261126_000004_create_llm_configs::LlmConfigs,
    timestamps::{flag, id, index, timestamp},
};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
pub enum LlmPromptTemplates {
    Table,
    Id,
    ConfigId,
    TemplateName,
    TemplateContent,
    Variables,
    Description,
    IsActive,
    CreatedAt,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(LlmPromptTemplates::Table)
                    .col(id(LlmPromptTemplates::Id))
                    .col(
                        ColumnDef::new(LlmPromptTemplates::ConfigId)
                            .integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(LlmPromptTemplates::TemplateName)
                            .string_len(100)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(LlmPromptTemplates::TemplateContent)
                            .text()
                            .not_null(),
                    )
                    .col(ColumnDef::new(LlmPromptTemplates::Variables).json_binary())
                    .col(ColumnDef::new(LlmPromptTemplates::Description).text())
                    .col(flag(LlmPromptTemplates::IsActive, true))
                    .col(timestamp(LlmPromptTemplates::CreatedAt))
                    .col(timestamp(LlmPromptTemplates::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(LlmPromptTemplates::Table, LlmPromptTemplates::ConfigId)
                            .to(LlmConfigs::Table, LlmConfigs::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                LlmPromptTemplates::Table,
                "idx_prompt_templates_config",
                &[LlmPromptTemplates::ConfigId.into_iden()],
            ))
            .await?;
        manager
            .create_index(index(
                LlmPromptTemplates::Table,
                "idx_prompt_templates_active",
                &[LlmPromptTemplates::IsActive.into_iden()],
            ))
            .await?;
        // A config's template names are unique, so an admin never has two "客户问候".
        manager
            .create_index(
                index(
                    LlmPromptTemplates::Table,
                    "uq_prompt_templates_config_name",
                    &[
                        LlmPromptTemplates::ConfigId.into_iden(),
                        LlmPromptTemplates::TemplateName.into_iden(),
                    ],
                )
                .unique()
                .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(LlmPromptTemplates::Table).to_owned())
            .await
    }
}
