//! Upstream protocols. One module per wire protocol, all behind [`Protocol`]; the relay
//! (retries, timeouts, recording) only ever talks to [`Providers`].
//!
//! A provider call is one *attempt*: build the HTTP request, send it, decode the answer.
//! Whether to retry, how long to wait and what to record is decided in `relay/`.

use std::fmt;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::secret::Secret;

mod anthropic;
mod anthropic_request;
mod assembly;
mod baidu;
mod baidu_token;
mod chat;
mod dashscope;
mod errors;
#[doc(hidden)]
pub mod fuzzing;
mod messages;
mod openai;
mod openai_dialect;
mod openai_stream;
mod protocol;
mod sse;
mod stream;
mod urls;
mod xunfei;
mod zhipu;

pub use assembly::Assembly;
pub use chat::{
    Capabilities, ChatMessage, ChatRequest, Content, ImageUrl, Part, ResponseFormat, Role, Tool,
    ToolCall, ToolChoice,
};

use anthropic::Anthropic;
use baidu::Baidu;
use dashscope::DashScope;
use openai_dialect::{Dialect, OpenAi};

/// The providers a config may name (the `check_provider` constraint of `llm_configs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProviderKind {
    Openai,
    Anthropic,
    Aliyun,
    Xunfei,
    Baidu,
    Zhipu,
    Custom,
}

impl ProviderKind {
    pub const ALL: [ProviderKind; 7] = [
        Self::Openai,
        Self::Anthropic,
        Self::Aliyun,
        Self::Xunfei,
        Self::Baidu,
        Self::Zhipu,
        Self::Custom,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Openai => "openai",
            Self::Anthropic => "anthropic",
            Self::Aliyun => "aliyun",
            Self::Xunfei => "xunfei",
            Self::Baidu => "baidu",
            Self::Zhipu => "zhipu",
            Self::Custom => "custom",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == value)
    }

    /// What the provider's protocol can carry beyond text (see each protocol module).
    pub fn capabilities(self) -> Capabilities {
        let all = Capabilities {
            tools: true,
            images: true,
            response_format: true,
        };
        match self {
            Self::Openai | Self::Custom | Self::Aliyun | Self::Zhipu => all,
            // JSON mode has no Messages API equivalent.
            Self::Anthropic => Capabilities {
                response_format: false,
                ..all
            },
            // Spark's HTTP chat and ERNIE's wenxinworkshop API take text only.
            Self::Xunfei | Self::Baidu => Capabilities {
                tools: false,
                images: false,
                response_format: false,
            },
        }
    }

    /// The requirements' default endpoint, offered when an admin picks the provider.
    pub fn default_api_url(self) -> &'static str {
        match self {
            Self::Openai => "https://api.openai.com/v1/chat/completions",
            Self::Anthropic => "https://api.anthropic.com/v1/messages",
            Self::Aliyun => {
                "https://dashscope.aliyuncs.com/api/v1/services/aigc/text-generation/generation"
            }
            Self::Xunfei => "https://spark-api-open.xf-yun.com/v1/chat/completions",
            Self::Baidu => {
                "https://aip.baidubce.com/rpc/2.0/ai_custom/v1/wenxinworkshop/chat/completions"
            }
            Self::Zhipu => "https://open.bigmodel.cn/api/paas/v4/chat/completions",
            Self::Custom => "",
        }
    }
}

/// Where and with what credential one call goes.
#[derive(Debug, Clone)]
pub struct Target {
    pub provider: ProviderKind,
    pub api_url: String,
    pub api_key: Secret,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    pub prompt_tokens: u32,
    pub completion_tokens: u32,
    pub total_tokens: u32,
}

/// A whole (non-streamed) answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Completion {
    pub text: String,
    /// The model's reasoning ("thinking"), when it shows it; empty otherwise.
    pub reasoning: String,
    pub tool_calls: Vec<ToolCall>,
    pub usage: Option<Usage>,
    pub finish_reason: Option<String>,
    /// The upstream's id of its answer (`chatcmpl-…`, `msg_…`, DashScope's `request_id`).
    pub id: Option<String>,
    /// The upstream's body as received, for the admin's call record.
    pub raw: serde_json::Value,
}

/// One decoded piece of a streamed answer.
#[derive(Debug, Clone, PartialEq)]
pub enum StreamEvent {
    /// New reply text.
    Delta(String),
    /// New reasoning text (`reasoning_content`, Anthropic `thinking_delta`): output the
    /// upstream bills for, but not the reply.
    Reasoning(String),
    /// Usage so far (providers send it cumulatively: the latest one wins).
    Usage(Usage),
    /// A piece of a tool call: its first piece carries `id` and `name`, later ones more
    /// `arguments` text. `index` is the call's position in the answer's `tool_calls`.
    ToolCall(ToolCallDelta),
    /// The reason the model stopped.
    Finish(String),
    /// The upstream's id of the answer.
    Id(String),
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ToolCallDelta {
    pub index: u32,
    pub id: Option<String>,
    pub name: Option<String>,
    pub arguments: String,
}

/// How an upstream failure should be treated and shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    /// Could not connect, or the connection broke.
    Connect,
    /// No answer in time.
    Timeout,
    /// A rate limit that passes (429 rate_limit_exceeded, Throttling, 1302, 336501 …).
    RateLimited,
    /// Overloaded or internal error upstream (5xx, 529, overloaded_error …).
    Unavailable,
    /// The key is wrong or expired, or access is denied.
    Auth,
    /// Balance, arrears, quota of the account: waiting will not help.
    Billing,
    /// The request was rejected (bad parameter, unknown model, content moderation).
    Rejected,
    /// The answer could not be understood.
    Protocol,
}

/// One failed attempt. `detail` is for the admin's log only: it never holds the key.
#[derive(Debug, Clone, PartialEq)]
pub struct UpstreamError {
    pub kind: FailureKind,
    pub retryable: bool,
    pub status: Option<u16>,
    /// The provider's own error code (`rate_limit_exceeded`, `1302`, `336100` …).
    pub code: Option<String>,
    pub retry_after: Option<Duration>,
    pub detail: String,
}

pub type UpstreamResult<T> = Result<T, UpstreamError>;

impl fmt::Display for UpstreamError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.kind)?;
        if let Some(code) = &self.code {
            write!(f, " ({code})")?;
        }
        write!(f, ": {}", self.detail)
    }
}

impl std::error::Error for UpstreamError {}

/// A streamed answer: `Delta`/`Usage`/`Finish` items, ending with `None` only at the
/// protocol's proper end; a cut or an in-band error is an `Err` item (and the last one).
pub type EventStream = Pin<Box<dyn futures::Stream<Item = UpstreamResult<StreamEvent>> + Send>>;

/// What one attempt has received so far, watched by the relay: whether response headers
/// arrived (before that a retry cannot bill twice) and when the last body bytes did (a
/// stream is alive while bytes flow, whatever they decode to).
#[derive(Debug)]
pub struct Progress {
    started: Instant,
    headers: AtomicBool,
    /// Milliseconds after `started` of the latest bytes (or of the start).
    last_bytes_ms: AtomicU64,
}

impl Progress {
    pub fn new() -> Arc<Self> {
        Arc::new(Self {
            started: Instant::now(),
            headers: AtomicBool::new(false),
            last_bytes_ms: AtomicU64::new(0),
        })
    }

    pub fn headers_received(&self) -> bool {
        self.headers.load(Ordering::Relaxed)
    }

    /// How long ago the last bytes (or the attempt's start, or its headers) came.
    pub fn idle(&self) -> Duration {
        let last = Duration::from_millis(self.last_bytes_ms.load(Ordering::Relaxed));
        self.started.elapsed().saturating_sub(last)
    }

    pub(crate) fn mark_headers(&self) {
        self.headers.store(true, Ordering::Relaxed);
        self.mark_bytes();
    }

    pub(crate) fn mark_bytes(&self) {
        let now = self.started.elapsed().as_millis().min(u128::from(u64::MAX)) as u64;
        self.last_bytes_ms.store(now, Ordering::Relaxed);
    }
}

/// The one entry point to upstreams: a shared HTTP client and the per-protocol credential
/// caches (Baidu access tokens, Zhipu JWTs). Cheap to share behind an `Arc`.
#[derive(Debug)]
pub struct Providers {
    http: reqwest::Client,
    urls: urls::ParsedUrls,
    baidu: baidu_token::TokenCache,
    zhipu: zhipu::JwtCache,
}

/// Runs one protocol flow for the target's provider; the match is exhaustive so a new
/// [`ProviderKind`] cannot be forgotten.
macro_rules! dispatch {
    ($flow:path, $attempt:expr) => {
        match $attempt.target.provider {
            ProviderKind::Openai => $flow(&OpenAi(Dialect::OpenAi), $attempt).await,
            ProviderKind::Custom => $flow(&OpenAi(Dialect::Custom), $attempt).await,
            ProviderKind::Xunfei => $flow(&OpenAi(Dialect::Xunfei), $attempt).await,
            ProviderKind::Zhipu => $flow(&OpenAi(Dialect::Zhipu), $attempt).await,
            ProviderKind::Anthropic => $flow(&Anthropic, $attempt).await,
            ProviderKind::Aliyun => $flow(&DashScope, $attempt).await,
            ProviderKind::Baidu => $flow(&Baidu, $attempt).await,
        }
    };
}

impl Providers {
    pub fn new(http: reqwest::Client) -> Self {
        Self {
            http,
            urls: urls::ParsedUrls::default(),
            baidu: baidu_token::TokenCache::default(),
            zhipu: zhipu::JwtCache::default(),
        }
    }

    /// A POST to a config's `api_url`, parsed once for every call to it. A text that does
    /// not parse goes to reqwest as it is, which fails the attempt as before.
    fn post(&self, api_url: &str) -> reqwest::RequestBuilder {
        match self.urls.parse(api_url) {
            Ok(url) => self.http.post(url),
            Err(_) => self.http.post(api_url),
        }
    }

    /// One non-streaming attempt. Some protocols stream upstream and aggregate (Anthropic
    /// with a very large `max_tokens`, DashScope models that only stream).
    pub async fn complete(
        &self,
        target: &Target,
        req: &ChatRequest,
        progress: &Arc<Progress>,
    ) -> UpstreamResult<Completion> {
        dispatch!(
            protocol::complete,
            &protocol::Attempt {
                ctx: self,
                target,
                req,
                progress
            }
        )
    }

    /// One streaming attempt. Resolves at the first output (text, reasoning, a finish
    /// reason, or a proper end), so an error the upstream sends before any output — a
    /// non-2xx, an in-band error after a 200, a cut — is this `Err`, while nothing has
    /// reached the client. `progress` shows the relay whether bytes are still coming.
    pub async fn open_stream(
        &self,
        target: &Target,
        req: &ChatRequest,
        progress: &Arc<Progress>,
    ) -> UpstreamResult<EventStream> {
        dispatch!(
            protocol::open_stream,
            &protocol::Attempt {
                ctx: self,
                target,
                req,
                progress
            }
        )
    }
}

impl Default for Providers {
    fn default() -> Self {
        Self::new(http_client())
    }
}

const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The shared upstream client: rustls, pooled keep-alive connections, `TCP_NODELAY`.
/// It has no overall timeout: the relay applies each config's timeouts around the futures
/// and streams of [`Providers`].
///
/// Redirects are never followed: a redirect would carry the provider credential (in a
/// header or Baidu's query string) to an origin the admin did not configure. A 3xx is an
/// upstream error whose detail names the `Location`.
pub fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .tcp_nodelay(true)
        .tcp_keepalive(Duration::from_secs(30))
        .pool_idle_timeout(Duration::from_secs(90))
        .user_agent(concat!("llm-proxy/", env!("CARGO_PKG_VERSION")))
        // Bounded apart from the config's timeout: a failed connect is the one timeout
        // that is always safe to retry (nothing reached the upstream).
        .connect_timeout(CONNECT_TIMEOUT)
        .build()
        // Building only fails when the TLS backend cannot start; the default client hits
        // the same error in a clearer place.
        .unwrap_or_else(|_| reqwest::Client::new())
}

#[cfg(test)]
#[path = "tests/tools.rs"]
mod tool_tests;
