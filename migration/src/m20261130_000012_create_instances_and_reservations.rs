//! Quota reservations that no crash can leak.
//!
//! Each running server registers in `instances` and renews its lease (`heartbeat_at`). Every
//! token reservation a call holds is also a row in `quota_reservations`, owned by the
//! instance that made it. A call's record deletes its row in the transaction that settles
//! it; when an instance's lease runs out (it was killed), any instance releases that
//! instance's rows from the counters and deletes them.

use sea_orm_migration::prelude::*;

use crate::timestamps::timestamp;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Instances {
    Table,
    Id,
    Hostname,
    Pid,
    StartedAt,
    HeartbeatAt,
}

#[derive(DeriveIden)]
enum QuotaReservations {
    Table,
    Id,
    InstanceId,
    GroupId,
    DayKey,
    MonthKey,
    DayTokens,
    MonthTokens,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Instances::Table)
                    .col(
                        ColumnDef::new(Instances::Id)
                            .string_len(32)
                            .not_null()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(Instances::Hostname)
                            .string_len(255)
                            .not_null(),
                    )
                    .col(ColumnDef::new(Instances::Pid).integer().not_null())
                    .col(timestamp(Instances::StartedAt))
                    .col(timestamp(Instances::HeartbeatAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(QuotaReservations::Table)
                    .col(
                        ColumnDef::new(QuotaReservations::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(QuotaReservations::InstanceId)
                            .string_len(32)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(QuotaReservations::GroupId)
                            .integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(QuotaReservations::DayKey)
                            .string_len(10)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(QuotaReservations::MonthKey)
                            .string_len(7)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(QuotaReservations::DayTokens)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(QuotaReservations::MonthTokens)
                            .big_integer()
                            .not_null(),
                    )
                    .col(timestamp(QuotaReservations::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_quota_reservations_instance")
                    .table(QuotaReservations::Table)
                    .col(QuotaReservations::InstanceId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(QuotaReservations::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Instances::Table).to_owned())
            .await
    }
}
