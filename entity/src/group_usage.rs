//! Running token counters per group and period, for quotas and the usage view.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "group_usage")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub group_id: i32,
    /// `day` | `month`.
    #[sea_orm(primary_key, auto_increment = false)]
    pub period: String,
    /// `YYYY-MM-DD` or `YYYY-MM`, in the configured time zone.
    #[sea_orm(primary_key, auto_increment = false)]
    pub period_key: String,
    pub used_tokens: i64,
    /// Worst-case tokens of calls still running.
    pub reserved_tokens: i64,
    pub calls: i64,
    /// What the calls cost in the group's budget currency.
    pub spent: f64,
    /// The worst-case cost running calls hold, in the budget currency.
    pub reserved_cost: f64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
