//! The API contract: schemathesis (`server/tests/schemathesis/requirements.txt`) fuzzes the
//! real server from the spec it serves at `/api/openapi.json`, with `--checks all` (statuses,
//! bodies and headers as documented, schema-valid requests accepted and invalid ones refused,
//! `Allow` on 405, auth not ignored …), a fixed seed and a bounded number of cases per
//! operation. Any failure fails the test with schemathesis's report.
//!
//! What is not fuzzed, and why, is in `server/tests/schemathesis/schemathesis.toml`.
//!
//! Schemathesis lives in a venv whose Python `LLM_PROXY_SCHEMATHESIS_PYTHON` names; without it
//! the test fails (a skipped test could not catch anything). See the README, "API contract".
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common::TestServer;

use std::path::Path;
use std::process::Command;

const PYTHON_VAR: &str = "LLM_PROXY_SCHEMATHESIS_PYTHON";
/// Cases per operation and phase: enough to reach every documented limit and type, and
/// the whole run stays within a minute or two on two cores.
const MAX_EXAMPLES: &str = "25";
const SEED: &str = "20261130";

#[tokio::test]
async fn the_server_keeps_to_its_openapi_spec() {
    let python = std::env::var(PYTHON_VAR).unwrap_or_else(|_| {
        panic!(
            "{PYTHON_VAR} is not set. The API contract test needs schemathesis in a venv: \
             run\n  export {PYTHON_VAR}=$(bash scripts/schemathesis-venv.sh)\nfrom the \
             repository root (it creates .venv-schemathesis/ and prints its Python), then \
             run the tests again."
        )
    });
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    let (client, _, _) = server.client_token(&admin).await;

    // The client's operations first: the admin run may disable or delete the activation
    // code behind the client token, after which they would only see 401.
    let runs: [(&str, &[&str]); 2] = [
        ("client operations", &["--include-tag", "Client"]),
        ("all other operations", &["--exclude-tag", "Client"]),
    ];
    for (name, filter) in runs {
        if let Err(printed) = run(&python, &server, [&admin, &client], filter).await {
            let log = server.output();
            let lines: Vec<&str> = log.lines().collect();
            let tail = lines[lines.len().saturating_sub(40)..].join("\n");
            panic!(
                "schemathesis found disagreements with the spec ({name}):\n{printed}\n\
                 last lines of the server's log:\n{tail}"
            );
        }
    }
}

/// Runs schemathesis on a blocking thread with the admin's and the client's token; Err holds
/// what it printed.
async fn run(
    python: &str,
    server: &TestServer,
    [admin, client]: [&str; 2],
    filter: &[&str],
) -> Result<(), String> {
    // Which operations are left out and why, and the tokens per security scheme.
    let config = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/schemathesis/schemathesis.toml");
    let mut command = Command::new(python);
    command
        .args(["-m", "schemathesis.cli", "--no-color", "--config-file"])
        .arg(config)
        .arg("run")
        .arg(server.url("/api/openapi.json"))
        .args([
            "--checks",
            "all",
            "--seed",
            SEED,
            "--max-examples",
            MAX_EXAMPLES,
        ])
        .args(filter)
        // Hypothesis keeps its example database in the working folder: the test's own.
        .current_dir(server.dir.path())
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .env("LLM_PROXY_ADMIN_TOKEN", admin)
        .env("LLM_PROXY_CLIENT_TOKEN", client);
    let output = tokio::task::spawn_blocking(move || command.output())
        .await
        .unwrap()
        .map_err(|err| format!("cannot run {PYTHON_VAR}: {err}"))?;
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
