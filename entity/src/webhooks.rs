//! `webhooks`: where alerts are sent. The URL (it carries the robot's token) and the signing
//! secret are stored encrypted and never shown; `url_hint` is the scheme and host only.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "webhooks")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub name: String,
    /// `generic` | `wecom` | `dingtalk` | `feishu`.
    pub kind: String,
    pub url_encrypted: String,
    pub url_hint: String,
    pub secret_encrypted: Option<String>,
    pub enabled: bool,
    /// The last delivery attempt: `delivered` | `failed` (none yet = null).
    pub last_status: Option<String>,
    /// The last failure's words, with no token or secret in them.
    pub last_error: Option<String>,
    pub last_attempt_at: Option<DateTimeUtc>,
    /// JSON array of the times of the messages sent in the last minute (the robots' limit).
    pub recent_sends: String,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
