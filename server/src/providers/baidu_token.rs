//! Baidu's OAuth access tokens (30 days), cached per key pair and host. The token URL's
//! scheme and host come from the config's api_url (aip.baidubce.com in production, the
//! fake upstream in tests).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use serde_json::Value;
use url::Url;

use super::errors::{Class, body_snippet, from_reqwest, http_error, text_of};
use super::{FailureKind, UpstreamError, UpstreamResult};

/// Refresh this long before expiry at most (one-api refreshes with an hour left).
const MAX_MARGIN: Duration = Duration::from_secs(3600);
/// Baidu's tokens last 30 days; never trust one for longer than 60.
const MAX_LIFETIME_SECS: u64 = 60 * 24 * 3600;

#[derive(Debug, Clone)]
struct Token {
    value: String,
    fetched: Instant,
    refresh_at: Instant,
}

type Slot = Arc<tokio::sync::Mutex<Option<Token>>>;

#[derive(Debug, Default)]
pub(crate) struct TokenCache {
    /// (origin, api key) → token. One async lock per key, so concurrent calls wait for one
    /// fetch instead of all fetching.
    slots: Mutex<HashMap<(String, String), Slot>>,
}

impl TokenCache {
    /// A valid token for `key` (`client_id:client_secret`), fetched if needed.
    pub async fn token(
        &self,
        http: &reqwest::Client,
        api_url: &str,
        key: &str,
    ) -> UpstreamResult<String> {
        let (id, secret) = key.split_once(':').ok_or_else(|| {
            UpstreamError::new(
                FailureKind::Auth,
                "baidu api key must be client_id:client_secret",
            )
        })?;
        let origin = origin(api_url)?;
        let slot = self.slot(origin.clone(), key);
        let mut cached = slot.lock().await;
        if let Some(token) = cached.as_ref()
            && Instant::now() < token.refresh_at
        {
            return Ok(token.value.clone());
        }
        let token = fetch(http, &origin, id, secret).await?;
        let value = token.value.clone();
        *cached = Some(token);
        Ok(value)
    }

    /// Forgets the token for `key` if it was fetched before `started` (a token fetched
    /// since then is a concurrent refresh, already fresh).
    pub fn invalidate(&self, api_url: &str, key: &str, started: Instant) {
        let Ok(origin) = origin(api_url) else { return };
        let slot = self.slot(origin, key);
        // If another call holds the slot it is fetching a new token right now.
        if let Ok(mut cached) = slot.try_lock()
            && cached.as_ref().is_some_and(|t| t.fetched <= started)
        {
            *cached = None;
        }
    }

    fn slot(&self, origin: String, key: &str) -> Slot {
        let mut slots = self.slots.lock().unwrap_or_else(PoisonError::into_inner);
        slots.entry((origin, key.to_owned())).or_default().clone()
    }
}

/// `scheme://host[:port]` of the chat URL.
fn origin(api_url: &str) -> UpstreamResult<String> {
    let url = Url::parse(api_url).map_err(|err| {
        UpstreamError::new(FailureKind::Rejected, format!("invalid api_url: {err}"))
    })?;
    Ok(url.origin().ascii_serialization())
}

async fn fetch(
    http: &reqwest::Client,
    origin: &str,
    id: &str,
    secret: &str,
) -> UpstreamResult<Token> {
    let mut url = Url::parse(&format!("{origin}/oauth/2.0/token")).map_err(|err| {
        UpstreamError::new(FailureKind::Rejected, format!("invalid api_url: {err}"))
    })?;
    url.query_pairs_mut()
        .append_pair("grant_type", "client_credentials")
        .append_pair("client_id", id)
        .append_pair("client_secret", secret);
    let started = Instant::now();
    let response = http.post(url).send().await.map_err(from_reqwest)?;
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response.bytes().await.map_err(from_reqwest)?;
    let json: Option<Value> = serde_json::from_slice(&body).ok();
    let token = json
        .as_ref()
        .and_then(|j| j.get("access_token"))
        .and_then(Value::as_str);
    match token {
        Some(value) if (200..300).contains(&status) => {
            let expires_in = json
                .as_ref()
                .and_then(|j| j.get("expires_in"))
                .and_then(Value::as_u64)
                .unwrap_or(0);
            // Capped so that an absurd value cannot overflow the clock.
            let lifetime = Duration::from_secs(expires_in.min(MAX_LIFETIME_SECS));
            let margin = MAX_MARGIN.min(lifetime / 2);
            Ok(Token {
                value: value.to_owned(),
                fetched: started,
                refresh_at: started + lifetime - margin,
            })
        }
        _ => {
            // `{"error":"invalid_client","error_description":"unknown client id"}`.
            let error = json.as_ref().and_then(|j| text_of(j.get("error")));
            let description = json
                .as_ref()
                .and_then(|j| j.get("error_description"))
                .and_then(Value::as_str)
                .map_or_else(|| body_snippet(&body), str::to_owned);
            let err = http_error(status, &headers, &format!("access token: {description}"));
            Err(match error {
                Some(code) if status < 500 => err
                    .with_kind(Class::fatal(FailureKind::Auth))
                    .with_code(code),
                _ => err,
            })
        }
    }
}
