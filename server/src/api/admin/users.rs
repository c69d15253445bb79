//! `/api/admin/users`: back-office accounts (admin, user, sub-account). Passwords are
//! write-only. The last active admin can be neither removed, disabled nor demoted.

use chrono::{DateTime, Utc};
use entity::users::Model;
use poem::web::Data;
use poem_openapi::{Object, OpenApi, param::Path, payload::Json};

use crate::{
    api::{
        ApiTags,
        envelope::{Deleted, Reply, deleted, ok},
    },
    auth::{AdminAuth, Principal, Role, password},
    db::{self, users::UserFields},
    error::{AppError, AppResult},
    state::AppState,
    validate,
};

#[derive(Debug, Object)]
pub struct UserView {
    pub id: i32,
    pub username: String,
    /// admin | user | subaccount
    pub role: String,
    /// The owning user of a sub-account.
    #[oai(nullable)]
    pub parent_id: Option<i32>,
    #[oai(nullable)]
    pub group_id: Option<i32>,
    pub is_active: bool,
    #[oai(nullable)]
    pub last_login_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Object)]
pub struct CreateUser {
    #[oai(deserialize_with = "crate::api::strict::strings")]
    #[oai(validator(max_length = 64, pattern = "\\S"))]
    pub username: String,
    /// At least 8 characters.
    #[oai(deserialize_with = "crate::api::strict::strings")]
    #[oai(validator(min_length = 8, max_length = 128))]
    pub password: String,
    /// admin | user | subaccount
    #[oai(deserialize_with = "crate::api::strict::strings")]
    #[oai(validator(pattern = "^(admin|user|subaccount)$"))]
    pub role: String,
    /// Required for a sub-account: its owning ordinary user.
    #[oai(nullable)]
    pub parent_id: Option<i32>,
    #[oai(nullable)]
    pub group_id: Option<i32>,
    #[oai(nullable)]
    pub is_active: Option<bool>,
}

/// Change only the fields given.
#[derive(Debug, Object)]
pub struct UpdateUser {
    #[oai(nullable, deserialize_with = "crate::api::strict::strings")]
    #[oai(validator(max_length = 64, pattern = "\\S"))]
    pub username: Option<String>,
    #[oai(nullable, deserialize_with = "crate::api::strict::strings")]
    #[oai(validator(min_length = 8, max_length = 128))]
    pub password: Option<String>,
    #[oai(nullable, deserialize_with = "crate::api::strict::strings")]
    #[oai(validator(pattern = "^(admin|user|subaccount)$"))]
    pub role: Option<String>,
    #[oai(nullable)]
    pub parent_id: Option<i32>,
    #[oai(nullable)]
    pub group_id: Option<i32>,
    #[oai(nullable)]
    pub is_active: Option<bool>,
}

pub struct UsersApi;

#[OpenApi(prefix_path = "/admin/users", tag = "ApiTags::AdminUsers")]
impl UsersApi {
    /// 获取用户列表
    #[oai(path = "/", method = "get", operation_id = "admin_list_users")]
    async fn list(
        &self,
        state: Data<&AppState>,
        _auth: AdminAuth,
    ) -> AppResult<Reply<Vec<UserView>>> {
        Ok(ok(db::users::list(&state.db)
            .await?
            .iter()
            .map(view)
            .collect()))
    }

    /// 创建用户或子账号
    #[oai(path = "/", method = "post", operation_id = "admin_create_user")]
    async fn create(
        &self,
        state: Data<&AppState>,
        _auth: AdminAuth,
        body: Json<CreateUser>,
    ) -> AppResult<Reply<UserView>> {
        let body = body.0;
        let fields = validated(
            &state,
            UserFields {
                username: body.username,
                role: body.role,
                parent_id: body.parent_id,
                group_id: body.group_id,
                is_active: body.is_active.unwrap_or(true),
            },
        )
        .await?;
        let hash = hashed(&body.password)?;
        Ok(ok(view(&db::users::create(&state.db, fields, hash).await?)))
    }

    /// 更新用户（改密码、角色、分组、启用/停用；不能停用或降级最后一个启用的管理员）
    #[oai(path = "/:id", method = "put", operation_id = "admin_update_user")]
    async fn update(
        &self,
        state: Data<&AppState>,
        _auth: AdminAuth,
        id: Path<i32>,
        body: Json<UpdateUser>,
    ) -> AppResult<Reply<UserView>> {
        let body = body.0;
        let current = db::users::get(&state.db, id.0).await?;
        let mut fields = UserFields::of(&current);
        if let Some(username) = body.username {
            fields.username = username;
        }
        if let Some(role) = body.role {
            fields.role = role;
        }
        if body.parent_id.is_some() {
            fields.parent_id = body.parent_id;
        }
        if body.group_id.is_some() {
            fields.group_id = body.group_id;
        }
        if let Some(active) = body.is_active {
            fields.is_active = active;
        }
        let fields = validated(&state, fields).await?;
        let hash = body.password.as_deref().map(hashed).transpose()?;
        Ok(ok(view(
            &db::users::update(&state.db, id.0, fields, hash).await?,
        )))
    }

    /// 删除用户（其子账号一并删除）
    #[oai(path = "/:id", method = "delete", operation_id = "admin_delete_user")]
    async fn delete(
        &self,
        state: Data<&AppState>,
        auth: AdminAuth,
        id: Path<i32>,
    ) -> AppResult<Reply<Deleted>> {
        if matches!(auth.0, Principal::User { id: me, .. } if me == id.0) {
            return Err(AppError::Conflict("不能删除当前登录的账号".into()));
        }
        // Refused there when it is the last active admin.
        db::users::delete(&state.db, id.0).await?;
        Ok(deleted(id.0))
    }
}

fn hashed(password: &str) -> AppResult<String> {
    password::new_hash("password", password)
}

async fn validated(state: &AppState, fields: UserFields) -> AppResult<UserFields> {
    let username = validate::text("username", "用户名", &fields.username, 64)?;
    let role = Role::parse_user_role(fields.role.trim())
        .ok_or_else(|| AppError::validation("role", "角色必须是 admin、user 或 subaccount"))?;
    let parent_id = match (role, fields.parent_id) {
        (Role::Subaccount, None) => {
            return Err(AppError::validation("parent_id", "子账号必须指定所属用户"));
        }
        (Role::Subaccount, Some(parent)) => {
            let owner = db::users::get(&state.db, parent)
                .await
                .map_err(|_| AppError::validation("parent_id", "所属用户不存在"))?;
            if owner.role != "user" {
                return Err(AppError::validation("parent_id", "子账号只能属于普通用户"));
            }
            Some(parent)
        }
        _ => None,
    };
    if let Some(group) = fields.group_id {
        db::groups::get(&state.db, group)
            .await
            .map_err(|_| AppError::validation("group_id", "分组不存在"))?;
    }
    Ok(UserFields {
        username,
        role: role.as_str().to_string(),
        parent_id,
        group_id: fields.group_id,
        is_active: fields.is_active,
    })
}

fn view(row: &Model) -> UserView {
    UserView {
        id: row.id,
        username: row.username.clone(),
        role: row.role.clone(),
        parent_id: row.parent_id,
        group_id: row.group_id,
        is_active: row.is_active,
        last_login_at: row.last_login_at,
        created_at: row.created_at,
    }
}
