//! `alerts`: events shown to the admin and sent to webhooks, one row per
//! (kind, subject, period).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "alerts")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub kind: String,
    /// What the event is about, e.g. `group:3:day` or `config:2`.
    pub subject: String,
    /// The period the event counts once in, e.g. `2026-11-30`.
    pub period: String,
    /// `info` | `warning` | `critical`.
    pub severity: String,
    pub title: String,
    pub message: String,
    pub read_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
