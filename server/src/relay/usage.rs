//! Token accounting: a call is charged what it used. The provider's usage when it sent one,
//! a local count of what was actually generated otherwise (see `tokenizer`), and nothing at
//! all for a call that produced no output (refused, failed or timed out before any). Cost
//! comes from the config's prices.

use entity::llm_configs;

use super::tokenizer::TokenCounter;
use crate::providers::{ChatRequest, ToolCall, Usage};

/// Usage as recorded, with whether it had to be estimated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Accounted {
    pub usage: Usage,
    pub estimated: bool,
}

/// What a call got back from the upstream, for charging.
pub struct Produced<'a> {
    pub reported: Option<Usage>,
    pub text: &'a str,
    pub reasoning: &'a str,
    pub tool_calls: &'a [ToolCall],
    /// The upstream answered in full (a success is charged even when its text is empty:
    /// the model may have spent its tokens on hidden reasoning).
    pub complete: bool,
}

impl Produced<'_> {
    fn any_output(&self) -> bool {
        self.complete
            || !self.text.is_empty()
            || !self.reasoning.is_empty()
            || !self.tool_calls.is_empty()
            || self.reported.is_some_and(|u| u.completion_tokens > 0)
    }
}

/// The charge for one call: zero without output, else the reported usage or an estimate.
pub fn account(produced: &Produced<'_>, request: &ChatRequest) -> Accounted {
    if !produced.any_output() {
        return Accounted::default();
    }
    match produced.reported {
        Some(mut usage) => {
            if usage.total_tokens == 0 {
                usage.total_tokens = usage.prompt_tokens + usage.completion_tokens;
            }
            Accounted {
                usage,
                estimated: false,
            }
        }
        None => {
            let counter = TokenCounter::for_model(&request.model);
            let prompt = prompt_estimate(request);
            let completion = counter.count(produced.text)
                + counter.count(produced.reasoning)
                + tool_calls_estimate(counter, produced.tool_calls);
            Accounted {
                usage: Usage {
                    prompt_tokens: prompt,
                    completion_tokens: completion,
                    total_tokens: prompt + completion,
                },
                estimated: true,
            }
        }
    }
}

/// What an image counts as: OpenAI's price of a 1024×1024 image in high detail, the most
/// common case (the providers' own counts differ; the estimate only bounds a reservation or
/// stands in when no usage came back).
const IMAGE_TOKENS: u32 = 765;

/// The prompt's tokens as counted before sending: each message carries a few tokens of
/// framing (role, separators); images and the tools' definitions count too.
pub fn prompt_estimate(request: &ChatRequest) -> u32 {
    let counter = TokenCounter::for_model(&request.model);
    let messages: u32 = request
        .messages
        .iter()
        .map(|m| {
            let images = m.content.images().count() as u32;
            counter.count_prompt(&m.content.text())
                + images * IMAGE_TOKENS
                + tool_calls_estimate(counter, &m.tool_calls)
                + 4
        })
        .sum();
    let tools = match request.tools.is_empty() {
        true => 0,
        false => counter.count_prompt(&serde_json::to_string(&request.tools).unwrap_or_default()),
    };
    messages + tools
}

fn tool_calls_estimate(counter: TokenCounter, calls: &[ToolCall]) -> u32 {
    calls
        .iter()
        .map(|call| counter.count_prompt(&call.name) + counter.count_prompt(&call.arguments) + 4)
        .sum()
}

/// Cost in the config's currency; prices are per million tokens.
pub fn cost(config: &llm_configs::Model, usage: &Usage) -> f64 {
    (f64::from(usage.prompt_tokens) * config.input_price
        + f64::from(usage.completion_tokens) * config.output_price)
        / 1_000_000.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::{ChatMessage, Content, ImageUrl, Part, Role, Tool};

    fn produced<'a>(reported: Option<Usage>, text: &'a str, complete: bool) -> Produced<'a> {
        Produced {
            reported,
            text,
            reasoning: "",
            tool_calls: &[],
            complete,
        }
    }

    fn hello() -> ChatRequest {
        ChatRequest {
            messages: vec![ChatMessage::text(Role::User, "你好")],
            ..ChatRequest::default()
        }
    }

    #[test]
    fn images_tools_and_tool_calls_count_in_the_prompt_estimate() {
        let mut request = hello();
        let plain = prompt_estimate(&request);
        request.messages.push(ChatMessage {
            content: Content::Parts(vec![Part::ImageUrl {
                image_url: ImageUrl {
                    url: "https://example.com/a.png".into(),
                    detail: None,
                },
            }]),
            ..ChatMessage::text(Role::User, "")
        });
        assert_eq!(prompt_estimate(&request), plain + IMAGE_TOKENS + 4);
        request.tools.push(Tool {
            name: "get_weather".into(),
            description: None,
            parameters: None,
        });
        assert!(prompt_estimate(&request) > plain + IMAGE_TOKENS + 4);
        let call = ToolCall {
            id: "c".into(),
            name: "f".into(),
            arguments: "{\"city\":\"杭州\"}".into(),
        };
        let only_calls = Produced {
            reported: None,
            text: "",
            reasoning: "",
            tool_calls: std::slice::from_ref(&call),
            complete: false,
        };
        assert!(account(&only_calls, &hello()).usage.completion_tokens > 0);
    }

    #[test]
    fn reported_usage_wins_and_gets_a_total() {
        let reported = Usage {
            prompt_tokens: 10,
            completion_tokens: 5,
            total_tokens: 0,
        };
        let accounted = account(
            &produced(Some(reported), "ignored", true),
            &ChatRequest::default(),
        );
        assert!(!accounted.estimated);
        assert_eq!(accounted.usage.total_tokens, 15);
    }

    #[test]
    fn estimates_when_no_usage_came_back() {
        let accounted = account(&produced(None, "很高兴为您服务", true), &hello());
        assert!(accounted.estimated);
        assert_eq!(accounted.usage.prompt_tokens, 6);
        assert_eq!(accounted.usage.completion_tokens, 7);
        assert_eq!(accounted.usage.total_tokens, 13);
    }

    #[test]
    fn openai_models_are_counted_with_their_vocabulary() {
        let mut request = hello();
        request.model = "gpt-4o-mini".into();
        let text = "The quick brown fox jumps over the lazy dog. ".repeat(20);
        let accounted = account(&produced(None, &text, true), &request);
        assert_eq!(
            accounted.usage.completion_tokens,
            TokenCounter::O200k.count(&text)
        );
        assert_ne!(
            accounted.usage.completion_tokens,
            TokenCounter::Estimate.count(&text)
        );
    }

    #[test]
    fn no_output_costs_nothing_and_partial_output_is_charged() {
        let messages = hello();
        let refused = account(&produced(None, "", false), &messages);
        assert_eq!(refused, Accounted::default());
        let cut = account(&produced(None, "半句", false), &messages);
        assert_eq!(cut.usage.prompt_tokens, 6);
        assert_eq!(cut.usage.completion_tokens, 2);
        assert!(cut.estimated);
        let thinking_only = Produced {
            reported: None,
            text: "",
            reasoning: "让我想想",
            tool_calls: &[],
            complete: false,
        };
        assert_eq!(
            account(&thinking_only, &messages).usage.completion_tokens,
            4
        );
    }
}
