//! Each webhook kind's request (URL, signature, JSON body) and how its answer says whether
//! the message was taken. The office robots answer HTTP 200 to a refused message and put
//! the verdict in the body (`errcode` for WeCom and DingTalk, `code` for Feishu).

use base64::{Engine, engine::general_purpose::STANDARD};
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

use crate::db::webhooks::SendLimit;

/// The webhook kinds an admin can choose.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WebhookKind {
    /// A JSON POST of the alert's fields, for the admin's own receiver.
    Generic,
    /// 企业微信 group robot (`…/cgi-bin/webhook/send?key=…`), markdown message.
    WeCom,
    /// 钉钉 custom robot, with the optional 加签 secret.
    DingTalk,
    /// 飞书 / Lark custom bot, with the optional signing secret.
    Feishu,
}

impl WebhookKind {
    pub const ALL: [Self; 4] = [Self::Generic, Self::WeCom, Self::DingTalk, Self::Feishu];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Generic => "generic",
            Self::WeCom => "wecom",
            Self::DingTalk => "dingtalk",
            Self::Feishu => "feishu",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == value)
    }

    /// What the robot accepts: 企业微信 and 钉钉 take 20 messages a minute (钉钉 then blocks
    /// the robot for 10 minutes), 飞书 100 a minute and 5 a second. The robots get 20 a minute
    /// and 5 a second alike; an admin's own receiver has no limit.
    pub fn send_limits(self) -> &'static [SendLimit] {
        const ROBOT: [SendLimit; 2] = [
            SendLimit {
                within: chrono::Duration::seconds(60),
                at_most: 20,
            },
            SendLimit {
                within: chrono::Duration::seconds(1),
                at_most: 5,
            },
        ];
        match self {
            Self::Generic => &[],
            Self::WeCom | Self::DingTalk | Self::Feishu => &ROBOT,
        }
    }

    /// Whether the kind signs its messages with a secret.
    pub fn signs(self) -> bool {
        matches!(self, Self::DingTalk | Self::Feishu)
    }
}

/// The alert as a message says it.
#[derive(Debug, Clone)]
pub struct Message {
    pub alert_id: i32,
    pub kind: String,
    pub severity: String,
    pub subject: String,
    pub period: String,
    pub title: String,
    pub text: String,
    pub created_at: DateTime<Utc>,
}

/// Where to POST and what.
#[derive(Debug)]
pub struct Request {
    pub url: String,
    pub body: Value,
}

/// Builds the request for `kind`; `secret` signs DingTalk and Feishu messages when set.
pub fn request(
    kind: WebhookKind,
    url: &str,
    secret: Option<&str>,
    message: &Message,
    now: DateTime<Utc>,
) -> Request {
    let heading = format!("【llm-proxy 告警】{}", message.title);
    match kind {
        WebhookKind::Generic => Request {
            url: url.to_string(),
            body: json!({
                "alert_id": message.alert_id,
                "kind": message.kind,
                "severity": message.severity,
                "subject": message.subject,
                "period": message.period,
                "title": message.title,
                "message": message.text,
                "created_at": message.created_at.to_rfc3339(),
            }),
        },
        WebhookKind::WeCom => Request {
            url: url.to_string(),
            body: json!({
                "msgtype": "markdown",
                "markdown": {"content": format!("## {heading}\n> {}", message.text)},
            }),
        },
        WebhookKind::DingTalk => {
            let url = match secret {
                Some(secret) => {
                    let timestamp = now.timestamp_millis();
                    let sign = dingtalk_sign(secret, timestamp);
                    let joiner = if url.contains('?') { '&' } else { '?' };
                    format!("{url}{joiner}timestamp={timestamp}&sign={sign}")
                }
                None => url.to_string(),
            };
            Request {
                url,
                body: json!({
                    "msgtype": "markdown",
                    "markdown": {
                        "title": heading,
                        "text": format!("#### {heading}\n> {}", message.text),
                    },
                }),
            }
        }
        WebhookKind::Feishu => {
            let mut body = json!({
                "msg_type": "text",
                "content": {"text": format!("{heading}\n{}", message.text)},
            });
            if let (Some(secret), Value::Object(fields)) = (secret, &mut body) {
                let timestamp = now.timestamp();
                fields.insert("timestamp".into(), json!(timestamp.to_string()));
                fields.insert("sign".into(), json!(feishu_sign(secret, timestamp)));
            }
            Request {
                url: url.to_string(),
                body,
            }
        }
    }
}

/// DingTalk 加签: `urlencode(base64(HMAC-SHA256(key = secret, timestamp_ms + "\n" + secret)))`,
/// every `+`, `/` and `=` encoded (a bare `+` would decode to a space).
pub fn dingtalk_sign(secret: &str, timestamp_ms: i64) -> String {
    let digest = hmac(
        secret.as_bytes(),
        format!("{timestamp_ms}\n{secret}").as_bytes(),
    );
    url::form_urlencoded::byte_serialize(STANDARD.encode(digest).as_bytes()).collect()
}

/// Feishu signing: the HMAC key is `timestamp_s + "\n" + secret` and the signed message is
/// empty; plain base64, sent in the body.
pub fn feishu_sign(secret: &str, timestamp_s: i64) -> String {
    STANDARD.encode(hmac(format!("{timestamp_s}\n{secret}").as_bytes(), b""))
}

fn hmac(key: &[u8], message: &[u8]) -> Vec<u8> {
    // HMAC takes a key of any length; `new_from_slice` cannot fail for it.
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(key) else {
        return Vec::new();
    };
    mac.update(message);
    mac.finalize().into_bytes().to_vec()
}

/// Why an attempt failed, and whether trying again may help.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub detail: String,
    pub retry: bool,
}

/// The robots' codes that mean "busy" or "too fast": worth another try later. Every other
/// non-zero code (bad token, wrong signature, keyword or IP settings) stays wrong.
const RETRYABLE_CODES: [i64; 6] = [-1, 45009, 45033, 130101, 410100, 11232];

/// Reads an answer: a 2xx whose body (for the robots) has code 0 is delivered.
pub fn check_reply(kind: WebhookKind, status: u16, body: &str) -> Result<(), Refusal> {
    if !(200..300).contains(&status) {
        // 408, 429 and 5xx are passing troubles; another 4xx is the request's fault.
        let retry = status == 408 || status == 429 || status >= 500;
        return Err(Refusal {
            detail: format!("HTTP {status}"),
            retry,
        });
    }
    let (code_field, message_field) = match kind {
        WebhookKind::Generic => return Ok(()),
        WebhookKind::WeCom | WebhookKind::DingTalk => ("errcode", "errmsg"),
        WebhookKind::Feishu => ("code", "msg"),
    };
    let parsed: Value = serde_json::from_str(body).unwrap_or(Value::Null);
    match parsed.get(code_field).and_then(Value::as_i64) {
        Some(0) => Ok(()),
        Some(code) => Err(Refusal {
            detail: format!(
                "{code_field} {code}: {}",
                parsed
                    .get(message_field)
                    .and_then(Value::as_str)
                    .unwrap_or_default()
            ),
            retry: RETRYABLE_CODES.contains(&code),
        }),
        None => Err(Refusal {
            detail: format!("HTTP {status}，应答中没有 {code_field}"),
            retry: false,
        }),
    }
}

/// Removes every secret part of a webhook (its URL, the URL's path and query values, the
/// signing secret) from a text before it is stored or shown: robots and HTTP libraries
/// echo them in errors.
pub fn redact(text: &str, url: &str, secret: Option<&str>) -> String {
    let mut secrets: Vec<String> = vec![url.to_string()];
    if let Ok(parsed) = url::Url::parse(url) {
        secrets.extend(
            parsed
                .path_segments()
                .into_iter()
                .flatten()
                .filter(|segment| segment.len() >= 8)
                .map(String::from),
        );
        secrets.extend(
            parsed
                .query_pairs()
                .map(|(_, value)| value.into_owned())
                .filter(|value| value.len() >= 4),
        );
    }
    secrets.extend(secret.filter(|s| !s.is_empty()).map(String::from));
    // Longest first, so a secret inside a longer one is not half-replaced.
    secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
    let mut clean = text.to_string();
    for secret in secrets {
        clean = clean.replace(&secret, "****");
    }
    // Cut only after redacting: a cut through a secret would leave its first part.
    clean.chars().take(500).collect()
}

/// What an admin sees of a webhook URL: scheme and host, never the path or query that
/// carry the token.
pub fn url_hint(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(parsed) => format!(
            "{}://{}/…",
            parsed.scheme(),
            parsed.host_str().unwrap_or_default()
        ),
        Err(_) => "…".into(),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn dingtalk_signs_as_the_robot_checks() {
        assert_eq!(
            dingtalk_sign("SEC0123456789abcdef", 1_700_000_000_002),
            "VGvd0brDJp%2FnMZtR%2BXnA3yBIlhowT%2BTwkRPua0q1%2Fjg%3D"
        );
        assert_eq!(
            dingtalk_sign("this is secret", 1_700_000_000_000),
            "sSFWELbV2YwjdDQhWZwTcWlX5BWUx5J6TPpsZmuPii0%3D"
        );
    }

    #[test]
    fn feishu_signs_the_empty_message_with_the_joined_key() {
        assert_eq!(
            feishu_sign("demo", 100),
            "jquNHnVOwmDRfw+vqTIrY5dooJAgi5EcRtLsQE4wfXg="
        );
        assert_eq!(
            feishu_sign("demo", 1_599_360_473),
            "l1N0gAcBjdwBvGm1xMjOF0XSyaLRpR7tuO5dHfhAYc8="
        );
        // DingTalk's computation must not be what Feishu gets.
        assert_ne!(
            feishu_sign("demo", 1_599_360_473),
            "DkEDUyVoOOJ539qBvUgMyzkzIdRWlf4e/V3Rq+ONJnQ="
        );
    }

    #[test]
    fn robots_business_errors_are_failures_and_only_busy_ones_retry() {
        let busy = check_reply(
            WebhookKind::WeCom,
            200,
            r#"{"errcode":45009,"errmsg":"freq"}"#,
        );
        assert!(busy.unwrap_err().retry);
        let bad = check_reply(
            WebhookKind::DingTalk,
            200,
            r#"{"errcode":310000,"errmsg":"sign not match"}"#,
        )
        .unwrap_err();
        assert!(!bad.retry && bad.detail.contains("310000"));
        assert!(check_reply(WebhookKind::Feishu, 200, r#"{"code":0,"msg":"success"}"#).is_ok());
        assert!(check_reply(WebhookKind::Feishu, 200, r#"{"code":19021}"#).is_err());
        assert!(
            check_reply(WebhookKind::Generic, 503, "")
                .unwrap_err()
                .retry
        );
        assert!(
            !check_reply(WebhookKind::Generic, 404, "")
                .unwrap_err()
                .retry
        );
    }

    #[test]
    fn redaction_removes_tokens_and_the_secret() {
        let url = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abcd-1234-efgh";
        let text = format!("error sending to {url}: key abcd-1234-efgh SECxyz123");
        let clean = redact(&text, url, Some("SECxyz123"));
        assert!(!clean.contains("abcd-1234-efgh") && !clean.contains("SECxyz123"));
        assert_eq!(url_hint(url), "https://qyapi.weixin.qq.com/…");
    }
}
