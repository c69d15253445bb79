//! `alert_deliveries`: one alert to one webhook, retried until delivered or given up.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "alert_deliveries")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub alert_id: i32,
    pub webhook_id: i32,
    /// `pending` | `delivered` | `failed`.
    pub status: String,
    pub attempts: i32,
    /// When a sender may (re)try it; while one is sending, a claim in the future.
    pub next_attempt_at: DateTimeUtc,
    pub last_error: Option<String>,
    /// JSON array of `{"at","ok","detail"}`, one per attempt.
    pub log: String,
    pub delivered_at: Option<DateTimeUtc>,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
