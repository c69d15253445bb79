//! A small WebDriver wrapper for the browser tests: starts Debian's `chromedriver` (which
//! starts headless `chromium`), and gives the tests a [`Ui`] that finds elements by their
//! `data-testid`, clicks, types and waits with a deadline (never a bare sleep).
//!
//! A test body runs in its own task. When it panics (or runs out of time), [`Browser::run`]
//! saves a screenshot and the page's HTML to `target/browser-failures/<test>-<step>.png|html`,
//! prints their paths, closes the session and stops chromedriver, and then re-raises the
//! panic. Closing the session makes chromedriver stop its chromium; chromedriver itself is
//! then stopped through its own child handle.

use std::any::Any;
use std::future::Future;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use fantoccini::elements::Element;
use fantoccini::error::{CmdError, ErrorStatus};
use fantoccini::wd::WindowHandle;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;

/// How long any single wait may take (the machine may be busy: 2 cores, other work).
pub const WAIT: Duration = Duration::from_secs(20);
const POLL: Duration = Duration::from_millis(100);

/// `CHROMIUM` / `CHROMEDRIVER`, with Debian's paths as defaults.
fn executable(var: &str, default: &str) -> PathBuf {
    let path = PathBuf::from(std::env::var(var).unwrap_or_else(|_| default.to_string()));
    assert!(
        path.is_file(),
        "the browser tests need chromium and chromedriver, and {} is missing (set {var} to \
         another path). Install them with `apt-get install -y chromium chromium-driver \
         fonts-noto-cjk`, or run `bash scripts/test-all.sh`, which runs the suite as CI does.",
        path.display()
    );
    path
}

/// Where failure screenshots go: `<target dir>/browser-failures` (created on demand).
fn failure_dir() -> std::io::Result<PathBuf> {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../target")));
    let dir = target.join("browser-failures");
    std::fs::create_dir_all(&dir)?;
    Ok(dir.canonicalize().unwrap_or(dir))
}

/// A port nobody listens on right now. chromedriver cannot be handed a listening socket or
/// report a port it picked itself, so the port is chosen here, and [`Driver::start`] tries
/// again with another one if something else took it in between.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Starts with a port taken by someone else in between are retried this often.
const START_ATTEMPTS: usize = 5;

/// The chromedriver child, stopped (by its own process id) when dropped.
struct Driver {
    child: Child,
}

impl Driver {
    async fn start() -> (Self, u16) {
        let chromedriver = executable("CHROMEDRIVER", "/usr/bin/chromedriver");
        for _ in 0..START_ATTEMPTS {
            let port = free_port();
            let child = Command::new(&chromedriver)
                .arg(format!("--port={port}"))
                .arg("--allowed-ips=127.0.0.1")
                // The server counts days in Asia/Shanghai (limits.timezone's default); the UI's
                // date ranges are the browser's local dates, so the browser uses the same zone.
                .env("TZ", "Asia/Shanghai")
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap_or_else(|e| panic!("start {}: {e}", chromedriver.display()));
            let mut driver = Self { child };
            if driver.listens_on(port).await {
                return (driver, port);
            }
        }
        panic!("chromedriver exited at start {START_ATTEMPTS} times (its port taken each time?)");
    }

    /// Waits until chromedriver answers on `port`; false when it exited first (port taken).
    async fn listens_on(&mut self, port: u16) -> bool {
        let deadline = Instant::now() + WAIT;
        while tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_err()
        {
            if let Ok(Some(_)) = self.child.try_wait() {
                return false;
            }
            assert!(
                Instant::now() < deadline,
                "chromedriver did not listen on port {port}"
            );
            tokio::time::sleep(POLL).await;
        }
        true
    }

    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        self.stop();
    }
}

/// One browser session for one test.
pub struct Browser {
    client: Client,
    ui: Ui,
    driver: Driver,
    _profile: tempfile::TempDir,
}

impl Browser {
    /// Starts chromedriver and a headless chromium session; `base` is the server's origin.
    pub async fn launch(base: &str) -> Self {
        let chromium = executable("CHROMIUM", "/usr/bin/chromium");
        let (driver, port) = Driver::start().await;
        let profile = tempfile::tempdir().expect("chromium profile dir");
        let capabilities = json!({
            "goog:chromeOptions": {
                "binary": chromium,
                "args": [
                    "--headless",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-dev-shm-usage",
                    "--disable-quic",
                    "--no-first-run",
                    "--disable-background-networking",
                    "--disable-component-update",
                    "--disable-sync",
                    "--disable-extensions",
                    "--force-device-scale-factor=1",
                    "--window-size=1400,1000",
                    "--lang=zh-CN",
                    format!("--user-data-dir={}", profile.path().display()),
                ]
            }
        });
        let capabilities = serde_json::from_value(capabilities).unwrap();
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let client = ClientBuilder::new(connector)
            .capabilities(capabilities)
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
            .unwrap_or_else(|e| panic!("webdriver session with chromium: {e}"));
        let ui = Ui {
            client: client.clone(),
            base: base.trim_end_matches('/').to_string(),
            step: Arc::new(Mutex::new("setup".to_string())),
        };
        Self {
            client,
            ui,
            driver,
            _profile: profile,
        }
    }

    pub fn ui(&self) -> Ui {
        self.ui.clone()
    }

    /// Runs `body` in its own task with an overall time limit, then ends the session; a
    /// failure saves the artefacts and is re-raised here. `diagnostics` (the server log, say)
    /// is printed with a failure.
    pub async fn run<Fut>(
        self,
        test: &'static str,
        limit: Duration,
        body: Fut,
        diagnostics: impl FnOnce() -> String,
    ) where
        Fut: Future<Output = ()> + Send + 'static,
    {
        let mut task = tokio::spawn(body);
        // A panic's payload (its message is already printed), or a failure of our own.
        let failure: Option<Result<Box<dyn Any + Send>, String>> =
            match tokio::time::timeout(limit, &mut task).await {
                Ok(Ok(())) => None,
                Ok(Err(error)) if error.is_panic() => Some(Ok(error.into_panic())),
                Ok(Err(error)) => Some(Err(format!("test task failed: {error}"))),
                Err(_) => {
                    task.abort();
                    let _ = task.await;
                    Some(Err(format!(
                        "browser test `{test}` took longer than {limit:?} (step `{}`)",
                        self.ui.current_step()
                    )))
                }
            };
        if failure.is_some() {
            self.save_artefacts(test).await;
            let log = strip_ansi(&diagnostics());
            let lines: Vec<&str> = log.lines().collect();
            eprintln!("---- server log (last lines) ----");
            for line in &lines[lines.len().saturating_sub(30)..] {
                eprintln!("{line}");
            }
        }
        self.close().await;
        match failure {
            None => {}
            Some(Ok(payload)) => std::panic::resume_unwind(payload),
            Some(Err(message)) => panic!("{message}"),
        }
    }

    /// Screenshot and HTML of the page as it is now, named after the test and its step.
    async fn save_artefacts(&self, test: &str) {
        let step: String = self
            .ui
            .current_step()
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .collect();
        let dir = match failure_dir() {
            Ok(dir) => dir,
            Err(e) => {
                eprintln!("could not create target/browser-failures: {e}");
                return;
            }
        };
        let png = dir.join(format!("{test}-{step}.png"));
        let html = dir.join(format!("{test}-{step}.html"));
        // A browser that no longer answers must not hold the failure up.
        let patience = Duration::from_secs(10);
        match tokio::time::timeout(patience, self.client.screenshot()).await {
            Ok(Ok(bytes)) => match std::fs::write(&png, bytes) {
                Ok(()) => eprintln!(
                    "browser test `{test}` failed at step `{step}`: screenshot {}",
                    png.display()
                ),
                Err(e) => eprintln!("could not write {}: {e}", png.display()),
            },
            Ok(Err(e)) => eprintln!("could not take a screenshot: {e}"),
            Err(_) => eprintln!("could not take a screenshot: the browser did not answer"),
        }
        if let Ok(Ok(source)) = tokio::time::timeout(patience, self.client.source()).await {
            let url = self
                .client
                .current_url()
                .await
                .map(|u| u.to_string())
                .unwrap_or_default();
            let text = format!("<!-- {url} -->\n{source}");
            if std::fs::write(&html, text).is_ok() {
                eprintln!("browser test `{test}`: page HTML {}", html.display());
            }
        }
    }

    /// Ends the session (chromedriver stops its chromium), then chromedriver itself.
    async fn close(mut self) {
        let client = self.client.clone();
        drop(self.ui);
        let _ = tokio::time::timeout(Duration::from_secs(10), client.close()).await;
        self.driver.stop();
    }
}

/// The text without terminal colour codes (`ESC [ … m`).
fn strip_ansi(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// What a test uses to drive the page; cheap to clone.
#[derive(Clone)]
pub struct Ui {
    client: Client,
    base: String,
    step: Arc<Mutex<String>>,
}

fn by_testid(testid: &str) -> String {
    format!("[data-testid=\"{testid}\"]")
}

/// Errors worth another try while waiting: the element is not there yet, was re-rendered,
/// or is covered for a moment (a toast, a dialog opening).
fn transient(error: &CmdError) -> bool {
    matches!(
        error,
        CmdError::Standard(e) if matches!(
            e.error,
            ErrorStatus::NoSuchElement
                | ErrorStatus::StaleElementReference
                | ErrorStatus::ElementClickIntercepted
                | ErrorStatus::ElementNotInteractable
                | ErrorStatus::InvalidElementState
        )
    )
}

impl Ui {
    /// Names the step now running; a failure's screenshot is named after it.
    pub fn step(&self, name: &str) {
        *self.step.lock().unwrap() = name.to_string();
    }

    pub fn current_step(&self) -> String {
        self.step.lock().unwrap().clone()
    }

    /// Waits until the element is enabled (a button that waits for its page's data).
    pub async fn wait_enabled(&self, testid: &str) {
        self.until(&format!("`{testid}` enabled"), || async {
            match self.find(testid).await.is_enabled().await {
                Ok(true) => Ok(()),
                Ok(false) => Err("disabled".to_string()),
                Err(e) => Err(e.to_string()),
            }
        })
        .await
    }

    /// Saves what the window shows as a PNG.
    pub async fn save_screenshot(&self, path: &std::path::Path) {
        let png = self.client.screenshot().await.expect("screenshot");
        std::fs::write(path, png).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
    }

    /// Loads a page of the server (`/admin/…`).
    pub async fn open(&self, path: &str) {
        let url = format!("{}{path}", self.base);
        self.client
            .goto(&url)
            .await
            .unwrap_or_else(|e| panic!("open {url}: {e}"));
    }

    /// Polls `probe` until it gives a value; panics with `what` and the last thing seen.
    pub async fn until<T, F, Fut>(&self, what: &str, mut probe: F) -> T
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, String>>,
    {
        let deadline = Instant::now() + WAIT;
        loop {
            let last = match probe().await {
                Ok(value) => return value,
                Err(seen) => seen,
            };
            assert!(
                Instant::now() < deadline,
                "timed out after {WAIT:?} waiting for {what}; last seen: {last}"
            );
            tokio::time::sleep(POLL).await;
        }
    }

    /// The element with this CSS selector, once it exists.
    pub async fn css(&self, selector: &str) -> Element {
        self.until(&format!("element `{selector}`"), || async {
            self.client
                .find(Locator::Css(selector))
                .await
                .map_err(|e| e.to_string())
        })
        .await
    }

    /// The element with this `data-testid`, once it exists.
    pub async fn find(&self, testid: &str) -> Element {
        self.css(&by_testid(testid)).await
    }

    /// How many elements match the CSS selector now (no waiting).
    pub async fn count(&self, selector: &str) -> usize {
        self.client
            .find_all(Locator::Css(selector))
            .await
            .map(|all| all.len())
            .unwrap_or(0)
    }

    /// Every element matching the CSS selector now (no waiting).
    pub async fn all(&self, selector: &str) -> Vec<Element> {
        self.client
            .find_all(Locator::Css(selector))
            .await
            .unwrap_or_default()
    }

    /// Whether an element with this `data-testid` exists now (no waiting).
    pub async fn exists(&self, testid: &str) -> bool {
        self.count(&by_testid(testid)).await > 0
    }

    /// Clicks the element with this `data-testid`, retrying while it is missing or covered.
    pub async fn click(&self, testid: &str) {
        self.click_css(&by_testid(testid)).await;
    }

    pub async fn click_css(&self, selector: &str) {
        self.until(&format!("a clickable `{selector}`"), || async {
            let result = match self.client.find(Locator::Css(selector)).await {
                Ok(element) => element.click().await,
                Err(e) => Err(e),
            };
            match result {
                Ok(()) => Ok(()),
                Err(e) if transient(&e) => Err(e.to_string()),
                Err(e) => panic!("click `{selector}`: {e}"),
            }
        })
        .await
    }

    /// Replaces the text of an input or textarea by typing, as a person would (select all,
    /// delete, type), and waits until the control holds exactly `text`.
    pub async fn fill(&self, testid: &str, text: &str) {
        let selector = by_testid(testid);
        self.until(&format!("`{testid}` to hold {text:?}"), || async {
            let element = self
                .client
                .find(Locator::Css(&selector))
                .await
                .map_err(|e| e.to_string())?;
            let value = element.prop("value").await.map_err(|e| e.to_string())?;
            if value.as_deref() == Some(text) {
                return Ok(());
            }
            // Ctrl+A, release Ctrl (NULL key), Backspace, then the text.
            element
                .send_keys("\u{E009}a\u{E000}\u{E003}")
                .await
                .map_err(|e| e.to_string())?;
            element.send_keys(text).await.map_err(|e| e.to_string())?;
            let value = element.prop("value").await.map_err(|e| e.to_string())?;
            if value.as_deref() == Some(text) {
                Ok(())
            } else {
                Err(format!("value {value:?}"))
            }
        })
        .await
    }

    /// Chooses an option of a `<select>` by its value.
    pub async fn select(&self, testid: &str, value: &str) {
        let selector = by_testid(testid);
        self.until(&format!("option {value:?} of `{testid}`"), || async {
            let element = self
                .client
                .find(Locator::Css(&selector))
                .await
                .map_err(|e| e.to_string())?;
            element
                .select_by_value(value)
                .await
                .map_err(|e| e.to_string())?;
            match element.prop("value").await.map_err(|e| e.to_string())? {
                Some(now) if now == value => Ok(()),
                other => Err(format!("value {other:?}")),
            }
        })
        .await
    }

    /// The visible text of the element with this `data-testid`, once it exists.
    pub async fn text(&self, testid: &str) -> String {
        self.text_css(&by_testid(testid)).await
    }

    pub async fn text_css(&self, selector: &str) -> String {
        self.until(&format!("text of `{selector}`"), || async {
            match self.client.find(Locator::Css(selector)).await {
                Ok(element) => element.text().await.map_err(|e| e.to_string()),
                Err(e) => Err(e.to_string()),
            }
        })
        .await
    }

    /// Waits until the element's visible text contains every one of `needles`; returns it.
    pub async fn wait_text(&self, testid: &str, needles: &[&str]) -> String {
        self.wait_text_css(&by_testid(testid), needles).await
    }

    pub async fn wait_text_css(&self, selector: &str, needles: &[&str]) -> String {
        self.until(&format!("`{selector}` to show {needles:?}"), || async {
            let text = match self.client.find(Locator::Css(selector)).await {
                Ok(element) => element.text().await.map_err(|e| e.to_string())?,
                Err(e) => return Err(e.to_string()),
            };
            if needles.iter().all(|n| text.contains(n)) {
                Ok(text)
            } else {
                Err(format!("{text:?}"))
            }
        })
        .await
    }

    /// Waits until no element with this `data-testid` is left.
    pub async fn wait_gone(&self, testid: &str) {
        let selector = by_testid(testid);
        self.until(&format!("`{testid}` to go away"), || async {
            match self.count(&selector).await {
                0 => Ok(()),
                n => Err(format!("{n} still there")),
            }
        })
        .await
    }

    /// The `data-testid`s starting with `prefix` present now, in page order.
    pub async fn testids(&self, prefix: &str) -> Vec<String> {
        let Ok(all) = self
            .client
            .find_all(Locator::Css(&format!("[data-testid^=\"{prefix}\"]")))
            .await
        else {
            return Vec::new();
        };
        let mut ids = Vec::new();
        for element in all {
            if let Ok(Some(id)) = element.attr("data-testid").await {
                ids.push(id);
            }
        }
        ids
    }

    /// Waits until the `data-testid`s starting with `prefix` are exactly `expected` (in
    /// page order).
    pub async fn wait_testids(&self, prefix: &str, expected: &[String]) {
        self.until(&format!("`{prefix}*` to be {expected:?}"), || async {
            let now = self.testids(prefix).await;
            if now == expected {
                Ok(())
            } else {
                Err(format!("{now:?}"))
            }
        })
        .await
    }

    /// Opens a new tab of the same browser (same localStorage) and switches to it.
    pub async fn new_tab(&self) -> WindowHandle {
        let opened = self.client.new_window(true).await.expect("new tab");
        self.switch_tab(&opened.handle).await;
        opened.handle
    }

    /// The tab now driven.
    pub async fn tab(&self) -> WindowHandle {
        self.client.window().await.expect("current tab")
    }

    pub async fn switch_tab(&self, tab: &WindowHandle) {
        self.client
            .switch_to_window(tab.clone())
            .await
            .expect("switch tab");
    }

    /// Runs a script in the page; its return value.
    pub async fn script(&self, js: &str) -> serde_json::Value {
        self.client
            .execute(js, Vec::new())
            .await
            .unwrap_or_else(|e| panic!("script {js}: {e}"))
    }

    /// An attribute of the element with this `data-testid`, once it exists.
    pub async fn attr(&self, testid: &str, name: &str) -> Option<String> {
        self.find(testid)
            .await
            .attr(name)
            .await
            .unwrap_or_else(|e| panic!("attribute {name} of {testid}: {e}"))
    }

    /// Presses Escape in the element with this `data-testid`.
    pub async fn escape(&self, testid: &str) {
        self.find(testid)
            .await
            .send_keys("\u{E00C}")
            .await
            .unwrap_or_else(|e| panic!("Escape in {testid}: {e}"));
    }

    /// The browser window's outer size.
    pub async fn resize(&self, width: u32, height: u32) {
        self.client
            .set_window_size(width, height)
            .await
            .expect("window size");
    }

    /// Signs in through the login form, which the page shows (or is about to).
    pub async fn login(&self, username: &str, password: &str) {
        self.fill("login-username", username).await;
        self.fill("login-password", password).await;
        self.click("login-submit").await;
    }
}
