//! Zhipu GLM v4 specifics; the wire format itself is OpenAI's (see `openai.rs`).
//! Auth: a key shaped `id.secret` is turned into Zhipu's HS256 JWT (times in
//! milliseconds, a `sign_type` header member, so `jsonwebtoken` cannot build it).

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::errors::Class;
use super::{FailureKind, UpstreamError, UpstreamResult};

/// The official SDK's token lifetime and cache time.
const TOKEN_TTL: Duration = Duration::from_secs(210);
const TOKEN_REUSE: Duration = Duration::from_secs(180);

/// Signed tokens per key, reused for [`TOKEN_REUSE`].
#[derive(Debug, Default)]
pub(crate) struct JwtCache {
    tokens: Mutex<HashMap<String, (String, Instant)>>,
}

impl JwtCache {
    /// The bearer credential for `key`: a (cached) JWT for `id.secret`, else the key itself.
    pub fn credential(&self, key: &str) -> UpstreamResult<String> {
        let Some((id, secret)) = split_key(key) else {
            return Ok(key.to_owned());
        };
        let mut tokens = self.tokens.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((token, signed)) = tokens.get(key)
            && signed.elapsed() < TOKEN_REUSE
        {
            return Ok(token.clone());
        }
        let token = sign(id, secret, now_ms())?;
        tokens.insert(key.to_owned(), (token.clone(), Instant::now()));
        Ok(token)
    }

    /// On 1003 (token expired) forget a token signed before the failed attempt started.
    pub fn refresh(&self, key: &str, err: &UpstreamError, started: Instant) -> bool {
        if err.code.as_deref() != Some("1003") || split_key(key).is_none() {
            return false;
        }
        let mut tokens = self.tokens.lock().unwrap_or_else(PoisonError::into_inner);
        if tokens
            .get(key)
            .is_some_and(|(_, signed)| *signed <= started)
        {
            tokens.remove(key);
        }
        true
    }
}

fn split_key(key: &str) -> Option<(&str, &str)> {
    let (id, secret) = key.split_once('.')?;
    (!id.is_empty() && !secret.is_empty() && !secret.contains('.')).then_some((id, secret))
}

fn now_ms() -> u64 {
    let since = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    u64::try_from(since.as_millis()).unwrap_or(u64::MAX)
}

/// `b64url(header).b64url(claims).b64url(HMAC-SHA256(secret bytes))`.
pub(crate) fn sign(id: &str, secret: &str, now_ms: u64) -> UpstreamResult<String> {
    let ttl_ms = u64::try_from(TOKEN_TTL.as_millis()).unwrap_or(u64::MAX);
    let claims = serde_json::json!({
        "api_key": id,
        "exp": now_ms.saturating_add(ttl_ms),
        "timestamp": now_ms,
    });
    let mut token = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","sign_type":"SIGN"}"#);
    token.push('.');
    token.push_str(&URL_SAFE_NO_PAD.encode(claims.to_string()));
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes())
        .map_err(|_| UpstreamError::new(FailureKind::Auth, "zhipu key secret unusable"))?;
    mac.update(token.as_bytes());
    token.push('.');
    token.push_str(&URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes()));
    Ok(token)
}

/// The SDK's clamps: `temperature <= 0` means greedy (`do_sample:false`), and both
/// `temperature` and `top_p` must lie strictly inside (0, 1).
pub(crate) fn sampling(
    temperature: Option<f64>,
    top_p: Option<f64>,
) -> (Option<f64>, Option<f64>, Option<bool>) {
    let greedy = temperature.is_some_and(|t| t <= 0.0);
    let inside = |value: f64| value.clamp(0.01, 0.99);
    (
        temperature.map(inside),
        top_p.map(inside),
        greedy.then_some(false),
    )
}

/// Zhipu's business codes (strings). The HTTP status is coarse: 1113 (arrears) comes with
/// a 429 yet must not be retried.
pub(crate) fn code_class(code: &str) -> Option<Class> {
    use FailureKind::*;
    let number: u32 = code.parse().ok()?;
    Some(match number {
        1000..=1004 | 1220 => Class::fatal(Auth),
        1110..=1121 | 1304 => Class::fatal(Billing),
        1210..=1215 | 1221 | 1222 | 1301 => Class::fatal(Rejected),
        1230 | 1234 | 1305 | 500 => Class::retry(Unavailable),
        1302 | 1303 => Class::retry(RateLimited),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn decode(part: &str) -> serde_json::Value {
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
    }

    #[test]
    fn jwt_has_zhipu_shape_and_valid_signature() {
        let token = sign("myid", "mysecret", 1_700_000_000_123).unwrap();
        let parts: Vec<&str> = token.split('.').collect();
        assert_eq!(parts.len(), 3);
        assert_eq!(
            decode(parts[0]),
            serde_json::json!({"alg":"HS256","sign_type":"SIGN"})
        );
        assert_eq!(
            decode(parts[1]),
            serde_json::json!({"api_key":"myid","exp":1_700_000_210_123_u64,"timestamp":1_700_000_000_123_u64})
        );
        let mut mac = Hmac::<Sha256>::new_from_slice(b"mysecret").unwrap();
        mac.update(format!("{}.{}", parts[0], parts[1]).as_bytes());
        mac.verify_slice(&URL_SAFE_NO_PAD.decode(parts[2]).unwrap())
            .unwrap();
    }

    #[test]
    fn jwt_is_cached_and_plain_keys_pass_through() {
        let cache = JwtCache::default();
        let first = cache.credential("id.secret").unwrap();
        assert_eq!(first.split('.').count(), 3);
        assert_eq!(cache.credential("id.secret").unwrap(), first);
        assert_eq!(cache.credential("plainkey").unwrap(), "plainkey");
        assert_eq!(cache.credential("a.b.c").unwrap(), "a.b.c");
    }

    #[test]
    fn refresh_only_on_expired_token_and_only_older_tokens() {
        let cache = JwtCache::default();
        let expired = UpstreamError::new(FailureKind::Auth, "x").with_code("1003");
        let wrong = UpstreamError::new(FailureKind::Auth, "x").with_code("1000");
        let first = cache.credential("id.secret").unwrap();
        let started = Instant::now();
        assert!(!cache.refresh("id.secret", &wrong, started));
        assert!(!cache.refresh("plainkey", &expired, started));
        assert!(cache.refresh("id.secret", &expired, started));
        std::thread::sleep(Duration::from_millis(2));
        let second = cache.credential("id.secret").unwrap();
        assert_ne!(first, second);
        // A token signed after the failed attempt started is someone else's fresh one.
        assert!(cache.refresh("id.secret", &expired, started));
        assert_eq!(cache.credential("id.secret").unwrap(), second);
    }

    #[test]
    fn sampling_clamps() {
        let s = |t, p| sampling(Some(t), Some(p));
        assert_eq!(s(0.0, 0.5), (Some(0.01), Some(0.5), Some(false)));
        assert_eq!(s(1.0, 1.0), (Some(0.99), Some(0.99), None));
        assert_eq!(s(1.7, 0.0), (Some(0.99), Some(0.01), None));
        assert_eq!(s(0.7, 0.8), (Some(0.7), Some(0.8), None));
        assert_eq!(sampling(None, None), (None, None, None));
    }

    #[test]
    fn code_table() {
        use FailureKind::*;
        let cases = [
            ("1302", RateLimited, true),
            ("1303", RateLimited, true),
            ("1305", Unavailable, true),
            ("1113", Billing, false),
            ("1304", Billing, false),
            ("1301", Rejected, false),
            ("1211", Rejected, false),
            ("1002", Auth, false),
            ("1234", Unavailable, true),
        ];
        for (code, kind, retryable) in cases {
            assert_eq!(code_class(code), Some(Class { kind, retryable }), "{code}");
        }
        assert_eq!(code_class("rate_limit"), None);
    }
}
