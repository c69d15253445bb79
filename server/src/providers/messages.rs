//! Message reshaping shared by the protocols: OpenAI's message shape as the OpenAI
//! dialects and DashScope send it, and the alternating user/assistant turns with the system
//! prompt taken out that Baidu takes.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::{
    ChatMessage, Content, Part, ResponseFormat, Role, Tool, ToolCall, ToolCallDelta, ToolChoice,
    Usage,
};

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
        if message.role.is_instruction() {
            append_cow(&mut system, message.content.text());
            continue;
        }
        if turns.is_empty() && message.role == Role::Assistant {
            continue;
        }
        match turns.last_mut() {
            Some(last) if last.role == message.role => {
                let content = last.content.to_mut();
                content.push_str("\n\n");
                content.push_str(&message.content.text());
            }
            _ => turns.push(Turn {
                role: message.role,
                content: message.content.text(),
            }),
        }
    }
    (system, turns)
}

/// Appends `text` after a blank line.
pub(crate) fn append_cow<'a>(joined: &mut Option<Cow<'a, str>>, text: Cow<'a, str>) {
    match joined {
        None => *joined = Some(text),
        Some(existing) => {
            let existing = existing.to_mut();
            existing.push_str("\n\n");
            existing.push_str(&text);
        }
    }
}

/// How an OpenAI-shaped protocol spells what differs between them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Style {
    /// Whether `developer` is a role upstream (else it is sent as `system`).
    pub developer_role: bool,
    pub images: ImageStyle,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ImageStyle {
    /// `{"type":"image_url","image_url":{"url"}}` as given.
    OpenAi,
    /// The same, but a `data:` URL's base64 without its prefix (Zhipu's SDK does this).
    RawBase64,
    /// DashScope's multimodal endpoint: every content a list, `[{"image": url}, {"text": …}]`.
    DashScope,
}

/// One message in OpenAI's wire shape.
#[derive(Debug, Serialize)]
pub(crate) struct WireMessage<'a> {
    role: &'static str,
    content: WireContent<'a>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tool_calls: Vec<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tool_call_id: Option<&'a str>,
}

/// A message's `content`: plain text is borrowed as it is (most messages, and most of a
/// request's bytes, so it is not copied for every attempt), anything else is built as JSON.
#[derive(Debug, Serialize)]
#[serde(untagged)]
enum WireContent<'a> {
    Text(&'a str),
    Json(Value),
}

pub(crate) fn wire_messages(messages: &[ChatMessage], style: Style) -> Vec<WireMessage<'_>> {
    messages
        .iter()
        .map(|message| WireMessage {
            role: match message.role {
                Role::Developer if style.developer_role => "developer",
                Role::System | Role::Developer => "system",
                Role::User => "user",
                Role::Assistant => "assistant",
                Role::Tool => "tool",
            },
            content: wire_content(message, style.images),
            tool_calls: message.tool_calls.iter().map(wire_tool_call).collect(),
            tool_call_id: message.tool_call_id.as_deref(),
        })
        .collect()
}

fn wire_content(message: &ChatMessage, images: ImageStyle) -> WireContent<'_> {
    let json = match &message.content {
        // An assistant turn that only calls tools has no content.
        Content::Text(text) if text.is_empty() && !message.tool_calls.is_empty() => Value::Null,
        Content::Text(text) if images == ImageStyle::DashScope => json!([{ "text": text }]),
        Content::Text(text) => return WireContent::Text(text),
        Content::Parts(parts) => Value::Array(
            parts
                .iter()
                .map(|part| match (part, images) {
                    (Part::Text { text }, ImageStyle::DashScope) => json!({ "text": text }),
                    (Part::Text { text }, _) => json!({ "type": "text", "text": text }),
                    (Part::ImageUrl { image_url }, ImageStyle::DashScope) => {
                        json!({ "image": image_url.url })
                    }
                    (Part::ImageUrl { image_url }, ImageStyle::OpenAi) => {
                        json!({ "type": "image_url", "image_url": image_url })
                    }
                    (Part::ImageUrl { image_url }, ImageStyle::RawBase64) => {
                        let url = data_url(&image_url.url).map_or(image_url.url.as_str(), |d| d.1);
                        json!({ "type": "image_url", "image_url": { "url": url } })
                    }
                })
                .collect(),
        ),
    };
    WireContent::Json(json)
}

/// A `data:<media type>;base64,<data>` URL's media type and data.
pub(crate) fn data_url(url: &str) -> Option<(&str, &str)> {
    let rest = url.strip_prefix("data:")?;
    let (media_type, data) = rest.split_once(";base64,")?;
    Some((media_type, data))
}

pub(crate) fn wire_tool_call(call: &ToolCall) -> Value {
    json!({
        "id": call.id,
        "type": "function",
        "function": { "name": call.name, "arguments": call.arguments },
    })
}

/// `tools` in OpenAI's shape (DashScope and Zhipu take the same).
pub(crate) fn wire_tools(tools: &[Tool]) -> Option<Vec<Value>> {
    (!tools.is_empty()).then(|| {
        tools
            .iter()
            .map(|tool| {
                json!({
                    "type": "function",
                    "function": {
                        "name": tool.name,
                        "description": tool.description,
                        "parameters": tool.schema(),
                    },
                })
            })
            .collect()
    })
}

/// `tool_choice` in OpenAI's shape.
pub(crate) fn wire_tool_choice(choice: &ToolChoice) -> Value {
    match choice {
        ToolChoice::Auto => json!("auto"),
        ToolChoice::None => json!("none"),
        ToolChoice::Required => json!("required"),
        ToolChoice::Function(name) => json!({"type": "function", "function": {"name": name}}),
    }
}

/// `response_format` in OpenAI's shape (DashScope and Zhipu take the same).
pub(crate) fn response_format(format: &ResponseFormat) -> Value {
    match format {
        ResponseFormat::JsonObject => json!({"type": "json_object"}),
        ResponseFormat::JsonSchema {
            name,
            schema,
            strict,
        } => json!({
            "type": "json_schema",
            "json_schema": {"name": name, "schema": schema, "strict": strict},
        }),
    }
}

/// `message.tool_calls` of an OpenAI-shaped answer (also DashScope's).
pub(crate) fn tool_calls(message: Option<&Value>) -> Vec<ToolCall> {
    let calls = message
        .and_then(|m| m.get("tool_calls"))
        .and_then(Value::as_array);
    calls
        .into_iter()
        .flatten()
        .map(|call| {
            let text = |pointer: &str| {
                call.pointer(pointer)
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_owned()
            };
            ToolCall {
                id: text("/id"),
                name: text("/function/name"),
                // Some upstreams send the arguments as an object rather than its JSON text.
                arguments: match call.pointer("/function/arguments") {
                    Some(Value::String(text)) => text.clone(),
                    Some(other) if !other.is_null() => other.to_string(),
                    _ => String::new(),
                },
            }
        })
        .collect()
}

/// A tool-call piece: `index` is the call's position; `id` and `name` come with its first
/// piece (DashScope and Zhipu repeat them, empty or not: [`Out::tool_call`] copes).
#[derive(Debug, Deserialize)]
pub(crate) struct ToolCallChunk {
    index: Option<u32>,
    id: Option<String>,
    function: Option<FunctionChunk>,
}

#[derive(Debug, Deserialize)]
struct FunctionChunk {
    name: Option<String>,
    arguments: Option<Value>,
}

impl ToolCallChunk {
    pub(crate) fn into_delta(self, position: usize) -> ToolCallDelta {
        let (name, arguments) = match self.function {
            Some(function) => (function.name, function.arguments),
            None => (None, None),
        };
        ToolCallDelta {
            index: self.index.unwrap_or(position as u32),
            id: self.id,
            name,
            arguments: match arguments {
                Some(Value::String(text)) => text,
                Some(Value::Null) | None => String::new(),
                // Zhipu may send the whole arguments as an object.
                Some(other) => other.to_string(),
            },
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
        ChatMessage::text(role, content)
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
    fn wire_messages_spell_roles_images_and_tool_calls_per_style() {
        let image = Part::ImageUrl {
            image_url: super::super::ImageUrl {
                url: "data:image/png;base64,AAAA".into(),
                detail: None,
            },
        };
        let messages = [
            msg(Role::Developer, "be brief"),
            ChatMessage {
                content: Content::Parts(vec![
                    Part::Text {
                        text: "看图".into(),
                    },
                    image,
                ]),
                ..msg(Role::User, "")
            },
            ChatMessage {
                tool_calls: vec![ToolCall {
                    id: "call_1".into(),
                    name: "f".into(),
                    arguments: "{}".into(),
                }],
                ..msg(Role::Assistant, "")
            },
            ChatMessage {
                tool_call_id: Some("call_1".into()),
                ..msg(Role::Tool, "42")
            },
        ];
        let wire = |developer_role, images| {
            serde_json::to_value(wire_messages(
                &messages,
                Style {
                    developer_role,
                    images,
                },
            ))
            .unwrap()
        };
        let openai = wire(true, ImageStyle::OpenAi);
        assert_eq!(openai[0]["role"], "developer");
        assert_eq!(
            openai[1]["content"][1]["image_url"]["url"],
            "data:image/png;base64,AAAA"
        );
        assert_eq!(openai[2]["content"], Value::Null);
        assert_eq!(openai[2]["tool_calls"][0]["function"]["name"], "f");
        assert_eq!(openai[3]["tool_call_id"], "call_1");
        let zhipu = wire(false, ImageStyle::RawBase64);
        assert_eq!(zhipu[0]["role"], "system");
        assert_eq!(zhipu[1]["content"][1]["image_url"]["url"], "AAAA");
        let dashscope = wire(false, ImageStyle::DashScope);
        assert_eq!(
            dashscope[1]["content"],
            json!([{"text": "看图"}, {"image": "data:image/png;base64,AAAA"}])
        );
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
