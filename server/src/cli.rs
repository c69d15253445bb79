//! Command line: `serve` (default), `healthcheck`, `migrate`, `openapi`, `create-admin`,
//! `backup PATH`, `rotate-key`, `service ...` (Windows).

use std::{
    ffi::OsString,
    path::{Path, PathBuf},
    process::ExitCode,
};

use clap::{Parser, Subcommand};
use sea_orm::{ConnectionTrait, Statement, TransactionTrait};

use crate::{
    api,
    auth::{Role, password},
    bootstrap::{self, PENDING_KEY_FILE, Prepared, SecretSource},
    config::{Config, FlagOverrides},
    crypto::Cipher,
    db::{self, app_settings::ENCRYPTION_KEY_FINGERPRINT, users::UserFields},
    process,
    secret::Secret,
    server::HEALTHCHECK_TIMEOUT,
    service::{self, ServiceAction},
};

#[derive(Debug, Parser)]
#[command(
    name = "llm-proxy",
    version,
    about = "大模型API代理 — a large-model API proxy with an admin UI"
)]
pub struct Cli {
    /// Config file (default: config.toml beside the executable, else in the working directory).
    #[arg(long, global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// Address to listen on, e.g. 127.0.0.1:8080 (overrides LLM_PROXY_BIND).
    #[arg(long, global = true)]
    pub bind: Option<String>,
    /// Data folder (overrides LLM_PROXY_DATA_DIR).
    #[arg(long, global = true, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Database URL (overrides LLM_PROXY_DATABASE_URL).
    #[arg(long, global = true, value_name = "URL")]
    pub database_url: Option<String>,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server (the default).
    Serve,
    /// Exit 0 when the configured server answers its health check.
    Healthcheck,
    /// Apply database migrations and exit.
    Migrate,
    /// Print the OpenAPI spec.
    Openapi,
    /// Create an admin, or reset an existing account to an active admin with a new password.
    CreateAdmin {
        #[arg(long)]
        username: String,
        /// The password (default: LLM_PROXY_ADMIN_PASSWORD, else generated and printed).
        #[arg(long)]
        password: Option<String>,
    },
    /// Write a consistent copy of the SQLite database while the server may be running.
    Backup { path: PathBuf },
    /// Re-encrypt every stored provider key under a new encryption key, atomically.
    /// Stop other instances sharing the database first.
    RotateKey {
        /// The new key (32 characters, 64 hex digits or base64 of 32 bytes; default: generated).
        #[arg(long)]
        new_key: Option<String>,
    },
    /// Install and control the Windows service (Windows only).
    Service {
        #[command(subcommand)]
        action: ServiceAction,
    },
}

pub async fn run(cli: Cli) -> ExitCode {
    // No subcommand: possibly a double-click, whose console window closes when we exit.
    let plain_start = cli.command.is_none();
    let code = run_command(cli).await;
    if plain_start && code != ExitCode::SUCCESS {
        pause_before_exit();
    }
    code
}

/// Keeps a start-up error readable in a console window that exists only for this process
/// (Windows double-click) until Enter is pressed. Only when stdin is a console: never under
/// a service manager, a pipe or CI.
fn pause_before_exit() {
    use std::io::IsTerminal;
    if cfg!(windows) && std::io::stdin().is_terminal() {
        eprintln!("按回车键关闭窗口 / press Enter to close this window");
        let _ = std::io::stdin().read_line(&mut String::new());
    }
}

async fn run_command(cli: Cli) -> ExitCode {
    let command = cli.command.unwrap_or(Command::Serve);
    if let Command::Openapi = command {
        println!("{}", api::spec_json());
        return ExitCode::SUCCESS;
    }
    let config_path = cli.config.unwrap_or_else(default_config_path);
    let flags = FlagOverrides {
        bind: cli.bind,
        data_dir: cli.data_dir,
        database_url: cli.database_url,
    };
    let config = match Config::load(&config_path, &|var| std::env::var(var).ok(), &flags) {
        Ok(config) => config,
        Err(err) => return fail(err),
    };
    match command {
        // Under the service manager there is no console: the log goes to files.
        Command::Service {
            action: ServiceAction::Run,
        } => {
            let logs = config.data_dir.join("logs");
            if let Err(err) = crate::logging::init_files(&config.log_level, &logs) {
                return fail(format!("cannot write logs in {}: {err}", logs.display()));
            }
        }
        _ => crate::logging::init(&config.log_level),
    }
    // Before any file is created, for every subcommand (a backup is as sensitive as the database).
    bootstrap::restrict_new_files();
    let result = match command {
        Command::Healthcheck => healthcheck(&config).await,
        Command::Serve => process::serve(config).await,
        Command::Migrate => prepare(config)
            .await
            .map(|_| println!("migrations applied")),
        Command::CreateAdmin { username, password } => {
            create_admin(config, username, password).await
        }
        Command::Backup { path } => backup(config, &path).await,
        Command::RotateKey { new_key } => rotate_key(config, new_key).await,
        Command::Service { action } => {
            let global_args = service_args(&config, &flags);
            service::command(
                action,
                service::Invocation {
                    config,
                    global_args,
                },
            )
            .await
        }
        Command::Openapi => Ok(()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => fail(message),
    }
}

fn fail(message: impl std::fmt::Display) -> ExitCode {
    eprintln!("错误 / error: {message}");
    ExitCode::FAILURE
}

/// `config.toml` beside the executable when it exists there, else in the working directory.
/// On Windows the executable's folder is the default even when the file is missing, because
/// launchers may start it in `C:\Windows\System32`.
fn default_config_path() -> PathBuf {
    let beside_exe = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|dir| dir.join("config.toml")));
    match beside_exe {
        Some(path) if path.exists() || cfg!(windows) => path,
        _ => PathBuf::from("config.toml"),
    }
}

/// The global options a service is registered with: the config file that was resolved now,
/// and the overrides given, with paths made absolute (a service starts in System32).
fn service_args(config: &Config, flags: &FlagOverrides) -> Vec<OsString> {
    let absolute = |path: &Path| std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let mut args: Vec<OsString> = vec!["--config".into(), absolute(&config.config_path).into()];
    if let Some(bind) = &flags.bind {
        args.extend(["--bind".into(), bind.into()]);
    }
    if let Some(dir) = &flags.data_dir {
        args.extend(["--data-dir".into(), absolute(dir).into()]);
    }
    if let Some(url) = &flags.database_url {
        args.extend(["--database-url".into(), url.into()]);
    }
    args
}

async fn prepare(config: Config) -> Result<Prepared, String> {
    bootstrap::prepare(config)
        .await
        .map_err(|err| err.to_string())
}

async fn healthcheck(config: &Config) -> Result<(), String> {
    let scheme = if config.tls.is_some() {
        "https"
    } else {
        "http"
    };
    let mut addr = config.bind;
    if addr.ip().is_unspecified() {
        addr.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
    }
    let url = format!("{scheme}://{addr}/api/health");
    let client = reqwest::Client::builder()
        .timeout(HEALTHCHECK_TIMEOUT)
        // A self-signed certificate on loopback is still our own server.
        .tls_danger_accept_invalid_certs(true)
        .build()
        .map_err(|err| err.to_string())?;
    let response = client
        .get(&url)
        .send()
        .await
        .map_err(|err| format!("{url}: {err}"))?;
    if response.status().is_success() {
        println!("ok: {url}");
        Ok(())
    } else {
        Err(format!("{url} answered {}", response.status()))
    }
}

async fn create_admin(
    config: Config,
    username: String,
    password_flag: Option<String>,
) -> Result<(), String> {
    let env_password = config.admin_password.clone();
    let prepared = prepare(config).await?;
    let (password, generated) = match password_flag.map(Secret::new).or(env_password) {
        Some(password) => (password, false),
        None => (Secret::new(bootstrap::random_password()), true),
    };
    if password.expose().chars().count() < 8 {
        return Err("the password must have at least 8 characters".into());
    }
    let hash = password::hash(password.expose())?;
    let fields = UserFields {
        username: username.clone(),
        role: Role::Admin.as_str().into(),
        parent_id: None,
        group_id: None,
        is_active: true,
    };
    let db = &prepared.db;
    let existing = db::users::find_by_username(db, &username)
        .await
        .map_err(|err| err.to_string())?;
    match existing {
        Some(user) => db::users::update(db, user.id, fields, Some(hash)).await,
        None => db::users::create(db, fields, hash).await,
    }
    .map_err(|err| err.to_string())?;
    println!("admin '{username}' is ready / 管理员账号已就绪");
    if generated {
        println!("password / 密码: {}", password.expose());
    }
    Ok(())
}

async fn backup(config: Config, target: &Path) -> Result<(), String> {
    let prepared = prepare(config).await?;
    if !prepared.db.is_sqlite() {
        return Err(
            "backup copies the embedded SQLite database; for PostgreSQL use pg_dump".into(),
        );
    }
    if target.exists() {
        return Err(format!(
            "{} already exists; choose a new file",
            target.display()
        ));
    }
    // VACUUM INTO writes a consistent snapshot even while the server keeps writing.
    let statement = Statement::from_sql_and_values(
        prepared.db.backend(),
        "VACUUM INTO ?",
        [target.to_string_lossy().to_string().into()],
    );
    prepared
        .db
        .write
        .execute_raw(statement)
        .await
        .map_err(|err| err.to_string())?;
    println!("backup written to {}", target.display());
    Ok(())
}

async fn rotate_key(config: Config, new_key: Option<String>) -> Result<(), String> {
    let prepared = prepare(config).await?;
    let generated = new_key.is_none();
    let new_secret = new_key
        .map(Secret::new)
        .unwrap_or_else(Cipher::generate_key);
    let new_cipher = Cipher::from_secret(&new_secret).map_err(|err| err.to_string())?;
    let pending = match &prepared.key_source {
        SecretSource::File(path) => {
            let pending = path.with_file_name(PENDING_KEY_FILE);
            bootstrap::write_private(&pending, new_secret.expose())
                .map_err(|err| err.to_string())?;
            Some((pending, path.clone()))
        }
        SecretSource::Configured => None,
    };
    let outcome = reencrypt(&prepared, &new_cipher).await;
    if let Err(err) = outcome {
        if let Some((pending, _)) = &pending {
            let _ = std::fs::remove_file(pending);
        }
        return Err(format!("key rotation failed, nothing was changed: {err}"));
    }
    match pending {
        Some((pending, key_file)) => {
            std::fs::rename(&pending, &key_file).map_err(|err| err.to_string())?;
            println!(
                "provider keys re-encrypted; the new key is in {}",
                key_file.display()
            );
        }
        None => {
            println!(
                "provider keys re-encrypted. Set ENCRYPTION_SECRET_KEY (or security.encryption_key) to the new key before the next start."
            );
            if generated {
                println!("new key / 新密钥: {}", new_secret.expose());
            }
        }
    }
    Ok(())
}

/// Decrypts every stored key with the current cipher and stores it under the new one, with
/// the new fingerprint, in one transaction: either all keys move or none.
async fn reencrypt(prepared: &Prepared, new_cipher: &Cipher) -> Result<usize, String> {
    let txn = prepared
        .db
        .write
        .begin()
        .await
        .map_err(|err| err.to_string())?;
    let keys = db::configs::all_keys(&txn)
        .await
        .map_err(|err| err.to_string())?;
    for (id, stored) in &keys {
        let plain = prepared
            .cipher
            .decrypt_all(stored)
            .map_err(|err| format!("config {id}: {err}"))?;
        let plain: Vec<&str> = plain.iter().map(Secret::expose).collect();
        db::configs::set_key(&txn, *id, new_cipher.encrypt_all(&plain))
            .await
            .map_err(|err| err.to_string())?;
    }
    // Webhook URLs and signing secrets are encrypted with the same key.
    for (id, url, secret) in db::webhooks::all_secrets(&txn)
        .await
        .map_err(|err| err.to_string())?
    {
        let url = prepared
            .cipher
            .decrypt(&url)
            .map_err(|err| format!("webhook {id}: {err}"))?;
        let secret = match secret {
            Some(stored) => Some(
                prepared
                    .cipher
                    .decrypt(&stored)
                    .map_err(|err| format!("webhook {id}: {err}"))?,
            ),
            None => None,
        };
        let secret = secret.map(|s| new_cipher.encrypt(s.expose()));
        db::webhooks::set_secrets(&txn, id, new_cipher.encrypt(url.expose()), secret)
            .await
            .map_err(|err| err.to_string())?;
    }
    db::app_settings::put(&txn, ENCRYPTION_KEY_FINGERPRINT, new_cipher.fingerprint())
        .await
        .map_err(|err| err.to_string())?;
    txn.commit().await.map_err(|err| err.to_string())?;
    Ok(keys.len())
}
