//! `group_usage.cost` was written with every record and never read: the money that counts
//! against a budget is `spent` (in the group's currency), and the usage view sums costs per
//! currency from the hourly statistics.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum GroupUsage {
    Table,
    Cost,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(GroupUsage::Table)
                    .drop_column(GroupUsage::Cost)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(GroupUsage::Table)
                    .add_column(
                        ColumnDef::new(GroupUsage::Cost)
                            .double()
                            .not_null()
                            .default(0.0),
                    )
                    .to_owned(),
            )
            .await
    }
}
