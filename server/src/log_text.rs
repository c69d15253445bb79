//! The text of a call record as a person reads it: the list's and the CSV's request column,
//! and what the log search (`q`) looks through. JSON syntax (keys such as `"role"`, quotes,
//! brackets) is never part of it, so a search cannot match it.

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
/// turns included), then the reply, one per line. The migration that indexes older records
/// (`m20261130_000045_call_log_search`) renders the same text in SQL.
pub fn search_text(messages: &Value, reply: Option<&str>) -> String {
    let list = messages.as_array().map(Vec::as_slice).unwrap_or_default();
    let mut lines: Vec<String> = list
        .iter()
        .map(message_text)
        .filter(|text| !text.is_empty())
        .collect();
    if let Some(reply) = reply.filter(|reply| !reply.is_empty()) {
        lines.push(reply.to_string());
    }
    lines.join("\n")
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
        let messages = json!([
            {"role": "system", "content": "你是助手"},
            {"role": "user", "content": [
                {"type": "text", "text": "看图"},
                {"type": "image_url", "image_url": {"url": "https://img.example/a.png"}}]},
            {"role": "assistant", "content": null, "tool_calls": []}
        ]);
        let text = search_text(&messages, Some("好的"));
        assert_eq!(text, "你是助手\n看图\n好的");
        assert!(!text.contains("role") && !text.contains("https"));
        assert_eq!(search_text(&json!({"omitted": "x"}), None), "");
    }
}
