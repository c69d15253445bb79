//! Layered configuration: built-in defaults < `config.toml` < `LLM_PROXY_*` environment
//! < command-line flags. Unknown keys in the file are an error that names the key.

use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
};

use serde::Deserialize;

use crate::secret::Secret;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("invalid config file {path}: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("invalid value for {key} (from {origin}): {message}")]
    Value {
        key: &'static str,
        origin: String,
        message: String,
    },
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerSection {
    pub bind: String,
    pub open_browser: bool,
    pub tls_cert: String,
    pub tls_key: String,
    pub cors_origins: Vec<String>,
    pub shutdown_grace_seconds: u64,
    pub client_write_timeout_seconds: u64,
    pub instance_lease_seconds: u64,
    pub max_body_bytes: u64,
    pub max_auth_body_bytes: u64,
}

impl Default for ServerSection {
    fn default() -> Self {
        Self {
            bind: "127.0.0.1:8080".into(),
            open_browser: cfg!(windows),
            tls_cert: String::new(),
            tls_key: String::new(),
            cors_origins: Vec::new(),
            shutdown_grace_seconds: 30,
            client_write_timeout_seconds: 30,
            instance_lease_seconds: 30,
            max_body_bytes: 4 * 1024 * 1024,
            max_auth_body_bytes: 16 * 1024,
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StorageSection {
    pub data_dir: String,
    pub database_url: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SecuritySection {
    pub jwt_secret: String,
    pub encryption_key: String,
    pub admin_token_hours: u64,
    pub client_token_days: u64,
    pub login_attempts_per_minute: u32,
}

impl Default for SecuritySection {
    fn default() -> Self {
        Self {
            jwt_secret: String::new(),
            encryption_key: String::new(),
            admin_token_hours: 12,
            client_token_days: 30,
            login_attempts_per_minute: 10,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AdminSection {
    pub username: String,
    pub password: String,
}

impl Default for AdminSection {
    fn default() -> Self {
        Self {
            username: "admin".into(),
            password: String::new(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LimitsSection {
    pub default_requests_per_minute: u32,
    pub timezone: String,
    pub log_retention_days: u32,
}

impl Default for LimitsSection {
    fn default() -> Self {
        Self {
            default_requests_per_minute: 600,
            timezone: "Asia/Shanghai".into(),
            log_retention_days: 90,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogSection {
    pub level: String,
}

impl Default for LogSection {
    fn default() -> Self {
        Self {
            level: "info".into(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AlertsSection {
    pub check_interval_seconds: u64,
    pub error_rate_window_minutes: u64,
    pub error_rate_percent: f64,
    pub error_rate_min_calls: u32,
}

impl Default for AlertsSection {
    fn default() -> Self {
        Self {
            check_interval_seconds: 60,
            error_rate_window_minutes: 5,
            error_rate_percent: 50.0,
            error_rate_min_calls: 10,
        }
    }
}

/// `GET /metrics` (Prometheus). Off by default: nothing is counted and the path is 404.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MetricsSection {
    pub enabled: bool,
    pub token: String,
    pub bind: String,
}

impl Default for MetricsSection {
    fn default() -> Self {
        Self {
            enabled: false,
            token: String::new(),
            bind: "127.0.0.1:9464".into(),
        }
    }
}

/// The file's shape, before environment and flags are applied.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FileConfig {
    pub server: ServerSection,
    pub storage: StorageSection,
    pub security: SecuritySection,
    pub admin: AdminSection,
    pub limits: LimitsSection,
    pub alerts: AlertsSection,
    pub log: LogSection,
    pub metrics: MetricsSection,
}

/// Every key with its environment variable: the single list that `config.toml`, the
/// README and the env overrides follow (a test keeps the commented file in step).
pub const ENV_KEYS: &[(&str, &str)] = &[
    ("server.bind", "LLM_PROXY_BIND"),
    ("server.open_browser", "LLM_PROXY_OPEN_BROWSER"),
    ("server.tls_cert", "LLM_PROXY_TLS_CERT"),
    ("server.tls_key", "LLM_PROXY_TLS_KEY"),
    ("server.cors_origins", "LLM_PROXY_CORS_ORIGINS"),
    (
        "server.shutdown_grace_seconds",
        "LLM_PROXY_SHUTDOWN_GRACE_SECONDS",
    ),
    (
        "server.client_write_timeout_seconds",
        "LLM_PROXY_CLIENT_WRITE_TIMEOUT_SECONDS",
    ),
    (
        "server.instance_lease_seconds",
        "LLM_PROXY_INSTANCE_LEASE_SECONDS",
    ),
    ("server.max_body_bytes", "LLM_PROXY_MAX_BODY_BYTES"),
    (
        "server.max_auth_body_bytes",
        "LLM_PROXY_MAX_AUTH_BODY_BYTES",
    ),
    ("storage.data_dir", "LLM_PROXY_DATA_DIR"),
    ("storage.database_url", "LLM_PROXY_DATABASE_URL"),
    ("security.jwt_secret", "LLM_PROXY_JWT_SECRET"),
    ("security.encryption_key", "ENCRYPTION_SECRET_KEY"),
    ("security.admin_token_hours", "LLM_PROXY_ADMIN_TOKEN_HOURS"),
    ("security.client_token_days", "LLM_PROXY_CLIENT_TOKEN_DAYS"),
    (
        "security.login_attempts_per_minute",
        "LLM_PROXY_LOGIN_ATTEMPTS_PER_MINUTE",
    ),
    ("admin.username", "LLM_PROXY_ADMIN_USERNAME"),
    ("admin.password", "LLM_PROXY_ADMIN_PASSWORD"),
    (
        "limits.default_requests_per_minute",
        "LLM_PROXY_DEFAULT_REQUESTS_PER_MINUTE",
    ),
    ("limits.timezone", "LLM_PROXY_TIMEZONE"),
    ("limits.log_retention_days", "LLM_PROXY_LOG_RETENTION_DAYS"),
    (
        "alerts.check_interval_seconds",
        "LLM_PROXY_ALERTS_CHECK_INTERVAL_SECONDS",
    ),
    (
        "alerts.error_rate_window_minutes",
        "LLM_PROXY_ALERTS_ERROR_RATE_WINDOW_MINUTES",
    ),
    (
        "alerts.error_rate_percent",
        "LLM_PROXY_ALERTS_ERROR_RATE_PERCENT",
    ),
    (
        "alerts.error_rate_min_calls",
        "LLM_PROXY_ALERTS_ERROR_RATE_MIN_CALLS",
    ),
    ("log.level", "LLM_PROXY_LOG"),
    ("metrics.enabled", "LLM_PROXY_METRICS_ENABLED"),
    ("metrics.token", "LLM_PROXY_METRICS_TOKEN"),
    ("metrics.bind", "LLM_PROXY_METRICS_BIND"),
];

/// Values given on the command line; they win over everything else.
#[derive(Debug, Clone, Default)]
pub struct FlagOverrides {
    pub bind: Option<String>,
    pub data_dir: Option<PathBuf>,
    pub database_url: Option<String>,
}

/// The resolved configuration the server runs with.
#[derive(Debug, Clone)]
pub struct Config {
    /// The file that was read (or would have been: a missing file means defaults).
    pub config_path: PathBuf,
    pub config_file_existed: bool,
    pub bind: SocketAddr,
    pub open_browser: bool,
    pub tls: Option<(PathBuf, PathBuf)>,
    pub cors_origins: Vec<String>,
    pub shutdown_grace: std::time::Duration,
    pub client_write_timeout: std::time::Duration,
    pub instance_lease: std::time::Duration,
    /// Largest request body accepted, in bytes (calls and admin API).
    pub max_body_bytes: u64,
    /// Largest request body on the unauthenticated `/api/auth/*`.
    pub max_auth_body_bytes: u64,
    pub data_dir: PathBuf,
    /// Empty means the SQLite file in the data dir.
    pub database_url: String,
    pub jwt_secret: Option<Secret>,
    pub encryption_key: Option<Secret>,
    pub admin_token_hours: u64,
    pub client_token_days: u64,
    pub login_attempts_per_minute: u32,
    pub admin_username: String,
    pub admin_password: Option<Secret>,
    pub default_requests_per_minute: u32,
    pub timezone: chrono_tz::Tz,
    pub log_retention_days: u32,
    pub alerts: crate::alerts::Settings,
    pub log_level: String,
    pub metrics: MetricsConfig,
}

/// Where `GET /metrics` is served, once enabled.
#[derive(Debug, Clone, Default)]
pub struct MetricsConfig {
    pub enabled: bool,
    /// Required as `Authorization: Bearer …` wherever set; with it, the main port serves
    /// `/metrics` too.
    pub token: Option<Secret>,
    /// A listener of its own for `/metrics` alone (loopback by default).
    pub bind: Option<SocketAddr>,
}

impl Config {
    /// Loads `path` (missing = defaults), then applies `env` and `flags`.
    pub fn load(
        path: &Path,
        env: &dyn Fn(&str) -> Option<String>,
        flags: &FlagOverrides,
    ) -> Result<Self, ConfigError> {
        let (mut file, existed) = match std::fs::read_to_string(path) {
            Ok(text) => (parse_file(path, &text)?, true),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
                (FileConfig::default(), false)
            }
            Err(source) => {
                return Err(ConfigError::Read {
                    path: path.to_path_buf(),
                    source,
                });
            }
        };
        for (key, var) in ENV_KEYS {
            if let Some(value) = env(var) {
                apply_override(&mut file, key, &value, var)?;
            }
        }
        if let Some(bind) = &flags.bind {
            apply_override(&mut file, "server.bind", bind, "--bind")?;
        }
        if let Some(url) = &flags.database_url {
            file.storage.database_url = url.clone();
        }
        let base_dir = path
            .parent()
            .filter(|dir| !dir.as_os_str().is_empty())
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("."));
        let data_dir = match &flags.data_dir {
            Some(dir) => dir.clone(),
            None if file.storage.data_dir.is_empty() => base_dir.join("data"),
            None => base_dir.join(&file.storage.data_dir),
        };
        Self::resolve(file, path, existed, data_dir)
    }

    fn resolve(
        file: FileConfig,
        path: &Path,
        existed: bool,
        data_dir: PathBuf,
    ) -> Result<Self, ConfigError> {
        let bind = file
            .server
            .bind
            .parse::<SocketAddr>()
            .map_err(|err| value_error("server.bind", "config", err))?;
        let tls = match (
            file.server.tls_cert.is_empty(),
            file.server.tls_key.is_empty(),
        ) {
            (true, true) => None,
            (false, false) => Some((
                PathBuf::from(&file.server.tls_cert),
                PathBuf::from(&file.server.tls_key),
            )),
            _ => {
                return Err(value_error(
                    "server.tls_cert",
                    "config",
                    "tls_cert and tls_key must be given together",
                ));
            }
        };
        let timezone = file
            .limits
            .timezone
            .parse::<chrono_tz::Tz>()
            .map_err(|err| value_error("limits.timezone", "config", err))?;
        let non_empty = |value: String| (!value.is_empty()).then(|| Secret::new(value));
        let metrics_bind = match file.metrics.bind.trim() {
            "" => None,
            addr => Some(
                addr.parse::<SocketAddr>()
                    .map_err(|err| value_error("metrics.bind", "config", err))?,
            ),
        };
        Ok(Self {
            config_path: path.to_path_buf(),
            config_file_existed: existed,
            bind,
            open_browser: file.server.open_browser,
            tls,
            cors_origins: file.server.cors_origins,
            shutdown_grace: std::time::Duration::from_secs(file.server.shutdown_grace_seconds),
            client_write_timeout: std::time::Duration::from_secs(
                file.server.client_write_timeout_seconds.max(1),
            ),
            instance_lease: std::time::Duration::from_secs(
                file.server.instance_lease_seconds.max(3),
            ),
            max_body_bytes: file.server.max_body_bytes.max(1),
            max_auth_body_bytes: file.server.max_auth_body_bytes.max(1),
            data_dir,
            database_url: file.storage.database_url,
            jwt_secret: non_empty(file.security.jwt_secret),
            encryption_key: non_empty(file.security.encryption_key),
            admin_token_hours: file.security.admin_token_hours.max(1),
            client_token_days: file.security.client_token_days.max(1),
            login_attempts_per_minute: file.security.login_attempts_per_minute.max(1),
            admin_username: file.admin.username,
            admin_password: non_empty(file.admin.password),
            default_requests_per_minute: file.limits.default_requests_per_minute,
            timezone,
            log_retention_days: file.limits.log_retention_days,
            alerts: alert_settings(&file.alerts)?,
            log_level: file.log.level,
            metrics: MetricsConfig {
                enabled: file.metrics.enabled,
                token: non_empty(file.metrics.token),
                bind: metrics_bind,
            },
        })
    }

    /// The database URL actually used: the configured one, or the SQLite file in the data dir.
    pub fn effective_database_url(&self) -> String {
        if self.database_url.is_empty() {
            let file = self.data_dir.join("llm-proxy.db");
            // The URL's path is percent-decoded: keep `%`, `?` and `#` in folder names literal.
            let path = file
                .to_string_lossy()
                .replace('\\', "/")
                .replace('%', "%25")
                .replace('?', "%3F")
                .replace('#', "%23");
            format!("sqlite://{path}?mode=rwc")
        } else {
            self.database_url.clone()
        }
    }
}

fn alert_settings(section: &AlertsSection) -> Result<crate::alerts::Settings, ConfigError> {
    let percent = section.error_rate_percent;
    if !(percent > 0.0 && percent <= 100.0) {
        return Err(value_error(
            "alerts.error_rate_percent",
            "config",
            "must be above 0 and at most 100",
        ));
    }
    Ok(crate::alerts::Settings {
        check_interval: std::time::Duration::from_secs(section.check_interval_seconds.max(1)),
        error_rate_window_minutes: section.error_rate_window_minutes.max(1),
        error_rate_percent: percent,
        error_rate_min_calls: i64::from(section.error_rate_min_calls.max(1)),
    })
}

fn parse_file(path: &Path, text: &str) -> Result<FileConfig, ConfigError> {
    toml::from_str(text).map_err(|err| ConfigError::Parse {
        path: path.to_path_buf(),
        message: err.to_string(),
    })
}

fn value_error(key: &'static str, origin: &str, err: impl std::fmt::Display) -> ConfigError {
    ConfigError::Value {
        key,
        origin: origin.to_string(),
        message: err.to_string(),
    }
}

fn apply_override(
    file: &mut FileConfig,
    key: &'static str,
    value: &str,
    origin: &str,
) -> Result<(), ConfigError> {
    let number = |value: &str| {
        value
            .trim()
            .parse::<u64>()
            .map_err(|err| value_error(key, origin, err))
    };
    let small = |value: &str| {
        number(value).and_then(|n| u32::try_from(n).map_err(|err| value_error(key, origin, err)))
    };
    let boolean = |value: &str| match value.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" => Ok(false),
        other => Err(value_error(key, origin, format!("not a boolean: {other}"))),
    };
    let text = value.to_string();
    match key {
        "server.bind" => file.server.bind = text,
        "server.open_browser" => file.server.open_browser = boolean(value)?,
        "server.tls_cert" => file.server.tls_cert = text,
        "server.tls_key" => file.server.tls_key = text,
        "server.cors_origins" => {
            file.server.cors_origins = value
                .split(',')
                .map(str::trim)
                .filter(|origin| !origin.is_empty())
                .map(String::from)
                .collect()
        }
        "server.shutdown_grace_seconds" => file.server.shutdown_grace_seconds = number(value)?,
        "server.client_write_timeout_seconds" => {
            file.server.client_write_timeout_seconds = number(value)?
        }
        "server.instance_lease_seconds" => file.server.instance_lease_seconds = number(value)?,
        "server.max_body_bytes" => file.server.max_body_bytes = number(value)?,
        "server.max_auth_body_bytes" => file.server.max_auth_body_bytes = number(value)?,
        "storage.data_dir" => file.storage.data_dir = text,
        "storage.database_url" => file.storage.database_url = text,
        "security.jwt_secret" => file.security.jwt_secret = text,
        "security.encryption_key" => file.security.encryption_key = text,
        "security.admin_token_hours" => file.security.admin_token_hours = number(value)?,
        "security.client_token_days" => file.security.client_token_days = number(value)?,
        "security.login_attempts_per_minute" => {
            file.security.login_attempts_per_minute = small(value)?
        }
        "admin.username" => file.admin.username = text,
        "admin.password" => file.admin.password = text,
        "limits.default_requests_per_minute" => {
            file.limits.default_requests_per_minute = small(value)?
        }
        "limits.timezone" => file.limits.timezone = text,
        "limits.log_retention_days" => file.limits.log_retention_days = small(value)?,
        "alerts.check_interval_seconds" => file.alerts.check_interval_seconds = number(value)?,
        "alerts.error_rate_window_minutes" => {
            file.alerts.error_rate_window_minutes = number(value)?
        }
        "alerts.error_rate_percent" => {
            file.alerts.error_rate_percent = value
                .trim()
                .parse::<f64>()
                .map_err(|err| value_error(key, origin, err))?
        }
        "alerts.error_rate_min_calls" => file.alerts.error_rate_min_calls = small(value)?,
        "log.level" => file.log.level = text,
        "metrics.enabled" => file.metrics.enabled = boolean(value)?,
        "metrics.token" => file.metrics.token = text,
        "metrics.bind" => file.metrics.bind = text,
        _ => return Err(value_error(key, origin, "unknown key")),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn no_env(_: &str) -> Option<String> {
        None
    }

    #[test]
    fn missing_file_means_defaults_with_data_dir_beside_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        let config = Config::load(&path, &no_env, &FlagOverrides::default()).unwrap();
        assert!(!config.config_file_existed);
        assert_eq!(config.bind.to_string(), "127.0.0.1:8080");
        assert_eq!(config.data_dir, dir.path().join("data"));
        assert!(config.effective_database_url().starts_with("sqlite://"));
        assert_eq!(config.timezone, chrono_tz::Asia::Shanghai);
    }

    #[test]
    fn unknown_key_is_named_in_the_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        std::fs::write(&path, "[server]\nbindd = \"1.2.3.4:5\"\n").unwrap();
        let err = Config::load(&path, &no_env, &FlagOverrides::default()).unwrap_err();
        assert!(err.to_string().contains("bindd"), "{err}");
    }

    #[test]
    fn precedence_is_defaults_file_env_flags() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        std::fs::write(
            &path,
            "[server]\nbind = \"127.0.0.1:1000\"\n[limits]\ntimezone = \"UTC\"\nlog_retention_days = 7\n",
        )
        .unwrap();
        let env = |var: &str| match var {
            "LLM_PROXY_BIND" => Some("127.0.0.1:2000".to_string()),
            "LLM_PROXY_LOG_RETENTION_DAYS" => Some("9".to_string()),
            _ => None,
        };
        let config = Config::load(&path, &env, &FlagOverrides::default()).unwrap();
        assert_eq!(config.bind.port(), 2000);
        assert_eq!(config.log_retention_days, 9);
        assert_eq!(config.timezone, chrono_tz::UTC);
        let flags = FlagOverrides {
            bind: Some("127.0.0.1:3000".into()),
            ..Default::default()
        };
        let config = Config::load(&path, &env, &flags).unwrap();
        assert_eq!(config.bind.port(), 3000);
    }

    #[test]
    fn bad_env_value_names_key_and_origin() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        let env = |var: &str| (var == "LLM_PROXY_LOG_RETENTION_DAYS").then(|| "lots".to_string());
        let err = Config::load(&path, &env, &FlagOverrides::default()).unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("limits.log_retention_days")
                && text.contains("LLM_PROXY_LOG_RETENTION_DAYS"),
            "{text}"
        );
    }

    #[test]
    fn committed_config_toml_parses_and_documents_every_key() {
        let text = include_str!("../../config.toml");
        let parsed: FileConfig = toml::from_str(&uncomment_assignments(text)).unwrap();
        assert_eq!(parsed.server.bind, ServerSection::default().bind);
        for (key, var) in ENV_KEYS {
            let name = key.rsplit('.').next().unwrap();
            assert!(
                text.contains(&format!("{name} =")),
                "config.toml does not show {key}"
            );
            assert!(text.contains(var), "config.toml does not name {var}");
        }
    }

    /// The committed file shows every key commented out (`# key = value`); uncommenting
    /// them must give a valid file with the defaults.
    fn uncomment_assignments(text: &str) -> String {
        text.lines()
            .map(|line| {
                let trimmed = line.trim_start();
                let assignment = trimmed.strip_prefix("# ").filter(|rest| {
                    rest.split_once(" = ").is_some_and(|(key, _)| {
                        !key.is_empty() && key.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')
                    })
                });
                assignment.unwrap_or(line).to_string()
            })
            .collect::<Vec<_>>()
            .join("\n")
    }
}
