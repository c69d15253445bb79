//! First start, restarts, configuration errors and the maintenance subcommands, all through
//! the real binary.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use common::{Options, TestServer, assert_error, is_postgres, sample_config};
use serde_json::json;

fn printed_password(output: &str) -> Option<String> {
    output
        .lines()
        .find(|line| line.contains("初始密码 / password:"))
        .and_then(|line| line.split_whitespace().last())
        .map(String::from)
}

fn bare() -> Options {
    Options::default()
        .without_env("LLM_PROXY_JWT_SECRET")
        .without_env("ENCRYPTION_SECRET_KEY")
        .without_env("LLM_PROXY_ADMIN_PASSWORD")
}

#[tokio::test]
async fn first_start_generates_secrets_and_prints_admin_password_once() {
    let mut server = TestServer::start_with(bare()).await;
    let output = server.output();
    assert!(output.contains("/admin/"), "admin URL printed: {output}");
    let password = printed_password(&output).expect("generated password printed");
    assert_eq!(password.len(), 16);
    let token = server.login("admin", &password).await;
    assert!(!token.is_empty());

    for file in ["jwt.secret", "encryption.key"] {
        let path = server.data_dir().join(file);
        let meta = std::fs::metadata(&path).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(
                meta.permissions().mode() & 0o777,
                0o600,
                "{file} owner-only"
            );
        }
        assert!(meta.len() > 30);
    }
    if !is_postgres() {
        assert!(server.data_dir().join("llm-proxy.db").exists());
    }
    let jwt_before = std::fs::read(server.data_dir().join("jwt.secret")).unwrap();

    // A restart reuses everything: same secrets (old token valid), no new password.
    server.stop();
    std::fs::write(server.log_path(), "").unwrap();
    server.spawn().await;
    assert!(printed_password(&server.output()).is_none());
    assert_eq!(
        jwt_before,
        std::fs::read(server.data_dir().join("jwt.secret")).unwrap()
    );
    let me = server.get("/api/auth/me", Some(&token)).await;
    assert_eq!(me.status, 200, "{}", me.text);
    assert_eq!(me.body["data"]["role"], "admin");
}

#[tokio::test]
async fn restart_with_another_encryption_key_is_refused_with_advice() {
    let mut server = TestServer::start().await;
    let admin = server.admin_token().await;
    let created = server
        .post("/api/admin/llm/configs", Some(&admin), sample_config("k"))
        .await;
    assert_eq!(created.status, 200, "{}", created.text);
    server.stop();

    let mut command = server.command();
    command.env("ENCRYPTION_SECRET_KEY", "ffffffffffffffffffffffffffffffff");
    let output = command.arg("migrate").output().unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("encryption key has changed"), "{stderr}");
    assert!(stderr.contains("rotate-key"), "{stderr}");
    assert!(
        !stderr.contains("ffffffffffffffff"),
        "never echo a key: {stderr}"
    );
}

#[tokio::test]
async fn unknown_config_key_stops_start_up_naming_it() {
    let server = TestServer::start().await;
    std::fs::write(
        server.config_path(),
        "[server]\nbind_adress = \"127.0.0.1:1\"\n",
    )
    .unwrap();
    let output = server.command().arg("migrate").output().unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("bind_adress"), "{stderr}");
}

#[tokio::test]
async fn healthcheck_reports_running_and_stopped_server() {
    let mut server = TestServer::start().await;
    assert!(
        server
            .command()
            .arg("healthcheck")
            .status()
            .unwrap()
            .success()
    );
    server.stop();
    assert!(
        !server
            .command()
            .arg("healthcheck")
            .status()
            .unwrap()
            .success()
    );
}

#[tokio::test]
async fn openapi_subcommand_prints_the_served_spec() {
    let server = TestServer::start().await;
    let printed = server.command().arg("openapi").output().unwrap();
    assert!(printed.status.success());
    let printed: serde_json::Value = serde_json::from_slice(&printed.stdout).unwrap();
    let served = server.get("/api/openapi.json", None).await;
    assert_eq!(printed, served.body);
    assert!(served.body["paths"]["/api/admin/llm/configs"].is_object());
    assert!(served.body["components"]["securitySchemes"]["AdminToken"].is_object());
    let swagger = server
        .client
        .get(server.url("/swagger/"))
        .send()
        .await
        .unwrap();
    assert_eq!(swagger.status(), 200);
}

#[tokio::test]
async fn rotate_key_reencrypts_every_provider_key() {
    if is_postgres() {
        // Covered on SQLite; the subcommand is database-agnostic and runs one transaction.
    }
    let mut server =
        TestServer::start_with(bare().env("LLM_PROXY_ADMIN_PASSWORD", common::ADMIN_PASSWORD))
            .await;
    let admin = server.admin_token().await;
    let created = server
        .post("/api/admin/llm/configs", Some(&admin), sample_config("rot"))
        .await;
    let id = created.body["data"]["id"].as_i64().unwrap();
    let masked_before = created.body["data"]["api_key_masked"].clone();
    let key_before = std::fs::read_to_string(server.data_dir().join("encryption.key")).unwrap();
    server.stop();

    let output = server.command().arg("rotate-key").output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let key_after = std::fs::read_to_string(server.data_dir().join("encryption.key")).unwrap();
    assert_ne!(key_before, key_after);
    assert!(!server.data_dir().join("encryption.key.new").exists());

    server.spawn().await;
    let admin = server.admin_token().await;
    let config = server
        .get(&format!("/api/admin/llm/configs/{id}"), Some(&admin))
        .await;
    assert_eq!(config.status, 200);
    assert_eq!(
        config.body["data"]["api_key_masked"], masked_before,
        "key still decrypts"
    );
    assert_eq!(masked_before, json!("sk-…cdef"));

    // The old key no longer opens the database.
    server.stop();
    std::fs::write(server.data_dir().join("encryption.key"), key_before).unwrap();
    let refused = server.command().arg("migrate").output().unwrap();
    assert!(!refused.status.success());
}

#[tokio::test]
async fn backup_writes_a_database_that_opens() {
    if is_postgres() {
        let server = TestServer::start().await;
        let output = server
            .command()
            .arg("backup")
            .arg(server.dir.path().join("b.db"))
            .output()
            .unwrap();
        assert!(
            !output.status.success(),
            "PostgreSQL backup points to pg_dump"
        );
        assert!(String::from_utf8_lossy(&output.stderr).contains("pg_dump"));
        return;
    }
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    server
        .post(
            "/api/admin/llm/configs",
            Some(&admin),
            sample_config("backed-up"),
        )
        .await;
    let target = server.dir.path().join("backup.db");
    let output = server
        .command()
        .arg("backup")
        .arg(&target)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );

    // Start a second server on the copy: the config is there.
    let copy_dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(copy_dir.path().join("data")).unwrap();
    std::fs::copy(&target, copy_dir.path().join("data/llm-proxy.db")).unwrap();
    let restored = TestServer::start_with(Options::default().env(
        "LLM_PROXY_DATA_DIR",
        copy_dir.path().join("data").to_str().unwrap(),
    ))
    .await;
    let admin = restored.admin_token().await;
    let list = restored.get("/api/admin/llm/configs", Some(&admin)).await;
    assert_eq!(list.body["data"][0]["name"], "backed-up");

    let again = server
        .command()
        .arg("backup")
        .arg(&target)
        .output()
        .unwrap();
    assert!(!again.status.success(), "never overwrite an existing file");
}

#[tokio::test]
async fn create_admin_resets_a_forgotten_password() {
    let mut server = TestServer::start().await;
    server.stop();
    let output = server
        .command()
        .args([
            "create-admin",
            "--username",
            "ops",
            "--password",
            "New-Passw0rd",
        ])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    server.spawn().await;
    let token = server.login("ops", "New-Passw0rd").await;
    let users = server.get("/api/admin/users", Some(&token)).await;
    assert_eq!(users.status, 200);
}

#[tokio::test]
async fn database_from_a_newer_version_is_refused() {
    if is_postgres() {
        return;
    }
    let mut server = TestServer::start().await;
    server.stop();
    let db = server.data_dir().join("llm-proxy.db");
    common::execute(
        &format!("sqlite://{}", db.display()),
        "INSERT INTO seaql_migrations (version, applied_at) VALUES ('m20991231_000001_future', 0)",
    )
    .await;
    let output = server.command().arg("migrate").output().unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("newer llm-proxy"));
}

#[tokio::test]
async fn login_attempts_are_rate_limited_per_address() {
    let server =
        TestServer::start_with(Options::default().env("LLM_PROXY_LOGIN_ATTEMPTS_PER_MINUTE", "3"))
            .await;
    for _ in 0..3 {
        let response = server
            .post(
                "/api/auth/login",
                None,
                json!({"username": "admin", "password": "wrong"}),
            )
            .await;
        assert_error(&response, 401, "INVALID_CREDENTIALS");
    }
    let limited = server
        .post(
            "/api/auth/login",
            None,
            json!({"username": "admin", "password": common::ADMIN_PASSWORD}),
        )
        .await;
    assert_error(&limited, 429, "LOGIN_RATE_LIMITED");
    assert!(limited.headers.get("retry-after").is_some());
    // Activations from the same address (Windows clients behind one NAT) have their own budget.
    let activation = server
        .post(
            "/api/auth/activate",
            None,
            json!({"activation_code": "NO-SUCH-CODE"}),
        )
        .await;
    assert_error(&activation, 401, "ACTIVATION_CODE_INVALID");
}

#[tokio::test]
async fn data_folder_with_spaces_chinese_and_percent_works() {
    if is_postgres() {
        return;
    }
    let holder = tempfile::tempdir().unwrap();
    let data = holder.path().join("数据 目录 100%41 #1?");
    let server = TestServer::start_with(
        Options::default().env("LLM_PROXY_DATA_DIR", data.to_str().unwrap()),
    )
    .await;
    let admin = server.admin_token().await;
    let created = server
        .post(
            "/api/admin/llm/configs",
            Some(&admin),
            sample_config("路径"),
        )
        .await;
    assert_eq!(created.status, 200, "{}", created.text);
    assert!(
        data.join("llm-proxy.db").exists(),
        "database inside the named folder"
    );
}

#[tokio::test]
async fn a_busy_port_fails_clearly_before_creating_the_first_admin() {
    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = busy.local_addr().unwrap().port();
    let mut server = TestServer::start_with(bare()).await;
    server.stop();
    // A fresh data folder whose first start meets a busy port.
    let fresh = tempfile::tempdir().unwrap();
    let output = server
        .command()
        .env("LLM_PROXY_DATA_DIR", fresh.path())
        .env("LLM_PROXY_BIND", format!("127.0.0.1:{port}"))
        .env_remove("LLM_PROXY_ADMIN_PASSWORD")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(&format!("端口 {port} 已被占用")),
        "{stderr}"
    );
    assert!(
        stderr.contains("LLM_PROXY_BIND"),
        "says how to change it: {stderr}"
    );
    assert!(
        !fresh.path().join("llm-proxy.db").exists(),
        "nothing was created"
    );
    drop(busy);
}

/// The `service` subcommand exists everywhere (the same --help on every platform) but manages
/// only a Windows service: elsewhere it says so and fails.
#[cfg(not(windows))]
#[test]
fn service_subcommand_fails_outside_windows() {
    let dir = tempfile::tempdir().unwrap();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_llm-proxy"))
        .arg("--config")
        .arg(dir.path().join("config.toml"))
        .args(["service", "status"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("only on Windows"), "{stderr}");
    assert!(!dir.path().join("data").exists(), "nothing is created");
}

/// The migrations since the last irreversible one (currencies were filled into existing
/// records) roll back and apply again, on the database under test: an admin who must step
/// back a version gets the schema that version expects. Past that one, rolling back refuses
/// with advice instead of losing data.
#[tokio::test]
async fn recent_migrations_roll_back_and_apply_again() {
    use migration::{Migrator, MigratorTrait};
    let dir = tempfile::tempdir().unwrap();
    let url = match common::fresh_database_url().await {
        url if url.is_empty() => {
            format!("sqlite://{}?mode=rwc", dir.path().join("m.db").display())
        }
        url => url,
    };
    let db = sea_orm::Database::connect(&url).await.unwrap();
    Migrator::up(&db, None).await.unwrap();
    let names: Vec<String> = Migrator::get_applied_migrations(&db)
        .await
        .unwrap()
        .iter()
        .map(|m| m.name().to_string())
        .collect();
    let irreversible = names
        .iter()
        .position(|name| name == "m20261130_000040_call_currency")
        .unwrap();
    let reversible = (names.len() - irreversible - 1) as u32;
    assert!(reversible >= 5, "{names:?}");
    Migrator::down(&db, Some(reversible)).await.unwrap();
    assert_eq!(
        Migrator::get_applied_migrations(&db).await.unwrap().len(),
        irreversible + 1
    );
    Migrator::up(&db, None).await.unwrap();
    assert_eq!(
        Migrator::get_applied_migrations(&db).await.unwrap().len(),
        names.len()
    );
    let refused = Migrator::down(&db, Some(reversible + 1)).await.unwrap_err();
    assert!(
        refused.to_string().contains("restore a backup"),
        "{refused}"
    );
    db.close().await.unwrap();
}
