//! `/api/llm`: what the Windows client may call with its activation token. It sees only
//! enabled configs' names and models, never URLs, keys or parameters.

use poem::web::Data;
use poem_openapi::{Object, OpenApi, param::Query};

use super::{
    ApiTags,
    envelope::{Reply, ok},
};
use crate::{auth::ClientAuth, db, error::AppResult, state::AppState};

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
    /// 获取可用配置列表（只返回已启用的配置）
    #[oai(
        path = "/configs",
        method = "get",
        operation_id = "client_list_configs"
    )]
    async fn configs(
        &self,
        state: Data<&AppState>,
        _auth: ClientAuth,
    ) -> AppResult<Reply<Vec<ClientConfig>>> {
        let rows = db::configs::list_active(&state.db).await?;
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
        _auth: ClientAuth,
        config_id: Query<i32>,
    ) -> AppResult<Reply<Vec<ClientTemplate>>> {
        let config = db::configs::get(&state.db, config_id.0).await?;
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
}
