//! `/api/admin/api-keys`: keys (`sk-…`) that tools call the model endpoints with, each
//! counting against its group's limits. The full key is in the create answer only.

use chrono::{DateTime, Utc};
use entity::api_keys::Model;
use poem::web::Data;
use poem_openapi::{Object, OpenApi, param::Path, payload::Json};

use crate::{
    api::{
        ApiTags,
        envelope::{Deleted, Reply, deleted, ok},
    },
    auth::AdminAuth,
    db,
    error::{AppError, AppResult},
    state::AppState,
    validate,
};

const NAME_MAX: usize = 100;

#[derive(Debug, Object)]
pub struct ApiKeyView {
    pub id: i32,
    pub name: String,
    /// The key masked, e.g. `sk-abcd…wxyz`; the full key cannot be shown again.
    pub key_prefix: String,
    pub group_id: i32,
    pub is_active: bool,
    /// The key is refused from this instant on; none = never expires.
    #[oai(nullable)]
    pub expires_at: Option<DateTime<Utc>>,
    /// The last call made with the key (updated at most once a minute).
    #[oai(nullable)]
    pub last_used_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A new key, with the full key in it (the only answer that has it).
// No `Debug`: a stray `{:?}` in a log line must not print the key.
#[derive(Object)]
pub struct CreatedApiKey {
    /// The full key (`sk-` and 48 letters and digits). Shown in this answer only.
    pub key: String,
    #[oai(flatten)]
    pub api_key: ApiKeyView,
}

#[derive(Debug, Object)]
pub struct CreateApiKey {
    /// 1–100 characters.
    #[oai(deserialize_with = "crate::api::strict::strings")]
    #[oai(validator(max_length = 100, pattern = "\\S"))]
    pub name: String,
    /// The group whose rate limit and quotas the key's calls count against.
    pub group_id: i32,
    /// RFC 3339, in the future; omitted = never expires.
    #[oai(nullable)]
    pub expires_at: Option<DateTime<Utc>>,
}

/// Change only the fields given.
#[derive(Debug, Object)]
pub struct UpdateApiKey {
    /// 1–100 characters.
    #[oai(nullable, deserialize_with = "crate::api::strict::strings")]
    #[oai(validator(max_length = 100, pattern = "\\S"))]
    pub name: Option<String>,
    /// A disabled key is refused (401 `API_KEY_DISABLED`) from the next request on.
    #[oai(nullable)]
    pub is_active: Option<bool>,
}

pub struct ApiKeysApi;

#[OpenApi(prefix_path = "/admin/api-keys", tag = "ApiTags::AdminApiKeys")]
impl ApiKeysApi {
    /// 获取 API Key 列表（只显示掩码，不显示完整 Key）
    #[oai(path = "/", method = "get", operation_id = "admin_list_api_keys")]
    async fn list(
        &self,
        state: Data<&AppState>,
        _auth: AdminAuth,
    ) -> AppResult<Reply<Vec<ApiKeyView>>> {
        let rows = db::api_keys::list(&state.db).await?;
        Ok(ok(rows.iter().map(view).collect()))
    }

    /// 创建 API Key（完整 Key 仅在本次响应中返回一次）
    #[oai(path = "/", method = "post", operation_id = "admin_create_api_key")]
    async fn create(
        &self,
        state: Data<&AppState>,
        _auth: AdminAuth,
        body: Json<CreateApiKey>,
    ) -> AppResult<Reply<CreatedApiKey>> {
        let body = body.0;
        let name = validated_name(&body.name)?;
        if body.expires_at.is_some_and(|at| at <= Utc::now()) {
            return Err(AppError::validation("expires_at", "有效期须晚于当前时间"));
        }
        db::groups::get(&state.db, body.group_id).await?;
        let (row, key) =
            db::api_keys::create(&state.db, name, body.group_id, body.expires_at).await?;
        tracing::info!(
            api_key_id = row.id,
            group_id = row.group_id,
            "API key created"
        );
        Ok(ok(CreatedApiKey {
            key: key.expose().to_string(),
            api_key: view(&row),
        }))
    }

    /// 更新 API Key（重命名、启用/禁用）
    #[oai(path = "/:id", method = "put", operation_id = "admin_update_api_key")]
    async fn update(
        &self,
        state: Data<&AppState>,
        _auth: AdminAuth,
        id: Path<i32>,
        body: Json<UpdateApiKey>,
    ) -> AppResult<Reply<ApiKeyView>> {
        let body = body.0;
        let name = body.name.as_deref().map(validated_name).transpose()?;
        let row = db::api_keys::update(&state.db, id.0, name, body.is_active).await?;
        Ok(ok(view(&row)))
    }

    /// 吊销（删除）API Key，下一次请求起即被拒绝
    #[oai(
        path = "/:id",
        method = "delete",
        operation_id = "admin_delete_api_key"
    )]
    async fn delete(
        &self,
        state: Data<&AppState>,
        _auth: AdminAuth,
        id: Path<i32>,
    ) -> AppResult<Reply<Deleted>> {
        db::api_keys::delete(&state.db, id.0).await?;
        tracing::info!(api_key_id = id.0, "API key revoked");
        Ok(deleted(id.0))
    }
}

fn validated_name(name: &str) -> AppResult<String> {
    validate::text("name", "名称", name, NAME_MAX)
}

fn view(row: &Model) -> ApiKeyView {
    ApiKeyView {
        id: row.id,
        name: row.name.clone(),
        key_prefix: row.key_prefix.clone(),
        group_id: row.group_id,
        is_active: row.is_active,
        expires_at: row.expires_at,
        last_used_at: row.last_used_at,
        created_at: row.created_at,
        updated_at: row.updated_at,
    }
}
