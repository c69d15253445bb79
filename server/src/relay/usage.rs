//! Token accounting: a call is charged what it used. The provider's usage when it sent one,
//! a local estimate of what was actually generated otherwise, and nothing at all for a call
//! that produced no output (refused, failed or timed out before any). Cost comes from the
//! config's prices.

use entity::llm_configs;

use crate::providers::{ChatMessage, Usage};

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
    /// The upstream answered in full (a success is charged even when its text is empty:
    /// the model may have spent its tokens on hidden reasoning).
    pub complete: bool,
}

impl Produced<'_> {
    fn any_output(&self) -> bool {
        self.complete
            || !self.text.is_empty()
            || !self.reasoning.is_empty()
            || self.reported.is_some_and(|u| u.completion_tokens > 0)
    }
}

/// The charge for one call: zero without output, else the reported usage or an estimate.
pub fn account(produced: &Produced<'_>, messages: &[ChatMessage]) -> Accounted {
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
            let prompt = prompt_estimate(messages);
            let completion = estimate_tokens(produced.text) + estimate_tokens(produced.reasoning);
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

/// The prompt's tokens as estimated before sending: each message carries a few tokens of
/// framing (role, separators).
pub fn prompt_estimate(messages: &[ChatMessage]) -> u32 {
    messages
        .iter()
        .map(|m| estimate_tokens(&m.content) + 4)
        .sum()
}

/// A tokenizer-free estimate: about one token per CJK character and one per four other
/// characters — the ratio the common BPE vocabularies show for Chinese and English text.
pub fn estimate_tokens(text: &str) -> u32 {
    let (cjk, other) = text.chars().fold((0u32, 0u32), |(cjk, other), c| {
        if is_cjk(c) {
            (cjk + 1, other)
        } else {
            (cjk, other + 1)
        }
    });
    cjk + other.div_ceil(4)
}

fn is_cjk(c: char) -> bool {
    matches!(c, '\u{4e00}'..='\u{9fff}' | '\u{3400}'..='\u{4dbf}' | '\u{3000}'..='\u{303f}' | '\u{ff00}'..='\u{ffef}')
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
    use crate::providers::Role;

    fn produced<'a>(reported: Option<Usage>, text: &'a str, complete: bool) -> Produced<'a> {
        Produced {
            reported,
            text,
            reasoning: "",
            complete,
        }
    }

    #[test]
    fn reported_usage_wins_and_gets_a_total() {
        let reported = Usage {
            prompt_tokens: 10,
            completion_tokens: 5,
            total_tokens: 0,
        };
        let accounted = account(&produced(Some(reported), "ignored", true), &[]);
        assert!(!accounted.estimated);
        assert_eq!(accounted.usage.total_tokens, 15);
    }

    #[test]
    fn estimates_chinese_and_english() {
        assert_eq!(estimate_tokens("你好世界"), 4);
        assert_eq!(estimate_tokens("hello world!"), 3);
        let messages = [ChatMessage {
            role: Role::User,
            content: "你好".into(),
        }];
        let accounted = account(&produced(None, "很高兴为您服务", true), &messages);
        assert!(accounted.estimated);
        assert_eq!(accounted.usage.prompt_tokens, 6);
        assert_eq!(accounted.usage.completion_tokens, 7);
        assert_eq!(accounted.usage.total_tokens, 13);
    }

    #[test]
    fn no_output_costs_nothing_and_partial_output_is_charged() {
        let messages = [ChatMessage {
            role: Role::User,
            content: "你好".into(),
        }];
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
            complete: false,
        };
        assert_eq!(
            account(&thinking_only, &messages).usage.completion_tokens,
            4
        );
    }
}
