//! Call records for admins (调用记录): search with pagination, one record in full, and a
//! streamed CSV export. Also served at the requirements' `GET /api/llm/logs`, admin-only.

use chrono::{DateTime, Utc};
use entity::llm_call_logs::Model;
use poem::{Body, web::Data};
use poem_openapi::{
    ApiResponse, Object, OpenApi,
    param::{Path, Query},
    payload::{Binary, Json},
};
use serde_json::Value;

use super::{
    log_filters::LogQuery,
    stats::{Summary, summary_of},
};
use crate::{
    api::ApiTags,
    auth::AdminAuth,
    db::{self, call_logs::LogFilter},
    error::{AppError, AppResult},
    log_text,
    state::AppState,
};

const PREVIEW_CHARS: usize = 50;
const DEFAULT_PAGE_SIZE: u64 = 20;

#[derive(Debug, Object)]
pub struct LogSummary {
    pub id: i64,
    #[oai(nullable)]
    pub config_id: Option<i32>,
    pub config_name: String,
    pub provider: String,
    pub model: String,
    #[oai(nullable)]
    pub group_id: Option<i32>,
    #[oai(nullable)]
    pub activation_code: Option<String>,
    /// The API key the call was made with; NULL once the key is deleted.
    #[oai(nullable)]
    pub api_key_id: Option<i32>,
    /// The key's name when the call was made (kept after the key is deleted).
    #[oai(nullable)]
    pub api_key_name: Option<String>,
    /// First 50 characters of the last user message.
    pub request_preview: String,
    /// First 50 characters of the response.
    pub response_preview: String,
    #[oai(nullable)]
    pub tokens_used: Option<i32>,
    #[oai(nullable)]
    pub prompt_tokens: Option<i32>,
    #[oai(nullable)]
    pub completion_tokens: Option<i32>,
    /// success | error | interrupted
    pub status: String,
    #[oai(nullable)]
    pub error_code: Option<String>,
    #[oai(nullable)]
    pub duration_ms: Option<i32>,
    pub cost: f64,
    /// What `cost` is in.
    pub currency: String,
    pub is_stream: bool,
    pub created_at: DateTime<Utc>,
}

/// The requirements' list shape: totals beside `data`.
#[derive(Debug, Object)]
pub struct LogPage {
    pub success: bool,
    /// How many records match. Counting stops after 10,000 records, or after this page's
    /// last one when that is further: when more match, `total` is that bound and
    /// `total_is_lower_bound` is true (show "10,000+"; a next page exists).
    pub total: u64,
    /// True when more than `total` records match (the count stopped); false when `total`
    /// is exact.
    pub total_is_lower_bound: bool,
    pub page: u64,
    pub page_size: u64,
    pub data: Vec<LogSummary>,
    /// With `summary=true`: calls, tokens, durations and costs (per currency) of every
    /// record the filters match, not only this page. Always exact, so it reads every
    /// matching record: seconds when a million match.
    #[oai(skip_serializing_if_is_none)]
    pub summary: Option<Summary>,
}

#[derive(Debug, Object)]
pub struct LogDetail {
    pub id: i64,
    #[oai(nullable)]
    pub config_id: Option<i32>,
    pub config_name: String,
    pub provider: String,
    pub model: String,
    #[oai(nullable)]
    pub template_id: Option<i32>,
    /// The template's name now (absent once it is deleted).
    #[oai(skip_serializing_if_is_none)]
    pub template_name: Option<String>,
    #[oai(nullable)]
    pub group_id: Option<i32>,
    /// The group's name now (absent once it is deleted).
    #[oai(skip_serializing_if_is_none)]
    pub group_name: Option<String>,
    #[oai(nullable)]
    pub activation_code: Option<String>,
    #[oai(nullable)]
    pub user_id: Option<i32>,
    /// The account's name now (absent once it is deleted).
    #[oai(skip_serializing_if_is_none)]
    pub username: Option<String>,
    /// The API key the call was made with; NULL once the key is deleted.
    #[oai(nullable)]
    pub api_key_id: Option<i32>,
    /// The key's name when the call was made (kept after the key is deleted).
    #[oai(nullable)]
    pub api_key_name: Option<String>,
    /// The messages as sent upstream (system prompt included).
    pub request_messages: Value,
    #[oai(nullable)]
    pub request_params: Option<Value>,
    #[oai(nullable)]
    pub response_content: Option<String>,
    /// The upstream's answer, or the assembled stream.
    #[oai(nullable)]
    pub response_data: Option<Value>,
    pub status: String,
    /// Why the model stopped (`stop`, `length`, `content_filter` …), as the upstream said.
    #[oai(nullable)]
    pub finish_reason: Option<String>,
    /// The upstream's id of its answer (`chatcmpl-…`, `msg_…`, a DashScope request id).
    #[oai(nullable)]
    pub upstream_id: Option<String>,
    #[oai(nullable)]
    pub error_code: Option<String>,
    /// What went wrong, with the upstream's own words.
    #[oai(nullable)]
    pub error_message: Option<String>,
    #[oai(nullable)]
    pub tokens_used: Option<i32>,
    #[oai(nullable)]
    pub prompt_tokens: Option<i32>,
    #[oai(nullable)]
    pub completion_tokens: Option<i32>,
    /// True when the upstream sent no usage and tokens were counted locally.
    pub tokens_estimated: bool,
    pub cost: f64,
    /// What `cost` is in.
    pub currency: String,
    pub retry_count: i32,
    pub is_stream: bool,
    #[oai(nullable)]
    pub duration_ms: Option<i32>,
    pub created_at: DateTime<Utc>,
}

#[derive(ApiResponse)]
pub enum CsvExport {
    /// UTF-8 CSV with a byte-order mark, so Excel on Windows shows Chinese correctly.
    #[oai(status = 200, content_type = "text/csv; charset=utf-8")]
    Ok(Binary<Body>, #[oai(header = "Content-Disposition")] String),
}

pub struct LogsApi;

#[OpenApi(prefix_path = "/", tag = "ApiTags::AdminLogs")]
impl LogsApi {
    /// 调用记录列表（筛选：配置、分组、激活码、API Key、状态、时间范围、文本搜索；分页）
    #[oai(
        path = "/admin/llm/logs",
        method = "get",
        operation_id = "admin_list_logs"
    )]
    #[allow(clippy::too_many_arguments)]
    async fn list(
        &self,
        state: Data<&AppState>,
        _auth: AdminAuth,
        config_id: Query<Option<i32>>,
        group_id: Query<Option<i32>>,
        activation_code: Query<Option<String>>,
        api_key_id: Query<Option<i32>>,
        /// success | error | interrupted
        #[oai(validator(pattern = "^(success|error|interrupted)?$"))]
        status: Query<Option<String>>,
        /// YYYY-MM-DD (local day) or RFC 3339
        #[oai(validator(pattern = "^([0-9]{4}-[0-9]{2}-[0-9]{2}([Tt].+)?)?$"))]
        start_date: Query<Option<String>>,
        /// YYYY-MM-DD (whole local day included) or RFC 3339
        #[oai(validator(pattern = "^([0-9]{4}-[0-9]{2}-[0-9]{2}([Tt].+)?)?$"))]
        end_date: Query<Option<String>>,
        /// Text in the messages or the reply (not their JSON), case-insensitive (on SQLite
        /// for Latin letters only). 3+ characters: every record, through the full-text
        /// index. 1–2 characters (on SQLite: no 3 in a row without `%` or `_`): the newest
        /// 100,000 records only.
        q: Query<Option<String>>,
        /// Default 1. At most 1,000,000: far beyond any real log, and small enough that
        /// `page * page_size` cannot overflow.
        #[oai(validator(minimum(value = "1"), maximum(value = "1000000")))]
        page: Query<Option<u64>>,
        /// Default 20, at most 100.
        #[oai(validator(minimum(value = "1"), maximum(value = "100")))]
        page_size: Query<Option<u64>>,
        /// true: also the totals of every matching record (`summary`).
        summary: Query<Option<bool>>,
    ) -> AppResult<Json<LogPage>> {
        let query = LogQuery {
            config_id: config_id.0,
            group_id: group_id.0,
            activation_code: activation_code.0,
            api_key_id: api_key_id.0,
            status: status.0,
            start_date: start_date.0,
            end_date: end_date.0,
            q: q.0,
        };
        list_logs(
            &state,
            query,
            (page.0, page_size.0),
            summary.0 == Some(true),
        )
        .await
    }

    /// 调用记录列表（需求文档路径，仅管理员）
    #[oai(path = "/llm/logs", method = "get", operation_id = "list_logs")]
    #[allow(clippy::too_many_arguments)]
    async fn list_compat(
        &self,
        state: Data<&AppState>,
        _auth: AdminAuth,
        config_id: Query<Option<i32>>,
        group_id: Query<Option<i32>>,
        activation_code: Query<Option<String>>,
        api_key_id: Query<Option<i32>>,
        #[oai(validator(pattern = "^(success|error|interrupted)?$"))] status: Query<Option<String>>,
        #[oai(validator(pattern = "^([0-9]{4}-[0-9]{2}-[0-9]{2}([Tt].+)?)?$"))] start_date: Query<
            Option<String>,
        >,
        #[oai(validator(pattern = "^([0-9]{4}-[0-9]{2}-[0-9]{2}([Tt].+)?)?$"))] end_date: Query<
            Option<String>,
        >,
        q: Query<Option<String>>,
        #[oai(validator(minimum(value = "1"), maximum(value = "1000000")))] page: Query<
            Option<u64>,
        >,
        #[oai(validator(minimum(value = "1"), maximum(value = "100")))] page_size: Query<
            Option<u64>,
        >,
    ) -> AppResult<Json<LogPage>> {
        let query = LogQuery {
            config_id: config_id.0,
            group_id: group_id.0,
            activation_code: activation_code.0,
            api_key_id: api_key_id.0,
            status: status.0,
            start_date: start_date.0,
            end_date: end_date.0,
            q: q.0,
        };
        list_logs(&state, query, (page.0, page_size.0), false).await
    }

    /// 导出调用记录为 CSV（与列表相同的筛选条件）
    #[oai(
        path = "/admin/llm/logs/export",
        method = "get",
        operation_id = "admin_export_logs"
    )]
    #[allow(clippy::too_many_arguments)]
    async fn export(
        &self,
        state: Data<&AppState>,
        _auth: AdminAuth,
        config_id: Query<Option<i32>>,
        group_id: Query<Option<i32>>,
        activation_code: Query<Option<String>>,
        api_key_id: Query<Option<i32>>,
        #[oai(validator(pattern = "^(success|error|interrupted)?$"))] status: Query<Option<String>>,
        #[oai(validator(pattern = "^([0-9]{4}-[0-9]{2}-[0-9]{2}([Tt].+)?)?$"))] start_date: Query<
            Option<String>,
        >,
        #[oai(validator(pattern = "^([0-9]{4}-[0-9]{2}-[0-9]{2}([Tt].+)?)?$"))] end_date: Query<
            Option<String>,
        >,
        q: Query<Option<String>>,
    ) -> AppResult<CsvExport> {
        let filter = LogQuery {
            config_id: config_id.0,
            group_id: group_id.0,
            activation_code: activation_code.0,
            api_key_id: api_key_id.0,
            status: status.0,
            start_date: start_date.0,
            end_date: end_date.0,
            q: q.0,
        }
        .filter(state.quotas.clock())?;
        let name = format!(
            "attachment; filename=\"llm-call-logs-{}.csv\"",
            state.quotas.clock().now().format("%Y%m%d-%H%M%S")
        );
        Ok(CsvExport::Ok(
            Binary(Body::from_bytes_stream(super::csv::rows(
                state.clone(),
                filter,
            ))),
            name,
        ))
    }

    /// 调用记录详情
    #[oai(
        path = "/admin/llm/logs/:id",
        method = "get",
        operation_id = "admin_get_log"
    )]
    async fn get(
        &self,
        state: Data<&AppState>,
        _auth: AdminAuth,
        id: Path<i64>,
    ) -> AppResult<Json<crate::api::envelope::Envelope<LogDetail>>> {
        let row = db::call_logs::get(&state.db, id.0)
            .await?
            .ok_or(AppError::NotFound("调用记录"))?;
        // Names, not ids, for the admin; what was deleted since has none.
        let template_name = match row.template_id {
            Some(id) => existing(db::templates::get(&state.db, id).await)?.map(|t| t.template_name),
            None => None,
        };
        let group_name = match row.group_id {
            Some(id) => existing(db::groups::get(&state.db, id).await)?.map(|g| g.name),
            None => None,
        };
        let username = match row.user_id {
            Some(id) => existing(db::users::get(&state.db, id).await)?.map(|u| u.username),
            None => None,
        };
        Ok(crate::api::envelope::ok(LogDetail {
            template_name,
            group_name,
            username,
            ..detail(row)
        }))
    }
}

async fn list_logs(
    state: &AppState,
    query: LogQuery,
    (page, page_size): (Option<u64>, Option<u64>),
    with_summary: bool,
) -> AppResult<Json<LogPage>> {
    let filter: LogFilter = query.filter(state.quotas.clock())?;
    // Their limits are in the spec, checked before the handler runs.
    let page = page.unwrap_or(1);
    let page_size = page_size.unwrap_or(DEFAULT_PAGE_SIZE);
    let (matches, rows) = db::call_logs::page(&state.db, &filter, page, page_size).await?;
    let totals = match with_summary {
        true => Some(summary_of(db::call_logs::totals(&state.db, &filter).await?)),
        false => None,
    };
    Ok(Json(LogPage {
        success: true,
        total: matches.total,
        total_is_lower_bound: matches.at_least,
        page,
        page_size,
        data: rows.into_iter().map(summary).collect(),
        summary: totals,
    }))
}

/// A row that may have been deleted since: None then, other errors stay errors.
fn existing<T>(found: AppResult<T>) -> AppResult<Option<T>> {
    match found {
        Ok(row) => Ok(Some(row)),
        Err(AppError::NotFound(_)) => Ok(None),
        Err(err) => Err(err),
    }
}

/// The first `PREVIEW_CHARS` characters (characters, not bytes: never cut inside one).
pub fn preview(text: &str) -> String {
    text.chars().take(PREVIEW_CHARS).collect()
}

fn summary(row: Model) -> LogSummary {
    LogSummary {
        request_preview: preview(&log_text::request_text(&row.request_messages)),
        response_preview: preview(row.response_content.as_deref().unwrap_or_default()),
        id: row.id,
        config_id: row.config_id,
        config_name: row.config_name,
        provider: row.provider,
        model: row.model,
        group_id: row.group_id,
        activation_code: row.activation_code,
        api_key_id: row.api_key_id,
        api_key_name: row.api_key_name,
        tokens_used: row.tokens_used,
        prompt_tokens: row.prompt_tokens,
        completion_tokens: row.completion_tokens,
        status: row.status,
        error_code: row.error_code,
        duration_ms: row.duration_ms,
        cost: row.cost,
        currency: row.currency,
        is_stream: row.is_stream,
        created_at: row.call_time,
    }
}

fn detail(row: Model) -> LogDetail {
    LogDetail {
        id: row.id,
        config_id: row.config_id,
        config_name: row.config_name,
        provider: row.provider,
        model: row.model,
        template_id: row.template_id,
        template_name: None,
        group_id: row.group_id,
        group_name: None,
        activation_code: row.activation_code,
        user_id: row.user_id,
        username: None,
        api_key_id: row.api_key_id,
        api_key_name: row.api_key_name,
        request_messages: row.request_messages,
        request_params: row.request_params,
        response_content: row.response_content,
        response_data: row.response_data,
        status: row.status,
        finish_reason: row.finish_reason,
        upstream_id: row.upstream_id,
        error_code: row.error_code,
        error_message: row.error_message,
        tokens_used: row.tokens_used,
        prompt_tokens: row.prompt_tokens,
        completion_tokens: row.completion_tokens,
        tokens_estimated: row.tokens_estimated,
        cost: row.cost,
        currency: row.currency,
        retry_count: row.retry_count,
        is_stream: row.is_stream,
        duration_ms: row.duration_ms,
        created_at: row.call_time,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn previews_cut_characters_not_bytes() {
        let text = "你".repeat(60);
        let cut = preview(&text);
        assert_eq!(cut, "你".repeat(50));
        assert_eq!(preview("短"), "短");
    }
}
