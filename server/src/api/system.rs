//! Health check, used by `llm-proxy healthcheck`, load balancers and the Windows smoke test.

use poem::web::Data;
use poem_openapi::{Object, OpenApi};

use super::{
    ApiTags,
    envelope::{Reply, ok},
};
use crate::{error::AppResult, state::AppState};

pub struct SystemApi;

#[derive(Debug, Object)]
pub struct Health {
    /// `ok` when the database answers.
    pub status: String,
    pub version: String,
    /// `sqlite` or `postgres`.
    pub database: String,
}

#[OpenApi(prefix_path = "/", tag = "ApiTags::System")]
impl SystemApi {
    /// 健康检查 (no token needed)
    #[oai(path = "/health", method = "get", operation_id = "health")]
    async fn health(&self, state: Data<&AppState>) -> AppResult<Reply<Health>> {
        state.db.read.ping().await?;
        Ok(ok(Health {
            status: "ok".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            database: if state.db.is_sqlite() {
                "sqlite"
            } else {
                "postgres"
            }
            .into(),
        }))
    }
}
