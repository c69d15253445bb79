//! The embedded admin UI as a browser fetches it: redirects, SPA fallback, cache headers,
//! MIME types, compression, and a 404 for a missing file.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

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
