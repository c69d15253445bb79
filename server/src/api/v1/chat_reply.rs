//! OpenAI's answers: `chat.completion` and the `chat.completion.chunk` stream, in the exact
//! shape the SDKs' accumulators expect (role, tool-call ids and names once; indexes by call
//! order; usage last, before `[DONE]`).

use serde_json::{Value, json};

use crate::{
    providers::{ToolCall, ToolCallDelta, Usage},
    relay::{CallResult, RelayEvent},
};

/// The answer's id: `chatcmpl-` and 24 random hex digits, as OpenAI's look.
pub fn completion_id() -> String {
    format!("chatcmpl-{:024x}", rand::random::<u128>() >> 32)
}

/// OpenAI's five reasons; a call that made tool calls finished for them.
fn finish_reason(reason: Option<&str>, made_tool_calls: bool) -> &'static str {
    match reason {
        Some("length") => "length",
        Some("content_filter") => "content_filter",
        Some("function_call") => "function_call",
        _ if made_tool_calls => "tool_calls",
        _ => "stop",
    }
}

fn usage(usage: &Usage) -> Value {
    json!({
        "prompt_tokens": usage.prompt_tokens,
        "completion_tokens": usage.completion_tokens,
        "total_tokens": usage.total_tokens,
    })
}

fn tool_call(call: &ToolCall) -> Value {
    json!({
        "id": call.id,
        "type": "function",
        "function": {"name": call.name, "arguments": call.arguments},
    })
}

pub fn completion(result: &CallResult, model: &str, created: i64) -> Value {
    let mut message = json!({
        "role": "assistant",
        "content": if result.response.is_empty() && !result.tool_calls.is_empty() {
            Value::Null
        } else {
            json!(result.response)
        },
        "refusal": null,
    });
    if !result.tool_calls.is_empty() {
        message["tool_calls"] = result.tool_calls.iter().map(tool_call).collect();
    }
    if !result.reasoning.is_empty() {
        message["reasoning_content"] = json!(result.reasoning);
    }
    json!({
        "id": completion_id(),
        "object": "chat.completion",
        "created": created,
        "model": model,
        "choices": [{
            "index": 0,
            "message": message,
            "finish_reason": finish_reason(result.finish_reason.as_deref(), !result.tool_calls.is_empty()),
            "logprobs": null,
        }],
        "usage": usage(&result.usage),
    })
}

/// Turns the relay's events into the `data:` payloads of one streamed answer.
pub struct ChunkEncoder {
    id: String,
    model: String,
    created: i64,
    include_usage: bool,
    /// Tool calls whose id and name went out (they may go only once).
    started_calls: Vec<u32>,
}

/// What to send for one event, and whether the stream is over.
pub struct Encoded {
    pub payloads: Vec<String>,
    pub done: bool,
}

impl ChunkEncoder {
    pub fn new(model: String, created: i64, include_usage: bool) -> Self {
        Self {
            id: completion_id(),
            model,
            created,
            include_usage,
            started_calls: Vec::new(),
        }
    }

    fn chunk(&self, delta: Value, finish_reason: Option<&str>) -> String {
        let mut chunk = json!({
            "id": self.id,
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": self.model,
            "choices": [{"index": 0, "delta": delta, "logprobs": null, "finish_reason": finish_reason}],
        });
        if self.include_usage {
            chunk["usage"] = Value::Null;
        }
        chunk.to_string()
    }

    /// The first chunk: the role, once.
    pub fn start(&self) -> String {
        self.chunk(json!({"role": "assistant", "content": ""}), None)
    }

    pub fn encode(&mut self, event: RelayEvent) -> Encoded {
        let one = |payload| Encoded {
            payloads: vec![payload],
            done: false,
        };
        match event {
            RelayEvent::Chunk(text) => one(self.chunk(json!({"content": text}), None)),
            RelayEvent::Reasoning(text) => {
                one(self.chunk(json!({"reasoning_content": text}), None))
            }
            RelayEvent::ToolCall(delta) => one(self.tool_call(delta)),
            RelayEvent::Done {
                usage: used,
                finish_reason: reason,
                ..
            } => {
                let made_calls = !self.started_calls.is_empty();
                let reason = finish_reason(reason.as_deref(), made_calls);
                let mut payloads = vec![self.chunk(json!({}), Some(reason))];
                if self.include_usage {
                    payloads.push(
                        json!({
                            "id": self.id,
                            "object": "chat.completion.chunk",
                            "created": self.created,
                            "model": self.model,
                            "choices": [],
                            "usage": usage(&used),
                        })
                        .to_string(),
                    );
                }
                payloads.push("[DONE]".into());
                Encoded {
                    payloads,
                    done: true,
                }
            }
            RelayEvent::Error { code, message } => Encoded {
                payloads: vec![stream_error(&code, &message)],
                done: true,
            },
        }
    }

    fn tool_call(&mut self, delta: ToolCallDelta) -> String {
        let mut call = json!({
            "index": delta.index,
            "function": {"arguments": delta.arguments},
        });
        if !self.started_calls.contains(&delta.index) {
            self.started_calls.push(delta.index);
            let id = delta
                .id
                .unwrap_or_else(|| format!("call_{}_{}", self.id, delta.index));
            call["id"] = json!(id);
            call["type"] = json!("function");
            call["function"]["name"] = json!(delta.name.unwrap_or_default());
        }
        self.chunk(json!({"tool_calls": [call]}), None)
    }
}

/// An error after the stream began: the SDKs raise `APIError` on a `data` with `error`.
fn stream_error(code: &str, message: &str) -> String {
    json!({"error": {"message": message, "type": "api_error", "code": code, "param": null}})
        .to_string()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn parse(payload: &str) -> Value {
        serde_json::from_str(payload).unwrap()
    }

    #[test]
    fn tool_call_ids_and_names_go_once_and_usage_comes_last() {
        let mut encoder = ChunkEncoder::new("m".into(), 1, true);
        assert_eq!(
            parse(&encoder.start())["choices"][0]["delta"]["role"],
            "assistant"
        );
        let piece = |id: Option<&str>, args: &str| {
            RelayEvent::ToolCall(ToolCallDelta {
                index: 0,
                id: id.map(str::to_owned),
                name: id.map(|_| "f".to_owned()),
                arguments: args.into(),
            })
        };
        let first = parse(&encoder.encode(piece(Some("call_1"), "")).payloads[0]);
        let call = &first["choices"][0]["delta"]["tool_calls"][0];
        assert_eq!(
            (call["id"].clone(), call["function"]["name"].clone()),
            (json!("call_1"), json!("f"))
        );
        assert!(first["usage"].is_null() && first.get("usage").is_some());
        let again = parse(&encoder.encode(piece(Some("call_1"), "{}")).payloads[0]);
        let call = &again["choices"][0]["delta"]["tool_calls"][0];
        assert!(call.get("id").is_none() && call["function"].get("name").is_none());
        let end = encoder.encode(RelayEvent::Done {
            usage: Usage {
                prompt_tokens: 3,
                completion_tokens: 4,
                total_tokens: 7,
            },
            estimated: false,
            finish_reason: Some("stop".into()),
            call_log_id: 9,
        });
        assert!(end.done);
        assert_eq!(end.payloads.len(), 3);
        assert_eq!(
            parse(&end.payloads[0])["choices"][0]["finish_reason"],
            "tool_calls"
        );
        let usage_chunk = parse(&end.payloads[1]);
        assert_eq!(usage_chunk["choices"], json!([]));
        assert_eq!(usage_chunk["usage"]["total_tokens"], 7);
        assert_eq!(end.payloads[2], "[DONE]");
    }

    #[test]
    fn finish_reasons_are_openai_s_five() {
        assert_eq!(finish_reason(Some("sensitive"), false), "stop");
        assert_eq!(finish_reason(Some("length"), true), "length");
        assert_eq!(finish_reason(None, true), "tool_calls");
    }
}
