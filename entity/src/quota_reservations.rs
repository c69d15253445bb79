//! `quota_reservations`: the tokens one running call holds against its group's day and month,
//! owned by the instance that admitted it (see `instances`).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "quota_reservations")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub instance_id: String,
    pub group_id: i32,
    pub day_key: String,
    pub month_key: String,
    pub day_tokens: i64,
    pub month_tokens: i64,
    /// Money held against a cost budget, in the group's currency.
    pub day_cost: f64,
    pub month_cost: f64,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
