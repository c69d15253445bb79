//! `group_usage.cost` was written with every record and never read: the money that counts
//! against a budget is `spent` (in the group's currency), and the usage view sums costs per
//! currency from the hourly statistics.

use sea_orm_migration::prelude::*;

use crate::timestamps::{add_column, drop_column};

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
        drop_column(manager, GroupUsage::Table, GroupUsage::Cost).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        add_column(
            manager,
            GroupUsage::Table,
            ColumnDef::new(GroupUsage::Cost)
                .double()
                .not_null()
                .default(0.0),
        )
        .await
    }
}
