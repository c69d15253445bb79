//! Writes the fuzz targets' seed corpora (`fuzz/corpus/<target>/`) from the tests' fake
//! upstream: every provider's streamed and whole answers, in-band errors, cut streams and
//! error bodies, exactly as the fake sends them over loopback.
//!
//! ```sh
//! cargo run --example fuzz_seeds -- fuzz/corpus
//! ```
//!
//! The output is committed; run it again when the fake learns a new wire form.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../tests/support/fake_upstream.rs"]
mod fake_upstream;

use std::path::{Path, PathBuf};

use fake_upstream::{FakeUpstream, Outcome, Reply, ZHIPU_PLAIN_KEY};
use llm_proxy::providers::ProviderKind;
use serde_json::{Value, json};

/// The fuzz target that decodes a provider's bodies.
fn target_of(kind: ProviderKind) -> &'static str {
    match kind {
        ProviderKind::Openai | ProviderKind::Custom => "decode_openai",
        ProviderKind::Anthropic => "decode_anthropic",
        ProviderKind::Aliyun => "decode_dashscope",
        ProviderKind::Xunfei => "decode_spark",
        ProviderKind::Baidu => "decode_ernie",
        ProviderKind::Zhipu => "decode_zhipu",
    }
}

/// The scripted answers each provider gives, by name.
fn outcomes(kind: ProviderKind) -> Vec<(&'static str, Outcome)> {
    let mut all = vec![
        ("default", Reply::default().into()),
        (
            "usage-cn",
            Reply::new("你好，我是助手。")
                .usage(12, 5)
                .chunk_chars(1)
                .into(),
        ),
        ("finish-length", Reply::new("abc").finish("length").into()),
        (
            "error-first",
            Reply::default().error_after(0, "busy", "Overloaded").into(),
        ),
        (
            "error-mid",
            Reply::new("abcdef")
                .chunk_chars(2)
                .error_after(2, "1301", "sensitive")
                .into(),
        ),
        (
            "truncated",
            Reply::new("abcdef").chunk_chars(2).truncate_after(1).into(),
        ),
        (
            "http-429",
            Outcome::http(429, "rate_limit_exceeded", "slow down"),
        ),
        ("http-500", Outcome::http(500, "internal_error", "boom")),
        ("http-401", Outcome::http(401, "invalid_api_key", "bad key")),
        ("rate-limited", Outcome::rate_limited(3)),
    ];
    // Reasoning and tool calls are modelled where the protocol has them.
    if !matches!(kind, ProviderKind::Xunfei | ProviderKind::Baidu) {
        all.push((
            "tool-call",
            Reply::new("")
                .tool_call("get_weather", r#"{"city":"杭州"}"#)
                .into(),
        ));
        all.push(("thinking", Reply::new("答案").thinking("先想一想").into()));
    }
    all
}

/// One request at the fake with the credential it expects; returns the raw body.
async fn call(
    http: &reqwest::Client,
    fake: &FakeUpstream,
    kind: ProviderKind,
    stream: bool,
) -> Vec<u8> {
    let key = FakeUpstream::key(kind);
    let body = json!({
        "model": "fake-model",
        "messages": [{"role": "user", "content": "你好"}],
        "max_tokens": 64,
        "stream": stream,
    });
    let mut url = fake.url(kind);
    if kind == ProviderKind::Baidu {
        let (id, secret) = key.split_once(':').unwrap();
        let token: Value = http
            .post(format!(
                "{}/oauth/2.0/token?grant_type=client_credentials&client_id={id}&client_secret={secret}",
                fake.base_url()
            ))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        url = format!(
            "{url}?access_token={}",
            token["access_token"].as_str().unwrap()
        );
    }
    let mut request = http.post(url).json(&body);
    request = match kind {
        ProviderKind::Anthropic => request
            .header("x-api-key", key)
            .header("anthropic-version", "2023-06-01"),
        ProviderKind::Baidu => request,
        ProviderKind::Zhipu => request.bearer_auth(ZHIPU_PLAIN_KEY),
        _ => request.bearer_auth(key),
    };
    if kind == ProviderKind::Aliyun && stream {
        request = request.header("X-DashScope-SSE", "enable");
    }
    let response = request.send().await.unwrap();
    // A body the fake cuts short is kept as far as it came.
    let mut bytes = Vec::new();
    let mut response = response;
    while let Ok(Some(chunk)) = response.chunk().await {
        bytes.extend_from_slice(&chunk);
    }
    bytes
}

fn write(dir: &Path, name: &str, bytes: &[u8]) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join(name), bytes).unwrap();
}

/// Templates: Chinese and other-script names, braces that are not placeholders, repeats.
const TEMPLATES: &[&str] = &[
    "你是客服，客户名叫{customer_name}。请回复：{message}",
    "请总结：{对话内容}，客户 {kunde_größe} {名字1} {1号} {对话 内容}",
    "{{name}} {a}{b}{c} {} { a } {json:1} {2} {a}",
    "Translate {text} into {language}. Keep {text} verbatim if it is code: {\"k\": 1}",
    "{变量}{变量}{變數}{переменная}{_x}{x_1}",
    "no variables at all",
];

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let root = PathBuf::from(
        std::env::args()
            .nth(1)
            .unwrap_or_else(|| "fuzz/corpus".into()),
    );
    let fake = FakeUpstream::start().await;
    fake.set_recording(false);
    let http = reqwest::Client::new();
    let mut count = 0;
    for kind in ProviderKind::ALL {
        let target = root.join(target_of(kind));
        for (name, outcome) in outcomes(kind) {
            for stream in [true, false] {
                fake.push(outcome.clone());
                let body = call(&http, &fake, kind, stream).await;
                let mode = if stream { "stream" } else { "json" };
                let file = format!("{}-{name}-{mode}", kind.as_str());
                write(&target, &file, &body);
                if stream {
                    // Every provider's stream also seeds the SSE parser.
                    write(&root.join("sse"), &file, &body);
                }
                count += 1;
            }
        }
    }
    for (i, text) in TEMPLATES.iter().enumerate() {
        write(
            &root.join("template"),
            &format!("template-{i}"),
            text.as_bytes(),
        );
        count += 1;
    }
    println!("{count} seeds written under {}", root.display());
}
