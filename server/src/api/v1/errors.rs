//! Errors in the shapes the SDKs parse: OpenAI's `{"error":{message,type,code,param}}` and
//! Anthropic's `{"type":"error","error":{type,message}}`, with the statuses they map to typed
//! exceptions. The Chinese message and our stable code are kept.

use poem::{
    IntoResponse, Response,
    http::{HeaderValue, StatusCode, header::RETRY_AFTER},
    web::Json,
};
use serde_json::{Value, json};

use crate::error::AppError;

/// Which SDK family reads the error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    OpenAi,
    Anthropic,
}

/// OpenAI's `type` and Anthropic's `error.type` for a status.
fn error_type(status: StatusCode, dialect: Dialect) -> &'static str {
    match (status.as_u16(), dialect) {
        (400 | 404 | 409 | 413 | 422, Dialect::OpenAi) => "invalid_request_error",
        (400 | 409 | 422, Dialect::Anthropic) => "invalid_request_error",
        (404, Dialect::Anthropic) => "not_found_error",
        (413, Dialect::Anthropic) => "request_too_large",
        (401, _) => "authentication_error",
        (403, _) => "permission_error",
        (429, _) => "rate_limit_error",
        (504, Dialect::Anthropic) => "timeout_error",
        (503, Dialect::Anthropic) => "overloaded_error",
        _ => "api_error",
    }
}

/// The error object itself (also sent inside a stream).
pub fn body(err: &AppError, dialect: Dialect) -> Value {
    let kind = error_type(err.status(), dialect);
    match dialect {
        Dialect::OpenAi => json!({
            "error": {
                "message": err.to_string(),
                "type": kind,
                "code": err.code(),
                "param": err.field(),
            }
        }),
        Dialect::Anthropic => json!({
            "type": "error",
            "error": {"type": kind, "message": err.to_string(), "code": err.code()},
        }),
    }
}

/// The error as an HTTP answer. A wait the client should honour goes in `Retry-After`; a
/// quota that only the next period restores tells the SDKs not to retry at all.
pub fn response(err: &AppError, dialect: Dialect) -> Response {
    if let AppError::Internal(detail) = err {
        tracing::error!(%detail, "internal error");
    }
    let mut response = Json(body(err, dialect))
        .with_status(err.status())
        .into_response();
    let headers = response.headers_mut();
    if let Some(after) = err.retry_after() {
        let seconds = after.as_secs() + u64::from(after.subsec_nanos() > 0);
        headers.insert(RETRY_AFTER, seconds.max(1).into());
    }
    if [
        crate::quotas::QUOTA_EXCEEDED,
        crate::quotas::BUDGET_EXCEEDED,
    ]
    .contains(&err.code())
    {
        headers.insert("x-should-retry", HeaderValue::from_static("false"));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_map_to_the_sdk_types() {
        let unknown = AppError::ModelNotFound("gpt-x".into());
        let openai = body(&unknown, Dialect::OpenAi);
        assert_eq!(openai["error"]["type"], "invalid_request_error");
        assert_eq!(openai["error"]["code"], "MODEL_NOT_FOUND");
        let anthropic = body(&unknown, Dialect::Anthropic);
        assert_eq!(anthropic["type"], "error");
        assert_eq!(anthropic["error"]["type"], "not_found_error");
        let denied = AppError::Forbidden;
        assert_eq!(
            body(&denied, Dialect::OpenAi)["error"]["type"],
            "permission_error"
        );
    }
}
