//! `POST /v1/chat/completions`: OpenAI's request, read into the relay's own types.

use serde::Deserialize;
use serde_json::Value;

use crate::{
    error::{AppError, AppResult},
    providers::{
        ChatMessage, Content, ImageUrl, Part, ResponseFormat, Role, Tool, ToolCall, ToolChoice,
    },
    relay::Overrides,
};

#[derive(Debug, Deserialize)]
pub struct ChatCompletionRequest {
    pub model: String,
    pub messages: Vec<InMessage>,
    pub stream: Option<bool>,
    pub stream_options: Option<StreamOptions>,
    max_tokens: Option<i64>,
    /// Wins over `max_tokens` (the .NET SDK sends only this one).
    max_completion_tokens: Option<i64>,
    temperature: Option<f64>,
    top_p: Option<f64>,
    frequency_penalty: Option<f64>,
    presence_penalty: Option<f64>,
    stop: Option<Stop>,
    seed: Option<i64>,
    n: Option<i64>,
    user: Option<String>,
    response_format: Option<Value>,
    tools: Option<Vec<InTool>>,
    tool_choice: Option<Value>,
    parallel_tool_calls: Option<bool>,
    reasoning_effort: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct StreamOptions {
    pub include_usage: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Stop {
    One(String),
    Many(Vec<String>),
}

#[derive(Debug, Deserialize)]
pub struct InMessage {
    role: String,
    content: Option<Value>,
    tool_calls: Option<Vec<InToolCall>>,
    tool_call_id: Option<String>,
}

#[derive(Debug, Deserialize)]
struct InToolCall {
    id: String,
    function: InFunctionCall,
}

#[derive(Debug, Deserialize)]
struct InFunctionCall {
    name: String,
    #[serde(default)]
    arguments: String,
}

#[derive(Debug, Deserialize)]
struct InTool {
    #[serde(rename = "type")]
    kind: String,
    function: Option<InFunction>,
}

#[derive(Debug, Deserialize)]
struct InFunction {
    name: String,
    description: Option<String>,
    parameters: Option<Value>,
}

impl ChatCompletionRequest {
    pub fn is_stream(&self) -> bool {
        self.stream == Some(true)
    }

    pub fn include_usage(&self) -> bool {
        self.stream_options
            .as_ref()
            .and_then(|o| o.include_usage)
            .unwrap_or(false)
    }

    /// The conversation and the parameters, checked where OpenAI's own API would refuse.
    pub fn into_parts(self) -> AppResult<(Vec<ChatMessage>, Overrides)> {
        if self.n.is_some_and(|n| n != 1) {
            return Err(AppError::Unsupported {
                field: "n",
                message: "只支持 n = 1".into(),
            });
        }
        let messages = self
            .messages
            .into_iter()
            .map(message)
            .collect::<AppResult<Vec<_>>>()?;
        let max_tokens = self.max_completion_tokens.or(self.max_tokens);
        let overrides = Overrides {
            max_tokens: max_tokens
                .map(|n| i32::try_from(n).map_err(|_| too_many_tokens()))
                .transpose()?,
            temperature: self.temperature,
            top_p: self.top_p,
            frequency_penalty: self.frequency_penalty,
            presence_penalty: self.presence_penalty,
            stop: match self.stop {
                None => Vec::new(),
                Some(Stop::One(stop)) => vec![stop],
                Some(Stop::Many(stops)) => stops,
            },
            seed: self.seed,
            response_format: self
                .response_format
                .map(response_format)
                .transpose()?
                .flatten(),
            user: self.user,
            tools: self
                .tools
                .unwrap_or_default()
                .into_iter()
                .map(tool)
                .collect::<AppResult<_>>()?,
            tool_choice: self.tool_choice.map(tool_choice).transpose()?,
            parallel_tool_calls: self.parallel_tool_calls,
            reasoning_effort: self.reasoning_effort,
        };
        Ok((messages, overrides))
    }
}

fn too_many_tokens() -> AppError {
    AppError::validation("max_tokens", "Max Tokens 超出范围")
}

fn bad(field: &'static str, message: impl Into<String>) -> AppError {
    AppError::validation(field, message)
}

fn message(message: InMessage) -> AppResult<ChatMessage> {
    let role = match message.role.as_str() {
        "system" => Role::System,
        "developer" => Role::Developer,
        "user" => Role::User,
        "assistant" => Role::Assistant,
        "tool" => Role::Tool,
        other => {
            return Err(bad(
                "messages",
                format!(
                    "不支持的消息角色：{other}（可用 system、developer、user、assistant、tool）"
                ),
            ));
        }
    };
    let content = content(message.content, role == Role::User)?;
    let tool_calls = message
        .tool_calls
        .unwrap_or_default()
        .into_iter()
        .map(|call| ToolCall {
            id: call.id,
            name: call.function.name,
            arguments: call.function.arguments,
        })
        .collect();
    if role == Role::Tool && message.tool_call_id.is_none() {
        return Err(bad("messages", "tool 消息必须带 tool_call_id"));
    }
    Ok(ChatMessage {
        role,
        content,
        tool_calls,
        tool_call_id: message.tool_call_id,
    })
}

/// A string, or parts: text everywhere, images in user messages only.
fn content(value: Option<Value>, images_allowed: bool) -> AppResult<Content> {
    let parts = match value {
        None | Some(Value::Null) => return Ok(Content::default()),
        Some(Value::String(text)) => return Ok(Content::Text(text)),
        Some(Value::Array(parts)) => parts,
        Some(_) => return Err(bad("messages", "消息内容必须是字符串或内容片段数组")),
    };
    let parts = parts
        .into_iter()
        .map(|part| {
            let kind = part.get("type").and_then(Value::as_str).unwrap_or("");
            match kind {
                "text" | "refusal" => {
                    let field = if kind == "text" { "text" } else { "refusal" };
                    let text = part.get(field).and_then(Value::as_str).unwrap_or("");
                    Ok(Part::Text { text: text.into() })
                }
                "image_url" if images_allowed => {
                    let image_url: ImageUrl = part
                        .get("image_url")
                        .cloned()
                        .and_then(|v| serde_json::from_value(v).ok())
                        .ok_or_else(|| bad("messages", "image_url 片段缺少 url"))?;
                    Ok(Part::ImageUrl { image_url })
                }
                other => Err(AppError::Unsupported {
                    field: "messages",
                    message: format!("不支持的内容片段类型：{other}"),
                }),
            }
        })
        .collect::<AppResult<Vec<_>>>()?;
    Ok(Content::from_parts(parts))
}

fn tool(tool: InTool) -> AppResult<Tool> {
    match (tool.kind.as_str(), tool.function) {
        ("function", Some(function)) => Ok(Tool {
            name: function.name,
            description: function.description,
            parameters: function.parameters,
        }),
        (kind, _) => Err(AppError::Unsupported {
            field: "tools",
            message: format!("只支持 function 类型的工具（收到 {kind}）"),
        }),
    }
}

fn tool_choice(value: Value) -> AppResult<ToolChoice> {
    let invalid = || bad("tool_choice", "tool_choice 无效");
    match &value {
        Value::String(choice) => match choice.as_str() {
            "auto" => Ok(ToolChoice::Auto),
            "none" => Ok(ToolChoice::None),
            "required" => Ok(ToolChoice::Required),
            _ => Err(invalid()),
        },
        Value::Object(_) => match value.get("type").and_then(Value::as_str) {
            Some("function") => value
                .pointer("/function/name")
                .and_then(Value::as_str)
                .map(|name| ToolChoice::Function(name.into()))
                .ok_or_else(invalid),
            Some("allowed_tools") => {
                match value.pointer("/allowed_tools/mode").and_then(Value::as_str) {
                    Some("required") => Ok(ToolChoice::Required),
                    _ => Ok(ToolChoice::Auto),
                }
            }
            _ => Err(invalid()),
        },
        _ => Err(invalid()),
    }
}

/// `text` is the default and sends nothing.
fn response_format(value: Value) -> AppResult<Option<ResponseFormat>> {
    let invalid = || bad("response_format", "response_format 无效");
    match value.get("type").and_then(Value::as_str) {
        Some("text") => Ok(None),
        Some("json_object") => Ok(Some(ResponseFormat::JsonObject)),
        Some("json_schema") => {
            let spec = value.get("json_schema").ok_or_else(invalid)?;
            Ok(Some(ResponseFormat::JsonSchema {
                name: spec
                    .get("name")
                    .and_then(Value::as_str)
                    .unwrap_or("response")
                    .into(),
                schema: spec
                    .get("schema")
                    .cloned()
                    .unwrap_or_else(|| Value::Object(Default::default())),
                strict: spec.get("strict").and_then(Value::as_bool),
            }))
        }
        _ => Err(invalid()),
    }
}
