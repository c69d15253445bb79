//! Upstream protocols. One module per wire protocol, all behind [`Protocol`]; the relay
//! (retries, timeouts, recording) only ever talks to [`Providers`].
//!
//! A provider call is one *attempt*: build the HTTP request, send it, decode the answer.
//! Whether to retry, how long to wait and what to record is decided in `relay/`.

use std::fmt;
use std::pin::Pin;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::secret::Secret;

mod anthropic;
mod baidu;
mod baidu_token;
mod dashscope;
mod errors;
mod messages;
mod openai;
mod openai_stream;
mod protocol;
mod sse;
mod stream;
mod xunfei;
mod zhipu;

use anthropic::Anthropic;
use baidu::Baidu;
use dashscope::DashScope;
use openai::{Dialect, OpenAi};

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

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    System,
    User,
    Assistant,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChatMessage {
    pub role: Role,
    pub content: String,
}

/// A provider-neutral request, already merged from config, template and client overrides.
/// System messages come first in `messages`; each protocol moves them where it expects them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChatRequest {
    pub model: String,
    pub messages: Vec<ChatMessage>,
    pub max_tokens: u32,
    pub temperature: f64,
    pub top_p: f64,
    pub frequency_penalty: f64,
    pub presence_penalty: f64,
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
    pub usage: Option<Usage>,
    pub finish_reason: Option<String>,
    /// The upstream's body as received, for the admin's call record.
    pub raw: serde_json::Value,
}

/// One decoded piece of a streamed answer.
#[derive(Debug, Clone, PartialEq)]
pub enum StreamEvent {
    /// New reply text.
    Delta(String),
    /// Usage so far (providers send it cumulatively: the latest one wins).
    Usage(Usage),
    /// The reason the model stopped.
    Finish(String),
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

/// The one entry point to upstreams: a shared HTTP client and the per-protocol credential
/// caches (Baidu access tokens, Zhipu JWTs). Cheap to share behind an `Arc`.
#[derive(Debug)]
pub struct Providers {
    http: reqwest::Client,
    baidu: baidu_token::TokenCache,
    zhipu: zhipu::JwtCache,
}

/// Runs one protocol flow for the target's provider; the match is exhaustive so a new
/// [`ProviderKind`] cannot be forgotten.
macro_rules! dispatch {
    ($flow:path, $ctx:expr, $target:expr, $req:expr) => {
        match $target.provider {
            ProviderKind::Openai => $flow(&OpenAi(Dialect::OpenAi), $ctx, $target, $req).await,
            ProviderKind::Custom => $flow(&OpenAi(Dialect::Custom), $ctx, $target, $req).await,
            ProviderKind::Xunfei => $flow(&OpenAi(Dialect::Xunfei), $ctx, $target, $req).await,
            ProviderKind::Zhipu => $flow(&OpenAi(Dialect::Zhipu), $ctx, $target, $req).await,
            ProviderKind::Anthropic => $flow(&Anthropic, $ctx, $target, $req).await,
            ProviderKind::Aliyun => $flow(&DashScope, $ctx, $target, $req).await,
            ProviderKind::Baidu => $flow(&Baidu, $ctx, $target, $req).await,
        }
    };
}

impl Providers {
    pub fn new(http: reqwest::Client) -> Self {
        Self {
            http,
            baidu: baidu_token::TokenCache::default(),
            zhipu: zhipu::JwtCache::default(),
        }
    }

    /// One non-streaming attempt. Some protocols stream upstream and aggregate (Anthropic
    /// with a very large `max_tokens`, DashScope models that only stream).
    pub async fn complete(&self, target: &Target, req: &ChatRequest) -> UpstreamResult<Completion> {
        dispatch!(protocol::complete, self, target, req)
    }

    /// One streaming attempt. Resolves at the first text (or finish reason, or a proper
    /// end), so an error the upstream sends before any text — a non-2xx, an in-band error
    /// after a 200, a cut — is this `Err`, while nothing has reached the client. The relay's
    /// first-byte timeout should therefore wrap this future.
    pub async fn open_stream(
        &self,
        target: &Target,
        req: &ChatRequest,
    ) -> UpstreamResult<EventStream> {
        dispatch!(protocol::open_stream, self, target, req)
    }
}

impl Default for Providers {
    fn default() -> Self {
        Self::new(http_client())
    }
}

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
        .build()
        // Building only fails when the TLS backend cannot start; the default client hits
        // the same error in a clearer place.
        .unwrap_or_else(|_| reqwest::Client::new())
}
