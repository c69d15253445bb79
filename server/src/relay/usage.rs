//! Token accounting: the provider's usage when it sent one, a local count otherwise,
//! and the cost from the config's prices.

use entity::llm_configs;

use crate::providers::{ChatMessage, Usage};

/// Usage as recorded, with whether it had to be estimated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Accounted {
    pub usage: Usage,
    pub estimated: bool,
}

/// The provider's usage, or a local estimate from the texts when it sent none.
pub fn account(reported: Option<Usage>, messages: &[ChatMessage], reply: &str) -> Accounted {
    match reported {
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
            // Each message carries a few tokens of framing (role, separators).
            let prompt = messages
                .iter()
                .map(|m| estimate_tokens(&m.content) + 4)
                .sum::<u32>();
            let completion = estimate_tokens(reply);
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

    #[test]
    fn reported_usage_wins_and_gets_a_total() {
        let reported = Usage {
            prompt_tokens: 10,
            completion_tokens: 5,
            total_tokens: 0,
        };
        let accounted = account(Some(reported), &[], "ignored");
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
        let accounted = account(None, &messages, "很高兴为您服务");
        assert!(accounted.estimated);
        assert_eq!(accounted.usage.prompt_tokens, 6);
        assert_eq!(accounted.usage.completion_tokens, 7);
        assert_eq!(accounted.usage.total_tokens, 13);
    }
}
