//! `GET /metrics`: the Prometheus scrape. Plain text in Prometheus's format, so it is not
//! part of the OpenAPI document. Mounted only when metrics are enabled (see `config.toml`).

use std::sync::Arc;

use poem::{
    Endpoint, Request, Response,
    endpoint::make,
    http::{StatusCode, header},
};

use crate::{metrics::Metrics, secret::Secret};

/// The scrape endpoint; with a token, only `Authorization: Bearer <token>` gets an answer.
pub fn endpoint(metrics: Arc<Metrics>, token: Option<Secret>) -> impl Endpoint {
    make(move |request: Request| {
        let answer = scrape(&metrics, token.as_ref(), &request);
        async move { answer }
    })
}

fn scrape(metrics: &Metrics, token: Option<&Secret>, request: &Request) -> Response {
    if let Some(token) = token {
        let given = request
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.strip_prefix("Bearer "));
        if !given.is_some_and(|given| same(given.as_bytes(), token.expose().as_bytes())) {
            return Response::builder()
                .status(StatusCode::UNAUTHORIZED)
                .header(header::WWW_AUTHENTICATE, "Bearer")
                .body("unauthorized\n");
        }
    }
    match metrics.render() {
        Some(text) => Response::builder()
            .content_type("text/plain; version=0.0.4; charset=utf-8")
            .body(text),
        None => Response::builder()
            .status(StatusCode::NOT_FOUND)
            .body("not found\n"),
    }
}

/// Compares in time independent of where the bytes differ, so the token cannot be guessed
/// byte by byte from response times.
fn same(given: &[u8], expected: &[u8]) -> bool {
    given.len() == expected.len()
        && given
            .iter()
            .zip(expected)
            .fold(0u8, |diff, (a, b)| diff | (a ^ b))
            == 0
}
