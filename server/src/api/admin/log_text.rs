//! The text of a recorded request as the log list and the CSV show it.

use serde_json::Value;

/// The text a person typed: the last user message, else the last message. Content given as
/// parts (text and images) shows its text parts.
pub fn request_text(messages: &Value) -> String {
    let list = messages.as_array().map(Vec::as_slice).unwrap_or_default();
    let Some(message) = list
        .iter()
        .rev()
        .find(|m| m["role"] == "user")
        .or_else(|| list.last())
    else {
        return String::new();
    };
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
}
