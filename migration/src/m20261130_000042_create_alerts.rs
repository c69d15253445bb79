use sea_orm_migration::prelude::*;

use crate::timestamps::{id, index, timestamp};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum Alerts {
    Table,
    Id,
    Kind,
    Subject,
    Period,
    Severity,
    Title,
    Message,
    ReadAt,
    CreatedAt,
}

/// Events for the admin (quota thresholds, keys set aside, error rates, crashes). The unique
/// (kind, subject, period) is what makes an event fire once per period even with several
/// instances and restarts: the second insert of the same event is a no-op.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Alerts::Table)
                    .if_not_exists()
                    .col(id(Alerts::Id))
                    .col(ColumnDef::new(Alerts::Kind).string_len(32).not_null())
                    .col(ColumnDef::new(Alerts::Subject).string_len(200).not_null())
                    .col(ColumnDef::new(Alerts::Period).string_len(64).not_null())
                    .col(ColumnDef::new(Alerts::Severity).string_len(16).not_null())
                    .col(ColumnDef::new(Alerts::Title).string_len(200).not_null())
                    .col(ColumnDef::new(Alerts::Message).text().not_null())
                    .col(
                        ColumnDef::new(Alerts::ReadAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .col(timestamp(Alerts::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                index(
                    Alerts::Table,
                    "ux_alerts_kind_subject_period",
                    &[
                        Alerts::Kind.into_iden(),
                        Alerts::Subject.into_iden(),
                        Alerts::Period.into_iden(),
                    ],
                )
                .unique()
                .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Alerts::Table).to_owned())
            .await
    }
}
