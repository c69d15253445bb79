//! Client groups: every activation code belongs to one; limits are set per group.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
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
    /// The configs this group may use, a JSON array of ids; `None` is every enabled config.
    pub config_ids: Option<String>,
    /// Money per day, in `cost_currency`; `None` is unlimited.
    pub daily_cost_limit: Option<f64>,
    /// Money per month, in `cost_currency`; `None` is unlimited.
    pub monthly_cost_limit: Option<f64>,
    /// The currency the budgets count in (calls priced otherwise convert at the admin's rates).
    pub cost_currency: String,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

impl Model {
    /// The configs this group may use; `None` is all of them.
    pub fn allowed_configs(&self) -> Option<Vec<i32>> {
        // Written only by the admin API as a JSON array; anything else allows nothing.
        self.config_ids
            .as_deref()
            .map(|ids| serde_json::from_str(ids).unwrap_or_default())
    }

    pub fn may_use(&self, config_id: i32) -> bool {
        self.allowed_configs()
            .is_none_or(|ids| ids.contains(&config_id))
    }
}
