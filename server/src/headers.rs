//! Security headers on every response: no framing, no MIME sniffing, no referrer, and a
//! Content-Security-Policy per kind of page.
//!
//! The admin UI runs only its own files: the wasm needs `'wasm-unsafe-eval'`, and trunk's
//! inline loader script is allowed by its hash (computed from the embedded page, so a
//! rebuilt UI stays allowed). Yew sets `style` attributes, hence inline styles. Swagger UI
//! as poem-openapi serves it is one page of inline script and style, so `/swagger` allows
//! inline code; everything else (JSON) allows nothing at all.

use std::sync::OnceLock;

use base64::{Engine, engine::general_purpose::STANDARD};
use poem::{
    Endpoint, IntoResponse, Request, Response, Result,
    http::{
        HeaderMap, HeaderValue,
        header::{
            CONTENT_SECURITY_POLICY, REFERRER_POLICY, X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS,
        },
    },
};
use sha2::{Digest, Sha256};

const SWAGGER_CSP: &str = "default-src 'self'; script-src 'self' 'unsafe-inline'; \
     style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; \
     object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

const API_CSP: &str = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'";

/// Wraps the whole application (errors included) with the headers.
pub async fn secure<E: Endpoint>(next: E, req: Request) -> Result<Response> {
    let csp = policy_for(req.uri().path());
    let mut response = next.call(req).await?.into_response();
    insert(response.headers_mut(), csp);
    Ok(response)
}

/// The headers of an answer that is only JSON (nothing to run, frame or sniff).
pub fn insert_api_policy(headers: &mut HeaderMap) {
    insert(headers, HeaderValue::from_static(API_CSP));
}

fn insert(headers: &mut HeaderMap, csp: HeaderValue) {
    headers.insert(X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    headers.insert(CONTENT_SECURITY_POLICY, csp);
}

fn policy_for(path: &str) -> HeaderValue {
    if path == "/admin" || path.starts_with("/admin/") {
        admin_policy().clone()
    } else if path == "/swagger" || path.starts_with("/swagger/") {
        HeaderValue::from_static(SWAGGER_CSP)
    } else {
        HeaderValue::from_static(API_CSP)
    }
}

fn admin_policy() -> &'static HeaderValue {
    static POLICY: OnceLock<HeaderValue> = OnceLock::new();
    POLICY.get_or_init(|| {
        let hashes: String = crate::web::inline_scripts()
            .iter()
            .map(|script| format!(" 'sha256-{}'", STANDARD.encode(Sha256::digest(script))))
            .collect();
        let policy = format!(
            "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'{hashes}; \
             style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; \
             object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
        );
        // Base64 and ASCII text only: always a valid header value.
        HeaderValue::from_str(&policy).unwrap_or_else(|_| HeaderValue::from_static(API_CSP))
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn the_admin_policy_allows_the_embedded_loader_script_by_hash() {
        let policy = admin_policy().to_str().unwrap().to_string();
        assert!(policy.contains("'wasm-unsafe-eval'"), "{policy}");
        assert_eq!(
            policy.matches("'sha256-").count(),
            crate::web::inline_scripts().len()
        );
        assert!(!policy.contains("script-src 'self' 'unsafe-inline'"));
    }
}
