//! The one error type of the API, and the one place that writes the error envelope
//! `{"success":false,"code":"STABLE_CODE","message":"中文说明"}`.
//!
//! A client may show `message` to a person, so it is Chinese and never carries internal
//! detail (SQL, upstream bodies, keys). That detail goes to the server log or the call record.

use std::{borrow::Cow, time::Duration};

use poem::{IntoResponse, Response, error::ResponseError, http::StatusCode};
use poem_openapi::{
    ApiResponse, Object,
    error::{ParseParamError, ParseRequestPayloadError},
    registry::{MetaMediaType, MetaResponse, MetaResponses, Registry},
    types::Type,
};

#[derive(Debug, Clone, thiserror::Error)]
pub enum AppError {
    /// The body is not JSON or has wrong types.
    #[error("请求格式错误：{0}")]
    BadRequest(String),
    /// A field is out of range or malformed; `field` lets a form show it in place. Owned
    /// when it comes from a limit the spec declares (poem-openapi names the field as text).
    #[error("{message}")]
    Validation {
        field: Cow<'static, str>,
        message: String,
    },
    /// Over `server.max_body_bytes` (or `max_auth_body_bytes` for `/api/auth/*`).
    #[error("请求体过大")]
    PayloadTooLarge,
    /// A path and query longer than `guard::MAX_URI_BYTES`.
    #[error("请求地址过长")]
    UriTooLong,
    /// Request headers over what the HTTP parser accepts (about 400 KB).
    #[error("请求头过大")]
    HeadersTooLarge,
    /// A body that is not declared as JSON (no or another `Content-Type`).
    #[error("请求体须为 JSON（Content-Type: application/json）")]
    UnsupportedMediaType,
    /// The request asks for what the config's provider cannot do (images, tools, JSON mode).
    #[error("{message}")]
    Unsupported {
        field: &'static str,
        message: String,
    },
    #[error("模板变量缺失：{}", .0.join(", "))]
    MissingVariables(Vec<String>),
    #[error("{0}")]
    Unauthorized(AuthFailure),
    #[error("无权访问此资源")]
    Forbidden,
    /// The caller's group may not use this config.
    #[error("所在分组无权使用该模型配置")]
    ConfigNotAllowed,
    #[error("{0}不存在")]
    NotFound(&'static str),
    /// A `/v1` call names a model (config) that does not exist or is disabled.
    #[error("模型不存在或未启用：{0}")]
    ModelNotFound(String),
    #[error("{0}")]
    Conflict(String),
    /// A value that must be unique is taken (a config's or group's name …); `field` lets
    /// the form show it in place.
    #[error("{message}")]
    Taken {
        field: &'static str,
        message: String,
    },
    /// The target exists but may not be used now (disabled config or template).
    #[error("{0}")]
    Unavailable(String),
    #[error("{message}")]
    TooManyRequests {
        code: &'static str,
        message: String,
        retry_after: Option<Duration>,
    },
    #[error("{0}")]
    Upstream(UpstreamFailure),
    /// The server is stopping and interrupted the call.
    #[error("服务正在停止，请稍后重试")]
    ShuttingDown,
    #[error("服务器内部错误，请稍后重试")]
    Internal(String),
    /// A dependency (the database) failed where the answer would otherwise be a refusal:
    /// the caller should try again, not sign in again.
    #[error("服务暂时不可用，请稍后重试")]
    ServiceUnavailable,
}

/// Why a request was not authenticated; each has its own stable code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthFailure {
    MissingToken,
    InvalidToken,
    ExpiredToken,
    /// Issued before the account's password, role or active flag changed.
    RevokedToken,
    BadCredentials,
    AccountDisabled,
    ActivationCodeInvalid,
    ActivationCodeDisabled,
    ActivationCodeExpired,
    /// An `sk-…` key that no API key has (never existed, or deleted).
    ApiKeyInvalid,
    ApiKeyDisabled,
    ApiKeyExpired,
}

impl std::fmt::Display for AuthFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::MissingToken => "请先登录",
            Self::InvalidToken => "登录凭证无效，请重新登录",
            Self::ExpiredToken => "登录已过期，请重新登录",
            Self::RevokedToken => "登录状态已失效，请重新登录",
            Self::BadCredentials => "用户名或密码错误",
            Self::AccountDisabled => "账号已被停用",
            Self::ActivationCodeInvalid => "激活码无效",
            Self::ActivationCodeDisabled => "激活码已被停用",
            Self::ActivationCodeExpired => "激活码已过期",
            Self::ApiKeyInvalid => "API Key 无效",
            Self::ApiKeyDisabled => "API Key 已被停用",
            Self::ApiKeyExpired => "API Key 已过期",
        })
    }
}

/// An upstream call that failed after retries; `detail` is kept for the admin's log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UpstreamFailure {
    RateLimited {
        retry_after: Option<Duration>,
    },
    Timeout,
    Failed,
    /// A 2xx answer that is not the provider's format (`FailureKind::Protocol`).
    BadResponse,
}

impl std::fmt::Display for UpstreamFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::RateLimited { .. } => "大模型服务繁忙（请求过于频繁），请稍后重试",
            Self::Timeout => "大模型服务响应超时，请稍后重试",
            Self::Failed => "大模型服务调用失败，请稍后重试或联系管理员",
            Self::BadResponse => "大模型服务返回了无法识别的响应，请联系管理员",
        })
    }
}

impl AppError {
    pub fn validation(field: &'static str, message: impl Into<String>) -> Self {
        Self::Validation {
            field: Cow::Borrowed(field),
            message: message.into(),
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Self::BadRequest(_) | Self::MissingVariables(_) | Self::Unsupported { .. } => {
                StatusCode::BAD_REQUEST
            }
            Self::Validation { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UriTooLong => StatusCode::URI_TOO_LONG,
            Self::HeadersTooLarge => StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden | Self::ConfigNotAllowed => StatusCode::FORBIDDEN,
            Self::NotFound(_) | Self::ModelNotFound(_) => StatusCode::NOT_FOUND,
            Self::Conflict(_) | Self::Taken { .. } | Self::Unavailable(_) => StatusCode::CONFLICT,
            Self::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Upstream(UpstreamFailure::RateLimited { .. }) => StatusCode::TOO_MANY_REQUESTS,
            Self::Upstream(UpstreamFailure::Timeout) => StatusCode::GATEWAY_TIMEOUT,
            Self::Upstream(UpstreamFailure::Failed | UpstreamFailure::BadResponse) => {
                StatusCode::BAD_GATEWAY
            }
            Self::ShuttingDown => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            Self::ServiceUnavailable => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    /// The stable, machine-readable code a client can branch on.
    pub fn code(&self) -> &'static str {
        match self {
            Self::BadRequest(_) => "BAD_REQUEST",
            Self::Validation { .. } => "VALIDATION_FAILED",
            Self::PayloadTooLarge => "PAYLOAD_TOO_LARGE",
            Self::UriTooLong => "URI_TOO_LONG",
            Self::HeadersTooLarge => "HEADERS_TOO_LARGE",
            Self::UnsupportedMediaType => "UNSUPPORTED_MEDIA_TYPE",
            Self::MissingVariables(_) => "TEMPLATE_VARIABLES_MISSING",
            Self::Unsupported { .. } => "UNSUPPORTED_FEATURE",
            Self::Unauthorized(reason) => match reason {
                AuthFailure::MissingToken => "UNAUTHORIZED",
                AuthFailure::InvalidToken => "TOKEN_INVALID",
                AuthFailure::ExpiredToken => "TOKEN_EXPIRED",
                AuthFailure::RevokedToken => "TOKEN_REVOKED",
                AuthFailure::BadCredentials => "INVALID_CREDENTIALS",
                AuthFailure::AccountDisabled => "ACCOUNT_DISABLED",
                AuthFailure::ActivationCodeInvalid => "ACTIVATION_CODE_INVALID",
                AuthFailure::ActivationCodeDisabled => "ACTIVATION_CODE_DISABLED",
                AuthFailure::ActivationCodeExpired => "ACTIVATION_CODE_EXPIRED",
                AuthFailure::ApiKeyInvalid => "API_KEY_INVALID",
                AuthFailure::ApiKeyDisabled => "API_KEY_DISABLED",
                AuthFailure::ApiKeyExpired => "API_KEY_EXPIRED",
            },
            Self::Forbidden => "FORBIDDEN",
            Self::ConfigNotAllowed => "CONFIG_NOT_ALLOWED",
            Self::NotFound(_) => "NOT_FOUND",
            Self::ModelNotFound(_) => "MODEL_NOT_FOUND",
            Self::Conflict(_) | Self::Taken { .. } => "CONFLICT",
            Self::Unavailable(_) => "UNAVAILABLE",
            Self::TooManyRequests { code, .. } => code,
            Self::Upstream(UpstreamFailure::RateLimited { .. }) => "UPSTREAM_RATE_LIMITED",
            Self::Upstream(UpstreamFailure::Timeout) => "UPSTREAM_TIMEOUT",
            Self::Upstream(UpstreamFailure::Failed) => "UPSTREAM_ERROR",
            Self::Upstream(UpstreamFailure::BadResponse) => "UPSTREAM_BAD_RESPONSE",
            Self::ShuttingDown => "SERVER_SHUTTING_DOWN",
            Self::Internal(_) => "INTERNAL_ERROR",
            Self::ServiceUnavailable => "SERVICE_UNAVAILABLE",
        }
    }

    pub fn field(&self) -> Option<&str> {
        match self {
            Self::Validation { field, .. } => Some(field),
            Self::Unsupported { field, .. } | Self::Taken { field, .. } => Some(field),
            _ => None,
        }
    }

    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::TooManyRequests { retry_after, .. } => *retry_after,
            Self::Upstream(UpstreamFailure::RateLimited { retry_after }) => *retry_after,
            _ => None,
        }
    }

    pub fn body(&self) -> ErrorBody {
        ErrorBody {
            success: false,
            code: self.code().to_string(),
            message: self.to_string(),
            field: self.field().map(String::from),
        }
    }
}

impl From<sea_orm::DbErr> for AppError {
    fn from(err: sea_orm::DbErr) -> Self {
        Self::Internal(format!("database: {err}"))
    }
}

/// The failure envelope, as documented in the OpenAPI spec.
#[derive(Debug, Clone, Object, serde::Serialize)]
pub struct ErrorBody {
    /// Always `false`.
    pub success: bool,
    /// Stable machine-readable code, e.g. `VALIDATION_FAILED`, `QUOTA_EXCEEDED`.
    pub code: String,
    /// A Chinese sentence that may be shown to the user as it is.
    pub message: String,
    /// For `VALIDATION_FAILED`, `UNSUPPORTED_FEATURE` and a `CONFLICT` over a taken name:
    /// the request field at fault.
    #[oai(skip_serializing_if_is_none)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

impl poem::error::ResponseError for AppError {
    fn status(&self) -> StatusCode {
        AppError::status(self)
    }

    fn as_response(&self) -> Response {
        if let Self::Internal(detail) = self {
            tracing::error!(%detail, "internal error");
        }
        let mut response = poem::web::Json(self.body())
            .with_status(self.status())
            .into_response();
        if let Some(after) = self.retry_after() {
            let seconds = after.as_secs() + u64::from(after.subsec_nanos() > 0);
            response
                .headers_mut()
                .insert(poem::http::header::RETRY_AFTER, seconds.max(1).into());
        }
        response
    }
}

/// Documents the error envelope on every operation that can fail.
impl ApiResponse for AppError {
    fn meta() -> MetaResponses {
        let statuses: [(u16, &'static str); 15] = [
            (400, "请求格式错误 / 模板变量缺失 / 提供商不支持的功能"),
            (401, "未登录或凭证无效"),
            (403, "无权访问"),
            (404, "资源不存在"),
            (409, "冲突或资源不可用"),
            (413, "请求体过大"),
            (414, "请求地址过长"),
            (415, "请求体须为 JSON"),
            (422, "字段校验失败"),
            (429, "请求过于频繁或配额用完"),
            (431, "请求头过大"),
            (500, "服务器内部错误"),
            (502, "上游大模型调用失败"),
            (503, "服务暂时不可用（数据库无法读取，或服务正在停止）"),
            (504, "上游大模型超时"),
        ];
        MetaResponses {
            responses: statuses
                .into_iter()
                .map(|(status, description)| MetaResponse {
                    description,
                    status: Some(status),
                    status_range: None,
                    content: vec![MetaMediaType {
                        content_type: "application/json; charset=utf-8",
                        schema: ErrorBody::schema_ref(),
                    }],
                    headers: vec![],
                })
                .collect(),
        }
    }

    fn register(registry: &mut Registry) {
        ErrorBody::register(registry);
    }
}

/// Every error that leaves the server passes here: our own errors keep their envelope,
/// and poem's (unknown route, bad JSON, missing header …) are put into the same shape.
pub async fn render_error(err: poem::Error) -> Response {
    let (app, status) = classify(&err);
    let mut response = app.as_response();
    response.set_status(status);
    response
}

/// A framework error (no route, wrong method, unparsable input) as ours, with the status
/// to answer: poem's own for client errors (405 stays 405), ours otherwise.
pub fn classify(err: &poem::Error) -> (AppError, StatusCode) {
    if let Some(app) = err.downcast_ref::<AppError>() {
        return (app.clone(), app.status());
    }
    if let Some(app) = declared_limit(err) {
        let status = app.status();
        return (app, status);
    }
    let status = err.status();
    let app = match status {
        StatusCode::UNAUTHORIZED => AppError::Unauthorized(AuthFailure::MissingToken),
        StatusCode::FORBIDDEN => AppError::Forbidden,
        StatusCode::NOT_FOUND => AppError::NotFound("请求的接口"),
        StatusCode::METHOD_NOT_ALLOWED => AppError::BadRequest("不支持该请求方法".into()),
        StatusCode::PAYLOAD_TOO_LARGE => AppError::PayloadTooLarge,
        StatusCode::UNSUPPORTED_MEDIA_TYPE => AppError::UnsupportedMediaType,
        status if status.is_client_error() => AppError::BadRequest(client_error_detail(err)),
        _ => AppError::Internal(err.to_string()),
    };
    let status = if status.is_client_error() && status != StatusCode::UNAUTHORIZED {
        status
    } else {
        app.status()
    };
    (app, status)
}

/// A query or path parameter that does not parse or breaks a limit the spec declares for it,
/// or a body field that breaks one (range, length, pattern): a 422 naming it, like the
/// server's own field checks. For a body field poem-openapi reports the limit only as text,
/// ``… field `name` verification failed. maxLength(100)`` (its `validators.rs`); the e2e
/// tests (`contract`) pin that wording.
fn declared_limit(err: &poem::Error) -> Option<AppError> {
    if let Some(param) = err.downcast_ref::<ParseParamError>() {
        return Some(AppError::validation(
            param.name,
            format!("参数 {} 不合法：{}", param.name, param.reason),
        ));
    }
    let reason = &err.downcast_ref::<ParseRequestPayloadError>()?.reason;
    let (_, rest) = reason.split_once("field `")?;
    let (field, limit) = rest.split_once("` verification failed. ")?;
    Some(AppError::Validation {
        field: Cow::Owned(field.to_owned()),
        message: format!("字段 {field} 不符合接口文档中的限制：{limit}"),
    })
}

/// poem's parse errors say what was wrong in English (missing field, invalid type); that
/// sentence is safe to pass on and helps a client developer.
fn client_error_detail(err: &poem::Error) -> String {
    let text = err.to_string();
    let mut detail: String = text.chars().take(300).collect();
    if detail.is_empty() {
        detail = "请检查请求参数".into();
    }
    detail
}

pub type AppResult<T> = Result<T, AppError>;

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn every_variant_has_status_code_and_chinese_message() {
        let cases = [
            (AppError::BadRequest("x".into()), 400, "BAD_REQUEST"),
            (
                AppError::validation("temperature", "温度必须在 0 到 2 之间"),
                422,
                "VALIDATION_FAILED",
            ),
            (
                AppError::MissingVariables(vec!["name".into()]),
                400,
                "TEMPLATE_VARIABLES_MISSING",
            ),
            (
                AppError::Unauthorized(AuthFailure::ExpiredToken),
                401,
                "TOKEN_EXPIRED",
            ),
            (
                AppError::Unauthorized(AuthFailure::RevokedToken),
                401,
                "TOKEN_REVOKED",
            ),
            (
                AppError::Unauthorized(AuthFailure::ApiKeyInvalid),
                401,
                "API_KEY_INVALID",
            ),
            (
                AppError::Unauthorized(AuthFailure::ApiKeyDisabled),
                401,
                "API_KEY_DISABLED",
            ),
            (
                AppError::Unauthorized(AuthFailure::ApiKeyExpired),
                401,
                "API_KEY_EXPIRED",
            ),
            (AppError::Forbidden, 403, "FORBIDDEN"),
            (AppError::NotFound("配置"), 404, "NOT_FOUND"),
            (AppError::Conflict("配置名称已存在".into()), 409, "CONFLICT"),
            (
                AppError::Taken {
                    field: "name",
                    message: "配置名称已存在".into(),
                },
                409,
                "CONFLICT",
            ),
            (
                AppError::Upstream(UpstreamFailure::Timeout),
                504,
                "UPSTREAM_TIMEOUT",
            ),
            (
                AppError::Upstream(UpstreamFailure::Failed),
                502,
                "UPSTREAM_ERROR",
            ),
            (
                AppError::Upstream(UpstreamFailure::BadResponse),
                502,
                "UPSTREAM_BAD_RESPONSE",
            ),
            (
                AppError::Upstream(UpstreamFailure::RateLimited { retry_after: None }),
                429,
                "UPSTREAM_RATE_LIMITED",
            ),
            (AppError::ShuttingDown, 503, "SERVER_SHUTTING_DOWN"),
            (
                AppError::Internal("db exploded: secret".into()),
                500,
                "INTERNAL_ERROR",
            ),
            (AppError::ServiceUnavailable, 503, "SERVICE_UNAVAILABLE"),
            (AppError::PayloadTooLarge, 413, "PAYLOAD_TOO_LARGE"),
            (AppError::UriTooLong, 414, "URI_TOO_LONG"),
            (AppError::HeadersTooLarge, 431, "HEADERS_TOO_LARGE"),
            (
                AppError::UnsupportedMediaType,
                415,
                "UNSUPPORTED_MEDIA_TYPE",
            ),
        ];
        for (err, status, code) in cases {
            assert_eq!(err.status().as_u16(), status, "{err:?}");
            assert_eq!(err.code(), code);
            let message = err.to_string();
            assert!(
                message
                    .chars()
                    .any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)),
                "{message}"
            );
            assert!(
                !message.contains("secret"),
                "internal detail must not be shown"
            );
        }
    }
}
