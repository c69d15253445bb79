use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum Groups {
    Table,
    ConfigIds,
}

/// The configs a group's clients may use, as a JSON array of ids; NULL = every enabled
/// config. Kept as text rather than a join table: it is read whole with the (cached) group
/// on every call, and an id whose config was deleted is simply never matched.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Groups::Table)
                    .add_column(ColumnDef::new(Groups::ConfigIds).text().null())
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Groups::Table)
                    .drop_column(Groups::ConfigIds)
                    .to_owned(),
            )
            .await
    }
}
