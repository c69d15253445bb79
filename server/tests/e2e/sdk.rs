//! The official `openai` and `anthropic` Python SDKs against the real server: pytest
//! (`server/tests/sdk/`) drives it over both compatible surfaces, against one fake upstream
//! per provider kind; then this test checks what reached each upstream (tools and images in
//! that provider's own form) and that every call is in the records under its key.
//!
//! The SDKs live in a venv whose Python `LLM_PROXY_SDK_PYTHON` names; without it the test
//! fails (a skipped test could not catch anything). See the README, "SDK tests".
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common::TestServer;
use crate::fake_upstream::{DEFAULT_TEXT, FakeUpstream, Outcome, Recorded, Reply};

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use entity::llm_call_logs::Model as CallLog;
use llm_proxy::providers::ProviderKind;
use serde_json::{Value, json};

const PYTHON_VAR: &str = "LLM_PROXY_SDK_PYTHON";
/// A user message containing this gets the upstream's own rate limit.
const RATE_LIMIT_MARKER: &str = "[fake upstream: answer 429]";
const RETRY_AFTER_SECONDS: u64 = 7;
const TOOL_NAME: &str = "get_weather";
const TOOL_ARGUMENTS: &str = r#"{"city":"杭州"}"#;
/// A 1×1 PNG.
const PNG_BASE64: &str = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==";
const PROMPT_TOKENS: u32 = 13;
const COMPLETION_TOKENS: u32 = 8;

/// What the proxy offers for a provider: (tool calls, image input).
fn capabilities(kind: ProviderKind) -> (bool, bool) {
    match kind {
        ProviderKind::Xunfei | ProviderKind::Baidu => (false, false),
        _ => (true, true),
    }
}

fn config_name(kind: ProviderKind) -> String {
    format!("sdk-{}", kind.as_str())
}

/// The fake's answer, chosen from the request since pytest drives the calls.
fn respond(request: &Recorded) -> Option<Outcome> {
    let body = &request.body;
    if body.to_string().contains(RATE_LIMIT_MARKER) {
        return Some(Outcome::rate_limited(RETRY_AFTER_SECONDS));
    }
    offered_tools(body).map(|_| {
        Reply::new("")
            .usage(PROMPT_TOKENS, COMPLETION_TOKENS)
            .tool_call(TOOL_NAME, TOOL_ARGUMENTS)
            .into()
    })
}

/// The tools of a request body: at the top level, or in DashScope's `parameters`.
fn offered_tools(body: &Value) -> Option<&Vec<Value>> {
    body.get("tools")
        .or_else(|| body.pointer("/parameters/tools"))
        .and_then(Value::as_array)
        .filter(|tools| !tools.is_empty())
}

/// The messages of a request body: at the top level, or in DashScope's `input`.
fn messages(body: &Value) -> &[Value] {
    body.get("messages")
        .or_else(|| body.pointer("/input/messages"))
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

async fn create(server: &TestServer, admin: &str, path: &str, body: Value) -> Value {
    let created = server.post(path, Some(admin), body).await;
    assert_eq!(created.status, 200, "POST {path}: {}", created.text);
    created.body["data"].clone()
}

/// The id of a created row (the database's integer ids).
fn id_of(data: &Value) -> i32 {
    i32::try_from(data["id"].as_i64().unwrap()).unwrap()
}

/// A credential the SDKs call with: an API key, or a Windows client's token (no key id).
struct Key {
    id: Option<i32>,
    group_id: i32,
    secret: String,
}

async fn api_key(server: &TestServer, admin: &str, name: &str, group_id: i32) -> Key {
    let data = create(
        server,
        admin,
        "/api/admin/api-keys",
        json!({"name": name, "group_id": group_id}),
    )
    .await;
    Key {
        id: Some(id_of(&data)),
        group_id,
        secret: data["key"].as_str().unwrap().to_owned(),
    }
}

/// `(config, stream, outcome)` → count: what pytest's ledger lists, or what the records hold.
type Tally = BTreeMap<(String, bool, String), usize>;

#[tokio::test]
async fn official_sdks_drive_every_provider() {
    let python = std::env::var(PYTHON_VAR).unwrap_or_else(|_| {
        panic!(
            "{PYTHON_VAR} is not set. The SDK tests need the official openai and anthropic \
             packages in a venv: run\n  export {PYTHON_VAR}=$(bash scripts/sdk-venv.sh)\n\
             from the repository root (it creates .venv-sdk/ and prints its Python), then \
             run the tests again."
        )
    });
    let server = TestServer::start().await;
    let admin = server.admin_token().await;

    let mut fakes = Vec::new();
    let mut configs = Vec::new();
    for kind in ProviderKind::ALL {
        let fake = FakeUpstream::start().await;
        fake.set_default(Reply::new(DEFAULT_TEXT).usage(PROMPT_TOKENS, COMPLETION_TOKENS));
        fake.set_responder(respond);
        let name = config_name(kind);
        create(
            &server,
            &admin,
            "/api/admin/llm/configs",
            json!({
                "name": name,
                "provider": kind.as_str(),
                "api_url": fake.url(kind),
                "api_key": FakeUpstream::key(kind),
                "model": "fake-model",
                // One upstream request per SDK call: the 429 must reach the SDK.
                "max_retries": 0,
            }),
        )
        .await;
        let (tools, images) = capabilities(kind);
        // Baidu's rate limit says nothing of when to come back; the others' say when.
        let retry_after = (kind != ProviderKind::Baidu).then_some(RETRY_AFTER_SECONDS);
        configs.push(json!({
            "name": name,
            "provider": kind.as_str(),
            "tools": tools,
            "images": images,
            "upstream_retry_after": retry_after,
        }));
        fakes.push((kind, fake));
    }

    let group = create(&server, &admin, "/api/admin/groups", json!({"name": "sdk"})).await;
    let group_id = id_of(&group);
    let quota_group = create(
        &server,
        &admin,
        "/api/admin/groups",
        json!({"name": "sdk-quota", "daily_token_limit": 1}),
    )
    .await;
    let main = api_key(&server, &admin, "sdk", group_id).await;
    let revoked = api_key(&server, &admin, "sdk-revoked", group_id).await;
    let quota = api_key(&server, &admin, "sdk-quota", id_of(&quota_group)).await;
    // The /v1 surface also takes the token a Windows client got by activation.
    let (token, client_group, _) = server.client_token(&admin).await;
    let client = Key {
        id: None,
        group_id: i32::try_from(client_group).unwrap(),
        secret: token,
    };
    let revoke = server
        .delete(
            &format!("/api/admin/api-keys/{}", revoked.id.unwrap()),
            Some(&admin),
        )
        .await;
    assert_eq!(revoke.status, 200, "{}", revoke.text);

    let ledger = server.dir.path().join("sdk-ledger.jsonl");
    let setup = json!({
        "base_url": server.base,
        "keys": {
            "main": main.secret,
            "revoked": revoked.secret,
            "quota": quota.secret,
            "client": client.secret,
            "wrong": "sk-not-a-key-of-this-proxy",
        },
        "configs": configs,
        "reply": DEFAULT_TEXT,
        "prompt_tokens": PROMPT_TOKENS,
        "completion_tokens": COMPLETION_TOKENS,
        "tool": {"name": TOOL_NAME, "arguments": serde_json::from_str::<Value>(TOOL_ARGUMENTS).unwrap()},
        "png_base64": PNG_BASE64,
        "rate_limit_marker": RATE_LIMIT_MARKER,
        "ledger": ledger,
    });
    if let Err(printed) = run_pytest(&python, &setup).await {
        // The server's side of the failed calls (its errors are logged, never its secrets).
        let log = server.output();
        let lines: Vec<&str> = log.lines().collect();
        let tail = lines[lines.len().saturating_sub(60)..].join("\n");
        panic!("pytest failed:\n{printed}\nlast lines of the server's log:\n{tail}");
    }

    for (kind, fake) in &fakes {
        check_upstream_wire(*kind, fake);
    }
    check_records(
        &server,
        &ledger,
        &[("main", &main), ("quota", &quota), ("client", &client)],
    )
    .await;
}

/// Runs the suite on a blocking thread: the fakes are tasks of this test's runtime, which
/// must go on serving them meanwhile. Err holds what pytest printed.
async fn run_pytest(python: &str, setup: &Value) -> Result<(), String> {
    let folder = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/sdk");
    let mut command = Command::new(python);
    command
        .args(["-m", "pytest", "-q"])
        .current_dir(&folder)
        .env("LLM_PROXY_SDK_SETUP", setup.to_string())
        // No __pycache__ in the source tree.
        .env("PYTHONDONTWRITEBYTECODE", "1")
        // The SDKs would otherwise pick up a developer's own keys or gateway.
        .env_remove("OPENAI_BASE_URL")
        .env_remove("OPENAI_API_KEY")
        .env_remove("ANTHROPIC_BASE_URL")
        .env_remove("ANTHROPIC_API_KEY")
        .env_remove("ANTHROPIC_AUTH_TOKEN");
    let output = tokio::task::spawn_blocking(move || command.output())
        .await
        .unwrap()
        .unwrap_or_else(|err| panic!("cannot run {python} ({PYTHON_VAR}): {err}"));
    let printed = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    if output.status.success() {
        println!("{printed}");
        Ok(())
    } else {
        Err(printed)
    }
}

/// Tools and images reached the upstream in that provider's own form.
fn check_upstream_wire(kind: ProviderKind, fake: &FakeUpstream) {
    let requests = fake.requests();
    let (tools, images) = capabilities(kind);
    if tools {
        let offered = requests
            .iter()
            .find_map(|r| offered_tools(&r.body))
            .unwrap_or_else(|| panic!("{kind:?}: no request carried tools"));
        let name = match kind {
            ProviderKind::Anthropic => {
                assert!(
                    offered[0]["input_schema"].is_object(),
                    "{kind:?}: {offered:?}"
                );
                &offered[0]["name"]
            }
            _ => {
                assert_eq!(offered[0]["type"], "function", "{kind:?}: {offered:?}");
                assert!(
                    offered[0]["function"]["parameters"].is_object(),
                    "{kind:?}: {offered:?}"
                );
                &offered[0]["function"]["name"]
            }
        };
        assert_eq!(name, TOOL_NAME, "{kind:?}: {offered:?}");
    }
    if images {
        let image = requests
            .iter()
            .flat_map(|r| messages(&r.body).iter().map(move |m| (r, m)))
            .flat_map(|(r, m)| {
                m["content"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(move |part| (r, part))
            })
            .find(|(_, part)| image_payload(kind, part).is_some());
        let (request, part) = image.unwrap_or_else(|| {
            panic!(
                "{kind:?}: no image in the provider's form reached it: {:#?}",
                requests.iter().map(|r| &r.body).collect::<Vec<_>>()
            )
        });
        assert_eq!(
            image_payload(kind, part).unwrap(),
            image_as_sent(kind),
            "{kind:?}: {part}"
        );
        if kind == ProviderKind::Aliyun {
            assert!(
                request.path.ends_with("/multimodal-generation/generation"),
                "DashScope takes images at its multimodal endpoint, not {}",
                request.path
            );
        }
    }
}

/// The image of a content part in `kind`'s form, if the part is one.
fn image_payload(kind: ProviderKind, part: &Value) -> Option<String> {
    let field = |pointer: &str| part.pointer(pointer).and_then(Value::as_str);
    match kind {
        ProviderKind::Anthropic
            if part["type"] == "image" && part["source"]["type"] == "base64" =>
        {
            Some(format!(
                "{};{}",
                field("/source/media_type")?,
                field("/source/data")?
            ))
        }
        ProviderKind::Aliyun => field("/image").map(str::to_owned),
        ProviderKind::Anthropic => None,
        _ if part["type"] == "image_url" => field("/image_url/url").map(str::to_owned),
        _ => None,
    }
}

/// How `kind` must receive the test image (as [`image_payload`] reads it).
fn image_as_sent(kind: ProviderKind) -> String {
    match kind {
        ProviderKind::Anthropic => format!("image/png;{PNG_BASE64}"),
        // Zhipu's own SDK strips the data-URL prefix: its API takes raw base64.
        ProviderKind::Zhipu => PNG_BASE64.to_owned(),
        _ => format!("data:image/png;base64,{PNG_BASE64}"),
    }
}

/// Every call pytest listed is recorded once, under its key's group and id (none for a
/// client token).
async fn check_records(server: &TestServer, ledger: &Path, keys: &[(&str, &Key)]) {
    let listed = std::fs::read_to_string(ledger).expect("pytest listed no call");
    let entries: Vec<Value> = listed
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    for (label, key) in keys {
        let mut expected = Tally::new();
        for entry in entries.iter().filter(|e| e["key"] == *label) {
            *expected
                .entry((
                    entry["config"].as_str().unwrap().to_owned(),
                    entry["stream"].as_bool().unwrap(),
                    entry["outcome"].as_str().unwrap().to_owned(),
                ))
                .or_default() += 1;
        }
        assert!(
            !expected.is_empty(),
            "pytest listed no call with the {label} key"
        );
        // A streamed call's record may land just after its last byte.
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let records = server.call_logs().await;
            let in_group: Vec<&CallLog> = records
                .iter()
                .filter(|r| r.group_id == Some(key.group_id))
                .collect();
            for record in &in_group {
                assert_eq!(record.api_key_id, key.id, "{label} key's group: {record:?}");
            }
            let recorded = tally(&in_group);
            if recorded == expected || Instant::now() > deadline {
                assert_eq!(
                    recorded, expected,
                    "records under the {label} key vs its SDK calls"
                );
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// The records of calls that reached an upstream, counted like pytest's ledger.
fn tally(records: &[&CallLog]) -> Tally {
    let mut counted = Tally::new();
    for record in records {
        let outcome = match (record.status.as_str(), record.error_code.as_deref()) {
            ("success", _) => "success",
            ("error", Some("UPSTREAM_RATE_LIMITED")) => "upstream_rate_limited",
            // Refused before any upstream call (an image the provider cannot take …):
            // pytest lists only calls that reach an upstream.
            _ => continue,
        };
        *counted
            .entry((
                record.config_name.clone(),
                record.is_stream,
                outcome.to_owned(),
            ))
            .or_default() += 1;
    }
    counted
}
