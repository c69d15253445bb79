use sea_orm_migration::prelude::*;

use crate::timestamps::{id, timestamp};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
pub enum Groups {
    Table,
    Id,
    Name,
    Description,
    DailyTokenLimit,
    MonthlyTokenLimit,
    RequestsPerMinute,
    CreatedAt,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Groups::Table)
                    .col(id(Groups::Id))
                    .col(
                        ColumnDef::new(Groups::Name)
                            .string_len(100)
                            .not_null()
                            .unique_key(),
                    )
                    .col(ColumnDef::new(Groups::Description).text())
                    .col(
                        ColumnDef::new(Groups::DailyTokenLimit)
                            .big_integer()
                            .check(Expr::col(Groups::DailyTokenLimit).gte(0)),
                    )
                    .col(
                        ColumnDef::new(Groups::MonthlyTokenLimit)
                            .big_integer()
                            .check(Expr::col(Groups::MonthlyTokenLimit).gte(0)),
                    )
                    .col(
                        ColumnDef::new(Groups::RequestsPerMinute)
                            .integer()
                            .check(Expr::col(Groups::RequestsPerMinute).gte(0)),
                    )
                    .col(timestamp(Groups::CreatedAt))
                    .col(timestamp(Groups::UpdatedAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Groups::Table).to_owned())
            .await
    }
}
