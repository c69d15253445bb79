use sea_orm_migration::prelude::*;

use crate::timestamps::{add_column, drop_column};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum Webhooks {
    Table,
    RecentSends,
}

/// When a webhook's last messages were sent (a JSON array of times, the last minute only):
/// office robots refuse more than a few per minute (企业微信 and 钉钉 20, 飞书 100), so every
/// instance's sender keeps to that through this one row.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        add_column(
            manager,
            Webhooks::Table,
            ColumnDef::new(Webhooks::RecentSends)
                .text()
                .not_null()
                .default("[]"),
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_column(manager, Webhooks::Table, Webhooks::RecentSends).await
    }
}
