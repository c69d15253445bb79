//! The text of a call record as a person reads it: the list's and the CSV's request column,
//! and what the log search (`q`) looks through. JSON syntax (keys such as `"role"`, quotes,
//! brackets) is never part of it, so a search cannot match it.

use std::borrow::Cow;

use serde_json::Value;

/// The text a person typed: the last user message, else the last message. Content given as
/// parts (text and images) shows its text parts.
pub fn request_text(messages: &Value) -> String {
    let list = messages.as_array().map(Vec::as_slice).unwrap_or_default();
    list.iter()
        .rev()
        .find(|m| m["role"] == "user")
        .or_else(|| list.last())
        .map(message_text)
        .unwrap_or_default()
}

/// What the log search looks through: the text of every message (system prompt and earlier
/// turns included; each as `message_text` reads it from the stored record), then the reply,
/// one per line. The record's maker passes the typed messages' texts. The migration that
/// indexes older records (`m20261130_000045_call_log_search`) renders the same text in SQL.
pub fn search_text<'a>(
    messages: impl IntoIterator<Item = Cow<'a, str>>,
    reply: Option<&'a str>,
) -> String {
    let mut text = String::new();
    let reply = reply.map(Cow::Borrowed);
    for line in messages.into_iter().chain(reply) {
        if line.is_empty() {
            continue;
        }
        if !text.is_empty() {
            text.push('\n');
        }
        text.push_str(&line);
    }
    text
}

/// One message's text: its content string, or the text of its parts.
fn message_text(message: &Value) -> String {
    match &message["content"] {
        Value::String(text) => text.clone(),
        Value::Array(parts) => parts
            .iter()
            .filter_map(|part| part["text"].as_str())
            .collect::<Vec<_>>()
            .join("\n"),
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_last_user_message_and_the_text_of_parts() {
        let messages = json!([
            {"role": "system", "content": "sys"},
            {"role": "user", "content": "第一"},
            {"role": "assistant", "content": "a"},
            {"role": "user", "content": "第二"}
        ]);
        assert_eq!(request_text(&messages), "第二");
        let parts = json!([{"role": "user", "content": [
            {"type": "text", "text": "这是什么"},
            {"type": "image_url", "image_url": {"url": "https://img.example/a.png"}}]}]);
        assert_eq!(request_text(&parts), "这是什么");
        assert_eq!(request_text(&json!([])), "");
    }

    #[test]
    fn search_text_is_every_message_and_the_reply_without_json() {
        use crate::providers::{ChatMessage, Content, ImageUrl, Part, Role};
        let messages = vec![
            ChatMessage::text(Role::System, "你是助手"),
            ChatMessage {
                content: Content::Parts(vec![
                    Part::Text {
                        text: "看图".into(),
                    },
                    Part::ImageUrl {
                        image_url: ImageUrl {
                            url: "https://img.example/a.png".into(),
                            detail: None,
                        },
                    },
                ]),
                ..ChatMessage::text(Role::User, "")
            },
            ChatMessage::text(Role::Assistant, ""),
        ];
        let text = search_text(messages.iter().map(|m| m.content.text()), Some("好的"));
        assert_eq!(text, "你是助手\n看图\n好的");
        assert!(!text.contains("role") && !text.contains("https"));
        // The same lines as a person reads them from the stored record.
        let stored = json!(messages);
        let read: Vec<String> = stored
            .as_array()
            .into_iter()
            .flatten()
            .map(message_text)
            .collect();
        assert_eq!(
            search_text(read.into_iter().map(Cow::Owned), Some("好的")),
            text
        );
        assert_eq!(search_text([], None), "");
    }
}
