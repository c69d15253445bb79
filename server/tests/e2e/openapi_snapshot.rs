//! The committed `server/openapi.json` must match the spec the code serves. After an
//! intended API change, refresh it with
//! `UPDATE_OPENAPI_SNAPSHOT=1 cargo test -p llm-proxy --test e2e -- openapi_snapshot`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

const SNAPSHOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/openapi.json");

#[test]
fn committed_spec_matches_the_code() {
    let current = llm_proxy::api::spec_json();
    if std::env::var_os("UPDATE_OPENAPI_SNAPSHOT").is_some() {
        std::fs::write(SNAPSHOT, format!("{current}\n")).unwrap();
    }
    let committed = std::fs::read_to_string(SNAPSHOT).unwrap_or_default();
    assert!(
        committed.trim_end() == current.trim_end(),
        "server/openapi.json is stale: run UPDATE_OPENAPI_SNAPSHOT=1 cargo test -p llm-proxy --test e2e -- openapi_snapshot and commit it"
    );
}

#[test]
fn every_operation_is_tagged_described_and_secured_as_documented() {
    let spec: serde_json::Value = serde_json::from_str(&llm_proxy::api::spec_json()).unwrap();
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let name = format!("{method} {path}");
            assert!(
                operation["tags"].as_array().is_some_and(|t| !t.is_empty()),
                "{name} untagged"
            );
            assert!(
                operation["summary"].is_string(),
                "{name} has no description"
            );
            let security = operation["security"].to_string();
            // The requirements' /api/llm/logs is admin-only like every other log view.
            if path.starts_with("/api/admin") || path == "/api/llm/logs" {
                assert!(
                    security.contains("AdminToken"),
                    "{name} must require AdminToken"
                );
            } else if path.starts_with("/api/llm") {
                assert!(
                    security.contains("ClientToken"),
                    "{name} must require ClientToken"
                );
            }
        }
    }
}
