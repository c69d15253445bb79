//! Decoding the server's envelope: `{"success":true,"data":…}` or
//! `{"success":false,"code":"STABLE_CODE","message":"中文说明","field":"…"}`.
//! Pure logic (no browser calls) so it is unit-tested on the host.

use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::i18n::Tr;

/// A failed request: either the server's own error envelope, or a failure the client
/// noticed (no connection, a body that is not an envelope).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// HTTP status; 0 when the request never got an answer.
    pub status: u16,
    /// The server's stable code, or a client-side one (`NETWORK_ERROR`, `BAD_RESPONSE`, `HTTP_ERROR`).
    pub code: String,
    /// The server's message (shown as it is); empty for client-side failures.
    pub message: String,
    /// For `VALIDATION_FAILED`: the request field at fault.
    pub field: Option<String>,
    /// Extra detail of a client-side failure (a parse error, a browser error).
    pub detail: Option<String>,
    /// A failed connection test's extras (boxed: most errors have none).
    pub test: Option<Box<TestFailure>>,
}

/// What a failed connection test adds to the error envelope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestFailure {
    /// The upstream's own words, as its record keeps them.
    pub upstream: Option<String>,
    /// The call record the test left.
    pub call_log_id: Option<i64>,
}

pub const NETWORK_ERROR: &str = "NETWORK_ERROR";
pub const BAD_RESPONSE: &str = "BAD_RESPONSE";
pub const HTTP_ERROR: &str = "HTTP_ERROR";

impl ApiError {
    pub fn network(detail: impl Into<String>) -> Self {
        Self::client(0, NETWORK_ERROR, detail)
    }

    fn client(status: u16, code: &str, detail: impl Into<String>) -> Self {
        Self {
            status,
            code: code.into(),
            message: String::new(),
            field: None,
            detail: Some(detail.into()),
            test: None,
        }
    }

    /// 401: the token is missing, invalid or expired.
    pub fn is_unauthorized(&self) -> bool {
        self.status == 401
    }

    /// The field a form should mark: a `VALIDATION_FAILED` answer's, or a `CONFLICT` over
    /// a taken name.
    pub fn field(&self) -> Option<&str> {
        self.field
            .as_deref()
            .filter(|_| matches!(self.code.as_str(), "VALIDATION_FAILED" | "CONFLICT"))
    }

    /// The sentence to show: the server's message as it is, else a translated client-side one.
    pub fn display(&self, tr: Tr) -> String {
        if !self.message.is_empty() {
            return self.message.clone();
        }
        let status = self.status.to_string();
        let detail = self.detail.clone().unwrap_or_default();
        match self.code.as_str() {
            NETWORK_ERROR => tr.tf("err.network", &[("detail", &detail)]),
            BAD_RESPONSE => tr.tf("err.bad_response", &[("status", &status)]),
            _ => tr.tf("err.http", &[("status", &status)]),
        }
    }
}

/// Checks the envelope and returns the whole success object (for answers that carry more
/// than `data`, such as paged lists and the config test).
pub fn decode_envelope(status: u16, body: &str) -> Result<Value, ApiError> {
    let value: Value = match serde_json::from_str(body) {
        Ok(value) => value,
        Err(err) => {
            let code = if (200..300).contains(&status) {
                BAD_RESPONSE
            } else {
                HTTP_ERROR
            };
            return Err(ApiError::client(status, code, err.to_string()));
        }
    };
    match value.get("success").and_then(Value::as_bool) {
        Some(true) if (200..300).contains(&status) => Ok(value),
        Some(false) => Err(error_from(status, &value)),
        _ if (200..300).contains(&status) => Err(ApiError::client(
            status,
            BAD_RESPONSE,
            "missing \"success\"",
        )),
        _ => Err(error_from(status, &value)),
    }
}

fn error_from(status: u16, value: &Value) -> ApiError {
    let text = |key: &str| value.get(key).and_then(Value::as_str).map(str::to_string);
    let test = TestFailure {
        upstream: text("detail"),
        call_log_id: value.get("call_log_id").and_then(Value::as_i64),
    };
    let test = (test.upstream.is_some() || test.call_log_id.is_some()).then(|| Box::new(test));
    match (text("code"), text("message")) {
        (Some(code), Some(message)) => ApiError {
            status,
            code,
            message,
            field: text("field"),
            detail: None,
            test,
        },
        _ => ApiError::client(status, HTTP_ERROR, value.to_string()),
    }
}

/// The `data` of a success envelope, as `T`.
pub fn decode_data<T: DeserializeOwned>(status: u16, body: &str) -> Result<T, ApiError> {
    let mut value = decode_envelope(status, body)?;
    let data = value
        .get_mut("data")
        .map(Value::take)
        .unwrap_or(Value::Null);
    serde_json::from_value(data)
        .map_err(|err| ApiError::client(status, BAD_RESPONSE, err.to_string()))
}

/// The whole success envelope, as `T` (paged lists, the config test).
pub fn decode_whole<T: DeserializeOwned>(status: u16, body: &str) -> Result<T, ApiError> {
    let value = decode_envelope(status, body)?;
    serde_json::from_value(value)
        .map_err(|err| ApiError::client(status, BAD_RESPONSE, err.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::Lang;
    use serde::Deserialize;

    #[derive(Debug, Deserialize, PartialEq)]
    struct Item {
        id: i32,
    }

    #[test]
    fn decodes_success_data() {
        let items: Vec<Item> =
            decode_data(200, r#"{"success":true,"data":[{"id":1},{"id":2}]}"#).unwrap_or_default();
        assert_eq!(items, vec![Item { id: 1 }, Item { id: 2 }]);
    }

    #[test]
    fn decodes_the_error_envelope_with_field() {
        let err = decode_data::<Item>(
            422,
            r#"{"success":false,"code":"VALIDATION_FAILED","message":"配置名称不能为空","field":"name"}"#,
        )
        .err();
        let err = err.unwrap_or_else(|| ApiError::network("expected an error"));
        assert_eq!(err.code, "VALIDATION_FAILED");
        assert_eq!(err.field(), Some("name"));
        assert_eq!(err.display(Tr(Lang::En)), "配置名称不能为空");
        assert!(!err.is_unauthorized());
    }

    #[test]
    fn a_failed_test_keeps_the_upstreams_words_and_its_record() {
        let err = decode_whole::<Item>(
            502,
            r#"{"success":false,"code":"UPSTREAM_ERROR","message":"大模型服务调用失败","detail":"Auth HTTP 401: Incorrect API key provided","call_log_id":42}"#,
        )
        .err();
        let err = err.unwrap_or_else(|| ApiError::network("expected an error"));
        let test = err.test.map(|t| *t);
        assert_eq!(
            test,
            Some(TestFailure {
                upstream: Some("Auth HTTP 401: Incorrect API key provided".into()),
                call_log_id: Some(42),
            })
        );
    }

    #[test]
    fn keeps_the_server_message_of_every_error() {
        let err = decode_data::<Item>(
            401,
            r#"{"success":false,"code":"TOKEN_EXPIRED","message":"登录已过期，请重新登录"}"#,
        )
        .err()
        .unwrap_or_else(|| ApiError::network(""));
        assert!(err.is_unauthorized());
        assert_eq!(err.field(), None);
        assert_eq!(err.display(Tr(Lang::Zh)), "登录已过期，请重新登录");
        let upstream = decode_whole::<Value>(
            504,
            r#"{"success":false,"code":"UPSTREAM_TIMEOUT","message":"大模型服务响应超时，请稍后重试"}"#,
        )
        .err()
        .unwrap_or_else(|| ApiError::network(""));
        assert_eq!(upstream.status, 504);
        assert_eq!(upstream.code, "UPSTREAM_TIMEOUT");
    }

    #[test]
    fn a_field_counts_for_validation_failures_and_taken_names() {
        let err = |status, code: &str| {
            let body =
                format!(r#"{{"success":false,"code":"{code}","message":"x","field":"name"}}"#);
            decode_data::<Item>(status, &body)
                .err()
                .unwrap_or_else(|| ApiError::network(""))
        };
        assert_eq!(err(409, "CONFLICT").field(), Some("name"));
        assert_eq!(err(422, "VALIDATION_FAILED").field(), Some("name"));
        assert_eq!(err(400, "BAD_REQUEST").field(), None);
    }

    #[test]
    fn non_envelope_answers_become_client_errors() {
        let err = decode_data::<Item>(502, "<html>Bad Gateway</html>")
            .err()
            .unwrap_or_else(|| ApiError::network(""));
        assert_eq!(err.code, HTTP_ERROR);
        assert_eq!(err.status, 502);
        assert!(err.display(Tr(Lang::Zh)).contains("502"));
        assert!(err.display(Tr(Lang::En)).contains("502"));

        let err = decode_data::<Item>(200, r#"{"success":true,"data":{"id":"x"}}"#)
            .err()
            .unwrap_or_else(|| ApiError::network(""));
        assert_eq!(err.code, BAD_RESPONSE);

        let err = decode_data::<Item>(200, r#"{"data":{"id":1}}"#)
            .err()
            .unwrap_or_else(|| ApiError::network(""));
        assert_eq!(err.code, BAD_RESPONSE);

        let err = decode_data::<Item>(404, r#"{"error":"nope"}"#)
            .err()
            .unwrap_or_else(|| ApiError::network(""));
        assert_eq!(err.code, HTTP_ERROR);
        assert_eq!(err.status, 404);
    }

    #[test]
    fn network_errors_are_explained() {
        let err = ApiError::network("TypeError: Failed to fetch");
        assert_eq!(err.status, 0);
        assert!(err.display(Tr(Lang::Zh)).contains("Failed to fetch"));
    }

    #[test]
    fn decodes_whole_envelopes() {
        #[derive(Deserialize)]
        struct Tested {
            message: String,
            duration_ms: i64,
        }
        let tested: Option<Tested> = decode_whole(
            200,
            r#"{"success":true,"message":"配置测试成功","response":"Hi","duration_ms":1200}"#,
        )
        .ok();
        let tested = tested.map(|t| (t.message, t.duration_ms));
        assert_eq!(tested, Some(("配置测试成功".to_string(), 1200)));
    }
}
