"""What the Rust driver (server/tests/e2e/sdk.rs) set up for these tests, and the ledger of
calls that must show up in the call records.

The driver passes everything in one JSON environment variable, so the expected reply, usage,
tool call and image are defined once, next to the fake upstream that produces them.
"""

import json
import os

import anthropic
import openai

_SETUP_VAR = "LLM_PROXY_SDK_SETUP"
if _SETUP_VAR not in os.environ:
    raise RuntimeError(
        f"{_SETUP_VAR} is not set: these tests are run by the Rust test `sdk` "
        "(see the README, 'SDK tests'), which starts the server and the fake upstreams"
    )
SETUP = json.loads(os.environ[_SETUP_VAR])

CONFIGS = SETUP["configs"]
ALL = [c["name"] for c in CONFIGS]
WITH_TOOLS = [c["name"] for c in CONFIGS if c["tools"]]
WITH_IMAGES = [c["name"] for c in CONFIGS if c["images"]]
WITHOUT_IMAGES = [c["name"] for c in CONFIGS if not c["images"]]

REPLY = SETUP["reply"]
PROMPT_TOKENS = SETUP["prompt_tokens"]
COMPLETION_TOKENS = SETUP["completion_tokens"]
TOOL_NAME = SETUP["tool"]["name"]
TOOL_ARGUMENTS = SETUP["tool"]["arguments"]
TOOL_SCHEMA = {
    "type": "object",
    "properties": {"city": {"type": "string", "description": "城市名"}},
    "required": ["city"],
}
PNG_BASE64 = SETUP["png_base64"]
# The fake upstreams answer a request containing this text with their own rate limit.
UPSTREAM_429 = SETUP["rate_limit_marker"]
UNKNOWN_MODEL = "no-such-config"


def openai_client(key="main"):
    # No retries: a refused call must come back at once, and each call must make one record.
    return openai.OpenAI(
        base_url=SETUP["base_url"] + "/v1",
        api_key=SETUP["keys"][key],
        max_retries=0,
        timeout=30,
    )


def anthropic_client(key="main", x_api_key=False):
    """The SDK sends `api_key` as `Authorization: Bearer`; `x_api_key` sends it the way
    older SDKs and Claude Code's ANTHROPIC_API_KEY do instead."""
    secret = SETUP["keys"][key]
    return anthropic.Anthropic(
        base_url=SETUP["base_url"],
        api_key=None if x_api_key else secret,
        default_headers={"X-Api-Key": secret} if x_api_key else None,
        max_retries=0,
        timeout=30,
    )


def assert_openai_error(error, status):
    """OpenAI's error shape: the SDK reads `message`, `type`, `code`, `param` from `error`."""
    assert error.status_code == status
    assert isinstance(error.body, dict) and error.body.get("message")
    assert error.type


def assert_anthropic_error(error, status, error_type):
    """Anthropic's error shape (the SDK picks the class by status; clients read the type)."""
    assert error.status_code == status
    assert error.body["type"] == "error"
    assert error.body["error"]["type"] == error_type
    assert error.body["error"]["message"]


def assert_retry_after_passed_on(error, config):
    """The upstream's wait reaches the SDK, which sleeps that long before a retry."""
    (wanted,) = [c["upstream_retry_after"] for c in CONFIGS if c["name"] == config]
    if wanted is not None:
        assert float(error.response.headers["retry-after"]) == wanted


def expect_record(config, stream, outcome="success", key="main"):
    """Notes a call that must appear once in the call records, under `key`'s group and id.

    `outcome` is "success" or "upstream_rate_limited". Called after the call returned, so a
    failing call adds nothing (its test fails instead)."""
    entry = {"key": key, "config": config, "stream": stream, "outcome": outcome}
    with open(SETUP["ledger"], "a", encoding="utf-8") as ledger:
        ledger.write(json.dumps(entry) + "\n")
