"""The proxy's own token quota, through both SDKs: a 429 that each SDK raises as its
RateLimitError. One test, because both SDKs spend the same group's quota in order."""

import anthropic
import openai
import pytest

from harness import (
    ALL,
    anthropic_client,
    assert_anthropic_error,
    assert_openai_error,
    expect_record,
    openai_client,
)

HELLO = [{"role": "user", "content": "你好"}]


def test_quota_exhausted_is_rate_limit_error_in_both_sdks():
    client = openai_client("quota")
    # The quota group's daily limit is 1 token: the first call is admitted and spends it.
    client.chat.completions.create(model=ALL[0], messages=HELLO)
    expect_record(ALL[0], stream=False, key="quota")
    with pytest.raises(openai.RateLimitError) as refused:
        client.chat.completions.create(model=ALL[0], messages=HELLO)
    assert_openai_error(refused.value, 429)
    with pytest.raises(anthropic.RateLimitError) as refused:
        anthropic_client("quota").messages.create(model=ALL[0], max_tokens=64, messages=HELLO)
    assert_anthropic_error(refused.value, 429, "rate_limit_error")
