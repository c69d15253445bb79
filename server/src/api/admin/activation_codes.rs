//! `/api/admin/activation-codes`: the codes Windows clients activate with.

use chrono::{DateTime, Utc};
use entity::activation_codes::Model;
use poem::web::Data;
use poem_openapi::{
    Object, OpenApi,
    param::{Path, Query},
    payload::Json,
};
use rand::Rng;

use crate::{
    api::{
        ApiTags,
        envelope::{Deleted, Reply, deleted, ok},
    },
    auth::AdminAuth,
    db::{self, activation_codes::CodeFields},
    error::{AppError, AppResult},
    state::AppState,
    validate,
};

#[derive(Debug, Object)]
pub struct CodeView {
    pub id: i32,
    pub code: String,
    pub group_id: i32,
    pub is_active: bool,
    #[oai(nullable)]
    pub expires_at: Option<DateTime<Utc>>,
    #[oai(nullable)]
    pub note: Option<String>,
    #[oai(nullable)]
    pub last_used_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Object)]
pub struct CreateCode {
    /// 4–32 letters, digits, `-` or `_`; generated when omitted.
    #[oai(nullable, deserialize_with = "crate::api::strict::strings")]
    #[oai(validator(pattern = "^[A-Za-z0-9_-]{4,32}$"))]
    pub code: Option<String>,
    pub group_id: i32,
    #[oai(nullable)]
    pub expires_at: Option<DateTime<Utc>>,
    #[oai(nullable, deserialize_with = "crate::api::strict::strings")]
    #[oai(validator(max_length = 255))]
    pub note: Option<String>,
    #[oai(nullable)]
    pub is_active: Option<bool>,
}

/// Change only the fields given; `clear_expiry` removes the expiry.
#[derive(Debug, Object)]
pub struct UpdateCode {
    #[oai(nullable)]
    pub group_id: Option<i32>,
    #[oai(nullable)]
    pub expires_at: Option<DateTime<Utc>>,
    #[oai(nullable)]
    pub clear_expiry: Option<bool>,
    #[oai(nullable, deserialize_with = "crate::api::strict::strings")]
    #[oai(validator(max_length = 255))]
    pub note: Option<String>,
    #[oai(nullable)]
    pub is_active: Option<bool>,
}

pub struct ActivationCodesApi;

#[OpenApi(
    prefix_path = "/admin/activation-codes",
    tag = "ApiTags::AdminActivationCodes"
)]
impl ActivationCodesApi {
    /// 获取激活码列表（可按分组筛选）
    #[oai(
        path = "/",
        method = "get",
        operation_id = "admin_list_activation_codes"
    )]
    async fn list(
        &self,
        state: Data<&AppState>,
        _auth: AdminAuth,
        group_id: Query<Option<i32>>,
    ) -> AppResult<Reply<Vec<CodeView>>> {
        let rows = db::activation_codes::list(&state.db, group_id.0).await?;
        Ok(ok(rows.iter().map(view).collect()))
    }

    /// 创建激活码（不填则自动生成）
    #[oai(
        path = "/",
        method = "post",
        operation_id = "admin_create_activation_code"
    )]
    async fn create(
        &self,
        state: Data<&AppState>,
        _auth: AdminAuth,
        body: Json<CreateCode>,
    ) -> AppResult<Reply<CodeView>> {
        let body = body.0;
        db::groups::get(&state.db, body.group_id).await?;
        let code = match body.code {
            Some(code) => validated_code(&code)?,
            None => generate_code(),
        };
        let fields = CodeFields {
            code,
            group_id: body.group_id,
            is_active: body.is_active.unwrap_or(true),
            expires_at: body.expires_at,
            note: validate::optional_text("note", "备注", body.note, 255)?,
        };
        Ok(ok(view(
            &db::activation_codes::create(&state.db, fields).await?,
        )))
    }

    /// 更新激活码（启用/禁用、分组、有效期、备注）
    #[oai(
        path = "/:id",
        method = "put",
        operation_id = "admin_update_activation_code"
    )]
    async fn update(
        &self,
        state: Data<&AppState>,
        _auth: AdminAuth,
        id: Path<i32>,
        body: Json<UpdateCode>,
    ) -> AppResult<Reply<CodeView>> {
        let body = body.0;
        let mut fields = CodeFields::of(&db::activation_codes::get(&state.db, id.0).await?);
        if let Some(group_id) = body.group_id {
            db::groups::get(&state.db, group_id).await?;
            fields.group_id = group_id;
        }
        if body.clear_expiry == Some(true) {
            fields.expires_at = None;
        }
        if let Some(at) = body.expires_at {
            fields.expires_at = Some(at);
        }
        if let Some(note) = body.note {
            fields.note = validate::optional_text("note", "备注", Some(note), 255)?;
        }
        if let Some(active) = body.is_active {
            fields.is_active = active;
        }
        Ok(ok(view(
            &db::activation_codes::update(&state.db, id.0, fields).await?,
        )))
    }

    /// 删除激活码
    #[oai(
        path = "/:id",
        method = "delete",
        operation_id = "admin_delete_activation_code"
    )]
    async fn delete(
        &self,
        state: Data<&AppState>,
        _auth: AdminAuth,
        id: Path<i32>,
    ) -> AppResult<Reply<Deleted>> {
        db::activation_codes::delete(&state.db, id.0).await?;
        Ok(deleted(id.0))
    }
}

fn validated_code(code: &str) -> AppResult<String> {
    let code = code.trim();
    let allowed = code
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if !(4..=32).contains(&code.len()) || !allowed {
        return Err(AppError::validation(
            "code",
            "激活码须为 4 到 32 位字母、数字、- 或 _",
        ));
    }
    // Stored upper-case: activation ignores case, so `abcd` and `ABCD` are one code.
    Ok(code.to_uppercase())
}

/// 16 characters without look-alikes (0/O, 1/I/L), easy to read out over the phone.
fn generate_code() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHJKMNPQRSTUVWXYZ23456789";
    let mut rng = rand::rng();
    (0..16)
        .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
        .collect()
}

fn view(row: &Model) -> CodeView {
    CodeView {
        id: row.id,
        code: row.code.clone(),
        group_id: row.group_id,
        is_active: row.is_active,
        expires_at: row.expires_at,
        note: row.note.clone(),
        last_used_at: row.last_used_at,
        created_at: row.created_at,
    }
}
