//! `llm_call_logs`: writing records in batches, and (for admins) reading them.

use chrono::{DateTime, Utc};
use entity::llm_call_logs::{ActiveModel, Entity};
use sea_orm::{ActiveValue::NotSet, DatabaseTransaction, DbErr, EntityTrait, Set};
use serde_json::Value;

/// One call's record, as the relay hands it over.
#[derive(Debug, Clone, PartialEq)]
pub struct NewCallLog {
    pub config_id: Option<i32>,
    pub template_id: Option<i32>,
    pub group_id: Option<i32>,
    pub activation_code: Option<String>,
    pub user_id: Option<i32>,
    pub config_name: String,
    pub provider: String,
    pub model: String,
    pub request_messages: Value,
    pub request_params: Option<Value>,
    pub response_content: Option<String>,
    pub response_data: Option<Value>,
    pub success: bool,
    pub error_code: Option<String>,
    pub error_message: Option<String>,
    pub prompt_tokens: Option<i32>,
    pub completion_tokens: Option<i32>,
    pub tokens_estimated: bool,
    pub cost: f64,
    pub retry_count: i32,
    pub is_stream: bool,
    pub call_time: DateTime<Utc>,
    pub duration_ms: i32,
}

impl NewCallLog {
    pub fn tokens_used(&self) -> Option<i32> {
        match (self.prompt_tokens, self.completion_tokens) {
            (None, None) => None,
            (prompt, completion) => Some(prompt.unwrap_or(0) + completion.unwrap_or(0)),
        }
    }

    fn to_row(&self) -> ActiveModel {
        ActiveModel {
            id: NotSet,
            tokens_used: Set(self.tokens_used()),
            config_id: Set(self.config_id),
            template_id: Set(self.template_id),
            group_id: Set(self.group_id),
            activation_code: Set(self.activation_code.clone()),
            user_id: Set(self.user_id),
            config_name: Set(self.config_name.clone()),
            provider: Set(self.provider.clone()),
            model: Set(self.model.clone()),
            request_messages: Set(self.request_messages.clone()),
            request_params: Set(self.request_params.clone()),
            response_content: Set(self.response_content.clone()),
            response_data: Set(self.response_data.clone()),
            status: Set(if self.success { "success" } else { "error" }.to_string()),
            error_code: Set(self.error_code.clone()),
            error_message: Set(self.error_message.clone()),
            prompt_tokens: Set(self.prompt_tokens),
            completion_tokens: Set(self.completion_tokens),
            tokens_estimated: Set(self.tokens_estimated),
            cost: Set(self.cost),
            retry_count: Set(self.retry_count),
            is_stream: Set(self.is_stream),
            call_time: Set(self.call_time),
            duration_ms: Set(Some(self.duration_ms)),
        }
    }
}

/// Inserts the rows inside the caller's transaction and returns their ids, in order.
pub async fn insert_batch(
    txn: &DatabaseTransaction,
    rows: &[NewCallLog],
) -> Result<Vec<i64>, DbErr> {
    let mut ids = Vec::with_capacity(rows.len());
    for row in rows {
        let result = Entity::insert(row.to_row()).exec(txn).await?;
        ids.push(result.last_insert_id);
    }
    Ok(ids)
}
