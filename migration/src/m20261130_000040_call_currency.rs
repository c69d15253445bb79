use sea_orm_migration::prelude::*;

use crate::timestamps::add_column;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum LlmCallLogs {
    Table,
    Currency,
}

#[derive(DeriveIden, Clone, Copy)]
enum CallStatsHourly {
    Table,
    Hour,
    Day,
    HourOfDay,
    ConfigId,
    GroupId,
    ConfigName,
    Currency,
    Calls,
    SuccessCalls,
    PromptTokens,
    CompletionTokens,
    Cost,
    DurationMsSum,
}

/// `call_stats_hourly` rebuilt under this name, then renamed: PostgreSQL keeps the old
/// table's primary-key index name, so the new table may not take it.
#[derive(DeriveIden)]
struct CallStatsHourlyNew;

const DAY_INDEX: &str = "idx_call_stats_hourly_day";
/// Records and totals from before: the currency their config has now (CNY without one).
const BACKFILL: &str = "COALESCE((SELECT llm_configs.currency FROM llm_configs \
                        WHERE llm_configs.id = config_id), 'CNY')";

/// The currency of every cost: a record keeps its config's currency, and the hourly
/// totals are kept per currency (part of their key), so money in different currencies is
/// never added together.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        add_column(
            manager,
            LlmCallLogs::Table,
            ColumnDef::new(LlmCallLogs::Currency)
                .string_len(8)
                .not_null()
                .default("CNY"),
        )
        .await?;
        let db = manager.get_connection();
        db.execute_unprepared(&format!("UPDATE llm_call_logs SET currency = {BACKFILL}"))
            .await?;

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
                    .table(CallStatsHourlyNew)
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
                        ColumnDef::new(CallStatsHourly::Currency)
                            .string_len(8)
                            .not_null()
                            .default("CNY"),
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
                            .col(CallStatsHourly::GroupId)
                            .col(CallStatsHourly::Currency),
                    )
                    .to_owned(),
            )
            .await?;
        db.execute_unprepared(&format!(
            "INSERT INTO call_stats_hourly_new (hour, day, hour_of_day, config_id, group_id, \
             currency, config_name, calls, success_calls, prompt_tokens, completion_tokens, \
             cost, duration_ms_sum) \
             SELECT hour, day, hour_of_day, config_id, group_id, {BACKFILL}, config_name, \
             calls, success_calls, prompt_tokens, completion_tokens, cost, duration_ms_sum \
             FROM call_stats_hourly"
        ))
        .await?;
        manager
            .drop_table(Table::drop().table(CallStatsHourly::Table).to_owned())
            .await?;
        manager
            .rename_table(
                Table::rename()
                    .table(CallStatsHourlyNew, CallStatsHourly::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name(DAY_INDEX)
                    .table(CallStatsHourly::Table)
                    .col(CallStatsHourly::Day)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, _manager: &SchemaManager) -> Result<(), DbErr> {
        // Totals split by currency cannot be merged back without adding currencies
        // together, which is what this migration exists to stop.
        Err(DbErr::Migration(
            "call_currency cannot be undone: restore a backup instead".into(),
        ))
    }
}
