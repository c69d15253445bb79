//! The spec tells the truth (issue #10): each disagreement schemathesis found, checked on its
//! own so a regression names itself (the fuzzer itself runs in `schemathesis`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common::{TestServer, assert_error};

use serde_json::{Value, json};

async fn spec(server: &TestServer) -> Value {
    let response = server.get("/api/openapi.json", None).await;
    assert_eq!(response.status, 200, "{}", response.text);
    response.body
}

/// A number or boolean where the spec says string is refused, not read as its text.
#[tokio::test]
async fn a_number_for_a_string_field_is_refused() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    for body in [
        json!({"name": 123}),
        json!({"name": true}),
        json!({"name": "g", "description": 5}),
    ] {
        let response = server.post("/api/admin/groups", Some(&admin), body).await;
        assert_error(&response, 400, "BAD_REQUEST");
    }
    let update = server
        .post("/api/admin/groups", Some(&admin), json!({"name": "g"}))
        .await;
    let id = update.body["data"]["id"].as_i64().unwrap();
    let response = server
        .put(
            &format!("/api/admin/groups/{id}"),
            Some(&admin),
            json!({"clear_limits": ["daily_token_limit", 1]}),
        )
        .await;
    assert_error(&response, 400, "BAD_REQUEST");
    let groups = server.get("/api/admin/groups", Some(&admin)).await;
    let names: Vec<&Value> = groups.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| &g["name"])
        .collect();
    assert_eq!(
        names,
        [&json!("g")],
        "nothing was created from the refused bodies"
    );
}

/// Optional fields the server answers with `null` are declared nullable, in answers and in
/// requests (where `null` means "not given").
#[tokio::test]
async fn null_answers_are_declared_nullable() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let created = server
        .post("/api/admin/groups", Some(&admin), json!({"name": "g"}))
        .await;
    assert_eq!(created.body["data"]["description"], Value::Null);
    let spec = spec(&server).await;
    let schemas = &spec["components"]["schemas"];
    for (schema, field) in [
        ("GroupView", "description"),
        ("GroupView", "daily_token_limit"),
        ("CodeView", "expires_at"),
        ("UserView", "last_login_at"),
        ("LogDetail", "error_message"),
        ("Me", "group_id"),
        ("UpdateGroup", "name"),
    ] {
        assert_eq!(
            schemas[schema]["properties"][field]["nullable"], true,
            "{schema}.{field}"
        );
    }
}

/// Every operation documents 414 and 415 with the envelope, and both come as the envelope.
#[tokio::test]
async fn uri_too_long_and_wrong_media_type_are_documented_envelopes() {
    let server = TestServer::start().await;
    let spec = spec(&server).await;
    for status in ["413", "414", "415"] {
        let documented = &spec["paths"]["/api/admin/groups"]["post"]["responses"][status];
        assert_eq!(
            documented["content"]["application/json; charset=utf-8"]["schema"]["$ref"],
            "#/components/schemas/ErrorBody",
            "{status}"
        );
    }

    let long = format!("/api/health?q={}", "a".repeat(9000));
    let response = server.get(&long, None).await;
    assert_error(&response, 414, "URI_TOO_LONG");

    let response = server
        .client
        .post(server.url("/api/auth/login"))
        .body(r#"{"username":"admin","password":"x"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 415);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["code"], "UNSUPPORTED_MEDIA_TYPE", "{body}");
}

/// What the HTTP parser refuses before the application sees it (a malformed request line,
/// conflicting `Content-Length`s, a URI or headers over the parser's limits) is the
/// envelope too, also after an answered request on the same connection.
#[tokio::test]
async fn requests_the_http_parser_refuses_get_the_envelope() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let server = TestServer::start().await;
    let long_uri = format!(
        "GET /api/health?q={} HTTP/1.1\r\nhost: x\r\n\r\n",
        "a".repeat(70_000)
    );
    let big_header = format!(
        "GET /api/health HTTP/1.1\r\nhost: x\r\nx-big: {}\r\n\r\n",
        "b".repeat(500_000)
    );
    let cases = [
        ("GARBAGE\r\n\r\n".to_string(), 400, "BAD_REQUEST"),
        (
            "POST /api/auth/login HTTP/1.1\r\nhost: x\r\ncontent-length: 5\r\n\
             content-length: 6\r\n\r\nhello"
                .to_string(),
            400,
            "BAD_REQUEST",
        ),
        (long_uri, 414, "URI_TOO_LONG"),
        (big_header, 431, "HEADERS_TOO_LARGE"),
        (
            "GET /api/health HTTP/1.1\r\nhost: x\r\n\r\nGARBAGE\r\n\r\n".to_string(),
            400,
            "BAD_REQUEST",
        ),
    ];
    for (request, status, code) in cases {
        let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", server.port))
            .await
            .unwrap();
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut answer = Vec::new();
        tokio::time::timeout(
            std::time::Duration::from_secs(10),
            stream.read_to_end(&mut answer),
        )
        .await
        .expect("the connection is closed after the answer")
        .unwrap();
        let answer = String::from_utf8(answer).unwrap();
        // The last answer on the connection is the parser's refusal.
        let last = answer.rfind("HTTP/1.1 ").unwrap();
        let (head, body) = answer[last..].split_once("\r\n\r\n").unwrap();
        assert!(head.starts_with(&format!("HTTP/1.1 {status} ")), "{head}");
        assert!(head.contains("content-type: application/json"), "{head}");
        assert!(head.contains("x-content-type-options: nosniff"), "{head}");
        let body: Value = serde_json::from_str(body).unwrap();
        assert_eq!(body["code"], code, "{body}");
        assert_eq!(body["success"], false);
    }
    // The server goes on serving.
    assert_eq!(server.get("/api/health", None).await.status, 200);
}

/// A missing file under /admin is the envelope, not an empty body.
#[tokio::test]
async fn a_missing_admin_file_is_the_envelope() {
    let server = TestServer::start().await;
    let response = server.get("/admin/missing-0000.js", None).await;
    assert_error(&response, 404, "NOT_FOUND");
}

/// The limits the server enforces are in the spec, and a value outside one is a 422
/// naming the field, as the admin UI's forms expect.
#[tokio::test]
async fn the_servers_limits_are_in_the_spec() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let spec = spec(&server).await;
    let page_size = spec["paths"]["/api/admin/llm/logs"]["get"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "page_size")
        .unwrap();
    assert_eq!(page_size["schema"]["minimum"], 1.0);
    assert_eq!(page_size["schema"]["maximum"], 100.0);
    let user = &spec["components"]["schemas"]["CreateUser"]["properties"];
    assert_eq!(user["password"]["minLength"], 8);
    assert_eq!(user["password"]["maxLength"], 128);
    assert_eq!(user["role"]["pattern"], "^(admin|user|subaccount)$");
    let config = &spec["components"]["schemas"]["CreateConfig"]["properties"];
    assert_eq!(config["temperature"]["maximum"], 2.0);
    assert!(
        config["provider"]["pattern"]
            .as_str()
            .unwrap()
            .contains("openai")
    );

    for (body, field) in [
        (
            json!({"username": "u1", "password": "short", "role": "user"}),
            "password",
        ),
        (
            json!({"username": "u2", "password": "long-enough", "role": "root"}),
            "role",
        ),
        (
            json!({"username": "   ", "password": "long-enough", "role": "user"}),
            "username",
        ),
    ] {
        let response = server.post("/api/admin/users", Some(&admin), body).await;
        assert_error(&response, 422, "VALIDATION_FAILED");
        assert_eq!(response.body["field"], field, "{}", response.text);
    }
    let response = server
        .post(
            "/api/admin/groups",
            Some(&admin),
            json!({"name": "g", "requests_per_minute": 1_000_001}),
        )
        .await;
    assert_error(&response, 422, "VALIDATION_FAILED");
    assert_eq!(response.body["field"], "requests_per_minute");
}
