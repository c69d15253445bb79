//! `llm_call_logs` (调用记录表): one row per client call, whatever its outcome.
//! The config's name, provider and model (and the API key's name) are copied in, so a
//! record stays readable after its config (or key) is deleted; the ids are kept without
//! foreign keys, so a record is written even when what it refers to was deleted while the
//! call ran.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "llm_call_logs")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub config_id: Option<i32>,
    pub template_id: Option<i32>,
    pub group_id: Option<i32>,
    pub activation_code: Option<String>,
    pub user_id: Option<i32>,
    pub config_name: String,
    pub provider: String,
    pub model: String,
    pub request_messages: Json,
    pub request_params: Option<Json>,
    pub response_content: Option<String>,
    pub response_data: Option<Json>,
    /// `success` | `error` | `interrupted` (the server stopped while the call ran).
    pub status: String,
    pub error_code: Option<String>,
    pub error_message: Option<String>,
    pub tokens_used: Option<i32>,
    pub prompt_tokens: Option<i32>,
    pub completion_tokens: Option<i32>,
    /// True when the upstream sent no usage and the tokens were counted locally.
    pub tokens_estimated: bool,
    pub cost: f64,
    /// The config's currency when the call was made: what `cost` is in.
    pub currency: String,
    pub retry_count: i32,
    pub is_stream: bool,
    pub call_time: DateTimeUtc,
    pub duration_ms: Option<i32>,
    /// Why the model stopped (`stop`, `length`, `tool_calls`, `content_filter` …).
    pub finish_reason: Option<String>,
    /// The upstream's id of its answer (`chatcmpl-…`, `msg_…`, a DashScope request id).
    pub upstream_id: Option<String>,
    /// What the group's budget was charged, in its currency (NULL without a group).
    pub charged: Option<f64>,
    /// The rate `cost` converted at into `charged` (1 when the currencies match).
    pub exchange_rate: Option<f64>,
    /// The configs tried before the one that answered, and why each failed (fallbacks).
    pub fallback_attempts: Option<Json>,
    /// The API key the call was made with (NULL once the key is deleted).
    pub api_key_id: Option<i32>,
    /// The key's name when the call was recorded; kept after the key is deleted.
    pub api_key_name: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
