//! Anthropic's answers: a `message`, and the event stream the SDK's accumulator expects
//! (`message_start` first, blocks indexed 0, 1, 2 … each started before its deltas,
//! cumulative usage in `message_delta`, `message_stop` last).

use serde_json::{Value, json};

use crate::{
    providers::{ToolCall, ToolCallDelta, Usage},
    relay::{CallResult, RelayEvent},
};

pub fn message_id() -> String {
    format!("msg_{:024x}", rand::random::<u128>() >> 32)
}

/// OpenAI's finish reason as Anthropic's `stop_reason`.
fn stop_reason(reason: Option<&str>, made_tool_calls: bool) -> &'static str {
    match reason {
        Some("length") => "max_tokens",
        Some("content_filter") => "refusal",
        _ if made_tool_calls => "tool_use",
        _ => "end_turn",
    }
}

fn usage(usage: &Usage) -> Value {
    json!({"input_tokens": usage.prompt_tokens, "output_tokens": usage.completion_tokens})
}

/// Tool arguments are JSON text; Anthropic's `input` is the object.
fn input(call: &ToolCall) -> Value {
    serde_json::from_str::<Value>(&call.arguments)
        .ok()
        .filter(Value::is_object)
        .unwrap_or_else(|| json!({}))
}

pub fn message(result: &CallResult, model: &str) -> Value {
    let mut content = Vec::new();
    if !result.reasoning.is_empty() {
        content.push(json!({"type": "thinking", "thinking": result.reasoning, "signature": ""}));
    }
    if !result.response.is_empty() || result.tool_calls.is_empty() {
        content.push(json!({"type": "text", "text": result.response}));
    }
    for call in &result.tool_calls {
        content.push(
            json!({"type": "tool_use", "id": call.id, "name": call.name, "input": input(call)}),
        );
    }
    json!({
        "id": message_id(),
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": content,
        "stop_reason": stop_reason(result.finish_reason.as_deref(), !result.tool_calls.is_empty()),
        "stop_sequence": null,
        "usage": usage(&result.usage),
    })
}

/// The block being streamed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Block {
    Thinking,
    Text,
    Tool(u32),
}

/// Turns the relay's events into named events of one streamed message.
pub struct EventEncoder {
    /// Blocks started so far (their index is their position).
    blocks: Vec<Block>,
    open: Option<usize>,
}

/// One SSE event: its name and its data.
pub type Named = (&'static str, String);

impl EventEncoder {
    pub fn new() -> Self {
        Self {
            blocks: Vec::new(),
            open: None,
        }
    }

    /// The opening event. Input tokens are not known yet: `message_delta` brings them.
    pub fn start(model: &str) -> Named {
        let message = json!({
            "id": message_id(),
            "type": "message",
            "role": "assistant",
            "model": model,
            "content": [],
            "stop_reason": null,
            "stop_sequence": null,
            "usage": {"input_tokens": 0, "output_tokens": 0},
        });
        (
            "message_start",
            json!({"type": "message_start", "message": message}).to_string(),
        )
    }

    /// The events for one relay event, and whether the stream is over.
    pub fn encode(&mut self, event: RelayEvent) -> (Vec<Named>, bool) {
        let mut out = Vec::new();
        let done = match event {
            RelayEvent::Reasoning(text) => {
                let index = self.block(
                    Block::Thinking,
                    &mut out,
                    || json!({"type": "thinking", "thinking": "", "signature": ""}),
                );
                out.push(delta(
                    index,
                    json!({"type": "thinking_delta", "thinking": text}),
                ));
                false
            }
            RelayEvent::Chunk(text) => {
                let index = self.block(
                    Block::Text,
                    &mut out,
                    || json!({"type": "text", "text": ""}),
                );
                out.push(delta(index, json!({"type": "text_delta", "text": text})));
                false
            }
            RelayEvent::ToolCall(piece) => {
                self.tool_call(piece, &mut out);
                false
            }
            RelayEvent::Done {
                usage: used,
                finish_reason,
                ..
            } => {
                self.close(&mut out);
                let made_calls = self.blocks.iter().any(|b| matches!(b, Block::Tool(_)));
                let stop = stop_reason(finish_reason.as_deref(), made_calls);
                out.push((
                    "message_delta",
                    json!({
                        "type": "message_delta",
                        "delta": {"stop_reason": stop, "stop_sequence": null},
                        "usage": usage(&used),
                    })
                    .to_string(),
                ));
                out.push(("message_stop", json!({"type": "message_stop"}).to_string()));
                true
            }
            RelayEvent::Error { code, message } => {
                out.push((
                    "error",
                    json!({"type": "error", "error": {"type": "api_error", "message": message, "code": code}})
                        .to_string(),
                ));
                true
            }
        };
        (out, done)
    }

    /// The open block of `kind`, or a new one (closing the open one first).
    fn block(&mut self, kind: Block, out: &mut Vec<Named>, start: impl FnOnce() -> Value) -> usize {
        if let Some(index) = self.open.filter(|&i| self.blocks[i] == kind) {
            return index;
        }
        self.close(out);
        let index = self.blocks.len();
        self.blocks.push(kind);
        self.open = Some(index);
        out.push((
            "content_block_start",
            json!({"type": "content_block_start", "index": index, "content_block": start()})
                .to_string(),
        ));
        index
    }

    fn tool_call(&mut self, piece: ToolCallDelta, out: &mut Vec<Named>) {
        let kind = Block::Tool(piece.index);
        let index = match self.blocks.iter().position(|&b| b == kind) {
            Some(index) => index,
            None => self.block(kind, out, || {
                json!({
                    "type": "tool_use",
                    "id": piece.id.clone().unwrap_or_else(|| format!("toolu_{}", piece.index)),
                    "name": piece.name.clone().unwrap_or_default(),
                    "input": {},
                })
            }),
        };
        if !piece.arguments.is_empty() {
            out.push(delta(
                index,
                json!({"type": "input_json_delta", "partial_json": piece.arguments}),
            ));
        }
    }

    fn close(&mut self, out: &mut Vec<Named>) {
        if let Some(index) = self.open.take() {
            out.push((
                "content_block_stop",
                json!({"type": "content_block_stop", "index": index}).to_string(),
            ));
        }
    }
}

fn delta(index: usize, delta: Value) -> Named {
    (
        "content_block_delta",
        json!({"type": "content_block_delta", "index": index, "delta": delta}).to_string(),
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn blocks_are_numbered_in_order_and_closed_before_the_next() {
        let mut encoder = EventEncoder::new();
        let mut names = Vec::new();
        let mut indexes = Vec::new();
        let events = [
            RelayEvent::Reasoning("想".into()),
            RelayEvent::Chunk("好".into()),
            RelayEvent::Chunk("的".into()),
            RelayEvent::ToolCall(ToolCallDelta {
                index: 0,
                id: Some("call_1".into()),
                name: Some("f".into()),
                arguments: String::new(),
            }),
            RelayEvent::ToolCall(ToolCallDelta {
                index: 0,
                arguments: "{}".into(),
                ..ToolCallDelta::default()
            }),
            RelayEvent::Done {
                usage: Usage::default(),
                estimated: false,
                finish_reason: Some("tool_calls".into()),
                call_log_id: 1,
            },
        ];
        for event in events {
            for (name, data) in encoder.encode(event).0 {
                let data: Value = serde_json::from_str(&data).unwrap();
                names.push(name);
                indexes.push(data.get("index").and_then(Value::as_u64));
                if name == "message_delta" {
                    assert_eq!(data["delta"]["stop_reason"], "tool_use");
                }
            }
        }
        assert_eq!(
            names,
            [
                "content_block_start",
                "content_block_delta",
                "content_block_stop",
                "content_block_start",
                "content_block_delta",
                "content_block_delta",
                "content_block_stop",
                "content_block_start",
                "content_block_delta",
                "content_block_stop",
                "message_delta",
                "message_stop"
            ]
        );
        assert_eq!(
            indexes[..10],
            [
                Some(0),
                Some(0),
                Some(0),
                Some(1),
                Some(1),
                Some(1),
                Some(1),
                Some(2),
                Some(2),
                Some(2)
            ]
        );
    }
}
