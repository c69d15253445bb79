//! A streamed answer put back together: what a non-streaming call aggregated from a stream
//! returns, and what the relay records of a stream. One place, so both agree.

use serde_json::{Value, json};

use super::{Completion, StreamEvent, ToolCall, ToolCallDelta, Usage};

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Assembly {
    pub text: String,
    pub reasoning: String,
    pub tool_calls: Vec<ToolCall>,
    pub usage: Option<Usage>,
    pub finish_reason: Option<String>,
    pub id: Option<String>,
    /// Output events received (text, reasoning, tool-call pieces).
    pub chunks: u32,
}

impl Assembly {
    pub fn apply(&mut self, event: &StreamEvent) {
        match event {
            StreamEvent::Delta(text) => {
                self.text.push_str(text);
                self.chunks += 1;
            }
            StreamEvent::Reasoning(text) => {
                self.reasoning.push_str(text);
                self.chunks += 1;
            }
            StreamEvent::ToolCall(delta) => {
                self.tool_call(delta);
                self.chunks += 1;
            }
            StreamEvent::Usage(usage) => self.usage = Some(*usage),
            StreamEvent::Finish(reason) => self.finish_reason = Some(reason.clone()),
            StreamEvent::Id(id) => self.id = Some(id.clone()),
        }
    }

    /// Pieces are put in the call at their index; the first id and name given win.
    fn tool_call(&mut self, delta: &ToolCallDelta) {
        let index = delta.index as usize;
        if self.tool_calls.len() <= index {
            self.tool_calls.resize_with(index + 1, ToolCall::default);
        }
        let call = &mut self.tool_calls[index];
        if let Some(id) = delta.id.as_ref().filter(|_| call.id.is_empty()) {
            call.id.clone_from(id);
        }
        if let Some(name) = delta.name.as_ref().filter(|_| call.name.is_empty()) {
            call.name.clone_from(name);
        }
        call.arguments.push_str(&delta.arguments);
    }

    /// The stream's record of itself: there is no single upstream body to keep.
    pub fn record(&self) -> Value {
        let mut record = json!({
            "text": self.text,
            "reasoning": self.reasoning,
            "usage": self.usage,
            "finish_reason": self.finish_reason,
            "chunks": self.chunks,
        });
        if !self.tool_calls.is_empty() {
            record["tool_calls"] = json!(self.tool_calls);
        }
        if let Some(id) = &self.id {
            record["id"] = json!(id);
        }
        record
    }

    pub fn into_completion(self) -> Completion {
        let raw = json!({ "aggregated_from_stream": self.record() });
        Completion {
            text: self.text,
            reasoning: self.reasoning,
            tool_calls: self.tool_calls,
            usage: self.usage,
            finish_reason: self.finish_reason,
            id: self.id,
            raw,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn piece(index: u32, id: &str, name: &str, arguments: &str) -> StreamEvent {
        let some = |s: &str| (!s.is_empty()).then(|| s.to_owned());
        StreamEvent::ToolCall(ToolCallDelta {
            index,
            id: some(id),
            name: some(name),
            arguments: arguments.to_owned(),
        })
    }

    #[test]
    fn tool_call_pieces_join_by_index_keeping_the_first_id_and_name() {
        let mut assembly = Assembly::default();
        for event in [
            piece(0, "call_a", "weather", ""),
            piece(1, "call_b", "time", "{}"),
            piece(0, "", "", "{\"city\":"),
            piece(0, "call_x", "other", "\"杭州\"}"),
        ] {
            assembly.apply(&event);
        }
        assert_eq!(
            assembly.tool_calls,
            [
                ToolCall {
                    id: "call_a".into(),
                    name: "weather".into(),
                    arguments: "{\"city\":\"杭州\"}".into()
                },
                ToolCall {
                    id: "call_b".into(),
                    name: "time".into(),
                    arguments: "{}".into()
                }
            ]
        );
        assert_eq!(assembly.chunks, 4);
        assert_eq!(assembly.record()["tool_calls"][1]["name"], "time");
    }
}
