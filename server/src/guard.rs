//! What every request passes before a handler sees it: a bound on the URL, the body-size
//! limit, enforced while the body is read (so a chunked body without `Content-Length` is cut
//! off too), and the per-address throttle of the unauthenticated sign-in endpoints, checked
//! before their body is parsed.

use std::{
    net::{IpAddr, Ipv4Addr},
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
};

use futures::StreamExt;
use poem::{
    Body, Endpoint, IntoResponse, Request, Response,
    http::{
        StatusCode,
        header::{ALLOW, CONTENT_LENGTH},
    },
};

use crate::{
    auth::login_limiter::Attempt,
    error::{AppError, AppResult, render_error},
    state::AppState,
};

/// The longest path and query answered: far beyond any URL the API or the UI builds, and
/// well below hyper's own limit, whose 414 would have no envelope.
pub const MAX_URI_BYTES: usize = 8 * 1024;

pub async fn guard<E: Endpoint>(next: E, mut req: Request) -> poem::Result<Response> {
    if req
        .uri()
        .path_and_query()
        .is_some_and(|target| target.as_str().len() > MAX_URI_BYTES)
    {
        return Err(AppError::UriTooLong.into());
    }
    let state = req
        .data::<AppState>()
        .cloned()
        .ok_or_else(|| AppError::Internal("application state missing".into()))?;
    let path = req.uri().path().to_owned();
    let limit = if path.starts_with("/api/auth/") {
        state.config.max_auth_body_bytes
    } else {
        state.config.max_body_bytes
    };
    match path.as_str() {
        "/api/auth/login" => throttle(&state, &req, Attempt::Login)?,
        "/api/auth/activate" => throttle(&state, &req, Attempt::Activation)?,
        _ => {}
    }
    let declared = req
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|length| length > limit) {
        return Err(AppError::PayloadTooLarge.into());
    }
    let exceeded = Arc::new(AtomicBool::new(false));
    let body = limited(req.take_body(), limit, exceeded.clone());
    req.set_body(body);
    let result = next.call(req).await;
    // The handler saw a read error; the client must see why.
    if exceeded.load(Ordering::Relaxed) {
        return Err(AppError::PayloadTooLarge.into());
    }
    match result {
        Ok(response) => Ok(response.into_response()),
        Err(err) if err.status() == StatusCode::METHOD_NOT_ALLOWED => {
            let mut response = render_error(err).await;
            if let Some(methods) = crate::allow::allowed(&path) {
                response.headers_mut().insert(ALLOW, methods);
            }
            Ok(response)
        }
        Err(err) => Err(err),
    }
}

/// The body, failing once more than `limit` bytes arrived: nothing beyond is read.
fn limited(body: Body, limit: u64, exceeded: Arc<AtomicBool>) -> Body {
    let mut seen: u64 = 0;
    let stream = body.into_bytes_stream().map(move |chunk| {
        let chunk = chunk?;
        seen = seen.saturating_add(chunk.len() as u64);
        if seen > limit {
            exceeded.store(true, Ordering::Relaxed);
            return Err(std::io::Error::other("request body too large"));
        }
        Ok(chunk)
    });
    Body::from_bytes_stream(stream)
}

fn throttle(state: &AppState, req: &Request, attempt: Attempt) -> AppResult<()> {
    let ip = req
        .remote_addr()
        .as_socket_addr()
        .map(|addr| addr.ip())
        .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
    state
        .login_limiter
        .check(attempt, ip)
        .map_err(|wait| AppError::TooManyRequests {
            code: "LOGIN_RATE_LIMITED",
            message: "尝试次数过多，请稍后再试".into(),
            retry_after: Some(wait),
        })
}
