//! First start and every start: data folder, secrets, database, key fingerprint, first admin.

use std::path::{Path, PathBuf};

use rand::{Rng, distr::Alphanumeric};

use crate::{
    auth::{Role, Tokens, password},
    config::Config,
    crypto::{Cipher, CryptoError},
    db::{self, Db, DbSetupError, app_settings::ENCRYPTION_KEY_FINGERPRINT, users::UserFields},
    error::AppError,
    secret::Secret,
};

pub const JWT_SECRET_FILE: &str = "jwt.secret";
pub const ENCRYPTION_KEY_FILE: &str = "encryption.key";
/// Written by `rotate-key` before the database switches keys, renamed over the old key file
/// after: a crash in between is finished at the next start.
pub const PENDING_KEY_FILE: &str = "encryption.key.new";

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("cannot use data folder {path}: {source}")]
    DataDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Database(#[from] DbSetupError),
    #[error("database error during start-up: {0}")]
    Query(#[from] sea_orm::DbErr),
    #[error("invalid encryption key (ENCRYPTION_SECRET_KEY / security.encryption_key): {0}")]
    BadKey(#[from] CryptoError),
    #[error(
        "the encryption key has changed: the database was encrypted with a key whose fingerprint is {stored}, \
         but the configured key's fingerprint is {configured}. Stored provider keys would be unreadable. \
         Restore the previous key (ENCRYPTION_SECRET_KEY, security.encryption_key or {file} in the data folder); \
         to change keys, start with the old key and run `llm-proxy rotate-key`."
    )]
    KeyChanged {
        stored: String,
        configured: String,
        file: &'static str,
    },
    #[error("cannot create the first admin: {0}")]
    Admin(String),
}

/// Where a secret came from, so `rotate-key` knows whether it may replace it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretSource {
    Configured,
    File(PathBuf),
}

pub struct Prepared {
    pub config: Config,
    pub db: Db,
    pub cipher: Cipher,
    pub key_source: SecretSource,
    pub tokens: Tokens,
    /// Set when this start created the first admin with a generated password.
    pub generated_admin: Option<(String, Secret)>,
}

/// Opens everything the server (or a maintenance subcommand) needs.
pub async fn prepare(config: Config) -> Result<Prepared, StartupError> {
    ensure_dir(&config.data_dir)?;
    let jwt_secret = match &config.jwt_secret {
        Some(secret) => secret.clone(),
        None => load_or_create(&config.data_dir.join(JWT_SECRET_FILE), random_secret)?,
    };
    let db = Db::connect(&config.effective_database_url()).await?;
    let applied = db.migrate().await?;
    if applied > 0 {
        tracing::info!(applied, "database migrations applied");
    }
    db.optimize().await;
    let (cipher, key_source) = open_cipher(&config, &db).await?;
    let generated_admin = ensure_admin(&config, &db).await?;
    Ok(Prepared {
        tokens: Tokens::new(&jwt_secret),
        config,
        db,
        cipher,
        key_source,
        generated_admin,
    })
}

async fn open_cipher(config: &Config, db: &Db) -> Result<(Cipher, SecretSource), StartupError> {
    let key_file = config.data_dir.join(ENCRYPTION_KEY_FILE);
    let (secret, source) = match &config.encryption_key {
        Some(secret) => (secret.clone(), SecretSource::Configured),
        None => (
            load_or_create(&key_file, || Cipher::generate_key().expose().to_string())?,
            SecretSource::File(key_file.clone()),
        ),
    };
    let cipher = Cipher::from_secret(&secret)?;
    let stored = db::app_settings::get(&db.write, ENCRYPTION_KEY_FINGERPRINT).await?;
    match stored {
        None => {
            db::app_settings::put(&db.write, ENCRYPTION_KEY_FINGERPRINT, cipher.fingerprint())
                .await?;
            Ok((cipher, source))
        }
        Some(stored) if stored == cipher.fingerprint() => Ok((cipher, source)),
        Some(stored) => {
            if let Some(finished) = finish_pending_rotation(&source, &stored)? {
                return Ok((finished, source));
            }
            Err(StartupError::KeyChanged {
                stored,
                configured: cipher.fingerprint().to_string(),
                file: ENCRYPTION_KEY_FILE,
            })
        }
    }
}

/// A `rotate-key` that committed the database but died before renaming the new key file
/// left `encryption.key.new` behind: if it matches the database, adopt it now.
fn finish_pending_rotation(
    source: &SecretSource,
    stored: &str,
) -> Result<Option<Cipher>, StartupError> {
    let SecretSource::File(key_file) = source else {
        return Ok(None);
    };
    let pending = key_file.with_file_name(PENDING_KEY_FILE);
    let Ok(text) = std::fs::read_to_string(&pending) else {
        return Ok(None);
    };
    let cipher = Cipher::from_secret(&Secret::new(text.trim()))?;
    if cipher.fingerprint() != stored {
        return Ok(None);
    }
    std::fs::rename(&pending, key_file).map_err(|source| StartupError::DataDir {
        path: pending.clone(),
        source,
    })?;
    tracing::warn!("finished an interrupted key rotation");
    Ok(Some(cipher))
}

async fn ensure_admin(config: &Config, db: &Db) -> Result<Option<(String, Secret)>, StartupError> {
    let admins = db::users::count_active_admins(db)
        .await
        .map_err(admin_error)?;
    if admins > 0 {
        return Ok(None);
    }
    let (password, generated) = match &config.admin_password {
        Some(password) => (password.clone(), false),
        None => (Secret::new(random_password()), true),
    };
    let hash = password::hash(password.expose()).map_err(StartupError::Admin)?;
    let fields = UserFields {
        username: config.admin_username.clone(),
        role: Role::Admin.as_str().to_string(),
        parent_id: None,
        group_id: None,
        is_active: true,
    };
    match db::users::find_by_username(db, &config.admin_username)
        .await
        .map_err(admin_error)?
    {
        // An account with that name exists but is not an active admin: make it one again.
        Some(existing) => {
            db::users::update(db, existing.id, fields, Some(hash))
                .await
                .map_err(admin_error)?;
        }
        None => {
            db::users::create(db, fields, hash)
                .await
                .map_err(admin_error)?;
        }
    }
    tracing::info!(username = %config.admin_username, "created the first admin account");
    Ok(generated.then(|| (config.admin_username.clone(), password)))
}

fn admin_error(err: AppError) -> StartupError {
    StartupError::Admin(match err {
        AppError::Internal(detail) => detail,
        other => other.to_string(),
    })
}

fn ensure_dir(path: &Path) -> Result<(), StartupError> {
    let io_error = |source| StartupError::DataDir {
        path: path.to_path_buf(),
        source,
    };
    std::fs::create_dir_all(path).map_err(io_error)?;
    restrict_existing(path).map_err(io_error)
}

/// Owner-only access for everything created from now on (the SQLite file and its `-wal`,
/// `-shm` and journal, secrets, backups): without it they would be world-readable under the
/// usual umask 022, and the database holds password hashes and call records. Windows has no
/// umask; there files inherit the data folder's ACL.
pub fn restrict_new_files() {
    #[cfg(unix)]
    rustix::process::umask(rustix::fs::Mode::from_raw_mode(0o077));
}

/// Folders and database files made by an older version (or another umask) are tightened at
/// every start: the folder to 0700, the SQLite files to 0600.
fn restrict_existing(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
        for suffix in ["", "-wal", "-shm", "-journal"] {
            let file = dir.join(format!("llm-proxy.db{suffix}"));
            match std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)) {
                Err(err) if err.kind() != std::io::ErrorKind::NotFound => return Err(err),
                _ => {}
            }
        }
    }
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

/// Reads a generated secret, or creates it with owner-only permissions.
fn load_or_create(path: &Path, generate: impl FnOnce() -> String) -> Result<Secret, StartupError> {
    let io_error = |source| StartupError::DataDir {
        path: path.to_path_buf(),
        source,
    };
    match std::fs::read_to_string(path) {
        Ok(text) if !text.trim().is_empty() => return Ok(Secret::new(text.trim())),
        Ok(_) => {}
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
        Err(err) => return Err(io_error(err)),
    }
    let value = generate();
    write_private(path, &value).map_err(io_error)?;
    Ok(Secret::new(value))
}

/// Writes a file readable by its owner only (on Unix; Windows inherits the folder's ACL).
pub fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    std::io::Write::write_all(&mut file, contents.as_bytes())?;
    file.sync_all()
}

/// 48 letters and digits from the OS-seeded CSPRNG: about 285 bits.
pub(crate) fn random_secret() -> String {
    rand::rng()
        .sample_iter(&Alphanumeric)
        .take(48)
        .map(char::from)
        .collect()
}

pub fn random_password() -> String {
    rand::rng()
        .sample_iter(&Alphanumeric)
        .take(16)
        .map(char::from)
        .collect()
}
