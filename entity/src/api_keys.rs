//! API keys (`sk-…`) that tools call the model endpoints with, each bound to a group.
//! The key itself is never stored: only its SHA-256 (`key_hash`) and a masked form.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "api_keys")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub name: String,
    pub group_id: i32,
    /// Lower-case hex SHA-256 of the whole key.
    #[sea_orm(unique)]
    pub key_hash: String,
    /// The key masked for display, e.g. `sk-abcd…wxyz`.
    pub key_prefix: String,
    pub is_active: bool,
    pub expires_at: Option<DateTimeUtc>,
    /// Refreshed at most once a minute.
    pub last_used_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
