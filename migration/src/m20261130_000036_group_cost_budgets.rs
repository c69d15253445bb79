use sea_orm_migration::prelude::*;

use crate::timestamps::{add_column, drop_column};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum Groups {
    Table,
    DailyCostLimit,
    MonthlyCostLimit,
    CostCurrency,
}

#[derive(DeriveIden, Clone, Copy)]
enum GroupUsage {
    Table,
    Spent,
    ReservedCost,
}

#[derive(DeriveIden, Clone, Copy)]
enum QuotaReservations {
    Table,
    DayCost,
    MonthCost,
}

#[derive(DeriveIden, Clone, Copy)]
enum LlmCallLogs {
    Table,
    Charged,
    ExchangeRate,
}

/// Money budgets per group, counted in the group's own currency: the limits on the group,
/// what was spent and what running calls reserved per period, each reservation's share, and
/// on each record what the group was charged and at which exchange rate. One column per
/// ALTER, as SQLite requires; every new column has a default or is nullable.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let money = |name: DynIden| {
            ColumnDef::new(name)
                .double()
                .not_null()
                .default(0.0)
                .to_owned()
        };
        let columns: Vec<(DynIden, ColumnDef)> = vec![
            (
                Groups::Table.into_iden(),
                ColumnDef::new(Groups::DailyCostLimit)
                    .double()
                    .null()
                    .to_owned(),
            ),
            (
                Groups::Table.into_iden(),
                ColumnDef::new(Groups::MonthlyCostLimit)
                    .double()
                    .null()
                    .to_owned(),
            ),
            (
                Groups::Table.into_iden(),
                ColumnDef::new(Groups::CostCurrency)
                    .string_len(8)
                    .not_null()
                    .default("CNY")
                    .to_owned(),
            ),
            (
                GroupUsage::Table.into_iden(),
                money(GroupUsage::Spent.into_iden()),
            ),
            (
                GroupUsage::Table.into_iden(),
                money(GroupUsage::ReservedCost.into_iden()),
            ),
            (
                QuotaReservations::Table.into_iden(),
                money(QuotaReservations::DayCost.into_iden()),
            ),
            (
                QuotaReservations::Table.into_iden(),
                money(QuotaReservations::MonthCost.into_iden()),
            ),
            (
                LlmCallLogs::Table.into_iden(),
                ColumnDef::new(LlmCallLogs::Charged)
                    .double()
                    .null()
                    .to_owned(),
            ),
            (
                LlmCallLogs::Table.into_iden(),
                ColumnDef::new(LlmCallLogs::ExchangeRate)
                    .double()
                    .null()
                    .to_owned(),
            ),
        ];
        for (table, column) in columns {
            add_column(manager, table, column).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let columns: Vec<(DynIden, DynIden)> = vec![
            (
                LlmCallLogs::Table.into_iden(),
                LlmCallLogs::ExchangeRate.into_iden(),
            ),
            (
                LlmCallLogs::Table.into_iden(),
                LlmCallLogs::Charged.into_iden(),
            ),
            (
                QuotaReservations::Table.into_iden(),
                QuotaReservations::MonthCost.into_iden(),
            ),
            (
                QuotaReservations::Table.into_iden(),
                QuotaReservations::DayCost.into_iden(),
            ),
            (
                GroupUsage::Table.into_iden(),
                GroupUsage::ReservedCost.into_iden(),
            ),
            (GroupUsage::Table.into_iden(), GroupUsage::Spent.into_iden()),
            (Groups::Table.into_iden(), Groups::CostCurrency.into_iden()),
            (
                Groups::Table.into_iden(),
                Groups::MonthlyCostLimit.into_iden(),
            ),
            (
                Groups::Table.into_iden(),
                Groups::DailyCostLimit.into_iden(),
            ),
        ];
        for (table, column) in columns {
            drop_column(manager, table, column).await?;
        }
        Ok(())
    }
}
