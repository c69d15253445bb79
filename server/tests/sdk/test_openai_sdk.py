"""The official `openai` package against the proxy's OpenAI-compatible surface (`/v1`)."""

import json

import openai
import pytest

from harness import (
    ALL,
    COMPLETION_TOKENS,
    CONFIGS,
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
    assert_openai_error,
    expect_record,
    openai_client,
)

HELLO = [{"role": "user", "content": "你好"}]
TOOLS = [
    {
        "type": "function",
        "function": {"name": TOOL_NAME, "description": "查询天气", "parameters": TOOL_SCHEMA},
    }
]
WEATHER = [{"role": "user", "content": "杭州天气怎么样？"}]


def with_image(text="图里是什么？"):
    return [
        {
            "role": "user",
            "content": [
                {"type": "text", "text": text},
                {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG_BASE64}"}},
            ],
        }
    ]


def assert_usage(usage):
    assert (usage.prompt_tokens, usage.completion_tokens, usage.total_tokens) == (
        PROMPT_TOKENS,
        COMPLETION_TOKENS,
        PROMPT_TOKENS + COMPLETION_TOKENS,
    )


def test_models_list_names_every_config():
    models = {model.id: model for model in openai_client().models.list()}
    for config in CONFIGS:
        model = models[config["name"]]
        assert model.object == "model"
        assert model.owned_by == config["provider"]
        assert isinstance(model.created, int)


@pytest.mark.parametrize("config", ALL)
def test_create(config):
    completion = openai_client().chat.completions.create(model=config, messages=HELLO)
    expect_record(config, stream=False)
    assert completion.object == "chat.completion"
    (choice,) = completion.choices
    assert choice.message.role == "assistant"
    assert choice.message.content == REPLY
    assert choice.finish_reason == "stop"
    assert_usage(completion.usage)


@pytest.mark.parametrize("config", ALL)
def test_stream_with_usage(config):
    chunks = list(
        openai_client().chat.completions.create(
            model=config,
            messages=HELLO,
            stream=True,
            stream_options={"include_usage": True},
        )
    )
    expect_record(config, stream=True)
    assert chunks and all(chunk.object == "chat.completion.chunk" for chunk in chunks)
    *with_choices, last = chunks
    assert all(chunk.choices for chunk in with_choices)
    deltas = [chunk.choices[0] for chunk in with_choices]
    assert "".join(d.delta.content or "" for d in deltas) == REPLY
    # The role once (the SDK's accumulator concatenates repeats), the finish on the last.
    assert [d.delta.role for d in deltas if d.delta.role] == ["assistant"]
    assert [d.finish_reason for d in deltas] == [None] * (len(deltas) - 1) + ["stop"]
    assert last.choices == []
    assert_usage(last.usage)


@pytest.mark.parametrize("config", WITH_TOOLS)
def test_tool_call(config):
    completion = openai_client().chat.completions.create(
        model=config, messages=WEATHER, tools=TOOLS, tool_choice="auto"
    )
    expect_record(config, stream=False)
    (choice,) = completion.choices
    assert choice.finish_reason == "tool_calls"
    (call,) = choice.message.tool_calls
    assert call.type == "function"
    assert call.id
    assert call.function.name == TOOL_NAME
    assert json.loads(call.function.arguments) == TOOL_ARGUMENTS


@pytest.mark.parametrize("config", WITH_TOOLS)
def test_tool_call_stream(config):
    # The SDK's stream helper accumulates deltas the way its users' code does: a tool call
    # without an integer `index`, or an `id`/`name` sent twice, breaks it or doubles them.
    with openai_client().chat.completions.stream(
        model=config,
        messages=WEATHER,
        tools=TOOLS,
        stream_options={"include_usage": True},
    ) as stream:
        events = [event.type for event in stream]
        completion = stream.get_final_completion()
    expect_record(config, stream=True)
    assert "tool_calls.function.arguments.done" in events
    (choice,) = completion.choices
    assert choice.finish_reason == "tool_calls"
    assert choice.message.role == "assistant"
    (call,) = choice.message.tool_calls
    assert call.id and call.type == "function"
    assert call.function.name == TOOL_NAME
    assert json.loads(call.function.arguments) == TOOL_ARGUMENTS
    assert_usage(completion.usage)


@pytest.mark.parametrize("config", WITH_IMAGES)
def test_image_part(config):
    completion = openai_client().chat.completions.create(model=config, messages=with_image())
    expect_record(config, stream=False)
    assert completion.choices[0].message.content == REPLY


@pytest.mark.parametrize("config", WITHOUT_IMAGES)
def test_image_part_to_a_provider_without_images_is_refused(config):
    with pytest.raises(openai.BadRequestError) as refused:
        openai_client().chat.completions.create(model=config, messages=with_image())
    assert_openai_error(refused.value, 400)


def test_windows_client_token_is_accepted():
    completion = openai_client("client").chat.completions.create(model=ALL[0], messages=HELLO)
    expect_record(ALL[0], stream=False, key="client")
    assert completion.choices[0].message.content == REPLY


@pytest.mark.parametrize("key", ["wrong", "revoked"])
def test_bad_key_is_authentication_error(key):
    with pytest.raises(openai.AuthenticationError) as refused:
        openai_client(key).chat.completions.create(model=ALL[0], messages=HELLO)
    assert_openai_error(refused.value, 401)


def test_unknown_model_is_not_found():
    with pytest.raises(openai.NotFoundError) as refused:
        openai_client().chat.completions.create(model=UNKNOWN_MODEL, messages=HELLO)
    assert_openai_error(refused.value, 404)
    assert refused.value.code


@pytest.mark.parametrize("config", ALL)
def test_upstream_rate_limit_is_rate_limit_error(config):
    with pytest.raises(openai.RateLimitError) as refused:
        openai_client().chat.completions.create(
            model=config, messages=[{"role": "user", "content": UPSTREAM_429}]
        )
    expect_record(config, stream=False, outcome="upstream_rate_limited")
    assert_openai_error(refused.value, 429)
    assert_retry_after_passed_on(refused.value, config)

