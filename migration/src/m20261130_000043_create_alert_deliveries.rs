use sea_orm_migration::prelude::*;

use crate::timestamps::{index, timestamp};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum AlertDeliveries {
    Table,
    Id,
    AlertId,
    WebhookId,
    Status,
    Attempts,
    NextAttemptAt,
    LastError,
    Log,
    DeliveredAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Alerts {
    Table,
    Id,
}

#[derive(DeriveIden, Clone, Copy)]
enum Webhooks {
    Table,
    Id,
}

/// One alert to one webhook: an outbox row that any instance's sender may claim when it is
/// due, so a delivery survives a restart and is sent by one instance only. `log` keeps each
/// attempt's outcome (bounded) for the admin.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(AlertDeliveries::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(AlertDeliveries::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(AlertDeliveries::AlertId)
                            .integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(AlertDeliveries::WebhookId)
                            .integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(AlertDeliveries::Status)
                            .string_len(16)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(AlertDeliveries::Attempts)
                            .integer()
                            .not_null()
                            .default(0),
                    )
                    .col(timestamp(AlertDeliveries::NextAttemptAt))
                    .col(ColumnDef::new(AlertDeliveries::LastError).text().null())
                    .col(
                        ColumnDef::new(AlertDeliveries::Log)
                            .text()
                            .not_null()
                            .default("[]"),
                    )
                    .col(
                        ColumnDef::new(AlertDeliveries::DeliveredAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .col(timestamp(AlertDeliveries::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(AlertDeliveries::Table, AlertDeliveries::AlertId)
                            .to(Alerts::Table, Alerts::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(AlertDeliveries::Table, AlertDeliveries::WebhookId)
                            .to(Webhooks::Table, Webhooks::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                AlertDeliveries::Table,
                "ix_alert_deliveries_status_due",
                &[
                    AlertDeliveries::Status.into_iden(),
                    AlertDeliveries::NextAttemptAt.into_iden(),
                ],
            ))
            .await?;
        manager
            .create_index(index(
                AlertDeliveries::Table,
                "ix_alert_deliveries_alert",
                &[AlertDeliveries::AlertId.into_iden()],
            ))
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(AlertDeliveries::Table).to_owned())
            .await
    }
}
