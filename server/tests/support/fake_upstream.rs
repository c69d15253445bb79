//! A fake upstream that speaks every provider's wire format, for integration tests and
//! benchmarks. Include it from a test crate with
//!
//! ```ignore
//! #[path = "support/fake_upstream.rs"]
//! mod fake_upstream;
//! use fake_upstream::{FakeUpstream, Outcome, Reply};
//! ```
//!
//! One [`FakeUpstream::start`] binds `127.0.0.1:0` and serves, by path:
//!
//! | provider | path |
//! |---|---|
//! | openai | `/v1/chat/completions` |
//! | custom | `/custom/v1/chat/completions` |
//! | xunfei (Spark) | `/spark/v1/chat/completions` |
//! | zhipu | `/api/paas/v4/chat/completions` |
//! | anthropic | `/v1/messages` |
//! | aliyun (DashScope) | `/api/v1/services/aigc/text-generation/generation` |
//! | aliyun multimodal (images) | `/api/v1/services/aigc/multimodal-generation/generation` |
//! | baidu | `/rpc/2.0/ai_custom/v1/wenxinworkshop/chat/{ep}` and `/oauth/2.0/token` |
//!
//! [`FakeUpstream::url`] / [`FakeUpstream::key`] / [`FakeUpstream::target`] give the URL
//! and the credential it expects. A wrong credential gets that provider's 401 body (Baidu:
//! `error_code` 110 in a 200, 111 for a token made stale by
//! [`FakeUpstream::expire_baidu_tokens`]; Zhipu JWTs are decoded and their signature and
//! millisecond timestamps checked).
//!
//! Behaviour is scripted per call: [`FakeUpstream::push`] queues [`Outcome`]s, each chat
//! request consumes one; when the queue is empty, [`FakeUpstream::set_responder`]'s function
//! may pick the outcome from the request (for clients the test does not drive call by call,
//! such as an SDK in another process), else [`FakeUpstream::set_default`]'s outcome
//! (a short normal reply unless changed) answers. Every chat request is recorded
//! ([`FakeUpstream::requests`]) unless [`FakeUpstream::set_recording`] turns it off for a
//! benchmark; [`FakeUpstream::hits`] counts them regardless. Token requests are recorded
//! too but consume no outcome.
//!
//! ```ignore
//! let fake = FakeUpstream::start().await;
//! let target = fake.target(ProviderKind::Anthropic);            // URL + accepted key
//! fake.push(Reply::new("你好").usage(12, 5));                    // a normal answer
//! fake.push(Reply::new("abc").chunk_chars(1).cut_after(2));     // 2 deltas, then the socket breaks
//! fake.push(Reply::default().error_after(0, "overloaded_error", "Overloaded")); // in-band error
//! fake.push(Outcome::http(429, "rate_limit_error", "slow down").header("retry-after", "3"));
//! fake.push(Outcome::rate_limited(3));                          // the provider's own rate limit
//! fake.push(Reply::new("").tool_call("get_weather", r#"{"city":"杭州"}"#)); // a function call
//! fake.push(Outcome::http(500, "api_error", "boom"));           // then the default reply
//! fake.push(Outcome::Hang);                                     // never answers
//! fake.push(Reply::new("x").stall_after(1));                    // 1 delta, then silence
//! fake.push(Reply::new("x").first_event_delay(Duration::from_millis(300))); // slow first byte
//! fake.set_responder(|req| req.body.get("tools").map(|_| Outcome::rate_limited(1))); // by request
//! fake.set_default(Reply::default().delay(Duration::from_millis(20))); // benchmark latency
//! fake.set_recording(false);                                    // benchmark: no per-request memory
//! let sent = fake.last_request();                               // method, path, query, headers, JSON body
//! ```
//!
//! A [`Reply`]'s `after` counts text events; the stream's prelude (OpenAI's role chunk,
//! Anthropic's `message_start` …) is always sent first. `error_after` uses the provider's
//! own in-band form: `data: {"error"…}` (OpenAI, custom, Zhipu), `event: error`
//! (Anthropic), `event:error` + `:HTTP_STATUS/4xx` (DashScope), `code != 0` (Spark),
//! `error_code` (Baidu: a plain JSON body when `after` is 0). On a non-streaming request
//! every ending applies to the JSON body instead (half a body, headers only, an error body
//! with 200).
//!
//! A tool call ([`Reply::tool_call`]) follows the text in each provider's own form: OpenAI
//! deltas with `index`, `id` and `name` once, then argument fragments; Anthropic a `tool_use`
//! block and `input_json_delta`s; DashScope `output.choices[0].message.tool_calls` packets
//! (`id:""` after the first, `function:{}` last); Zhipu the whole call in one chunk with `role`
//! repeated. Spark and Baidu take no tools, so a tool call is not modelled for them. Argument
//! fragments count as text events.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use bytes::Bytes;
use futures::StreamExt;
use hmac::{Hmac, Mac};
use llm_proxy::providers::{ProviderKind, Target};
use llm_proxy::secret::Secret;
use poem::http::uri::Scheme;
use poem::http::{HeaderMap, StatusCode};
use poem::listener::{Acceptor, AcceptorExt, Listener, TcpAcceptor, TcpListener};
use poem::web::{LocalAddr, RemoteAddr};
use poem::{Body, Endpoint, Request, Response};
use serde_json::{Value, json};
use sha2::Sha256;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

pub const OPENAI_KEY: &str = "sk-fake-openai";
pub const CUSTOM_KEY: &str = "sk-fake-custom";
pub const ANTHROPIC_KEY: &str = "sk-ant-fake";
pub const DASHSCOPE_KEY: &str = "sk-fake-dashscope";
pub const SPARK_KEY: &str = "fake-spark-api-password";
pub const BAIDU_ID: &str = "fake-baidu-client-id";
pub const BAIDU_SECRET: &str = "fake-baidu-client-secret";
/// `id.secret`: clients sign a JWT with it. [`ZHIPU_PLAIN_KEY`] is accepted as a plain Bearer.
pub const ZHIPU_KEY: &str = "fakezhipuid.fakezhipusecret";
pub const ZHIPU_PLAIN_KEY: &str = "fake-zhipu-plain-key";

/// The reply text used when a test does not care.
pub const DEFAULT_TEXT: &str = "Hello from the fake upstream! 你好！";

/// A scripted answer to one chat request.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// A 2xx answer (normal, or ending as the reply's [`End`] says).
    Reply(Reply),
    /// A non-2xx answer with the provider's own error body built from `code` and `message`.
    Http {
        status: u16,
        code: String,
        message: String,
        headers: Vec<(String, String)>,
    },
    /// Any status, content type and body, verbatim.
    Raw {
        status: u16,
        content_type: String,
        body: String,
        headers: Vec<(String, String)>,
    },
    /// The provider's own rate-limit answer: a 429 with its error body and `retry-after` in
    /// seconds; Baidu's is `error_code` 18 in a 200, with no hint of when to come back.
    RateLimited { retry_after: u64 },
    /// Never answers (the connection stays open).
    Hang,
}

impl Outcome {
    pub fn reply(text: &str) -> Self {
        Self::Reply(Reply::new(text))
    }

    pub fn http(status: u16, code: &str, message: &str) -> Self {
        Self::Http {
            status,
            code: code.to_owned(),
            message: message.to_owned(),
            headers: Vec::new(),
        }
    }

    pub fn raw(status: u16, content_type: &str, body: &str) -> Self {
        Self::Raw {
            status,
            content_type: content_type.to_owned(),
            body: body.to_owned(),
            headers: Vec::new(),
        }
    }

    pub fn rate_limited(retry_after: u64) -> Self {
        Self::RateLimited { retry_after }
    }

    /// Adds a response header to an `Http` or `Raw` outcome (e.g. `retry-after`).
    pub fn header(mut self, name: &str, value: &str) -> Self {
        if let Self::Http { headers, .. } | Self::Raw { headers, .. } = &mut self {
            headers.push((name.to_owned(), value.to_owned()));
        }
        self
    }
}

impl From<Reply> for Outcome {
    fn from(reply: Reply) -> Self {
        Self::Reply(reply)
    }
}

/// How a 2xx answer ends. `after` counts text events (deltas) sent before it happens;
/// a stream's prelude (role chunk, `message_start` …) always goes first.
#[derive(Debug, Clone, PartialEq)]
pub enum End {
    /// Everything, with the protocol's end marker.
    Normal,
    /// The connection is aborted. Non-stream: after half the body.
    Cut { after: usize },
    /// The body ends cleanly but without the end marker / final chunk. Non-stream: half a body.
    Truncate { after: usize },
    /// Nothing more is sent and the connection stays open. Non-stream: headers only.
    Stall { after: usize },
    /// The provider's in-band error (`data: {"error"…}`, `event: error`, `code != 0`,
    /// `error_code` …). Non-stream: the error body with a 200.
    Error {
        after: usize,
        code: String,
        message: String,
    },
}

#[derive(Debug, Clone)]
pub struct Reply {
    pub text: String,
    /// Reasoning sent before the text, one `reasoning_content` delta per `chunk_chars`
    /// (OpenAI-style streams only).
    pub reasoning: String,
    pub prompt_tokens: u32,
    pub completion_tokens: u32,
    /// A function call the model makes after the text.
    pub tool_call: Option<ToolCall>,
    /// In the provider's vocabulary; `None` gives its usual stop (`stop`, `end_turn`, `normal`;
    /// `tool_calls` or `tool_use` after a tool call).
    pub finish: Option<String>,
    /// Characters per text event.
    pub chunk_chars: usize,
    /// Before the response head (slow first byte; a benchmark's upstream latency).
    pub delay: Duration,
    /// After the head, before the first body byte.
    pub first_event_delay: Duration,
    /// Between stream events.
    pub event_delay: Duration,
    /// Send each event in two writes cut inside a multi-byte character (with a short gap).
    pub split_utf8: bool,
    pub end: End,
}

impl Default for Reply {
    fn default() -> Self {
        Self::new(DEFAULT_TEXT)
    }
}

impl Reply {
    pub fn new(text: &str) -> Self {
        Self {
            text: text.to_owned(),
            reasoning: String::new(),
            prompt_tokens: 11,
            completion_tokens: 7,
            tool_call: None,
            finish: None,
            chunk_chars: 4,
            delay: Duration::ZERO,
            first_event_delay: Duration::ZERO,
            event_delay: Duration::ZERO,
            split_utf8: false,
            end: End::Normal,
        }
    }
    pub fn usage(mut self, prompt: u32, completion: u32) -> Self {
        (self.prompt_tokens, self.completion_tokens) = (prompt, completion);
        self
    }
    pub fn thinking(mut self, reasoning: &str) -> Self {
        self.reasoning = reasoning.to_owned();
        self
    }
    /// Ends the reply with a call of `name`; `arguments` is a JSON object as a string.
    pub fn tool_call(mut self, name: &str, arguments: &str) -> Self {
        self.tool_call = Some(ToolCall {
            id: "call_fake_1".to_owned(),
            name: name.to_owned(),
            arguments: arguments.to_owned(),
        });
        self
    }
    pub fn finish(mut self, reason: &str) -> Self {
        self.finish = Some(reason.to_owned());
        self
    }
    pub fn chunk_chars(mut self, n: usize) -> Self {
        self.chunk_chars = n.max(1);
        self
    }
    pub fn delay(mut self, d: Duration) -> Self {
        self.delay = d;
        self
    }
    pub fn first_event_delay(mut self, d: Duration) -> Self {
        self.first_event_delay = d;
        self
    }
    pub fn event_delay(mut self, d: Duration) -> Self {
        self.event_delay = d;
        self
    }
    pub fn split_utf8(mut self) -> Self {
        self.split_utf8 = true;
        self
    }
    pub fn cut_after(mut self, after: usize) -> Self {
        self.end = End::Cut { after };
        self
    }
    pub fn truncate_after(mut self, after: usize) -> Self {
        self.end = End::Truncate { after };
        self
    }
    pub fn stall_after(mut self, after: usize) -> Self {
        self.end = End::Stall { after };
        self
    }
    pub fn error_after(mut self, after: usize, code: &str, message: &str) -> Self {
        self.end = End::Error {
            after,
            code: code.to_owned(),
            message: message.to_owned(),
        };
        self
    }
}

/// A function call in OpenAI's vocabulary: `arguments` is a JSON string.
#[derive(Debug, Clone)]
pub struct ToolCall {
    pub id: String,
    pub name: String,
    pub arguments: String,
}

impl ToolCall {
    /// The `input` object of an Anthropic `tool_use` block.
    fn input(&self) -> Value {
        serde_json::from_str(&self.arguments).expect("tool arguments are a JSON object")
    }

    /// The whole call as an OpenAI-style `tool_calls` entry.
    fn openai(&self) -> Value {
        json!({"index":0,"id":self.id,"type":"function",
               "function":{"name":self.name,"arguments":self.arguments}})
    }
}

/// `text` in pieces of `n` characters.
fn chunks(text: &str, n: usize) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    chars.chunks(n).map(|c| c.iter().collect()).collect()
}

/// One request as received.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    pub query: Option<String>,
    /// Lower-case names.
    pub headers: HashMap<String, String>,
    /// `Null` when the body is empty or not JSON.
    pub body: Value,
}

impl Recorded {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(String::as_str)
    }

    /// A query parameter, decoded.
    pub fn query_param(&self, name: &str) -> Option<String> {
        let query = self.query.as_deref()?;
        url::form_urlencoded::parse(query.as_bytes())
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Proto {
    OpenAi,
    Custom,
    Spark,
    Zhipu,
    Anthropic,
    DashScope,
    /// DashScope's multimodal endpoint: content is an array of `{"text"}` / `{"image"}`.
    DashScopeVision,
    Baidu,
    BaiduToken,
}

/// Picks the outcome of a request the script does not cover (`None`: the default answers).
type Responder = Box<dyn Fn(&Recorded) -> Option<Outcome> + Send + Sync>;

struct State {
    script: Mutex<VecDeque<Outcome>>,
    default: Mutex<Outcome>,
    responder: Mutex<Option<Responder>>,
    recording: AtomicBool,
    requests: Mutex<Vec<Recorded>>,
    hits: AtomicUsize,
    /// Issued Baidu tokens → still valid.
    baidu_tokens: Mutex<HashMap<String, bool>>,
    token_serial: AtomicUsize,
    kills: Kills,
    connections: Arc<AtomicUsize>,
}

pub struct FakeUpstream {
    addr: SocketAddr,
    state: Arc<State>,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for FakeUpstream {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl FakeUpstream {
    pub async fn start() -> Self {
        let state = Arc::new(State {
            script: Mutex::new(VecDeque::new()),
            default: Mutex::new(Outcome::Reply(Reply::default())),
            responder: Mutex::new(None),
            recording: AtomicBool::new(true),
            requests: Mutex::new(Vec::new()),
            hits: AtomicUsize::new(0),
            baidu_tokens: Mutex::new(HashMap::new()),
            token_serial: AtomicUsize::new(0),
            kills: Kills::default(),
            connections: Arc::default(),
        });
        let acceptor = CutAcceptor {
            inner: TcpListener::bind("127.0.0.1:0")
                .into_acceptor()
                .await
                .expect("bind fake upstream"),
            kills: state.kills.clone(),
            connections: state.connections.clone(),
        };
        let addr = *acceptor.local_addr()[0]
            .as_socket_addr()
            .expect("tcp address");
        let endpoint = Fake(state.clone());
        // Served like the proxy itself (hyper directly), so a client that closes its
        // connection is noticed at once, not at the fake's next write.
        let drain = llm_proxy::connections::Drain {
            configured: Duration::ZERO,
            backstop: Duration::ZERO,
        };
        let server = tokio::spawn(async move {
            let stop = std::future::pending();
            llm_proxy::connections::serve(acceptor.boxed(), endpoint, stop, |_| {}, drain).await;
        });
        Self {
            addr,
            state,
            server,
        }
    }

    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn url(&self, kind: ProviderKind) -> String {
        let path = match kind {
            ProviderKind::Openai => "/v1/chat/completions",
            ProviderKind::Custom => "/custom/v1/chat/completions",
            ProviderKind::Xunfei => "/spark/v1/chat/completions",
            ProviderKind::Zhipu => "/api/paas/v4/chat/completions",
            ProviderKind::Anthropic => "/v1/messages",
            ProviderKind::Aliyun => "/api/v1/services/aigc/text-generation/generation",
            ProviderKind::Baidu => "/rpc/2.0/ai_custom/v1/wenxinworkshop/chat/completions",
        };
        format!("http://{}{path}", self.addr)
    }

    /// The credential the fake accepts, in the form a config holds it.
    pub fn key(kind: ProviderKind) -> String {
        match kind {
            ProviderKind::Openai => OPENAI_KEY.to_owned(),
            ProviderKind::Custom => CUSTOM_KEY.to_owned(),
            ProviderKind::Xunfei => SPARK_KEY.to_owned(),
            ProviderKind::Zhipu => ZHIPU_KEY.to_owned(),
            ProviderKind::Anthropic => ANTHROPIC_KEY.to_owned(),
            ProviderKind::Aliyun => DASHSCOPE_KEY.to_owned(),
            ProviderKind::Baidu => format!("{BAIDU_ID}:{BAIDU_SECRET}"),
        }
    }

    /// A target at this fake with the right key.
    pub fn target(&self, kind: ProviderKind) -> Target {
        self.target_with_key(kind, &Self::key(kind))
    }

    pub fn target_with_key(&self, kind: ProviderKind, key: &str) -> Target {
        Target {
            provider: kind,
            api_url: self.url(kind),
            api_key: Secret::new(key),
        }
    }

    /// Queues the outcome of a coming chat request.
    pub fn push(&self, outcome: impl Into<Outcome>) {
        self.state.script.lock().unwrap().push_back(outcome.into());
    }

    /// The outcome once the queue is empty.
    pub fn set_default(&self, outcome: impl Into<Outcome>) {
        *self.state.default.lock().unwrap() = outcome.into();
    }

    /// Consulted for each chat request once the queue is empty, before the default.
    pub fn set_responder(
        &self,
        responder: impl Fn(&Recorded) -> Option<Outcome> + Send + Sync + 'static,
    ) {
        *self.state.responder.lock().unwrap() = Some(Box::new(responder));
    }

    pub fn set_recording(&self, on: bool) {
        self.state.recording.store(on, Ordering::Relaxed);
    }

    /// Every recorded request, oldest first (token requests included).
    pub fn requests(&self) -> Vec<Recorded> {
        self.state.requests.lock().unwrap().clone()
    }

    /// Recorded requests whose path starts with `prefix`.
    pub fn requests_to(&self, prefix: &str) -> Vec<Recorded> {
        let requests = self.state.requests.lock().unwrap();
        requests
            .iter()
            .filter(|r| r.path.starts_with(prefix))
            .cloned()
            .collect()
    }

    pub fn last_request(&self) -> Recorded {
        self.state
            .requests
            .lock()
            .unwrap()
            .last()
            .cloned()
            .expect("no request recorded")
    }

    /// Requests received (chat and token), recorded or not.
    pub fn hits(&self) -> usize {
        self.state.hits.load(Ordering::Relaxed)
    }

    /// TCP connections accepted so far (a pooling client reuses them).
    pub fn connections(&self) -> usize {
        self.state.connections.load(Ordering::Relaxed)
    }

    /// TCP connections still open (a pooling client keeps idle ones open; one its client
    /// dropped mid-answer closes once the next write to it fails).
    pub fn open_connections(&self) -> usize {
        self.state.kills.lock().unwrap().len()
    }

    /// Baidu tokens issued so far.
    pub fn baidu_tokens_issued(&self) -> usize {
        self.state.token_serial.load(Ordering::Relaxed)
    }

    /// Every token issued so far now answers `error_code` 111 (expired).
    pub fn expire_baidu_tokens(&self) {
        for valid in self.state.baidu_tokens.lock().unwrap().values_mut() {
            *valid = false;
        }
    }
}

struct Fake(Arc<State>);

impl Endpoint for Fake {
    type Output = Response;

    async fn call(&self, mut req: Request) -> poem::Result<Response> {
        let state = &self.0;
        state.hits.fetch_add(1, Ordering::Relaxed);
        let path = req.uri().path().to_owned();
        let Some(proto) = route(&path) else {
            return Ok(Response::builder()
                .status(StatusCode::NOT_FOUND)
                .body("no such path"));
        };
        let raw = req.take_body().into_bytes().await.unwrap_or_default();
        let body: Value = serde_json::from_slice(&raw).unwrap_or(Value::Null);
        let responding = state.responder.lock().unwrap().is_some();
        // Benchmarks turn recording off and set no responder: they skip this copy.
        let recorded = (responding || state.recording.load(Ordering::Relaxed)).then(|| {
            let headers = req
                .headers()
                .iter()
                .map(|(k, v)| {
                    (
                        k.as_str().to_owned(),
                        String::from_utf8_lossy(v.as_bytes()).into_owned(),
                    )
                })
                .collect();
            Recorded {
                method: req.method().to_string(),
                path: path.clone(),
                query: req.uri().query().map(str::to_owned),
                headers,
                body: body.clone(),
            }
        });
        if let Some(recorded) = &recorded
            && state.recording.load(Ordering::Relaxed)
        {
            state.requests.lock().unwrap().push(recorded.clone());
        }
        if proto == Proto::BaiduToken {
            return Ok(state.issue_token(req.uri().query().unwrap_or("")));
        }
        if let Some(denied) = state.check_auth(proto, &req) {
            return Ok(denied);
        }
        let stream = match proto {
            Proto::DashScope | Proto::DashScopeVision => req
                .headers()
                .get("x-dashscope-sse")
                .is_some_and(|v| v == "enable"),
            _ => body.get("stream").and_then(Value::as_bool) == Some(true),
        };
        let outcome = {
            let next = state.script.lock().unwrap().pop_front();
            next.or_else(|| {
                let responder = state.responder.lock().unwrap();
                responder
                    .as_ref()
                    .zip(recorded.as_ref())
                    .and_then(|(f, r)| f(r))
            })
            .unwrap_or_else(|| state.default.lock().unwrap().clone())
        };
        let model = body
            .get("model")
            .and_then(Value::as_str)
            .unwrap_or("fake-model");
        let kill = req
            .remote_addr()
            .0
            .as_socket_addr()
            .and_then(|peer| state.kills.lock().unwrap().get(peer).cloned())
            .unwrap_or_default();
        Ok(respond(proto, stream, model, outcome, kill).await)
    }
}

fn route(path: &str) -> Option<Proto> {
    Some(match path {
        "/v1/chat/completions" => Proto::OpenAi,
        "/custom/v1/chat/completions" => Proto::Custom,
        "/spark/v1/chat/completions" => Proto::Spark,
        "/api/paas/v4/chat/completions" => Proto::Zhipu,
        "/v1/messages" => Proto::Anthropic,
        "/api/v1/services/aigc/text-generation/generation" => Proto::DashScope,
        "/api/v1/services/aigc/multimodal-generation/generation" => Proto::DashScopeVision,
        "/oauth/2.0/token" => Proto::BaiduToken,
        p if p.starts_with("/rpc/2.0/ai_custom/v1/wenxinworkshop/chat/") => Proto::Baidu,
        _ => return None,
    })
}

fn json_response(status: u16, body: &Value) -> Response {
    Response::builder()
        .status(StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR))
        .content_type("application/json")
        .body(body.to_string())
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get("authorization")?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
}

impl State {
    fn issue_token(&self, query: &str) -> Response {
        let params: HashMap<String, String> = url::form_urlencoded::parse(query.as_bytes())
            .into_owned()
            .collect();
        let get = |k: &str| params.get(k).map(String::as_str);
        if get("grant_type") != Some("client_credentials")
            || get("client_id") != Some(BAIDU_ID)
            || get("client_secret") != Some(BAIDU_SECRET)
        {
            return json_response(
                401,
                &json!({"error":"invalid_client","error_description":"unknown client id"}),
            );
        }
        let serial = self.token_serial.fetch_add(1, Ordering::Relaxed) + 1;
        let token = format!("24.fake-token-{serial}.2592000.1700000000.282335-1");
        self.baidu_tokens
            .lock()
            .unwrap()
            .insert(token.clone(), true);
        json_response(
            200,
            &json!({"refresh_token":"25.fake","expires_in":2_592_000,"session_key":"fake",
                    "access_token":token,"scope":"public brain_all_scope","session_secret":"fake"}),
        )
    }

    /// `None` when the credential is right, else the provider's rejection.
    fn check_auth(&self, proto: Proto, req: &Request) -> Option<Response> {
        let headers = req.headers();
        let expect = |key: &str| (bearer(headers) != Some(key)).then_some(());
        match proto {
            Proto::OpenAi | Proto::Custom => {
                let key = if proto == Proto::OpenAi { OPENAI_KEY } else { CUSTOM_KEY };
                expect(key).map(|()| json_response(401, &json!({"error":{
                    "message":"Incorrect API key provided: sk-fa***. You can find your API key at https://platform.openai.com/account/api-keys.",
                    "type":"invalid_request_error","param":null,"code":"invalid_api_key"}})))
            }
            Proto::Spark => expect(SPARK_KEY).map(|()| {
                json_response(401, &json!({"error":{"message":"invalid user","type":"api_error","param":null,"code":null}}))
            }),
            Proto::DashScope | Proto::DashScopeVision => expect(DASHSCOPE_KEY).map(|()| {
                json_response(401, &json!({"code":"InvalidApiKey","message":"Invalid API-key provided.","request_id":"fake-request"}))
            }),
            Proto::Anthropic => {
                let key = headers.get("x-api-key").and_then(|v| v.to_str().ok());
                if key != Some(ANTHROPIC_KEY) {
                    return Some(json_response(401, &json!({"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key"},"request_id":"req_fake"})));
                }
                let version = headers.get("anthropic-version").and_then(|v| v.to_str().ok());
                (version != Some("2023-06-01")).then(|| {
                    json_response(400, &json!({"type":"error","error":{"type":"invalid_request_error","message":"anthropic-version: header is required"},"request_id":"req_fake"}))
                })
            }
            Proto::Zhipu => check_zhipu(bearer(headers)).err().map(|(code, message)| {
                json_response(401, &json!({"error":{"code":code,"message":message}}))
            }),
            Proto::Baidu => {
                let token = req.uri().query().and_then(|q| {
                    url::form_urlencoded::parse(q.as_bytes())
                        .find(|(k, _)| k == "access_token")
                        .map(|(_, v)| v.into_owned())
                });
                let valid = token.and_then(|t| self.baidu_tokens.lock().unwrap().get(&t).copied());
                match valid {
                    Some(true) => None,
                    Some(false) => Some(json_response(200, &json!({"error_code":111,"error_msg":"Access token expired"}))),
                    None => Some(json_response(200, &json!({"error_code":110,"error_msg":"Access token invalid or no longer valid"}))),
                }
            }
            Proto::BaiduToken => None,
        }
    }
}

fn now_ms() -> u64 {
    u64::try_from(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_millis(),
    )
    .unwrap()
}

/// A plain key, or Zhipu's JWT: HS256 over the raw secret, `sign_type: SIGN`,
/// `timestamp`/`exp` in milliseconds.
fn check_zhipu(token: Option<&str>) -> Result<(), (&'static str, &'static str)> {
    let token = token.ok_or(("1001", "Header中未收到Authentication参数"))?;
    if token == ZHIPU_PLAIN_KEY {
        return Ok(());
    }
    let invalid = ("1002", "Authorization Token非法");
    let parts: Vec<&str> = token.split('.').collect();
    let [head, claims, signature] = parts[..] else {
        return Err(("1000", "身份验证失败"));
    };
    let decode = |part: &str| -> Option<Value> {
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).ok()?).ok()
    };
    let header = decode(head).ok_or(invalid)?;
    if header["alg"] != "HS256" || header["sign_type"] != "SIGN" {
        return Err(invalid);
    }
    let (id, secret) = ZHIPU_KEY.split_once('.').unwrap();
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{head}.{claims}").as_bytes());
    let sig = URL_SAFE_NO_PAD.decode(signature).map_err(|_| invalid)?;
    mac.verify_slice(&sig).map_err(|_| invalid)?;
    let claims = decode(claims).ok_or(invalid)?;
    if claims["api_key"] != id {
        return Err(invalid);
    }
    let now = now_ms();
    let timestamp = claims["timestamp"].as_u64().ok_or(invalid)?;
    let exp = claims["exp"].as_u64().ok_or(invalid)?;
    // Milliseconds: a seconds value would be ~1000 times too small and fail here.
    if timestamp.abs_diff(now) > 300_000 || exp <= timestamp {
        return Err(invalid);
    }
    if exp <= now {
        return Err(("1003", "Authorization Token已过期"));
    }
    Ok(())
}

async fn respond(
    proto: Proto,
    stream: bool,
    model: &str,
    outcome: Outcome,
    kill: Arc<AtomicBool>,
) -> Response {
    match outcome {
        Outcome::Hang => futures::future::pending::<Response>().await,
        Outcome::Raw {
            status,
            content_type,
            body,
            headers,
        } => with_headers(
            Response::builder()
                .status(StatusCode::from_u16(status).unwrap())
                .content_type(content_type),
            &headers,
        )
        .body(body),
        Outcome::RateLimited { retry_after } => {
            let (status, code, message) = rate_limit(proto);
            let body = http_error_body(proto, code, message);
            let hint = (status == 429).then(|| ("retry-after".to_owned(), retry_after.to_string()));
            with_headers(
                Response::builder()
                    .status(StatusCode::from_u16(status).unwrap())
                    .content_type("application/json"),
                hint.as_slice(),
            )
            .body(body.to_string())
        }
        Outcome::Http {
            status,
            code,
            message,
            headers,
        } => {
            let body = http_error_body(proto, &code, &message);
            with_headers(
                Response::builder()
                    .status(StatusCode::from_u16(status).unwrap())
                    .content_type("application/json"),
                &headers,
            )
            .body(body.to_string())
        }
        Outcome::Reply(reply) => {
            if !reply.delay.is_zero() {
                tokio::time::sleep(reply.delay).await;
            }
            if stream {
                stream_reply(proto, model, &reply, kill)
            } else {
                whole_reply(proto, model, &reply, kill)
            }
        }
    }
}

fn with_headers(
    mut builder: poem::ResponseBuilder,
    headers: &[(String, String)],
) -> poem::ResponseBuilder {
    for (name, value) in headers {
        builder = builder.header(name.as_str(), value.as_str());
    }
    builder
}

fn http_error_body(proto: Proto, code: &str, message: &str) -> Value {
    match proto {
        Proto::OpenAi | Proto::Custom => {
            json!({"error":{"message":message,"type":code,"param":null,"code":code}})
        }
        Proto::Spark => {
            json!({"error":{"message":message,"type":"api_error","param":null,"code":code}})
        }
        Proto::Zhipu => json!({"error":{"code":code,"message":message}}),
        Proto::Anthropic => {
            json!({"type":"error","error":{"type":code,"message":message},"request_id":"req_fake"})
        }
        Proto::DashScope | Proto::DashScopeVision => {
            json!({"code":code,"message":message,"request_id":"fake-request"})
        }
        Proto::Baidu | Proto::BaiduToken => json!({"error_code":number(code),"error_msg":message}),
    }
}

/// Each provider's passing rate limit: (HTTP status, code, message).
fn rate_limit(proto: Proto) -> (u16, &'static str, &'static str) {
    match proto {
        Proto::OpenAi | Proto::Custom => (
            429,
            "rate_limit_exceeded",
            "Rate limit reached for requests",
        ),
        Proto::Spark => (429, "11202", "授权错误：秒级流控超限"),
        Proto::Zhipu => (429, "1302", "您当前使用该API的并发数过高，请降低并发"),
        Proto::Anthropic => (
            429,
            "rate_limit_error",
            "Number of requests has exceeded your rate limit",
        ),
        Proto::DashScope | Proto::DashScopeVision => (
            429,
            "Throttling.RateQuota",
            "Requests rate limit exceeded, please try again later.",
        ),
        // Baidu reports it in a 200.
        Proto::Baidu | Proto::BaiduToken => (200, "18", "Open api qps request limit reached"),
    }
}

/// A numeric code as a JSON number (Spark, Baidu), else as given.
fn number(code: &str) -> Value {
    code.parse::<i64>()
        .map_or_else(|_| json!(code), |n| json!(n))
}

/// The in-band error of a 2xx body or of a stream event's data.
fn in_band_body(proto: Proto, code: &str, message: &str) -> Value {
    match proto {
        Proto::OpenAi | Proto::Custom | Proto::Zhipu => http_error_body(proto, code, message),
        Proto::Spark => json!({"code":number(code),"message":message,"sid":"cha000fake"}),
        _ => http_error_body(proto, code, message),
    }
}

fn default_finish(proto: Proto, r: &Reply) -> &'static str {
    match (proto, r.tool_call.is_some()) {
        (Proto::Anthropic, false) => "end_turn",
        (Proto::Anthropic, true) => "tool_use",
        (Proto::Baidu | Proto::BaiduToken, _) => "normal",
        (_, true) => "tool_calls",
        (_, false) => "stop",
    }
}

/// DashScope's multimodal endpoint answers content as `[{"text"}]`, the others as a string.
fn dashscope_content(proto: Proto, text: &str) -> Value {
    match proto {
        Proto::DashScopeVision if text.is_empty() => json!([]),
        Proto::DashScopeVision => json!([{ "text": text }]),
        _ => json!(text),
    }
}

/// The assistant message of the OpenAI-shaped bodies (OpenAI, custom, Zhipu, DashScope).
fn assistant_message(proto: Proto, r: &Reply) -> Value {
    let content = match proto {
        // OpenAI sends null content beside a tool call; DashScope an empty string.
        Proto::OpenAi | Proto::Custom | Proto::Zhipu
            if r.text.is_empty() && r.tool_call.is_some() =>
        {
            Value::Null
        }
        _ => dashscope_content(proto, &r.text),
    };
    let mut message = json!({"role":"assistant","content":content});
    if let Some(call) = &r.tool_call {
        message["tool_calls"] = json!([call.openai()]);
    }
    message
}

/// Anthropic opens a text block unless the answer is only a tool call.
fn anthropic_has_text(r: &Reply) -> bool {
    !r.text.is_empty() || r.tool_call.is_none()
}

fn whole_body(proto: Proto, model: &str, r: &Reply) -> Value {
    let finish = r.finish.as_deref().unwrap_or(default_finish(proto, r));
    let (p, c) = (r.prompt_tokens, r.completion_tokens);
    let usage = json!({"prompt_tokens":p,"completion_tokens":c,"total_tokens":p + c});
    match proto {
        Proto::OpenAi | Proto::Custom => {
            json!({"id":"chatcmpl-fake","object":"chat.completion","created":1_753_860_612,"model":model,
            "choices":[{"index":0,"message":assistant_message(proto, r),"finish_reason":finish}],"usage":usage})
        }
        Proto::Spark => json!({"code":0,"message":"Success","sid":"cha000fake",
            "choices":[{"message":{"role":"assistant","content":r.text},"index":0}],"usage":usage}),
        Proto::Zhipu => {
            json!({"id":"fake-zhipu","request_id":"fake-zhipu","created":1_753_860_612,"model":model,
            "choices":[{"index":0,"finish_reason":finish,"message":assistant_message(proto, r)}],"usage":usage})
        }
        Proto::Anthropic => {
            let text = anthropic_has_text(r).then(|| json!({"type":"text","text":r.text}));
            let tool = r.tool_call.as_ref().map(|call| {
                json!({"type":"tool_use","id":call.id,"name":call.name,"input":call.input()})
            });
            let content: Vec<Value> = text.into_iter().chain(tool).collect();
            json!({"id":"msg_fake","type":"message","role":"assistant","model":model,
            "content":content,"stop_reason":finish,"stop_sequence":null,
            "usage":{"input_tokens":p,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":c}})
        }
        Proto::DashScope | Proto::DashScopeVision => {
            json!({"output":{"choices":[{"finish_reason":finish,"message":assistant_message(proto, r)}]},
            "usage":{"input_tokens":p,"output_tokens":c,"total_tokens":p + c},"request_id":"fake-request"})
        }
        Proto::Baidu | Proto::BaiduToken => {
            json!({"id":"as-fake","object":"chat.completion","created":1_753_860_612,"result":r.text,
            "is_truncated":false,"need_clear_history":false,"finish_reason":finish,"usage":usage})
        }
    }
}

fn whole_reply(proto: Proto, model: &str, r: &Reply, kill: Arc<AtomicBool>) -> Response {
    let body = match &r.end {
        End::Error { code, message, .. } => in_band_body(proto, code, message),
        _ => whole_body(proto, model, r),
    }
    .to_string()
    .into_bytes();
    let half = Bytes::copy_from_slice(&body[..body.len() / 2]);
    let (pieces, tail) = match r.end {
        End::Normal | End::Error { .. } => (vec![Bytes::from(body)], Tail::End),
        End::Cut { .. } => (vec![half], Tail::Abort(kill)),
        End::Truncate { .. } => (vec![half], Tail::End),
        End::Stall { .. } => (Vec::new(), Tail::Stall),
    };
    body_response(
        "application/json",
        pieces,
        tail,
        r.first_event_delay,
        Duration::ZERO,
    )
}

enum Tail {
    End,
    /// Break the connection (this flag fails its writes).
    Abort(Arc<AtomicBool>),
    Stall,
}

/// The stream, as (prelude events, one event per text piece or tool-call fragment, epilogue
/// events).
fn stream_events(proto: Proto, model: &str, r: &Reply) -> (Vec<String>, Vec<String>, Vec<String>) {
    let pieces = chunks(&r.text, r.chunk_chars);
    // The call and its argument fragments.
    let call = r
        .tool_call
        .as_ref()
        .map(|call| (call, chunks(&call.arguments, r.chunk_chars)));
    let finish = r.finish.as_deref().unwrap_or(default_finish(proto, r));
    let (p, c) = (r.prompt_tokens, r.completion_tokens);
    let usage = json!({"prompt_tokens":p,"completion_tokens":c,"total_tokens":p + c});
    let data = |v: Value| format!("data: {v}\n\n");
    let tight = |v: Value| format!("data:{v}\n\n");
    match proto {
        Proto::OpenAi | Proto::Custom => {
            let chunk = |delta: Value, finish: Value, usage: Value| {
                let choices = if delta.is_null() {
                    json!([])
                } else {
                    json!([{"index":0,"delta":delta,"finish_reason":finish}])
                };
                data(
                    json!({"id":"chatcmpl-fake","object":"chat.completion.chunk","created":1_753_860_612,"model":model,
                    "choices":choices,"usage":usage,"obfuscation":"fk"}),
                )
            };
            let delta = |d: Value| chunk(d, Value::Null, Value::Null);
            let prelude = vec![delta(json!({"role":"assistant","content":""}))];
            let thoughts = chunks(&r.reasoning, r.chunk_chars);
            // The call's id and name come once, then its arguments in fragments.
            let tool = call.iter().flat_map(|(call, fragments)| {
                let head = json!({"tool_calls":[{"index":0,"id":call.id,"type":"function",
                                  "function":{"name":call.name,"arguments":""}}]});
                std::iter::once(delta(head)).chain(fragments.iter().map(move |f| {
                    delta(json!({"tool_calls":[{"index":0,"function":{"arguments":f}}]}))
                }))
            });
            let deltas = thoughts
                .iter()
                .map(|t| delta(json!({ "reasoning_content": t })))
                .chain(pieces.iter().map(|t| delta(json!({ "content": t }))))
                .chain(tool)
                .collect();
            let epilogue = vec![
                chunk(json!({}), json!(finish), Value::Null),
                chunk(Value::Null, Value::Null, usage),
                "data: [DONE]\n\n".to_owned(),
            ];
            (prelude, deltas, epilogue)
        }
        Proto::Spark => {
            let chunk = |content: &str| {
                json!({"code":0,"message":"Success","sid":"cha000fake","id":"cha000fake","created":1_719_546_385,
                "choices":[{"delta":{"role":"assistant","content":content},"index":0}]})
            };
            let deltas = pieces.iter().map(|t| tight(chunk(t))).collect();
            let mut last = chunk("");
            last["usage"] = usage;
            (
                Vec::new(),
                deltas,
                vec![tight(last), "data:[DONE]\n\n".to_owned()],
            )
        }
        Proto::Zhipu => {
            // Every chunk repeats `role`; a tool call comes whole in one chunk.
            let chunk = |choice: Value| {
                data(
                    json!({"id":"fake-zhipu","created":1_753_860_612,"model":model,"choices":[choice]}),
                )
            };
            let deltas = pieces
                .iter()
                .map(|t| chunk(json!({"index":0,"delta":{"role":"assistant","content":t}})))
                .chain(call.iter().map(|(call, _)| {
                    chunk(json!({"index":0,"delta":{"role":"assistant","tool_calls":[call.openai()]}}))
                }))
                .collect();
            let mut last = json!({"id":"fake-zhipu","created":1_753_860_612,"model":model,
                "choices":[{"index":0,"finish_reason":finish,"delta":{"role":"assistant","content":""}}]});
            last["usage"] = usage;
            (
                Vec::new(),
                deltas,
                vec![data(last), "data: [DONE]\n\n".to_owned()],
            )
        }
        Proto::Anthropic => {
            let event = |name: &str, v: Value| format!("event: {name}\ndata: {v}\n\n");
            let stop = |index: usize| {
                event(
                    "content_block_stop",
                    json!({"type":"content_block_stop","index":index}),
                )
            };
            let has_text = anthropic_has_text(r);
            let mut prelude = vec![event(
                "message_start",
                json!({"type":"message_start","message":{"id":"msg_fake","type":"message","role":"assistant",
                "content":[],"model":model,"stop_reason":null,"stop_sequence":null,
                "usage":{"input_tokens":p,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":1}}}),
            )];
            if has_text {
                prelude.push(event(
                    "content_block_start",
                    json!({"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}),
                ));
            }
            prelude.push(event("ping", json!({"type":"ping"})));
            let mut deltas: Vec<String> = pieces
                .iter()
                .map(|t| event("content_block_delta", json!({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":t}})))
                .collect();
            let mut last_block = 0;
            if let Some((call, fragments)) = &call {
                if has_text {
                    deltas.push(stop(0));
                    last_block = 1;
                }
                deltas.push(event(
                    "content_block_start",
                    json!({"type":"content_block_start","index":last_block,
                    "content_block":{"type":"tool_use","id":call.id,"name":call.name,"input":{}}}),
                ));
                deltas.extend(fragments.iter().map(|f| {
                    event(
                        "content_block_delta",
                        json!({"type":"content_block_delta","index":last_block,
                    "delta":{"type":"input_json_delta","partial_json":f}}),
                    )
                }));
            }
            let epilogue = vec![
                stop(last_block),
                event(
                    "message_delta",
                    json!({"type":"message_delta","delta":{"stop_reason":finish,"stop_sequence":null},"usage":{"output_tokens":c}}),
                ),
                event("message_stop", json!({"type":"message_stop"})),
            ];
            (prelude, deltas, epilogue)
        }
        Proto::DashScope | Proto::DashScopeVision => {
            let frame = |id: usize, message: Value, finish: &str, out: u32| {
                format!(
                    "id:{id}\nevent:result\n:HTTP_STATUS/200\ndata:{}\n\n",
                    json!({
                    "output":{"choices":[{"message":message,"finish_reason":finish}]},
                    "usage":{"total_tokens":p + out,"output_tokens":out,"input_tokens":p},"request_id":"fake-request"})
                )
            };
            let text = |t: &str| json!({"content":dashscope_content(proto, t),"role":"assistant"});
            // Incremental packets: the first of a call carries its id and name, the next ones
            // `id:""` and argument fragments, the last `function:{}` with the finish.
            let calling = |entry: Value| json!({"content":dashscope_content(proto, ""),"role":"assistant","tool_calls":[entry]});
            let total_chars = r.text.chars().count().max(1);
            let mut sent = 0;
            let mut messages: Vec<(Value, u32)> = pieces
                .iter()
                .map(|t| {
                    // Cumulative usage, growing with the text.
                    sent += t.chars().count();
                    (
                        text(t),
                        u32::try_from(sent * c as usize / total_chars).unwrap(),
                    )
                })
                .collect();
            let mut last = text("");
            if let Some((call, fragments)) = &call {
                messages.push((
                    calling(json!({"index":0,"id":call.id,"type":"function",
                                   "function":{"name":call.name,"arguments":""}})),
                    c,
                ));
                messages.extend(fragments.iter().map(|f| {
                    let entry =
                        json!({"index":0,"id":"","type":"function","function":{"arguments":f}});
                    (calling(entry), c)
                }));
                last = calling(json!({"index":0,"id":"","type":"function","function":{}}));
            }
            let count = messages.len();
            let deltas = messages
                .into_iter()
                .enumerate()
                .map(|(i, (message, out))| frame(i + 1, message, "null", out))
                .collect();
            (Vec::new(), deltas, vec![frame(count + 1, last, finish, c)])
        }
        Proto::Baidu | Proto::BaiduToken => {
            let sentence = |i: usize, t: &str, end: bool, u: Value| {
                data(
                    json!({"id":"as-fake","object":"chat.completion","created":1_709_089_502,"sentence_id":i,"is_end":end,
                    "is_truncated":false,"result":t,"need_clear_history":false,"finish_reason":finish,"usage":u}),
                )
            };
            // Intermediate usage is unreliable upstream: mimic it with completion 0.
            let early = json!({"prompt_tokens":p,"completion_tokens":0,"total_tokens":p});
            let deltas = pieces
                .iter()
                .enumerate()
                .map(|(i, t)| sentence(i, t, false, early.clone()))
                .collect();
            (
                Vec::new(),
                deltas,
                vec![sentence(pieces.len(), "", true, usage)],
            )
        }
    }
}

fn stream_error_event(proto: Proto, code: &str, message: &str, id: usize) -> String {
    let body = in_band_body(proto, code, message);
    match proto {
        Proto::Anthropic => format!("event: error\ndata: {body}\n\n"),
        Proto::DashScope | Proto::DashScopeVision => {
            let status = if code.starts_with("Throttling") {
                429
            } else if code.starts_with("InternalError") {
                500
            } else {
                400
            };
            format!("id:{id}\nevent:error\n:HTTP_STATUS/{status}\ndata:{body}\n\n")
        }
        Proto::Spark => format!("data:{body}\n\n"),
        _ => format!("data: {body}\n\n"),
    }
}

fn stream_reply(proto: Proto, model: &str, r: &Reply, kill: Arc<AtomicBool>) -> Response {
    // Baidu answers a stream that fails at once with a plain JSON body, not SSE.
    if let (
        Proto::Baidu,
        End::Error {
            after: 0,
            code,
            message,
        },
    ) = (proto, &r.end)
    {
        return json_response(200, &in_band_body(proto, code, message));
    }
    let (prelude, deltas, epilogue) = stream_events(proto, model, r);
    let mut events = prelude;
    let tail = match &r.end {
        End::Normal => {
            events.extend(deltas);
            events.extend(epilogue);
            Tail::End
        }
        End::Cut { after } | End::Truncate { after } | End::Stall { after } => {
            events.extend(deltas.into_iter().take(*after));
            match r.end {
                End::Cut { .. } => Tail::Abort(kill),
                End::Truncate { .. } => Tail::End,
                _ => Tail::Stall,
            }
        }
        End::Error {
            after,
            code,
            message,
        } => {
            events.extend(deltas.into_iter().take(*after));
            events.push(stream_error_event(proto, code, message, events.len() + 1));
            Tail::End
        }
    };
    let pieces: Vec<Bytes> = if r.split_utf8 {
        events.iter().flat_map(|e| split_inside_char(e)).collect()
    } else if r.event_delay.is_zero() && r.first_event_delay.is_zero() {
        // The fast path (benchmarks): one write.
        vec![Bytes::from(events.concat())]
    } else {
        events.into_iter().map(Bytes::from).collect()
    };
    let gap = if r.split_utf8 && r.event_delay.is_zero() {
        Duration::from_millis(3)
    } else {
        r.event_delay
    };
    body_response("text/event-stream", pieces, tail, r.first_event_delay, gap)
}

/// An event in two pieces cut inside its first multi-byte character (if any).
fn split_inside_char(event: &str) -> Vec<Bytes> {
    match event.char_indices().find(|(_, c)| c.len_utf8() > 1) {
        Some((at, _)) => {
            let bytes = event.as_bytes();
            vec![
                Bytes::copy_from_slice(&bytes[..at + 1]),
                Bytes::copy_from_slice(&bytes[at + 1..]),
            ]
        }
        None => vec![Bytes::copy_from_slice(event.as_bytes())],
    }
}

fn body_response(
    content_type: &str,
    pieces: Vec<Bytes>,
    tail: Tail,
    first_delay: Duration,
    gap: Duration,
) -> Response {
    let builder = Response::builder()
        .status(StatusCode::OK)
        .content_type(content_type);
    if first_delay.is_zero() && gap.is_zero() && matches!(tail, Tail::End) && pieces.len() <= 1 {
        return builder.body(pieces.into_iter().next().unwrap_or_default());
    }
    let timed =
        futures::stream::iter(pieces.into_iter().enumerate()).then(move |(i, piece)| async move {
            let wait = if i == 0 { first_delay } else { gap };
            if !wait.is_zero() {
                tokio::time::sleep(wait).await;
            }
            Ok::<Bytes, std::io::Error>(piece)
        });
    let body = match tail {
        Tail::End => Body::from_bytes_stream(timed),
        // poem ends a body that fails cleanly, so the cut is made on the socket: once the
        // pieces are flushed, the connection's writes fail and hyper drops it mid-body.
        Tail::Abort(kill) => {
            Body::from_bytes_stream(timed.chain(futures::stream::once(async move {
                tokio::time::sleep(Duration::from_millis(20)).await;
                kill.store(true, Ordering::SeqCst);
                Ok(Bytes::from_static(b"x"))
            })))
        }
        Tail::Stall => Body::from_bytes_stream(timed.chain(futures::stream::pending())),
    };
    builder.body(body)
}

/// Per-connection kill switches, by peer address.
type Kills = Arc<Mutex<HashMap<SocketAddr, Arc<AtomicBool>>>>;

/// A TCP acceptor whose connections can be broken on purpose.
struct CutAcceptor {
    inner: TcpAcceptor,
    kills: Kills,
    connections: Arc<AtomicUsize>,
}

impl Acceptor for CutAcceptor {
    type Io = CutIo;

    fn local_addr(&self) -> Vec<LocalAddr> {
        self.inner.local_addr()
    }

    async fn accept(&mut self) -> std::io::Result<(CutIo, LocalAddr, RemoteAddr, Scheme)> {
        let (io, local, remote, scheme) = self.inner.accept().await?;
        self.connections.fetch_add(1, Ordering::Relaxed);
        let kill = Arc::new(AtomicBool::new(false));
        let peer = remote.0.as_socket_addr().copied();
        if let Some(peer) = peer {
            self.kills.lock().unwrap().insert(peer, kill.clone());
        }
        let io = CutIo {
            io,
            kill,
            peer,
            kills: self.kills.clone(),
        };
        Ok((io, local, remote, scheme))
    }
}

struct CutIo {
    io: TcpStream,
    kill: Arc<AtomicBool>,
    peer: Option<SocketAddr>,
    kills: Kills,
}

impl Drop for CutIo {
    fn drop(&mut self) {
        if let Some(peer) = self.peer {
            self.kills.lock().unwrap().remove(&peer);
        }
    }
}

fn killed() -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::ConnectionReset, "scripted cut")
}

impl AsyncRead for CutIo {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_read(cx, buf)
    }
}

impl AsyncWrite for CutIo {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let this = self.get_mut();
        if this.kill.load(Ordering::SeqCst) {
            return Poll::Ready(Err(killed()));
        }
        Pin::new(&mut this.io).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        let this = self.get_mut();
        if this.kill.load(Ordering::SeqCst) {
            return Poll::Ready(Err(killed()));
        }
        Pin::new(&mut this.io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_shutdown(cx)
    }
}
