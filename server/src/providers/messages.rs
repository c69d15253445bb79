//! Message reshaping shared by the protocols that take the system prompt out of the
//! conversation and accept only alternating user/assistant turns (Anthropic, Baidu).

use std::borrow::Cow;

use serde::Serialize;

use super::{ChatMessage, Role, Usage};

/// One user or assistant turn as sent upstream.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct Turn<'a> {
    pub role: Role,
    pub content: Cow<'a, str>,
}

/// The system messages joined with a blank line, and the remaining turns with consecutive
/// same-role turns merged (also with a blank line) and leading assistant turns dropped, so
/// the conversation starts with the user and alternates.
pub(crate) fn split_system(messages: &[ChatMessage]) -> (Option<Cow<'_, str>>, Vec<Turn<'_>>) {
    let mut system: Option<Cow<'_, str>> = None;
    let mut turns: Vec<Turn<'_>> = Vec::with_capacity(messages.len());
    for message in messages {
        if message.role == Role::System {
            append(&mut system, &message.content);
            continue;
        }
        if turns.is_empty() && message.role == Role::Assistant {
            continue;
        }
        match turns.last_mut() {
            Some(last) if last.role == message.role => {
                let content = last.content.to_mut();
                content.push_str("\n\n");
                content.push_str(&message.content);
            }
            _ => turns.push(Turn {
                role: message.role,
                content: Cow::Borrowed(&message.content),
            }),
        }
    }
    (system, turns)
}

fn append<'a>(joined: &mut Option<Cow<'a, str>>, text: &'a str) {
    match joined {
        None => *joined = Some(Cow::Borrowed(text)),
        Some(existing) => {
            let existing = existing.to_mut();
            existing.push_str("\n\n");
            existing.push_str(text);
        }
    }
}

/// Usage from a provider's counters; the total is computed when the provider omits it.
pub(crate) fn usage(prompt: u64, completion: u64, total: Option<u64>) -> Usage {
    let clamp = |n: u64| u32::try_from(n).unwrap_or(u32::MAX);
    Usage {
        prompt_tokens: clamp(prompt),
        completion_tokens: clamp(completion),
        total_tokens: clamp(total.unwrap_or(prompt.saturating_add(completion))),
    }
}

/// `0` in [`super::ChatRequest::max_tokens`] means "not set": the field is then omitted.
pub(crate) fn max_tokens(value: u32) -> Option<u32> {
    (value > 0).then_some(value)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn msg(role: Role, content: &str) -> ChatMessage {
        ChatMessage {
            role,
            content: content.to_owned(),
        }
    }

    #[test]
    fn systems_join_and_same_roles_merge() {
        let messages = [
            msg(Role::System, "a"),
            msg(Role::System, "b"),
            msg(Role::Assistant, "leading"),
            msg(Role::User, "u1"),
            msg(Role::User, "u2"),
            msg(Role::Assistant, "x"),
            msg(Role::User, "u3"),
        ];
        let (system, turns) = split_system(&messages);
        assert_eq!(system.as_deref(), Some("a\n\nb"));
        let got: Vec<(Role, &str)> = turns.iter().map(|t| (t.role, &*t.content)).collect();
        assert_eq!(
            got,
            [
                (Role::User, "u1\n\nu2"),
                (Role::Assistant, "x"),
                (Role::User, "u3")
            ]
        );
        assert!(matches!(turns[1].content, Cow::Borrowed(_)));
    }

    #[test]
    fn no_system_gives_none() {
        let messages = [msg(Role::User, "hi")];
        let (system, turns) = split_system(&messages);
        assert!(system.is_none());
        assert_eq!(turns.len(), 1);
    }

    #[test]
    fn usage_computes_missing_total() {
        assert_eq!(usage(3, 4, None).total_tokens, 7);
        assert_eq!(usage(3, 4, Some(9)).total_tokens, 9);
    }
}
