//! The Messages API request: instructions in the top-level `system`, strictly alternating
//! user/assistant turns of content blocks, tools as `tool_use` / `tool_result` blocks,
//! images as `image` blocks, reasoning as `thinking` with a token budget.

use std::borrow::Cow;

use serde::Serialize;
use serde_json::{Value, json};

use super::messages::{append_cow, data_url};
use super::{ChatMessage, ChatRequest, Content, ImageUrl, Part, Role, ToolChoice};

/// Used when the request sets no limit: the API refuses a request without one.
pub(crate) const DEFAULT_MAX_TOKENS: u32 = 4096;
/// What the answer may still use beside a thinking budget (`max_tokens` must exceed it).
const ANSWER_TOKENS: u32 = 1024;

#[derive(Debug, Serialize)]
pub(crate) struct Body<'a> {
    model: &'a str,
    max_tokens: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    system: Option<Cow<'a, str>>,
    messages: Vec<Turn<'a>>,
    /// Newer models refuse `temperature` together with `top_p`: at most one is sent.
    #[serde(skip_serializing_if = "Option::is_none")]
    temperature: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    top_p: Option<f64>,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    stop_sequences: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    tools: Option<Vec<Value>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tool_choice: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    thinking: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    metadata: Option<Value>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    stream: bool,
}

/// One turn: a plain string when it is a single text, else its blocks.
#[derive(Debug, Serialize)]
pub(crate) struct Turn<'a> {
    role: &'static str,
    content: TurnContent<'a>,
}

#[derive(Debug, Serialize)]
#[serde(untagged)]
enum TurnContent<'a> {
    Text(Cow<'a, str>),
    Blocks(Vec<Value>),
}

pub(crate) fn body<'a>(req: &'a ChatRequest, stream: bool) -> Body<'a> {
    let (system, messages) = turns(&req.messages);
    let budget = thinking_budget(req);
    let requested = match req.max_tokens {
        0 => DEFAULT_MAX_TOKENS,
        n => n,
    };
    // Thinking refuses temperature changes, top_p below 0.95 and forced tool use.
    let thinking = budget.is_some();
    let temperature = req.temperature.filter(|_| !thinking);
    let top_p = req
        .top_p
        .filter(|_| temperature.is_none() && !thinking)
        .map(|p| p.clamp(0.0, 1.0));
    Body {
        model: &req.model,
        max_tokens: budget.map_or(requested, |b| requested.max(b + ANSWER_TOKENS)),
        system,
        messages,
        // The API's range is 0..=1; OpenAI's up-to-2 would be a 400.
        temperature: temperature.map(|t| t.clamp(0.0, 1.0)),
        top_p,
        stop_sequences: &req.stop,
        tools: (!req.tools.is_empty()).then(|| {
            req.tools
                .iter()
                .map(|tool| {
                    json!({
                        "name": tool.name,
                        "description": tool.description,
                        "input_schema": tool.schema(),
                    })
                })
                .collect()
        }),
        tool_choice: tool_choice(req, thinking),
        thinking: budget.map(|b| json!({"type": "enabled", "budget_tokens": b})),
        metadata: req.user.as_ref().map(|user| json!({"user_id": user})),
        stream,
    }
}

/// OpenAI's `reasoning_effort` as a thinking budget (LiteLLM's defaults).
fn thinking_budget(req: &ChatRequest) -> Option<u32> {
    if req.wants_reasoning() != Some(true) {
        return None;
    }
    Some(match req.reasoning_effort.as_deref() {
        Some("low") => 1024,
        Some("medium") => 2048,
        _ => 4096,
    })
}

fn tool_choice(req: &ChatRequest, thinking: bool) -> Option<Value> {
    let mut choice = match (&req.tool_choice, thinking) {
        (None, _) => None,
        (Some(ToolChoice::None), _) => Some(json!({"type": "none"})),
        (Some(ToolChoice::Auto), _) | (Some(_), true) => Some(json!({"type": "auto"})),
        (Some(ToolChoice::Required), false) => Some(json!({"type": "any"})),
        (Some(ToolChoice::Function(name)), false) => Some(json!({"type": "tool", "name": name})),
    };
    if req.parallel_tool_calls == Some(false) && !req.tools.is_empty() {
        let choice = choice.get_or_insert_with(|| json!({"type": "auto"}));
        choice["disable_parallel_tool_use"] = json!(true);
    }
    choice
}

/// The instructions joined with a blank line, and the conversation as alternating turns:
/// same-role neighbours merged (texts joined with a blank line), tool results sent as the
/// user's `tool_result` blocks, leading assistant turns dropped.
pub(crate) fn turns(messages: &[ChatMessage]) -> (Option<Cow<'_, str>>, Vec<Turn<'_>>) {
    let mut system: Option<Cow<'_, str>> = None;
    let mut turns: Vec<(&'static str, Vec<Block<'_>>)> = Vec::with_capacity(messages.len());
    for message in messages {
        if message.role.is_instruction() {
            append_cow(&mut system, message.content.text());
            continue;
        }
        let role = match message.role {
            Role::Assistant => "assistant",
            _ => "user",
        };
        if turns.is_empty() && role == "assistant" {
            continue;
        }
        let blocks = blocks(message);
        match turns.last_mut() {
            Some((last_role, last)) if *last_role == role => {
                for block in blocks {
                    match (last.last_mut(), block) {
                        (Some(Block::Text(text)), Block::Text(more)) => {
                            let text = text.to_mut();
                            text.push_str("\n\n");
                            text.push_str(&more);
                        }
                        (_, block) => last.push(block),
                    }
                }
            }
            _ => turns.push((role, blocks)),
        }
    }
    let turns = turns
        .into_iter()
        .map(|(role, blocks)| Turn {
            role,
            content: match <[Block<'_>; 1]>::try_from(blocks) {
                Ok([Block::Text(text)]) => TurnContent::Text(text),
                Ok([block]) => TurnContent::Blocks(vec![block.into_json()]),
                Err(blocks) => {
                    TurnContent::Blocks(blocks.into_iter().map(Block::into_json).collect())
                }
            },
        })
        .collect();
    (system, turns)
}

/// A content block before it is written out (texts stay borrowed so they can be merged).
enum Block<'a> {
    Text(Cow<'a, str>),
    Other(Value),
}

impl Block<'_> {
    fn into_json(self) -> Value {
        match self {
            Self::Text(text) => json!({"type": "text", "text": text}),
            Self::Other(block) => block,
        }
    }
}

fn blocks(message: &ChatMessage) -> Vec<Block<'_>> {
    if message.role == Role::Tool {
        return vec![Block::Other(json!({
            "type": "tool_result",
            "tool_use_id": message.tool_call_id.as_deref().unwrap_or(""),
            "content": message.content.text(),
        }))];
    }
    let mut blocks: Vec<Block<'_>> = match &message.content {
        Content::Text(text) if text.is_empty() => Vec::new(),
        Content::Text(text) => vec![Block::Text(Cow::Borrowed(text))],
        Content::Parts(parts) => parts
            .iter()
            .map(|part| match part {
                Part::Text { text } => Block::Text(Cow::Borrowed(text)),
                Part::ImageUrl { image_url } => Block::Other(image(image_url)),
            })
            .collect(),
    };
    blocks.extend(message.tool_calls.iter().map(|call| {
        // The arguments are JSON text; Anthropic wants the object itself.
        let input = serde_json::from_str::<Value>(&call.arguments)
            .ok()
            .filter(Value::is_object)
            .unwrap_or_else(|| json!({}));
        Block::Other(json!({"type": "tool_use", "id": call.id, "name": call.name, "input": input}))
    }));
    blocks
}

fn image(image_url: &ImageUrl) -> Value {
    match data_url(&image_url.url) {
        Some((media_type, data)) => json!({
            "type": "image",
            "source": {"type": "base64", "media_type": media_type, "data": data},
        }),
        None => json!({"type": "image", "source": {"type": "url", "url": image_url.url}}),
    }
}
