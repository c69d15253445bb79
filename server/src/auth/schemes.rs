//! Bearer security schemes, one per audience, so each handler's signature says who may
//! call it and Swagger shows it. A check re-reads the account, activation code or API key
//! (unless the same client token was verified within the last moment and nothing behind it
//! changed since: see [`keepable`]), so disabling one takes effect at once, not when its
//! token expires.
//!
//! A bearer starting with `sk-` is an API key, anything else a JWT. An API key is a tool's
//! credential for the model endpoints only: `ClientAuth` accepts it like a client token
//! (same group limits), `AdminAuth` and `UserAuth` refuse it with 403.

use chrono::{DateTime, Utc};
use poem::Request;
use poem_openapi::{SecurityScheme, auth::Bearer};

use super::{Claims, Role};
use crate::{
    db,
    error::{AppError, AuthFailure},
    state::AppState,
};

/// The verified caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    User {
        id: i32,
        role: Role,
        group_id: Option<i32>,
    },
    Client {
        code_id: i32,
        code: String,
        group_id: i32,
    },
    /// A tool calling with an API key; it counts against the key's group.
    ApiKey { key_id: i32, group_id: i32 },
}

impl Principal {
    pub fn is_admin(&self) -> bool {
        matches!(
            self,
            Self::User {
                role: Role::Admin,
                ..
            }
        )
    }

    pub fn group_id(&self) -> Option<i32> {
        match self {
            Self::User { group_id, .. } => *group_id,
            Self::Client { group_id, .. } | Self::ApiKey { group_id, .. } => Some(*group_id),
        }
    }
}

/// Admins only: everything under `/api/admin`.
#[derive(SecurityScheme)]
#[oai(
    ty = "bearer",
    rename = "AdminToken",
    bearer_format = "JWT",
    checker = "check_admin"
)]
pub struct AdminAuth(pub Principal);

/// A Windows client's token (from `/api/auth/activate`) or an API key (`sk-…`); admins may
/// call these too.
#[derive(SecurityScheme)]
#[oai(
    ty = "bearer",
    rename = "ClientToken",
    bearer_format = "JWT or API key",
    checker = "check_client"
)]
pub struct ClientAuth(pub Principal);

/// Any signed-in back-office account (admin, user, sub-account).
#[derive(SecurityScheme)]
#[oai(
    ty = "bearer",
    rename = "UserToken",
    bearer_format = "JWT",
    checker = "check_user"
)]
pub struct UserAuth(pub Principal);

async fn check_admin(req: &Request, bearer: Bearer) -> poem::Result<Principal> {
    let principal = authenticate(state_of(req)?, &bearer.token).await?;
    if principal.is_admin() {
        Ok(principal)
    } else {
        Err(AppError::Forbidden.into())
    }
}

async fn check_client(req: &Request, bearer: Bearer) -> poem::Result<Principal> {
    Ok(authenticate_bearer(state_of(req)?, &bearer.token).await?)
}

async fn check_user(req: &Request, bearer: Bearer) -> poem::Result<Principal> {
    let principal = authenticate(state_of(req)?, &bearer.token).await?;
    match principal {
        Principal::User { .. } => Ok(principal),
        Principal::Client { .. } | Principal::ApiKey { .. } => Err(AppError::Forbidden.into()),
    }
}

/// The model endpoints' rule for a bearer token (from `Authorization: Bearer` or
/// `x-api-key`): an API key, a client token or an admin's token; other accounts get 403.
pub async fn authenticate_bearer(state: &AppState, token: &str) -> Result<Principal, AppError> {
    let principal = authenticate(state, token).await?;
    match principal {
        Principal::Client { .. } | Principal::ApiKey { .. } => Ok(principal),
        _ if principal.is_admin() => Ok(principal),
        Principal::User { .. } => Err(AppError::Forbidden),
    }
}

fn state_of(req: &Request) -> Result<&AppState, AppError> {
    req.data::<AppState>()
        .ok_or_else(|| AppError::Internal("application state missing".into()))
}

async fn authenticate(state: &AppState, token: &str) -> Result<Principal, AppError> {
    if let Some(principal) = state.verified.get(token) {
        return Ok(principal);
    }
    let generation = state.verified.generation();
    let (principal, expires_at) = verify(state, token).await?;
    if keepable(&principal) {
        state
            .verified
            .remember(token, principal.clone(), expires_at, generation);
    }
    Ok(principal)
}

/// Whether a verification may be reused for a moment: only a client token, what every
/// client call carries (its activation code's row is cached the same way). An API key is
/// read on every request, as instances sharing a SQLite file cannot tell each other of a
/// revocation and a notification may arrive after the next request; an account too, so an
/// unreadable database is a 503 there and not a stale yes.
fn keepable(principal: &Principal) -> bool {
    matches!(principal, Principal::Client { .. })
}

/// The caller and when its credential (token, code or key) stops being valid.
async fn verify(
    state: &AppState,
    token: &str,
) -> Result<(Principal, Option<DateTime<Utc>>), AppError> {
    if token.starts_with(db::api_keys::PREFIX) {
        let key = db::api_keys::find_active_by_key(&state.db, token)
            .await
            .map_err(lookup_error)?;
        let principal = Principal::ApiKey {
            key_id: key.id,
            group_id: key.group_id,
        };
        return Ok((principal, key.expires_at));
    }
    let claims = state.tokens.verify(token).map_err(AppError::Unauthorized)?;
    let (principal, code_expires_at) = resolve(state, &claims).await?;
    let token_expires_at = DateTime::from_timestamp(claims.exp, 0);
    let expires_at = match (token_expires_at, code_expires_at) {
        (Some(token), Some(code)) => Some(token.min(code)),
        (token, code) => token.or(code),
    };
    Ok((principal, expires_at))
}

async fn resolve(
    state: &AppState,
    claims: &Claims,
) -> Result<(Principal, Option<DateTime<Utc>>), AppError> {
    let invalid = || AppError::Unauthorized(AuthFailure::InvalidToken);
    let id = claims.subject_id().ok_or_else(invalid)?;
    if claims.role == Role::Client {
        let code = db::activation_codes::cached(&state.db, id)
            .await
            .map_err(lookup_error)?;
        if claims.code.as_deref() != Some(code.code.as_str()) {
            return Err(invalid());
        }
        if !code.is_active {
            return Err(AppError::Unauthorized(AuthFailure::ActivationCodeDisabled));
        }
        if code.expires_at.is_some_and(|at| at <= Utc::now()) {
            return Err(AppError::Unauthorized(AuthFailure::ActivationCodeExpired));
        }
        let principal = Principal::Client {
            code_id: code.id,
            code: code.code,
            group_id: code.group_id,
        };
        return Ok((principal, code.expires_at));
    }
    let user = db::users::get(&state.db, id).await.map_err(lookup_error)?;
    if !user.is_active {
        return Err(AppError::Unauthorized(AuthFailure::AccountDisabled));
    }
    if issued_before(claims, user.credentials_changed_at) {
        return Err(AppError::Unauthorized(AuthFailure::RevokedToken));
    }
    // The role is read from the account, not the token: a demoted admin loses access now.
    let role = Role::parse_user_role(&user.role).ok_or_else(invalid)?;
    let principal = Principal::User {
        id: user.id,
        role,
        group_id: user.group_id,
    };
    Ok((principal, None))
}

/// Whether the token predates the account's last credential change. `iat` has whole
/// seconds, so the change is compared at second granularity too: a token issued in the same
/// second as the change (the new login right after a password change) stays valid.
fn issued_before(claims: &Claims, changed_at: Option<DateTime<Utc>>) -> bool {
    changed_at.is_some_and(|at| claims.iat < at.timestamp())
}

/// Only a missing row (or a refusal already decided) makes a token invalid. A database that
/// cannot be read says nothing about the token: 503, so the caller retries instead of
/// throwing its token away.
fn lookup_error(err: AppError) -> AppError {
    match err {
        AppError::NotFound(_) => AppError::Unauthorized(AuthFailure::InvalidToken),
        refused @ AppError::Unauthorized(_) => refused,
        other => {
            tracing::error!(error = ?other, "cannot read the caller's account");
            AppError::ServiceUnavailable
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn issued_at(iat: i64) -> Claims {
        Claims {
            sub: "user:1".into(),
            role: Role::Admin,
            gid: None,
            code: None,
            iat,
            exp: iat + 3600,
        }
    }

    #[test]
    fn tokens_older_than_the_credential_change_are_refused_at_second_granularity() {
        let changed = DateTime::from_timestamp(1_000, 700_000_000).unwrap();
        assert!(!issued_before(&issued_at(999), None));
        assert!(issued_before(&issued_at(999), Some(changed)));
        assert!(
            !issued_before(&issued_at(1_000), Some(changed)),
            "same second"
        );
        assert!(!issued_before(&issued_at(1_001), Some(changed)));
    }
}
