use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Call totals per local hour, config and group, kept with every call record. Statistics
/// read these (fast on any log size), and they outlive the purge of old call records.
/// Config and group ids are plain numbers (0 = none), not foreign keys: totals of a deleted
/// config still count, under the name snapshot kept here.
#[derive(DeriveIden, Clone, Copy)]
enum CallStatsHourly {
    Table,
    Hour,
    Day,
    HourOfDay,
    ConfigId,
    GroupId,
    ConfigName,
    Calls,
    SuccessCalls,
    PromptTokens,
    CompletionTokens,
    Cost,
    DurationMsSum,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let counter = |column: CallStatsHourly| {
            ColumnDef::new(column)
                .big_integer()
                .not_null()
                .default(0)
                .to_owned()
        };
        manager
            .create_table(
                Table::create()
                    .table(CallStatsHourly::Table)
                    // Local hour, "YYYY-MM-DD HH".
                    .col(
                        ColumnDef::new(CallStatsHourly::Hour)
                            .string_len(13)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(CallStatsHourly::Day)
                            .string_len(10)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(CallStatsHourly::HourOfDay)
                            .integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(CallStatsHourly::ConfigId)
                            .integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(CallStatsHourly::GroupId)
                            .integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(CallStatsHourly::ConfigName)
                            .string_len(100)
                            .not_null(),
                    )
                    .col(counter(CallStatsHourly::Calls))
                    .col(counter(CallStatsHourly::SuccessCalls))
                    .col(counter(CallStatsHourly::PromptTokens))
                    .col(counter(CallStatsHourly::CompletionTokens))
                    .col(
                        ColumnDef::new(CallStatsHourly::Cost)
                            .double()
                            .not_null()
                            .default(0.0),
                    )
                    .col(counter(CallStatsHourly::DurationMsSum))
                    .primary_key(
                        Index::create()
                            .col(CallStatsHourly::Hour)
                            .col(CallStatsHourly::ConfigId)
                            .col(CallStatsHourly::GroupId),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_call_stats_hourly_day")
                    .table(CallStatsHourly::Table)
                    .col(CallStatsHourly::Day)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(CallStatsHourly::Table).to_owned())
            .await
    }
}
