//! `POST /v1/messages`: Anthropic's Messages request, read into the relay's own types so it
//! reaches a config of any provider.

use serde::Deserialize;
use serde_json::Value;

use crate::{
    error::{AppError, AppResult},
    providers::{ChatMessage, Content, ImageUrl, Part, Role, Tool, ToolCall, ToolChoice},
    relay::Overrides,
};

#[derive(Debug, Deserialize)]
pub struct MessagesRequest {
    pub model: String,
    max_tokens: i64,
    messages: Vec<InMessage>,
    system: Option<Value>,
    pub stream: Option<bool>,
    stop_sequences: Option<Vec<String>>,
    temperature: Option<f64>,
    top_p: Option<f64>,
    metadata: Option<Metadata>,
    tools: Option<Vec<InTool>>,
    tool_choice: Option<Value>,
    thinking: Option<Value>,
}

#[derive(Debug, Deserialize)]
struct InMessage {
    role: String,
    content: Value,
}

#[derive(Debug, Deserialize)]
struct Metadata {
    user_id: Option<String>,
}

#[derive(Debug, Deserialize)]
struct InTool {
    name: String,
    description: Option<String>,
    input_schema: Option<Value>,
}

fn bad(message: impl Into<String>) -> AppError {
    AppError::validation("messages", message)
}

impl MessagesRequest {
    pub fn is_stream(&self) -> bool {
        self.stream == Some(true)
    }

    pub fn into_parts(self) -> AppResult<(Vec<ChatMessage>, Overrides)> {
        let mut messages = Vec::with_capacity(self.messages.len() + 1);
        if let Some(system) = self.system {
            messages.push(ChatMessage::text(Role::System, text_of(&system)?));
        }
        for message in self.messages {
            turn(message, &mut messages)?;
        }
        let (parallel, tool_choice) = match self.tool_choice {
            Some(choice) => tool_choice(&choice)?,
            None => (None, None),
        };
        let overrides = Overrides {
            max_tokens: Some(
                i32::try_from(self.max_tokens)
                    .map_err(|_| AppError::validation("max_tokens", "Max Tokens 超出范围"))?,
            ),
            temperature: self.temperature,
            top_p: self.top_p,
            stop: self.stop_sequences.unwrap_or_default(),
            user: self.metadata.and_then(|m| m.user_id),
            tools: self
                .tools
                .unwrap_or_default()
                .into_iter()
                .map(|tool| Tool {
                    name: tool.name,
                    description: tool.description,
                    parameters: tool.input_schema,
                })
                .collect(),
            tool_choice,
            parallel_tool_calls: parallel,
            reasoning_effort: self.thinking.as_ref().and_then(reasoning_effort),
            ..Overrides::default()
        };
        Ok((messages, overrides))
    }
}

/// One Anthropic turn as OpenAI-shaped messages: a user turn's `tool_result` blocks become
/// `tool` messages (first, as Anthropic requires them first), the rest one user message; an
/// assistant turn's `tool_use` blocks become its tool calls; thinking blocks are dropped.
fn turn(message: InMessage, out: &mut Vec<ChatMessage>) -> AppResult<()> {
    let role = match message.role.as_str() {
        "user" => Role::User,
        "assistant" => Role::Assistant,
        // Claude Code sends mid-conversation system entries.
        "system" => Role::System,
        other => return Err(bad(format!("不支持的消息角色：{other}"))),
    };
    let blocks = match message.content {
        Value::String(text) => {
            out.push(ChatMessage::text(role, text));
            return Ok(());
        }
        Value::Array(blocks) => blocks,
        _ => return Err(bad("消息内容必须是字符串或内容块数组")),
    };
    let mut parts = Vec::new();
    let mut tool_calls = Vec::new();
    for block in blocks {
        match block.get("type").and_then(Value::as_str).unwrap_or("") {
            "text" => parts.push(Part::Text {
                text: str_field(&block, "text").into(),
            }),
            "image" => parts.push(Part::ImageUrl {
                image_url: image(&block)?,
            }),
            "tool_use" => tool_calls.push(ToolCall {
                id: str_field(&block, "id").into(),
                name: str_field(&block, "name").into(),
                arguments: block.get("input").map_or("{}".into(), Value::to_string),
            }),
            "tool_result" => {
                let content = block.get("content").map(text_of).transpose()?;
                let mut content = content.unwrap_or_default();
                if block.get("is_error").and_then(Value::as_bool) == Some(true) {
                    content.insert_str(0, "[error] ");
                }
                out.push(ChatMessage {
                    tool_call_id: Some(str_field(&block, "tool_use_id").into()),
                    ..ChatMessage::text(Role::Tool, content)
                });
            }
            "thinking" | "redacted_thinking" => {}
            other => {
                return Err(AppError::Unsupported {
                    field: "messages",
                    message: format!("不支持的内容块类型：{other}"),
                });
            }
        }
    }
    if parts.is_empty() && tool_calls.is_empty() {
        return Ok(());
    }
    out.push(ChatMessage {
        role,
        content: Content::from_parts(parts),
        tool_calls,
        tool_call_id: None,
    });
    Ok(())
}

fn str_field<'a>(block: &'a Value, field: &str) -> &'a str {
    block.get(field).and_then(Value::as_str).unwrap_or("")
}

/// A string, or text blocks joined with a blank line.
fn text_of(value: &Value) -> AppResult<String> {
    match value {
        Value::String(text) => Ok(text.clone()),
        Value::Array(blocks) => Ok(blocks
            .iter()
            .filter(|b| b.get("type").and_then(Value::as_str) == Some("text"))
            .map(|b| str_field(b, "text"))
            .collect::<Vec<_>>()
            .join("\n\n")),
        _ => Err(bad("内容必须是字符串或文本块数组")),
    }
}

fn image(block: &Value) -> AppResult<ImageUrl> {
    let source = block
        .get("source")
        .ok_or_else(|| bad("image 块缺少 source"))?;
    let url = match source.get("type").and_then(Value::as_str) {
        Some("base64") => format!(
            "data:{};base64,{}",
            str_field(source, "media_type"),
            str_field(source, "data")
        ),
        Some("url") => str_field(source, "url").to_owned(),
        _ => return Err(bad("image 块的 source 无效")),
    };
    Ok(ImageUrl { url, detail: None })
}

/// `(parallel_tool_calls, tool_choice)`.
fn tool_choice(choice: &Value) -> AppResult<(Option<bool>, Option<ToolChoice>)> {
    let parallel = choice
        .get("disable_parallel_tool_use")
        .and_then(Value::as_bool)
        .map(|disabled| !disabled);
    let choice = match choice.get("type").and_then(Value::as_str) {
        Some("auto") => ToolChoice::Auto,
        Some("any") => ToolChoice::Required,
        Some("none") => ToolChoice::None,
        Some("tool") => ToolChoice::Function(str_field(choice, "name").into()),
        _ => return Err(AppError::validation("tool_choice", "tool_choice 无效")),
    };
    Ok((parallel, Some(choice)))
}

/// `thinking` as OpenAI's `reasoning_effort`, by its budget.
fn reasoning_effort(thinking: &Value) -> Option<String> {
    let effort = match thinking.get("type").and_then(Value::as_str)? {
        "disabled" => "none",
        "adaptive" => "medium",
        "enabled" => match thinking.get("budget_tokens").and_then(Value::as_u64) {
            Some(0..=1024) => "low",
            Some(1025..=4095) => "medium",
            _ => "high",
        },
        _ => return None,
    };
    Some(effort.into())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;

    #[test]
    fn tool_use_results_images_and_thinking_become_the_relay_s_shape() {
        let request: MessagesRequest = serde_json::from_value(json!({
            "model": "m", "max_tokens": 100,
            "system": [{"type": "text", "text": "简洁"}],
            "messages": [
                {"role": "user", "content": "杭州天气？"},
                {"role": "assistant", "content": [
                    {"type": "thinking", "thinking": "查", "signature": "s"},
                    {"type": "text", "text": "我来查"},
                    {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {"city": "杭州"}}]},
                {"role": "user", "content": [
                    {"type": "tool_result", "tool_use_id": "toolu_1", "content": [{"type": "text", "text": "晴"}]},
                    {"type": "text", "text": "谢谢"},
                    {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "AAAA"}}]}],
            "tools": [{"name": "get_weather", "input_schema": {"type": "object"}}],
            "tool_choice": {"type": "any", "disable_parallel_tool_use": true},
            "thinking": {"type": "enabled", "budget_tokens": 2048},
            "metadata": {"user_id": "u1"},
            "stop_sequences": ["END"]
        }))
        .unwrap();
        let (messages, overrides) = request.into_parts().unwrap();
        let roles: Vec<Role> = messages.iter().map(|m| m.role).collect();
        assert_eq!(
            roles,
            [
                Role::System,
                Role::User,
                Role::Assistant,
                Role::Tool,
                Role::User
            ]
        );
        assert_eq!(messages[2].content.text(), "我来查");
        assert_eq!(messages[2].tool_calls[0].arguments, "{\"city\":\"杭州\"}");
        assert_eq!(messages[3].tool_call_id.as_deref(), Some("toolu_1"));
        assert_eq!(messages[3].content.text(), "晴");
        assert_eq!(
            messages[4].content.images().next().unwrap().url,
            "data:image/png;base64,AAAA"
        );
        assert_eq!(overrides.tool_choice, Some(ToolChoice::Required));
        assert_eq!(overrides.parallel_tool_calls, Some(false));
        assert_eq!(overrides.reasoning_effort.as_deref(), Some("medium"));
        assert_eq!(overrides.user.as_deref(), Some("u1"));
        assert_eq!(overrides.max_tokens, Some(100));
    }
}
