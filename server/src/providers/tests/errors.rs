#![allow(clippy::unwrap_used, clippy::expect_used)]
use super::*;
use reqwest::header::HeaderValue;

fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (name, value) in pairs {
        map.insert(*name, HeaderValue::from_str(value).unwrap());
    }
    map
}

#[test]
fn status_table() {
    use FailureKind::*;
    let cases = [
        (400, Rejected, false),
        (401, Auth, false),
        (402, Billing, false),
        (403, Auth, false),
        (404, Rejected, false),
        (408, Timeout, true),
        (409, Unavailable, true),
        (413, Rejected, false),
        (429, RateLimited, true),
        (500, Unavailable, true),
        (502, Unavailable, true),
        (503, Unavailable, true),
        (529, Unavailable, true),
    ];
    for (status, kind, retryable) in cases {
        let err = http_error(status, &HeaderMap::new(), "m");
        assert_eq!((err.kind, err.retryable), (kind, retryable), "{status}");
        assert_eq!(err.status, Some(status));
        assert_eq!(err.detail, format!("HTTP {status}: m"));
    }
}

#[test]
fn retry_after_ms_wins_over_retry_after() {
    let h = headers(&[("retry-after-ms", "1500"), ("retry-after", "30")]);
    assert_eq!(retry_after(&h), Some(Duration::from_millis(1500)));
}

#[test]
fn retry_after_seconds_and_fractions() {
    assert_eq!(
        retry_after(&headers(&[("retry-after", "7")])),
        Some(Duration::from_secs(7))
    );
    assert_eq!(
        retry_after(&headers(&[("retry-after", "0.5")])),
        Some(Duration::from_millis(500))
    );
    assert_eq!(retry_after(&headers(&[("retry-after", "-3")])), None);
    assert_eq!(retry_after(&headers(&[("retry-after", "soon")])), None);
    assert_eq!(retry_after(&HeaderMap::new()), None);
}

#[test]
fn retry_after_http_date() {
    let at = chrono::Utc::now() + chrono::Duration::seconds(120);
    let value = at.format("%a, %d %b %Y %H:%M:%S GMT").to_string();
    let wait = retry_after(&headers(&[("retry-after", &value)])).unwrap();
    assert!(
        wait > Duration::from_secs(115) && wait <= Duration::from_secs(120),
        "{wait:?}"
    );
    let past = headers(&[("retry-after", "Wed, 21 Oct 2015 07:28:00 GMT")]);
    assert_eq!(retry_after(&past), Some(Duration::ZERO));
}

#[test]
fn x_should_retry_overrides_the_status() {
    let err = http_error(400, &headers(&[("x-should-retry", "true")]), "");
    assert!(err.retryable);
    let err = http_error(503, &headers(&[("x-should-retry", "false")]), "");
    assert!(!err.retryable);
}

#[test]
fn detail_is_truncated_on_a_char_boundary() {
    let long = "错".repeat(400);
    let err = UpstreamError::new(FailureKind::Protocol, long);
    assert!(err.detail.len() <= MAX_DETAIL + '…'.len_utf8());
    assert!(err.detail.ends_with('…'));
}

#[test]
fn scrub_removes_the_key_and_its_parts() {
    let err = UpstreamError::new(
        FailureKind::Auth,
        "bad key sk-secret-123 / client:abcdefgh / id.zzzzzzzz",
    );
    let err = err.scrub("sk-secret-123");
    assert!(!err.detail.contains("sk-secret-123"));
    let err = UpstreamError::new(
        FailureKind::Auth,
        "client_id=abcdefgh&client_secret=ssssssss",
    )
    .scrub("abcdefgh:ssssssss");
    assert_eq!(err.detail, "client_id=***&client_secret=***");
}

#[test]
fn scrub_removes_a_key_cut_by_the_length_limit() {
    let key = "sk-proj-abcdefghijklmnopqrstuvwxyz0123456789";
    let detail = format!("{}{key} is not valid", "x".repeat(MAX_DETAIL - 12));
    let err = UpstreamError::new(FailureKind::Auth, detail).scrub(key);
    assert!(!err.detail.contains(&key[..4]), "{}", err.detail);
    assert!(err.detail.ends_with("***…"), "{}", err.detail);
    // A detail that merely ends like a short start of the key keeps its text.
    let plain =
        UpstreamError::new(FailureKind::Auth, format!("{}sk-", "y".repeat(MAX_DETAIL))).scrub(key);
    assert!(plain.detail.ends_with("y…"), "{}", plain.detail);
}

#[test]
fn error_json_reads_plain_json_or_sse() {
    assert_eq!(error_json(br#"{"code":"x"}"#).unwrap()["code"], "x");
    let sse = b"id:1\nevent:error\n:HTTP_STATUS/401\ndata:{\"code\":\"InvalidApiKey\"}\n\n";
    assert_eq!(error_json(sse).unwrap()["code"], "InvalidApiKey");
    assert!(error_json(b"<html>bad gateway</html>").is_none());
}

#[test]
fn text_of_accepts_strings_and_numbers() {
    assert_eq!(
        text_of(Some(&serde_json::json!("1302"))).as_deref(),
        Some("1302")
    );
    assert_eq!(
        text_of(Some(&serde_json::json!(10013))).as_deref(),
        Some("10013")
    );
    assert_eq!(text_of(Some(&serde_json::Value::Null)), None);
    assert_eq!(text_of(None), None);
}
