use sea_orm_migration::prelude::*;

use crate::m20261126_000001_create_groups::Groups;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Running token counters per group and period (`day` / `month` in the configured time
/// zone): quotas are checked against these, never by summing the call log.
#[derive(DeriveIden, Clone, Copy)]
enum GroupUsage {
    Table,
    GroupId,
    Period,
    PeriodKey,
    UsedTokens,
    ReservedTokens,
    Calls,
    Cost,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let counter = |column: GroupUsage| {
            ColumnDef::new(column)
                .big_integer()
                .not_null()
                .default(0)
                .to_owned()
        };
        manager
            .create_table(
                Table::create()
                    .table(GroupUsage::Table)
                    .col(ColumnDef::new(GroupUsage::GroupId).integer().not_null())
                    .col(
                        ColumnDef::new(GroupUsage::Period)
                            .string_len(8)
                            .not_null()
                            .check(Expr::col(GroupUsage::Period).is_in(["day", "month"])),
                    )
                    .col(
                        ColumnDef::new(GroupUsage::PeriodKey)
                            .string_len(10)
                            .not_null(),
                    )
                    .col(counter(GroupUsage::UsedTokens))
                    .col(counter(GroupUsage::ReservedTokens))
                    .col(counter(GroupUsage::Calls))
                    .col(
                        ColumnDef::new(GroupUsage::Cost)
                            .double()
                            .not_null()
                            .default(0.0),
                    )
                    .primary_key(
                        Index::create()
                            .col(GroupUsage::GroupId)
                            .col(GroupUsage::Period)
                            .col(GroupUsage::PeriodKey),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(GroupUsage::Table, GroupUsage::GroupId)
                            .to(Groups::Table, Groups::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(GroupUsage::Table).to_owned())
            .await
    }
}
