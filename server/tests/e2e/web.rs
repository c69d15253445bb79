//! The embedded admin UI as a browser fetches it: redirects, SPA fallback, cache headers,
//! MIME types, compression, and a 404 for a missing file.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use common::TestServer;

#[tokio::test]
async fn serves_the_embedded_ui_with_fallback_and_cache_rules() {
    let server = TestServer::start().await;
    let plain = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let root = plain.get(server.url("/")).send().await.unwrap();
    assert_eq!(root.status(), 303);
    assert_eq!(root.headers()["location"], "/admin/");

    for route in ["/admin/", "/admin/llm-config", "/admin/llm-logs?page=2"] {
        let page = server.client.get(server.url(route)).send().await.unwrap();
        assert_eq!(page.status(), 200, "{route}");
        assert_eq!(page.headers()["cache-control"], "no-cache");
        assert!(
            page.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/html")
        );
        let html = page.text().await.unwrap();
        assert!(html.contains("/admin/"), "{route}: {html}");
    }

    let index = server
        .client
        .get(server.url("/admin/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let wasm = index
        .split(['"', '`', ' ', '>'])
        .find(|part| part.starts_with("/admin/") && part.ends_with("_bg.wasm"))
        .expect("index.html names its wasm")
        .to_string();
    let fetched = server
        .client
        .get(server.url(&wasm))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(fetched.status(), 200);
    assert_eq!(fetched.headers()["content-type"], "application/wasm");
    assert!(
        fetched.headers()["cache-control"]
            .to_str()
            .unwrap()
            .contains("immutable")
    );
    assert_eq!(
        fetched.headers()["content-encoding"],
        "gzip",
        "the bundle is sent compressed"
    );

    let missing = server
        .client
        .get(server.url("/admin/llm-proxy-ui-0000.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    let hidden = server
        .client
        .get(server.url("/admin/ui.hash"))
        .send()
        .await
        .unwrap();
    assert_eq!(hidden.status(), 404, "build metadata is not served");
}

/// Every answer forbids framing, sniffing and referrers; each kind of page gets a
/// Content-Security-Policy that allows exactly what it runs (checked in a real browser by
/// `tests/e2e/browser.rs`).
#[tokio::test]
async fn security_headers_on_ui_swagger_api_and_errors() {
    let server = TestServer::start().await;
    let index = server.get("/admin/", None).await;
    let hash = {
        use base64::Engine;
        use sha2::Digest;
        let start = index.text.find("<script type=module>").unwrap() + 20;
        let len = index.text[start..].find("</script>").unwrap();
        let digest = sha2::Sha256::digest(&index.text[start..start + len]);
        base64::engine::general_purpose::STANDARD.encode(digest)
    };
    for path in [
        "/admin/",
        "/admin/llm-config",
        "/swagger/",
        "/api/health",
        "/api/openapi.json",
        "/api/nope",
        "/api/admin/users",
    ] {
        let response = server.get(path, None).await;
        let header = |name: &str| {
            response
                .headers
                .get(name)
                .unwrap_or_else(|| panic!("{path}: no {name}"))
                .to_str()
                .unwrap()
                .to_string()
        };
        assert_eq!(header("x-frame-options"), "DENY", "{path}");
        assert_eq!(header("x-content-type-options"), "nosniff", "{path}");
        assert_eq!(header("referrer-policy"), "no-referrer", "{path}");
        let csp = header("content-security-policy");
        assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        if path.starts_with("/admin/") {
            assert!(csp.contains("'wasm-unsafe-eval'"), "{csp}");
            assert!(csp.contains(&format!("'sha256-{hash}'")), "{csp}");
            assert!(!csp.contains("script-src 'self' 'unsafe-inline'"), "{csp}");
        } else if path.starts_with("/swagger") {
            assert!(csp.contains("script-src 'self' 'unsafe-inline'"), "{csp}");
        } else {
            assert!(csp.starts_with("default-src 'none'"), "{path}: {csp}");
        }
    }
}

/// A 405 names the methods the path does support.
#[tokio::test]
async fn method_not_allowed_carries_allow() {
    let server = TestServer::start().await;
    let response = server.delete("/api/health", None).await;
    assert_eq!(response.status, 405, "{}", response.text);
    assert_eq!(response.headers["allow"], "GET");
    assert_eq!(response.body["success"], false);
    let response = server
        .request(reqwest::Method::PATCH, "/api/admin/users/1", None, None)
        .await;
    assert_eq!(response.status, 405, "{}", response.text);
    let allow = response.headers["allow"].to_str().unwrap();
    assert!(allow.contains("PUT") && allow.contains("DELETE"), "{allow}");
}
