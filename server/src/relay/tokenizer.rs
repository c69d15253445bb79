//! Counting tokens before the upstream does. OpenAI-family models (GPT-4o, GPT-4.1, GPT-5,
//! the o-series, GPT-4 and GPT-3.5) are counted with their real BPE vocabulary; every other
//! model with a CJK-aware estimate, since their vocabularies are not public or not shipped.
//!
//! A vocabulary costs about 45 MB of memory and a fraction of a second to load, so each is
//! loaded the first time a call to one of its models is counted, never at start-up: a proxy
//! that serves only Qwen or GLM never pays for it.

use std::{
    collections::HashMap,
    hash::{BuildHasher, RandomState},
    sync::{LazyLock, Mutex},
};

use tiktoken_rs::{CoreBPE, cl100k_base_singleton, o200k_base_singleton, tokenizer as openai};

/// How a model's text is counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TokenCounter {
    /// `o200k_base`: GPT-4o and everything after it.
    O200k,
    /// `cl100k_base`: GPT-4 and GPT-3.5.
    Cl100k,
    /// Neither: about one token per CJK character and one per four other characters.
    Estimate,
}

impl TokenCounter {
    /// The counter for the model name a config sends upstream (also when an
    /// OpenAI-compatible relay serves an OpenAI model under its own name).
    pub fn for_model(model: &str) -> Self {
        match openai::get_tokenizer(model) {
            Some(openai::Tokenizer::O200kBase | openai::Tokenizer::O200kHarmony) => Self::O200k,
            Some(openai::Tokenizer::Cl100kBase) => Self::Cl100k,
            // Older vocabularies (p50k, r50k) serve retired completion models only; not worth
            // their memory.
            _ => Self::Estimate,
        }
    }

    pub fn count(self, text: &str) -> u32 {
        if text.is_empty() {
            return 0;
        }
        match self {
            Self::O200k => bpe_count(o200k_base_singleton(), text),
            Self::Cl100k => bpe_count(cl100k_base_singleton(), text),
            Self::Estimate => estimate(text),
        }
    }

    /// `count` for a prompt's parts, which come again from call to call (a template's system
    /// prompt, the conversation so far, the tools' definitions): a vocabulary counts about
    /// 80 ns a byte of Chinese text (~240 µs for 1,000 characters), so its counts are kept,
    /// by a keyed hash of the vocabulary and the text.
    pub fn count_prompt(self, text: &str) -> u32 {
        if self == Self::Estimate || text.is_empty() {
            return self.count(text);
        }
        let key = PROMPT_COUNTS.hasher.hash_one((self, text));
        if let Some(&count) = PROMPT_COUNTS.lock().get(&key) {
            return count;
        }
        let count = self.count(text);
        let mut counts = PROMPT_COUNTS.lock();
        // Bounded: started over when full (~100 KB at most).
        if counts.len() >= PROMPT_COUNTS_KEPT {
            counts.clear();
        }
        counts.insert(key, count);
        count
    }
}

/// How many prompt parts' counts are kept.
const PROMPT_COUNTS_KEPT: usize = 4096;

/// Counts of prompt parts, by a hash keyed at random per process, so that no one can
/// choose texts whose hashes meet.
struct PromptCounts {
    hasher: RandomState,
    counts: Mutex<HashMap<u64, u32>>,
}

impl PromptCounts {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, u32>> {
        self.counts
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

static PROMPT_COUNTS: LazyLock<PromptCounts> = LazyLock::new(|| PromptCounts {
    hasher: RandomState::new(),
    counts: Mutex::default(),
});

fn bpe_count(bpe: &CoreBPE, text: &str) -> u32 {
    u32::try_from(bpe.encode_ordinary(text).len()).unwrap_or(u32::MAX)
}

/// The tokenizer-free estimate: the ratio the common BPE vocabularies show for Chinese and
/// English text.
fn estimate(text: &str) -> u32 {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn openai_models_get_their_vocabulary() {
        assert_eq!(TokenCounter::for_model("gpt-4o-mini"), TokenCounter::O200k);
        assert_eq!(TokenCounter::for_model("gpt-5"), TokenCounter::O200k);
        assert_eq!(TokenCounter::for_model("o3-mini"), TokenCounter::O200k);
        assert_eq!(TokenCounter::for_model("gpt-4"), TokenCounter::Cl100k);
        assert_eq!(
            TokenCounter::for_model("gpt-3.5-turbo-0125"),
            TokenCounter::Cl100k
        );
        for other in ["qwen-plus", "glm-4", "claude-sonnet-4", "ernie-4.0-8k", ""] {
            assert_eq!(TokenCounter::for_model(other), TokenCounter::Estimate);
        }
    }

    #[test]
    fn counts_match_the_vocabularies() {
        // Reference counts from OpenAI's tokenizer for these exact strings.
        assert_eq!(TokenCounter::O200k.count("hello world"), 2);
        assert_eq!(TokenCounter::Cl100k.count("hello world"), 2);
        assert_eq!(TokenCounter::O200k.count(""), 0);
        let chinese = "请帮我总结一下今天的会议内容";
        let counted = TokenCounter::O200k.count(chinese);
        assert!(counted > 0 && counted < TokenCounter::Estimate.count(chinese));
    }

    #[test]
    fn a_prompt_part_counts_alike_again_and_per_vocabulary() {
        let chinese = "请帮我把这段客户留言整理成三条要点，并用礼貌的语气回复。";
        let per_vocabulary = [TokenCounter::O200k, TokenCounter::Cl100k].map(|counter| {
            let first = counter.count_prompt(chinese);
            assert_eq!(first, counter.count(chinese));
            assert_eq!(counter.count_prompt(chinese), first, "counted again");
            first
        });
        // The vocabularies count this text differently: a count kept for one is not the
        // other's.
        assert_ne!(per_vocabulary[0], per_vocabulary[1]);
        assert_eq!(
            TokenCounter::Estimate.count_prompt(chinese),
            TokenCounter::Estimate.count(chinese)
        );
    }

    #[test]
    fn prompt_counts_kept_stay_bounded() {
        for n in 0..PROMPT_COUNTS_KEPT + 10 {
            let text = format!("part {n}");
            assert_eq!(
                TokenCounter::Cl100k.count_prompt(&text),
                TokenCounter::Cl100k.count(&text)
            );
        }
        assert!(PROMPT_COUNTS.lock().len() <= PROMPT_COUNTS_KEPT);
    }

    #[test]
    fn estimates_chinese_and_english() {
        assert_eq!(TokenCounter::Estimate.count("你好世界"), 4);
        assert_eq!(TokenCounter::Estimate.count("hello world!"), 3);
        assert_eq!(TokenCounter::Estimate.count("你好, world"), 4);
    }
}
