//! Client groups: every activation code belongs to one; limits are set per group.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "groups")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    #[sea_orm(unique)]
    pub name: String,
    pub description: Option<String>,
    /// Tokens per day; `None` is unlimited.
    pub daily_token_limit: Option<i64>,
    /// Tokens per month; `None` is unlimited.
    pub monthly_token_limit: Option<i64>,
    /// Requests per minute; `None` uses the configured default.
    pub requests_per_minute: Option<i32>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
