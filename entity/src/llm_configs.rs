//! `llm_configs` (大模型配置表): one upstream model with its encrypted key and defaults.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "llm_configs")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub name: String,
    pub provider: String,
    pub api_url: String,
    /// AES-256-GCM ciphertext, base64; never leaves the server.
    pub api_key: String,
    pub model: String,
    pub max_tokens: i32,
    pub temperature: f64,
    pub top_p: f64,
    pub frequency_penalty: f64,
    pub presence_penalty: f64,
    /// A reasoning model (o-series, gpt-5, thinking models): the sampling defaults above
    /// are not sent; a call's own values still are.
    pub reasoning_model: bool,
    /// Configs tried in order when this one fails before answering: a JSON array of ids.
    pub fallback_config_ids: Option<String>,
    pub system_prompt: Option<String>,
    pub timeout_seconds: i32,
    pub max_retries: i32,
    /// Price per million prompt tokens, in `currency`.
    pub input_price: f64,
    /// Price per million completion tokens, in `currency`.
    pub output_price: f64,
    pub currency: String,
    pub is_active: bool,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub created_by: Option<i32>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

impl Model {
    /// The configs to try, in order, when this one fails before answering.
    pub fn fallbacks(&self) -> Vec<i32> {
        // Written only by the admin API as a JSON array.
        self.fallback_config_ids
            .as_deref()
            .and_then(|ids| serde_json::from_str(ids).ok())
            .unwrap_or_default()
    }
}
