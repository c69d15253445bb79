//! The OpenAI chat-completion chunk stream, shared by its dialects: `data:` chunks, usage
//! on any chunk (an extra `choices: []` one when asked), `[DONE]` at the end, an `error`
//! object or (Spark) a non-zero `code` for a failure after the 200.

use std::{borrow::Cow, ops::Deref};

use serde::Deserialize;
use serde_json::Value;

use super::messages::ToolCallChunk;
use super::openai_dialect::{Dialect, IN_BAND, OpenAi, WireUsage};
use super::sse::SseEvent;
use super::stream::{Decoder, Out};
use super::{UpstreamError, UpstreamResult, xunfei};

/// A chunk is read for a few words: its strings are borrowed from the event's text (see
/// [`Text`]) instead of each costing an allocation.
#[derive(Debug, Deserialize)]
struct Chunk<'a> {
    #[serde(borrow)]
    id: Option<Text<'a>>,
    #[serde(default, borrow)]
    choices: Vec<ChunkChoice<'a>>,
    usage: Option<WireUsage>,
    error: Option<Value>,
    /// Spark: non-zero means an error.
    code: Option<Value>,
}

#[derive(Debug, Deserialize)]
struct ChunkChoice<'a> {
    #[serde(default)]
    index: u32,
    #[serde(borrow)]
    delta: Option<ChunkDelta<'a>>,
    #[serde(borrow)]
    finish_reason: Option<Text<'a>>,
}

#[derive(Debug, Deserialize)]
struct ChunkDelta<'a> {
    #[serde(borrow)]
    content: Option<Text<'a>>,
    #[serde(borrow)]
    reasoning_content: Option<Text<'a>>,
    #[serde(default)]
    tool_calls: Vec<ToolCallChunk>,
}

/// A string borrowed from the text it was read from unless it holds escapes. serde borrows a
/// `Cow` only where it is a field itself, not inside an `Option`, hence the newtype.
#[derive(Debug, Deserialize)]
struct Text<'a>(#[serde(borrow)] Cow<'a, str>);

impl Deref for Text<'_> {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

pub(super) struct ChunkDecoder {
    protocol: OpenAi,
    finished: bool,
}

impl ChunkDecoder {
    pub(super) fn new(dialect: Dialect) -> Self {
        Self {
            protocol: OpenAi(dialect),
            finished: false,
        }
    }
}

impl Decoder for ChunkDecoder {
    fn event(&mut self, ev: &SseEvent, out: &mut Out) -> UpstreamResult<bool> {
        let data = ev.data.trim();
        if data == "[DONE]" {
            if !self.finished && self.protocol.0 == Dialect::Xunfei {
                // Spark documents no finish_reason: [DONE] is its normal stop.
                out.finish("stop");
            }
            return Ok(true);
        }
        if data.is_empty() {
            return Ok(false);
        }
        let chunk: Chunk = serde_json::from_str(data)
            .map_err(|err| UpstreamError::protocol(format!("bad stream chunk ({err}): {data}")))?;
        if let Some(error) = chunk.error.as_ref().filter(|e| !e.is_null()) {
            return Err(self.protocol.in_band(error));
        }
        if self.protocol.0 == Dialect::Xunfei
            && chunk.code.as_ref().is_some_and(|c| c.as_i64() != Some(0))
            && let Some(err) = serde_json::from_str::<Value>(data)
                .ok()
                .and_then(|v| xunfei::body_error(&v, IN_BAND))
        {
            return Err(err);
        }
        out.id(chunk.id.as_deref().unwrap_or(""));
        // The usage chunk has `choices: []`; only the first choice is the answer (n = 1).
        for choice in chunk.choices.into_iter().filter(|c| c.index == 0) {
            if let Some(delta) = choice.delta {
                out.reasoning(delta.reasoning_content.as_deref().unwrap_or(""));
                out.delta(delta.content.as_deref().unwrap_or(""));
                for (position, call) in delta.tool_calls.into_iter().enumerate() {
                    out.tool_call(call.into_delta(position))?;
                }
            }
            if let Some(reason) = &choice.finish_reason {
                self.finished = true;
                out.finish(self.protocol.finish_reason(reason));
            }
        }
        if let Some(wire) = chunk.usage {
            out.usage(wire.into_usage());
        }
        Ok(false)
    }

    fn eof(&mut self, _out: &mut Out) -> UpstreamResult<()> {
        Err(UpstreamError::cut("[DONE]"))
    }
}
