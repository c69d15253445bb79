//! `config_key_states`: a config's provider keys the upstream refused, set aside until an
//! admin puts them back. The key itself is never here, only its `crypto::key_id`.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "config_key_states")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub config_id: i32,
    #[sea_orm(primary_key, auto_increment = false)]
    pub key_id: String,
    /// What the upstream said (never the key).
    pub reason: String,
    pub set_aside_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
