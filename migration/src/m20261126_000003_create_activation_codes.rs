use sea_orm_migration::prelude::*;

use crate::{
    m20261126_000001_create_groups::Groups,
    timestamps::{flag, id, index, timestamp},
};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum ActivationCodes {
    Table,
    Id,
    Code,
    GroupId,
    IsActive,
    ExpiresAt,
    Note,
    LastUsedAt,
    CreatedAt,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ActivationCodes::Table)
                    .col(id(ActivationCodes::Id))
                    .col(
                        ColumnDef::new(ActivationCodes::Code)
                            .string_len(32)
                            .not_null()
                            .unique_key(),
                    )
                    .col(
                        ColumnDef::new(ActivationCodes::GroupId)
                            .integer()
                            .not_null(),
                    )
                    .col(flag(ActivationCodes::IsActive, true))
                    .col(ColumnDef::new(ActivationCodes::ExpiresAt).timestamp_with_time_zone())
                    .col(ColumnDef::new(ActivationCodes::Note).string_len(255))
                    .col(ColumnDef::new(ActivationCodes::LastUsedAt).timestamp_with_time_zone())
                    .col(timestamp(ActivationCodes::CreatedAt))
                    .col(timestamp(ActivationCodes::UpdatedAt))
                    // A group with codes cannot be deleted: its clients would silently lose access.
                    .foreign_key(
                        ForeignKey::create()
                            .from(ActivationCodes::Table, ActivationCodes::GroupId)
                            .to(Groups::Table, Groups::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                ActivationCodes::Table,
                "idx_activation_codes_group",
                &[ActivationCodes::GroupId.into_iden()],
            ))
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(ActivationCodes::Table).to_owned())
            .await
    }
}
