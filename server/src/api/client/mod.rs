//! `/api/llm`: what the Windows client may call with its activation token (tools with an API
//! key, and admins, may too).
//! It sees only enabled configs' names and models, never URLs, keys or parameters.

pub(crate) mod calls;

use poem::web::Data;
use poem_openapi::{Object, OpenApi, param::Query, payload::Json};

pub use calls::{CallReply, CallRequest, StreamFormat, TemplateCallRequest, caller};

use super::{
    ApiTags,
    envelope::{Reply, ok},
};
use crate::{auth::ClientAuth, db, error::AppResult, relay::CallInput, state::AppState};

#[derive(Debug, Object)]
pub struct ClientConfig {
    pub id: i32,
    pub name: String,
    pub provider: String,
    pub model: String,
    pub is_active: bool,
}

#[derive(Debug, Object)]
pub struct ClientTemplate {
    pub id: i32,
    pub name: String,
    pub content: String,
    pub variables: Vec<String>,
}

pub struct ClientApi;

#[OpenApi(prefix_path = "/llm", tag = "ApiTags::Client")]
impl ClientApi {
    /// 获取可用配置列表（只返回已启用、且所在分组可用的配置）
    #[oai(
        path = "/configs",
        method = "get",
        operation_id = "client_list_configs"
    )]
    async fn configs(
        &self,
        state: Data<&AppState>,
        auth: ClientAuth,
    ) -> AppResult<Reply<Vec<ClientConfig>>> {
        let rows = db::configs::usable_by(&state.db, auth.0.group_id()).await?;
        Ok(ok(rows
            .into_iter()
            .map(|row| ClientConfig {
                id: row.id,
                name: row.name,
                provider: row.provider,
                model: row.model,
                is_active: row.is_active,
            })
            .collect()))
    }

    /// 获取某配置的可用Prompt模板
    #[oai(
        path = "/templates",
        method = "get",
        operation_id = "client_list_templates"
    )]
    async fn templates(
        &self,
        state: Data<&AppState>,
        auth: ClientAuth,
        config_id: Query<i32>,
    ) -> AppResult<Reply<Vec<ClientTemplate>>> {
        let config = db::configs::get(&state.db, config_id.0).await?;
        db::configs::check_access(&state.db, auth.0.group_id(), config.id).await?;
        if !config.is_active {
            return Ok(ok(Vec::new()));
        }
        let rows = db::templates::list(&state.db, Some(config.id), true).await?;
        Ok(ok(rows
            .iter()
            .map(|row| ClientTemplate {
                id: row.id,
                name: row.template_name.clone(),
                content: row.template_content.clone(),
                variables: db::templates::variables_of(row),
            })
            .collect()))
    }

    /// 调用大模型（标准模式；`stream: true` 时以 SSE 返回 `data: {"type":"chunk",…}`）
    ///
    /// The config's system prompt comes first, then the request's system messages, then the
    /// history in `messages`, then the rendered template (if any) as a user message.
    #[oai(path = "/call", method = "post", operation_id = "client_call")]
    async fn call(
        &self,
        state: Data<&AppState>,
        auth: ClientAuth,
        body: Json<CallRequest>,
    ) -> AppResult<CallReply> {
        let stream = body.stream.unwrap_or(false).then_some(StreamFormat::Typed);
        let input = calls::input_of(body.0)?;
        calls::answer(&state, input, &auth.0, stream).await
    }

    /// 使用模板调用（变量须全部给出；模型为模板所属配置）
    #[oai(
        path = "/call-template",
        method = "post",
        operation_id = "client_call_template"
    )]
    async fn call_template(
        &self,
        state: Data<&AppState>,
        auth: ClientAuth,
        body: Json<TemplateCallRequest>,
    ) -> AppResult<CallReply> {
        let body = body.0;
        let stream = body.stream.unwrap_or(false).then_some(StreamFormat::Typed);
        let input = CallInput {
            template_id: Some(body.template_id),
            variables: body.variables.unwrap_or_default(),
            ..CallInput::default()
        };
        calls::answer(&state, input, &auth.0, stream).await
    }

    /// 流式调用（SSE：`event: chunk` / `event: done` / `event: error`）
    #[oai(
        path = "/call-stream",
        method = "post",
        operation_id = "client_call_stream"
    )]
    async fn call_stream(
        &self,
        state: Data<&AppState>,
        auth: ClientAuth,
        body: Json<CallRequest>,
    ) -> AppResult<CallReply> {
        let input = calls::input_of(body.0)?;
        calls::answer(&state, input, &auth.0, Some(StreamFormat::Named)).await
    }
}
