"""The official `anthropic` package against the proxy's Anthropic-compatible surface
(`/v1/messages`), for configs of every provider."""

import anthropic
import pytest

from harness import (
    ALL,
    COMPLETION_TOKENS,
    PNG_BASE64,
    PROMPT_TOKENS,
    REPLY,
    TOOL_ARGUMENTS,
    TOOL_NAME,
    TOOL_SCHEMA,
    UNKNOWN_MODEL,
    UPSTREAM_429,
    WITH_IMAGES,
    WITH_TOOLS,
    WITHOUT_IMAGES,
    assert_retry_after_passed_on,
    anthropic_client,
    assert_anthropic_error,
    expect_record,
)

HELLO = [{"role": "user", "content": "你好"}]
TOOLS = [{"name": TOOL_NAME, "description": "查询天气", "input_schema": TOOL_SCHEMA}]
WEATHER = [{"role": "user", "content": "杭州天气怎么样？"}]
WITH_IMAGE = [
    {
        "role": "user",
        "content": [
            {
                "type": "image",
                "source": {"type": "base64", "media_type": "image/png", "data": PNG_BASE64},
            },
            {"type": "text", "text": "图里是什么？"},
        ],
    }
]
MAX_TOKENS = 256


def create(config, messages=HELLO, key="main", **extra):
    return anthropic_client(key).messages.create(
        model=config, max_tokens=MAX_TOKENS, messages=messages, **extra
    )


def assert_tool_use(message):
    assert message.stop_reason == "tool_use"
    (block,) = [block for block in message.content if block.type == "tool_use"]
    assert block.id
    assert block.name == TOOL_NAME
    assert block.input == TOOL_ARGUMENTS


def test_models_list_names_every_config():
    # The pager stops on `has_more: false`; otherwise it would ask for the next page forever.
    models = [model.id for model in anthropic_client().models.list()]
    assert sorted(models) == sorted(ALL)


@pytest.mark.parametrize("config", ALL)
def test_create(config):
    message = create(config)
    expect_record(config, stream=False)
    assert (message.type, message.role) == ("message", "assistant")
    assert [block.type for block in message.content] == ["text"]
    assert message.content[0].text == REPLY
    assert message.stop_reason == "end_turn"
    assert (message.usage.input_tokens, message.usage.output_tokens) == (
        PROMPT_TOKENS,
        COMPLETION_TOKENS,
    )


def test_key_in_x_api_key_header():
    message = anthropic_client(x_api_key=True).messages.create(
        model=ALL[0], max_tokens=MAX_TOKENS, messages=HELLO
    )
    expect_record(ALL[0], stream=False)
    assert message.content[0].text == REPLY


@pytest.mark.parametrize("config", ALL)
def test_stream(config):
    # The SDK's stream helper checks the event order (message_start first, blocks by index).
    with anthropic_client().messages.stream(
        model=config, max_tokens=MAX_TOKENS, messages=HELLO
    ) as stream:
        text = "".join(stream.text_stream)
        message = stream.get_final_message()
    expect_record(config, stream=True)
    assert text == REPLY
    assert [block.type for block in message.content] == ["text"]
    assert message.stop_reason == "end_turn"
    assert message.usage.output_tokens == COMPLETION_TOKENS


@pytest.mark.parametrize("config", WITH_TOOLS)
def test_tool_use(config):
    message = create(config, messages=WEATHER, tools=TOOLS, tool_choice={"type": "auto"})
    expect_record(config, stream=False)
    assert_tool_use(message)


@pytest.mark.parametrize("config", WITH_TOOLS)
def test_tool_use_stream(config):
    with anthropic_client().messages.stream(
        model=config, max_tokens=MAX_TOKENS, messages=WEATHER, tools=TOOLS
    ) as stream:
        deltas = [
            event.delta.type for event in stream if event.type == "content_block_delta"
        ]
        message = stream.get_final_message()
    expect_record(config, stream=True)
    assert "input_json_delta" in deltas
    assert_tool_use(message)


@pytest.mark.parametrize("config", WITH_IMAGES)
def test_image_block(config):
    message = create(config, messages=WITH_IMAGE)
    expect_record(config, stream=False)
    assert message.content[0].text == REPLY


@pytest.mark.parametrize("config", WITHOUT_IMAGES)
def test_image_block_to_a_provider_without_images_is_refused(config):
    with pytest.raises(anthropic.BadRequestError) as refused:
        create(config, messages=WITH_IMAGE)
    assert_anthropic_error(refused.value, 400, "invalid_request_error")


@pytest.mark.parametrize("key", ["wrong", "revoked"])
def test_bad_key_is_authentication_error(key):
    with pytest.raises(anthropic.AuthenticationError) as refused:
        create(ALL[0], key=key)
    assert_anthropic_error(refused.value, 401, "authentication_error")


def test_unknown_model_is_not_found():
    with pytest.raises(anthropic.NotFoundError) as refused:
        create(UNKNOWN_MODEL)
    assert_anthropic_error(refused.value, 404, "not_found_error")


@pytest.mark.parametrize("config", ALL)
def test_upstream_rate_limit_is_rate_limit_error(config):
    with pytest.raises(anthropic.RateLimitError) as refused:
        create(config, messages=[{"role": "user", "content": UPSTREAM_429}])
    expect_record(config, stream=False, outcome="upstream_rate_limited")
    assert_anthropic_error(refused.value, 429, "rate_limit_error")
    assert_retry_after_passed_on(refused.value, config)
