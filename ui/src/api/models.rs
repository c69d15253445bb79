//! What the server sends and takes, as the UI reads it. Optional fields default, so a
//! field the server leaves out (or adds) never breaks a page.

use serde::Deserialize;
use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct LoginResult {
    pub token: String,
    pub role: String,
    #[serde(default)]
    pub expires_at: String,
}

/// `GET /api/auth/me`: the account and the server's time zone.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(default)]
pub struct Me {
    pub id: i32,
    pub username: String,
    pub role: String,
    pub time_zone: String,
    pub utc_offset_minutes: i64,
    pub utc_offsets: Vec<OffsetChange>,
}

/// One offset of the server's zone and the instant (Unix seconds) it starts at.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(default)]
pub struct OffsetChange {
    pub from: i64,
    pub minutes: i64,
}

#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(default)]
pub struct ConfigView {
    pub id: i32,
    pub name: String,
    pub provider: String,
    pub api_url: String,
    pub model: String,
    pub has_api_key: bool,
    pub api_key_masked: String,
    pub max_tokens: i64,
    pub temperature: f64,
    pub top_p: f64,
    pub frequency_penalty: f64,
    pub presence_penalty: f64,
    #[serde(default)]
    pub reasoning_model: bool,
    /// Every key, masked, with its state.
    pub api_keys: Vec<KeyView>,
    /// Tried in this order when the config fails before answering.
    pub fallback_config_ids: Vec<i32>,
    /// Failures in a row that open the circuit; None = no breaker.
    pub breaker_threshold: Option<i64>,
    pub breaker_cooldown_seconds: i64,
    /// While the circuit is open (the config is skipped): until when.
    pub circuit_open_until: Option<String>,
    pub system_prompt: Option<String>,
    pub timeout_seconds: i64,
    pub max_retries: i64,
    pub input_price: f64,
    pub output_price: f64,
    pub currency: String,
    pub is_active: bool,
    pub created_at: String,
    pub updated_at: String,
}

/// One of a config's keys: masked, and whether calls use it.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(default)]
pub struct KeyView {
    /// Its line in the key field (0 = first), as `…/keys/{position}/restore` takes it.
    pub position: i32,
    pub masked: String,
    /// Refused by the upstream: unused until put back.
    pub set_aside: bool,
    pub reason: Option<String>,
    pub set_aside_at: Option<String>,
    /// Rate-limited: tried last until then.
    pub cooling_until: Option<String>,
}

/// The answer of `POST /api/admin/llm/configs/:id/test`.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(default)]
pub struct TestResult {
    pub message: String,
    pub response: String,
    pub duration_ms: f64,
    /// The call record the test left.
    pub call_log_id: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(default)]
pub struct TemplateView {
    pub id: i32,
    pub config_id: i32,
    pub template_name: String,
    pub template_content: String,
    pub variables: Vec<String>,
    pub description: Option<String>,
    pub is_active: bool,
    pub created_at: String,
    pub updated_at: String,
}

#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(default)]
pub struct GroupView {
    pub id: i32,
    pub name: String,
    pub description: Option<String>,
    pub daily_token_limit: Option<i64>,
    pub monthly_token_limit: Option<i64>,
    pub requests_per_minute: Option<i64>,
    /// The configs the group's clients may use; `None` = every enabled config.
    pub config_ids: Option<Vec<i32>>,
    /// Money budgets in `cost_currency`; `None` is unlimited.
    pub daily_cost_limit: Option<f64>,
    pub monthly_cost_limit: Option<f64>,
    pub cost_currency: String,
    pub created_at: String,
    pub updated_at: String,
}

#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(default)]
pub struct UsagePeriod {
    /// `YYYY-MM-DD` or `YYYY-MM` (server time zone).
    pub period: String,
    pub tokens: i64,
    /// Worst case of calls still running.
    pub reserved_tokens: i64,
    pub calls: i64,
    /// Per currency, never added together.
    pub costs: Vec<Money>,
    /// None = unlimited.
    pub limit: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(default)]
pub struct GroupUsage {
    pub group_id: i32,
    pub today: UsagePeriod,
    pub month: UsagePeriod,
    /// The limit in force (the group's, else the server default; 0 = unlimited).
    pub requests_per_minute: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(default)]
pub struct CodeView {
    pub id: i32,
    pub code: String,
    pub group_id: i32,
    pub is_active: bool,
    pub expires_at: Option<String>,
    pub note: Option<String>,
    pub last_used_at: Option<String>,
    pub created_at: String,
}

#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(default)]
pub struct ApiKeyView {
    pub id: i32,
    pub name: String,
    /// Masked, e.g. `sk-abcd…wxyz`.
    pub key_prefix: String,
    pub group_id: i32,
    pub is_active: bool,
    pub expires_at: Option<String>,
    pub last_used_at: Option<String>,
    pub created_at: String,
}

/// The answer of `POST /api/admin/api-keys`: the only one with the full key.
#[derive(Clone, PartialEq, Default, Deserialize)]
#[serde(default)]
pub struct CreatedApiKey {
    pub key: String,
    #[serde(flatten)]
    pub api_key: ApiKeyView,
}

#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(default)]
pub struct UserView {
    pub id: i32,
    pub username: String,
    pub role: String,
    pub parent_id: Option<i32>,
    pub group_id: Option<i32>,
    pub is_active: bool,
    pub last_login_at: Option<String>,
    pub created_at: String,
}

/// `GET/PUT /api/admin/settings/exchange-rates`: one unit of each currency in `base` (CNY).
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(default)]
pub struct ExchangeRates {
    pub base: String,
    pub rates: std::collections::BTreeMap<String, f64>,
}

/// A paged list: `{"success":true,"total":N,"page":1,"page_size":20,"data":[…]}`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Page<T> {
    #[serde(default)]
    pub total: i64,
    /// More than `total` records match (the log list's count stops at 10,000).
    #[serde(default)]
    pub total_is_lower_bound: bool,
    #[serde(default)]
    pub page: i64,
    #[serde(default)]
    pub page_size: i64,
    #[serde(default = "Vec::new")]
    pub data: Vec<T>,
    /// The totals of every matching record (the log list with `summary=true`).
    #[serde(default)]
    pub summary: Option<StatsSummary>,
}

#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(default)]
pub struct LogRow {
    pub id: i64,
    pub config_id: Option<i32>,
    pub config_name: Option<String>,
    pub provider: Option<String>,
    pub model: Option<String>,
    pub group_id: Option<i32>,
    pub activation_code: Option<String>,
    pub api_key_id: Option<i32>,
    /// Kept after the key is deleted.
    pub api_key_name: Option<String>,
    pub request_preview: Option<String>,
    pub response_preview: Option<String>,
    pub tokens_used: Option<i64>,
    pub prompt_tokens: Option<i64>,
    pub completion_tokens: Option<i64>,
    pub status: String,
    pub error_code: Option<String>,
    pub duration_ms: Option<f64>,
    pub cost: Option<f64>,
    pub currency: String,
    pub is_stream: bool,
    pub created_at: String,
}

#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(default)]
pub struct LogDetail {
    pub id: i64,
    pub config_id: Option<i32>,
    pub config_name: Option<String>,
    pub provider: Option<String>,
    pub model: Option<String>,
    pub template_id: Option<i32>,
    /// Names now (none once deleted).
    pub template_name: Option<String>,
    pub group_id: Option<i32>,
    pub group_name: Option<String>,
    pub activation_code: Option<String>,
    /// The admin who ran a connection test.
    pub user_id: Option<i32>,
    pub username: Option<String>,
    pub api_key_id: Option<i32>,
    /// Kept after the key is deleted.
    pub api_key_name: Option<String>,
    pub request_messages: Value,
    pub request_params: Value,
    pub response_content: Option<String>,
    pub response_data: Value,
    pub status: String,
    pub finish_reason: Option<String>,
    pub upstream_id: Option<String>,
    pub error_code: Option<String>,
    pub error_message: Option<String>,
    pub tokens_used: Option<i64>,
    pub prompt_tokens: Option<i64>,
    pub completion_tokens: Option<i64>,
    pub tokens_estimated: bool,
    pub cost: Option<f64>,
    pub currency: String,
    pub retry_count: Option<i64>,
    pub is_stream: bool,
    pub duration_ms: Option<f64>,
    pub created_at: String,
}

/// An amount in one currency: money in different currencies is never added together.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(default)]
pub struct Money {
    pub currency: String,
    pub amount: f64,
}

#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(default)]
pub struct StatsSummary {
    pub total_calls: i64,
    pub success_calls: i64,
    pub error_calls: i64,
    pub success_rate: f64,
    pub avg_duration_ms: f64,
    pub total_tokens: i64,
    pub prompt_tokens: i64,
    pub completion_tokens: i64,
    /// Per currency.
    pub costs: Vec<Money>,
}

#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(default)]
pub struct ConfigStats {
    /// 0 (or none) for calls without a config.
    pub config_id: Option<i32>,
    pub config_name: Option<String>,
    /// What `cost` is in (a config whose currency changed has a row per currency).
    pub currency: String,
    pub calls: i64,
    pub success_rate: f64,
    pub avg_duration_ms: f64,
    pub tokens: i64,
    pub cost: f64,
}

#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(default)]
pub struct GroupStats {
    /// 0 (or none) for calls outside any group (admins' tests).
    pub group_id: Option<i32>,
    pub group_name: Option<String>,
    pub calls: i64,
    pub tokens: i64,
    pub costs: Vec<Money>,
}

#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(default)]
pub struct DailyStats {
    pub date: String,
    pub calls: i64,
    pub tokens: i64,
    pub costs: Vec<Money>,
}

#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(default)]
pub struct HourlyStats {
    pub hour: u32,
    pub calls: i64,
}

#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(default)]
pub struct Stats {
    /// The range the server counted (it defaults to the last 30 days).
    pub start_date: String,
    pub end_date: String,
    pub summary: StatsSummary,
    pub by_config: Vec<ConfigStats>,
    pub by_group: Vec<GroupStats>,
    pub daily: Vec<DailyStats>,
    pub hourly: Vec<HourlyStats>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tolerates_missing_and_null_fields() {
        let row: Option<LogRow> = serde_json::from_str(
            r#"{"id":7,"status":"error","config_name":null,"tokens_used":null,"created_at":"2026-11-26T02:30:00Z","extra":1}"#,
        )
        .ok();
        let row = row.unwrap_or_default();
        assert_eq!(row.id, 7);
        assert_eq!(row.status, "error");
        assert_eq!(row.tokens_used, None);

        let page: Option<Page<LogRow>> =
            serde_json::from_str(r#"{"success":true,"total":3,"page":1,"page_size":20,"data":[]}"#)
                .ok();
        assert_eq!(page.map(|p| p.total), Some(3));

        let stats: Option<Stats> = serde_json::from_str(
            r#"{"summary":{"total_calls":5,"success_rate":0.8},"daily":[{"date":"2026-11-26","calls":5,"tokens":100,"costs":[{"currency":"USD","amount":0.1}]}],"hourly":[{"hour":3,"calls":2}]}"#,
        )
        .ok();
        let stats = stats.unwrap_or_default();
        assert_eq!(stats.summary.total_calls, 5);
        assert_eq!(stats.daily.len(), 1);
        assert!(stats.by_config.is_empty());
    }
}

/// One alert's delivery to one webhook.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(default)]
pub struct AlertDelivery {
    pub webhook_id: i32,
    pub webhook_name: String,
    /// `pending`, `delivered` or `failed`.
    pub status: String,
    pub attempts: i32,
    pub last_error: Option<String>,
}

/// `GET /api/admin/alerts` items.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(default)]
pub struct AlertView {
    pub id: i32,
    pub kind: String,
    /// `warning` or `critical`.
    pub severity: String,
    pub title: String,
    pub message: String,
    pub created_at: String,
    pub read_at: Option<String>,
    pub deliveries: Vec<AlertDelivery>,
}

#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(default)]
pub struct AlertPage {
    pub items: Vec<AlertView>,
    pub total: i64,
    pub unread: i64,
}

/// `GET /api/admin/webhooks` items: the URL shown by host only, the secret never.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(default)]
pub struct WebhookView {
    pub id: i32,
    pub name: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub url_hint: String,
    pub has_secret: bool,
    pub enabled: bool,
    pub last_status: Option<String>,
    pub last_error: Option<String>,
    pub last_attempt_at: Option<String>,
}

/// `POST /api/admin/webhooks/{id}/test`.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(default)]
pub struct WebhookTestResult {
    pub delivered: bool,
    pub error: Option<String>,
}
