//! `/api/auth`: admin/user sign-in and the Windows client's activation.

use chrono::{DateTime, Duration, Offset, Utc};
use poem::web::Data;
use poem_openapi::{Object, OpenApi, payload::Json};

use super::{
    ApiTags,
    envelope::{Reply, ok},
};
use crate::{
    auth::{Principal, Role, UserAuth, password},
    db,
    error::{AppError, AppResult, AuthFailure},
    state::AppState,
};

#[derive(Debug, Object)]
pub struct LoginRequest {
    #[oai(deserialize_with = "crate::api::strict::strings")]
    pub username: String,
    #[oai(deserialize_with = "crate::api::strict::strings")]
    pub password: String,
}

#[derive(Debug, Object)]
pub struct LoginResult {
    pub token: String,
    /// admin | user | subaccount
    pub role: String,
    pub expires_at: DateTime<Utc>,
}

#[derive(Debug, Object)]
pub struct ActivateRequest {
    #[oai(deserialize_with = "crate::api::strict::strings")]
    pub activation_code: String,
}

#[derive(Debug, Object)]
pub struct ActivateResult {
    /// Send as `Authorization: Bearer <token>` to the client endpoints.
    pub token: String,
    pub group_id: i32,
    pub expires_at: DateTime<Utc>,
}

/// Changing one's own password.
#[derive(Debug, Object)]
pub struct ChangePassword {
    pub old_password: String,
    /// 8 to 128 characters, not the current one.
    pub new_password: String,
}

#[derive(Debug, Object)]
pub struct Me {
    pub id: i32,
    pub username: String,
    pub role: String,
    #[oai(nullable)]
    pub group_id: Option<i32>,
    /// The server's time zone (`server.timezone`, IANA name): dates of quotas, statistics,
    /// CSV and record times are in it, so the console shows every time in it too.
    pub time_zone: String,
    /// The zone's offset from UTC now, in minutes east (UTC+8 → 480).
    pub utc_offset_minutes: i32,
    /// The zone's offsets over two years back and forth: the first in force from `from`
    /// (Unix seconds), then one per daylight-saving change, so that a time is shown with the
    /// offset of its own date. One entry for a zone without daylight saving time.
    pub utc_offsets: Vec<OffsetChange>,
}

#[derive(Debug, Object)]
pub struct OffsetChange {
    /// Unix seconds from which `minutes` applies.
    pub from: i64,
    /// Minutes east of UTC.
    pub minutes: i32,
}

pub struct AuthApi;

#[OpenApi(prefix_path = "/auth", tag = "ApiTags::Auth")]
impl AuthApi {
    /// 管理员/用户登录 (rate-limited per source address, before the body is read)
    #[oai(path = "/login", method = "post", operation_id = "login")]
    async fn login(
        &self,
        state: Data<&AppState>,
        body: Json<LoginRequest>,
    ) -> AppResult<Reply<LoginResult>> {
        let name = body.username.trim().to_owned();
        state
            .login_limiter
            .check_account(&name)
            .map_err(|wait| AppError::TooManyRequests {
                code: "ACCOUNT_LOCKED",
                message: "该账号登录失败次数过多，请稍后再试".into(),
                retry_after: Some(wait),
            })?;
        let user = db::users::find_by_username(&state.db, &name).await?;
        // Argon2 takes tens of milliseconds of CPU: keep it off the async workers. An
        // unknown name is checked against a dummy hash, so it takes as long as a known one.
        let typed = body.0.password;
        let stored =
            password::hash_to_check(user.as_ref().map(|u| u.password_hash.as_str())).to_string();
        let matches = tokio::task::spawn_blocking(move || password::verify(&typed, &stored))
            .await
            .unwrap_or(false);
        let Some(user) = user.filter(|_| matches) else {
            state.login_limiter.account_failed(&name);
            return Err(AppError::Unauthorized(AuthFailure::BadCredentials));
        };
        state.login_limiter.account_succeeded(&name);
        if !user.is_active {
            return Err(AppError::Unauthorized(AuthFailure::AccountDisabled));
        }
        let role = Role::parse_user_role(&user.role)
            .ok_or(AppError::Unauthorized(AuthFailure::BadCredentials))?;
        let issued = state
            .tokens
            .issue_user(
                user.id,
                role,
                Duration::hours(state.config.admin_token_hours as i64),
            )
            .map_err(AppError::Internal)?;
        db::users::touch_login(&state.db, user.id).await?;
        tracing::info!(user_id = user.id, role = role.as_str(), "login");
        Ok(ok(LoginResult {
            token: issued.token,
            role: role.as_str().into(),
            expires_at: issued.expires_at,
        }))
    }

    /// Windows客户端激活：用激活码换取 ClientToken (rate-limited per source address, before the body is read)
    #[oai(path = "/activate", method = "post", operation_id = "activate")]
    async fn activate(
        &self,
        state: Data<&AppState>,
        body: Json<ActivateRequest>,
    ) -> AppResult<Reply<ActivateResult>> {
        let code = db::activation_codes::find_typed(&state.db, &body.activation_code)
            .await?
            .ok_or(AppError::Unauthorized(AuthFailure::ActivationCodeInvalid))?;
        if !code.is_active {
            return Err(AppError::Unauthorized(AuthFailure::ActivationCodeDisabled));
        }
        let now = Utc::now();
        if code.expires_at.is_some_and(|at| at <= now) {
            return Err(AppError::Unauthorized(AuthFailure::ActivationCodeExpired));
        }
        let mut lifetime = Duration::days(state.config.client_token_days as i64);
        // A token never outlives its code.
        if let Some(at) = code.expires_at {
            lifetime = lifetime.min(at - now);
        }
        let issued = state
            .tokens
            .issue_client(code.id, &code.code, code.group_id, lifetime)
            .map_err(AppError::Internal)?;
        db::activation_codes::touch_used(&state.db, code.id).await?;
        Ok(ok(ActivateResult {
            token: issued.token,
            group_id: code.group_id,
            expires_at: issued.expires_at,
        }))
    }

    /// 修改自己的密码（任何已登录账号）：需要当前密码；其他已登录的会话随即失效，返回本会话的新令牌
    #[oai(
        path = "/change-password",
        method = "post",
        operation_id = "change_password"
    )]
    async fn change_password(
        &self,
        state: Data<&AppState>,
        auth: UserAuth,
        body: Json<ChangePassword>,
    ) -> AppResult<Reply<LoginResult>> {
        let Principal::User { id, role, .. } = auth.0 else {
            return Err(AppError::Forbidden);
        };
        let user = db::users::get(&state.db, id).await?;
        // The same per-account backoff as sign-in: a stolen token must not make guessing
        // the password cheap.
        state
            .login_limiter
            .check_account(&user.username)
            .map_err(|wait| AppError::TooManyRequests {
                code: "ACCOUNT_LOCKED",
                message: "该账号密码验证失败次数过多，请稍后再试".into(),
                retry_after: Some(wait),
            })?;
        let ChangePassword {
            old_password,
            new_password,
        } = body.0;
        if new_password == old_password {
            return Err(AppError::validation(
                "new_password",
                "新密码不能与当前密码相同",
            ));
        }
        // Argon2 twice (check and hash): off the async workers, as at sign-in.
        let stored = user.password_hash.clone();
        let checked = tokio::task::spawn_blocking(move || {
            if !password::verify(&old_password, &stored) {
                return Ok(None);
            }
            password::new_hash("new_password", &new_password).map(Some)
        })
        .await
        .map_err(|err| AppError::Internal(format!("password task: {err}")))?;
        let Some(hash) = checked? else {
            state.login_limiter.account_failed(&user.username);
            return Err(AppError::validation("old_password", "当前密码不正确"));
        };
        state.login_limiter.account_succeeded(&user.username);
        // Sets credentials_changed_at: every token issued before now is revoked.
        let fields = db::users::UserFields::of(&user);
        db::users::update(&state.db, id, fields, Some(hash)).await?;
        let issued = state
            .tokens
            .issue_user(
                id,
                role,
                Duration::hours(state.config.admin_token_hours as i64),
            )
            .map_err(AppError::Internal)?;
        tracing::info!(user_id = id, "password changed by its owner");
        Ok(ok(LoginResult {
            token: issued.token,
            role: role.as_str().into(),
            expires_at: issued.expires_at,
        }))
    }

    /// 当前登录账号
    #[oai(path = "/me", method = "get", operation_id = "me")]
    async fn me(&self, state: Data<&AppState>, auth: UserAuth) -> AppResult<Reply<Me>> {
        let Principal::User { id, .. } = auth.0 else {
            return Err(AppError::Forbidden);
        };
        let user = db::users::get(&state.db, id).await?;
        let clock = state.quotas.clock();
        let offset = clock.now().with_timezone(&clock.tz()).offset().fix();
        Ok(ok(Me {
            id: user.id,
            username: user.username,
            role: user.role,
            group_id: user.group_id,
            time_zone: clock.tz().name().to_string(),
            utc_offset_minutes: offset.local_minus_utc() / 60,
            utc_offsets: clock
                .offset_changes(clock.now().timestamp(), 2)
                .into_iter()
                .map(|(from, minutes)| OffsetChange { from, minutes })
                .collect(),
        }))
    }
}
