//! Test harness: starts the real `llm-proxy` binary on a loopback port with its own data
//! folder, and talks to it over HTTP like any client.
//!
//! Database: SQLite in the temp folder by default. With `LLM_PROXY_TEST_DATABASE_URL` set to
//! a PostgreSQL server URL, every server gets a fresh database of its own on that server.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::{
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

pub const JWT_SECRET: &str = "test-jwt-secret-0123456789-abcdefghijkl";
pub const ENCRYPTION_KEY: &str = "0123456789abcdef0123456789abcdef";
pub const ADMIN_PASSWORD: &str = "Admin-Passw0rd!";

/// The scheme and port of the admin URL in a server's start-up banner
/// ("管理后台 / admin UI:   http://127.0.0.1:PORT/admin/"), if it was printed yet.
fn banner_address(output: Option<&str>) -> Option<(String, u16)> {
    let line = output?.lines().find(|line| line.contains("admin UI:"))?;
    let url = line.split_whitespace().last()?;
    let (scheme, rest) = url.split_once("://")?;
    let (_, port) = rest.strip_suffix("/admin/")?.rsplit_once(':')?;
    Some((scheme.to_string(), port.parse().ok()?))
}

/// A database for one test server: a SQLite file (empty URL) or a fresh PostgreSQL database.
pub async fn fresh_database_url() -> String {
    let Ok(admin_url) = std::env::var("LLM_PROXY_TEST_DATABASE_URL") else {
        return String::new();
    };
    let name = format!("llmproxy_test_{}_{}", std::process::id(), rand_suffix());
    execute(&admin_url, &format!("CREATE DATABASE {name}")).await;
    let (base, _) = admin_url
        .rsplit_once('/')
        .expect("URL with a database name");
    format!("{base}/{name}")
}

/// Runs one statement against a database URL (test set-up only).
pub async fn execute(url: &str, sql: &str) {
    use sea_orm::ConnectionTrait;
    let db = sea_orm::Database::connect(url).await.unwrap();
    db.execute_unprepared(sql).await.unwrap();
    db.close().await.unwrap();
}

fn rand_suffix() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!("{nanos}_{}", COUNTER.fetch_add(1, Ordering::Relaxed))
}

pub fn is_postgres() -> bool {
    std::env::var("LLM_PROXY_TEST_DATABASE_URL").is_ok()
}

/// How to start a server; defaults give a configured admin password and known secrets.
#[derive(Clone)]
pub struct Options {
    pub envs: Vec<(String, String)>,
    pub args: Vec<String>,
    pub database_url: Option<String>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            envs: vec![
                ("LLM_PROXY_JWT_SECRET".into(), JWT_SECRET.into()),
                ("ENCRYPTION_SECRET_KEY".into(), ENCRYPTION_KEY.into()),
                ("LLM_PROXY_ADMIN_PASSWORD".into(), ADMIN_PASSWORD.into()),
            ],
            args: Vec::new(),
            database_url: None,
        }
    }
}

impl Options {
    pub fn without_env(mut self, name: &str) -> Self {
        self.envs.retain(|(key, _)| key != name);
        self
    }

    pub fn env(mut self, name: &str, value: &str) -> Self {
        self.envs.retain(|(key, _)| key != name);
        self.envs.push((name.into(), value.into()));
        self
    }
}

pub struct TestServer {
    pub dir: tempfile::TempDir,
    pub port: u16,
    pub base: String,
    pub database_url: String,
    pub options: Options,
    child: Option<Child>,
    pub client: reqwest::Client,
}

pub struct Response {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
    pub text: String,
}

impl TestServer {
    pub async fn start() -> Self {
        Self::start_with(Options::default()).await
    }

    pub async fn start_with(options: Options) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let database_url = match options.database_url.clone() {
            Some(url) => url,
            None => fresh_database_url().await,
        };
        let mut server = Self {
            port: 0,
            base: String::new(),
            dir,
            database_url,
            options,
            child: None,
            client: reqwest::Client::builder()
                .timeout(Duration::from_secs(60))
                // Servers under test may use a self-signed certificate.
                .tls_danger_accept_invalid_certs(true)
                .build()
                .unwrap(),
        };
        server.spawn().await;
        server
    }

    pub fn config_path(&self) -> PathBuf {
        self.dir.path().join("config.toml")
    }

    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    pub fn log_path(&self) -> PathBuf {
        self.dir.path().join("server.log")
    }

    /// Everything the server printed so far (stdout and stderr).
    pub fn output(&self) -> String {
        std::fs::read_to_string(self.log_path()).unwrap_or_default()
    }

    /// A command for this server's binary, config and database (for subcommands).
    pub fn command(&self) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_llm-proxy"));
        command
            .arg("--config")
            .arg(self.config_path())
            .env_remove("LLM_PROXY_DATABASE_URL")
            .env(
                "LLM_PROXY_BIND",
                format!("{}:{}", self.bind_ip(), self.port),
            )
            .env("LLM_PROXY_LOG", "info");
        if !self.database_url.is_empty() {
            command.env("LLM_PROXY_DATABASE_URL", &self.database_url);
        }
        for (key, value) in &self.options.envs {
            command.env(key, value);
        }
        command
    }

    /// Starts (or restarts) the server process and waits until it answers. The server binds
    /// port 0, so the system hands it a free port that no parallel test can take in between;
    /// the port is read from the admin URL in its start-up banner.
    pub async fn spawn(&mut self) {
        self.port = 0;
        self.base.clear();
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.log_path())
            .unwrap();
        // A restart appends to the same log: only what this start prints counts.
        let log_start = log.metadata().unwrap().len() as usize;
        let mut command = self.command();
        command
            .args(&self.options.args)
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log);
        self.child = Some(command.spawn().unwrap());
        self.wait_ready(log_start).await;
    }

    async fn wait_ready(&mut self, log_start: usize) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(child) = self.child.as_mut()
                && let Ok(Some(status)) = child.try_wait()
            {
                panic!("server exited early ({status}):\n{}", self.output());
            }
            if self.base.is_empty()
                && let Some((scheme, port)) = banner_address(self.output().get(log_start..))
            {
                self.port = port;
                self.base = format!("{scheme}://127.0.0.1:{port}");
            }
            if !self.base.is_empty()
                && let Ok(response) = self.client.get(self.url("/api/health")).send().await
                && response.status().is_success()
            {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "server did not start:\n{}",
                self.output()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Graceful stop (SIGTERM) and wait.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = Command::new("kill")
                .arg("-TERM")
                .arg(child.id().to_string())
                .status();
            let deadline = Instant::now() + Duration::from_secs(30);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = child.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// The server process's id while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Hard kill (SIGKILL), as a crash or power-less stop would.
    pub fn kill9(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// The address to listen on: loopback unless the test asks for all interfaces.
    fn bind_ip(&self) -> &str {
        self.options
            .envs
            .iter()
            .find(|(key, _)| key == "TEST_BIND_IP")
            .map(|(_, value)| value.as_str())
            .unwrap_or("127.0.0.1")
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub async fn request(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Response {
        let mut request = self.client.request(method, self.url(path));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let text = response.text().await.unwrap();
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Response {
            status,
            headers,
            body,
            text,
        }
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Response {
        self.request(Method::GET, path, token, None).await
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: Value) -> Response {
        self.request(Method::POST, path, token, Some(body)).await
    }

    pub async fn put(&self, path: &str, token: Option<&str>, body: Value) -> Response {
        self.request(Method::PUT, path, token, Some(body)).await
    }

    pub async fn delete(&self, path: &str, token: Option<&str>) -> Response {
        self.request(Method::DELETE, path, token, None).await
    }

    pub async fn login(&self, username: &str, password: &str) -> String {
        let response = self
            .post(
                "/api/auth/login",
                None,
                json!({"username": username, "password": password}),
            )
            .await;
        assert_eq!(response.status, 200, "login failed: {}", response.text);
        response.body["data"]["token"].as_str().unwrap().to_string()
    }

    pub async fn admin_token(&self) -> String {
        self.login("admin", ADMIN_PASSWORD).await
    }

    /// Creates a group and an activation code, and activates it: a client token.
    pub async fn client_token(&self, admin: &str) -> (String, i64, String) {
        let group = self
            .post(
                "/api/admin/groups",
                Some(admin),
                json!({"name": format!("group-{}", rand_suffix())}),
            )
            .await;
        assert_eq!(group.status, 200, "{}", group.text);
        let group_id = group.body["data"]["id"].as_i64().unwrap();
        let code = self
            .post(
                "/api/admin/activation-codes",
                Some(admin),
                json!({"group_id": group_id}),
            )
            .await;
        assert_eq!(code.status, 200, "{}", code.text);
        let code = code.body["data"]["code"].as_str().unwrap().to_string();
        let activated = self
            .post("/api/auth/activate", None, json!({"activation_code": code}))
            .await;
        assert_eq!(activated.status, 200, "{}", activated.text);
        (
            activated.body["data"]["token"]
                .as_str()
                .unwrap()
                .to_string(),
            group_id,
            code,
        )
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// Asserts the failure envelope: status, stable code, and a Chinese message.
pub fn assert_error(response: &Response, status: u16, code: &str) {
    assert_eq!(
        response.status.as_u16(),
        status,
        "expected {status} {code}, got: {}",
        response.text
    );
    assert_eq!(response.body["success"], json!(false), "{}", response.text);
    assert_eq!(response.body["code"], json!(code), "{}", response.text);
    let message = response.body["message"].as_str().unwrap_or_default();
    assert!(
        message
            .chars()
            .any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)),
        "message should be Chinese: {message}"
    );
}

/// Every file below `dir` whose bytes contain `needle`.
pub fn files_containing(dir: &Path, needle: &[u8]) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return found;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            found.extend(files_containing(&path, needle));
        } else if let Ok(bytes) = std::fs::read(&path)
            && bytes.windows(needle.len()).any(|window| window == needle)
        {
            found.push(path);
        }
    }
    found
}

pub fn sample_config(name: &str) -> Value {
    json!({
        "name": name,
        "provider": "openai",
        "api_url": "https://api.openai.com/v1/chat/completions",
        "api_key": "sk-test-secret-key-0123456789abcdef",
        "model": "gpt-4o-mini",
        "system_prompt": "你是一个乐于助人的助手。"
    })
}

impl TestServer {
    /// Another server process on this server's database: the same SQLite file (through
    /// `--data-dir`) or the same PostgreSQL database.
    pub async fn start_beside(&self, options: Options) -> TestServer {
        let mut options = options;
        if self.database_url.is_empty() {
            options.args = vec!["--data-dir".into(), self.data_dir().display().to_string()];
        } else {
            options.database_url = Some(self.database_url.clone());
        }
        TestServer::start_with(options).await
    }

    /// The SQLite file or PostgreSQL database this server writes to.
    pub fn effective_database_url(&self) -> String {
        if self.database_url.is_empty() {
            format!(
                "sqlite://{}",
                self.data_dir().join("llm-proxy.db").display()
            )
        } else {
            self.database_url.clone()
        }
    }

    /// Every call record, oldest first, read straight from the database.
    pub async fn call_logs(&self) -> Vec<entity::llm_call_logs::Model> {
        use sea_orm::{EntityTrait, QueryOrder};
        let db = sea_orm::Database::connect(self.effective_database_url())
            .await
            .unwrap();
        let rows = entity::llm_call_logs::Entity::find()
            .order_by_asc(entity::llm_call_logs::Column::Id)
            .all(&db)
            .await
            .unwrap();
        db.close().await.unwrap();
        rows
    }

    /// Waits until `count` call records exist (records of detached calls land shortly after).
    pub async fn wait_for_logs(&self, count: usize) -> Vec<entity::llm_call_logs::Model> {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let logs = self.call_logs().await;
            if logs.len() >= count || Instant::now() > deadline {
                return logs;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// POSTs and returns the raw streamed body once the server ends it.
    pub async fn post_stream(
        &self,
        path: &str,
        token: &str,
        body: Value,
    ) -> (StatusCode, reqwest::header::HeaderMap, String) {
        let response = self
            .client
            .post(self.url(path))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        (status, headers, response.text().await.unwrap())
    }
}

/// The `(event name, data JSON)` pairs of an SSE body; comments are skipped.
pub fn sse_events(body: &str) -> Vec<(Option<String>, Value)> {
    body.split("\n\n")
        .filter_map(|block| {
            let mut name = None;
            let mut data = String::new();
            for line in block.lines() {
                if let Some(value) = line.strip_prefix("event:") {
                    name = Some(value.trim().to_string());
                } else if let Some(value) = line.strip_prefix("data:") {
                    data.push_str(value.trim_start());
                }
            }
            (!data.is_empty()).then(|| (name, serde_json::from_str(&data).unwrap()))
        })
        .collect()
}
