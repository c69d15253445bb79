//! Call totals per local hour, config, group and currency: what statistics read, and what survives
//! the purge of old call records.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "call_stats_hourly")]
pub struct Model {
    /// Local hour, `YYYY-MM-DD HH`.
    #[sea_orm(primary_key, auto_increment = false)]
    pub hour: String,
    pub day: String,
    pub hour_of_day: i32,
    /// 0 when the call had no config.
    #[sea_orm(primary_key, auto_increment = false)]
    pub config_id: i32,
    /// 0 when the caller had no group (an admin's test call).
    #[sea_orm(primary_key, auto_increment = false)]
    pub group_id: i32,
    /// What `cost` is in: totals are kept per currency, never added across them.
    #[sea_orm(primary_key, auto_increment = false)]
    pub currency: String,
    pub config_name: String,
    pub calls: i64,
    pub success_calls: i64,
    pub prompt_tokens: i64,
    pub completion_tokens: i64,
    pub cost: f64,
    pub duration_ms_sum: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
