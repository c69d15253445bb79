use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum RateLimits {
    Table,
    GroupId,
    Tat,
}

#[derive(DeriveIden, Clone, Copy)]
enum Groups {
    Table,
    Id,
}

/// Each group's requests-per-minute state when several instances share one PostgreSQL: the
/// GCRA "theoretical arrival time" in Unix seconds, moved in one statement per call. (A
/// SQLite deployment is one machine and counts in memory; the table exists there too.)
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(RateLimits::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(RateLimits::GroupId)
                            .integer()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(RateLimits::Tat).double().not_null())
                    .foreign_key(
                        ForeignKey::create()
                            .from(RateLimits::Table, RateLimits::GroupId)
                            .to(Groups::Table, Groups::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(RateLimits::Table).to_owned())
            .await
    }
}
