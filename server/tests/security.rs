//! Findings of the security review, each checked against the real server.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::TestServer;

/// The data folder is the owner's alone, and so is every SQLite file in it, from creation.
#[cfg(unix)]
#[tokio::test]
async fn data_folder_and_database_files_are_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    if common::is_postgres() {
        return;
    }
    let server = TestServer::start().await;
    // A write, so the write-ahead log and its index certainly exist.
    server.admin_token().await;
    let mode = |name: &str| {
        let path = server.data_dir().join(name);
        let meta = std::fs::metadata(&path).unwrap_or_else(|err| panic!("{name}: {err}"));
        meta.permissions().mode() & 0o777
    };
    assert_eq!(mode(""), 0o700, "data folder");
    for file in ["llm-proxy.db", "llm-proxy.db-wal", "llm-proxy.db-shm"] {
        assert_eq!(mode(file), 0o600, "{file}");
    }
}
