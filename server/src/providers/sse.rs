//! The one Server-Sent Events parser every protocol uses, written to the WHATWG rules:
//! incremental over byte chunks, `\n` / `\r\n` / `\r` line endings (a `\r\n` split across
//! chunks included), one leading space stripped from values, `:` comments, several `data`
//! lines joined with `\n`. Lines are decoded only once complete, so a multi-byte UTF-8
//! character split across chunks is never broken.
//!
//! Two extensions, both needed by real upstreams and harmless for the others:
//! - the last comment before an event is kept ([`SseEvent::comment`]), because DashScope puts
//!   its `:HTTP_STATUS/400` there;
//! - a line whose field name is not an SSE field is surfaced as [`Frame::Stray`] instead of
//!   being dropped, because Baidu can put a bare JSON error line inside a stream.

use std::borrow::Cow;

/// One dispatched event.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SseEvent {
    /// The `event:` field, if any (the spec's default type `message` is left implicit).
    pub event: Option<String>,
    pub data: String,
    /// The last `id:` seen on the stream (ids persist across events, as in the spec).
    pub id: Option<String>,
    /// The last comment line seen since the previous event, without the leading `:`.
    pub comment: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    Event(SseEvent),
    /// A line that is neither a comment nor an SSE field (e.g. Baidu's bare JSON error).
    Stray(String),
}

/// Longest line (and longest event data) kept: far beyond any real chunk, small enough that
/// a hostile upstream sending one endless line cannot exhaust memory.
pub const MAX_LINE: usize = 1024 * 1024;

#[derive(Debug, Default)]
pub struct SseParser {
    /// A line or an event went over [`MAX_LINE`]: nothing more is parsed.
    overflowed: bool,
    /// Bytes of the line not yet terminated.
    line: Vec<u8>,
    /// The previous chunk ended with `\r`: a `\n` opening the next one belongs to it.
    after_cr: bool,
    /// The stream's first line has not started yet (a UTF-8 BOM is stripped there).
    at_start: bool,
    event: Option<String>,
    data: String,
    has_data: bool,
    last_id: Option<String>,
    comment: Option<String>,
}

impl SseParser {
    pub fn new() -> Self {
        Self {
            at_start: true,
            ..Self::default()
        }
    }

    /// Feeds one chunk of the body; complete frames are appended to `out`.
    pub fn push(&mut self, mut chunk: &[u8], out: &mut Vec<Frame>) {
        if chunk.is_empty() || self.overflowed {
            return;
        }
        if self.at_start {
            // The spec strips one leading BOM, which may itself arrive split across chunks.
            const BOM: &[u8] = b"\xEF\xBB\xBF";
            self.line.extend_from_slice(chunk);
            if self.line.len() < BOM.len() && BOM.starts_with(&self.line) {
                return;
            }
            self.at_start = false;
            let head = std::mem::take(&mut self.line);
            self.feed(head.strip_prefix(BOM).unwrap_or(&head), out);
            return;
        }
        if self.after_cr {
            self.after_cr = false;
            if let Some(rest) = chunk.strip_prefix(b"\n") {
                chunk = rest;
            }
        }
        self.feed(chunk, out);
    }

    fn feed(&mut self, chunk: &[u8], out: &mut Vec<Frame>) {
        let mut start = 0;
        // Line ends found a word at a time (a stream call's pieces were ~28k instructions
        // scanned byte by byte).
        while let Some(offset) = memchr::memchr2(b'\n', b'\r', &chunk[start..]) {
            let end = start + offset;
            self.line.extend_from_slice(&chunk[start..end]);
            let line = std::mem::take(&mut self.line);
            self.process_line(&line, out);
            self.line = line;
            self.line.clear();
            start = end + 1;
            if chunk[end] == b'\r' {
                if start == chunk.len() {
                    self.after_cr = true;
                } else if chunk[start] == b'\n' {
                    start += 1;
                }
            }
        }
        self.line.extend_from_slice(&chunk[start..]);
        if self.line.len() > MAX_LINE || self.data.len() > MAX_LINE {
            self.overflow();
        }
    }

    /// Whether the stream went over [`MAX_LINE`]; the caller ends it with an error.
    pub fn overflowed(&self) -> bool {
        self.overflowed
    }

    fn overflow(&mut self) {
        self.overflowed = true;
        self.line = Vec::new();
        self.data = String::new();
        self.has_data = false;
    }

    /// The body ended. Per the spec an unterminated event is dropped (a cut must not look
    /// like a complete chunk); only an unterminated stray line is still surfaced.
    pub fn finish(&mut self, out: &mut Vec<Frame>) {
        if !self.line.is_empty() {
            let line = std::mem::take(&mut self.line);
            let text = decode(&line);
            if !text.starts_with(':') && field_name(&text).is_none() {
                out.push(Frame::Stray(text.into_owned()));
            }
        }
        self.data.clear();
        self.has_data = false;
        self.event = None;
    }

    fn process_line(&mut self, line: &[u8], out: &mut Vec<Frame>) {
        if self.overflowed {
            return;
        }
        if line.len() > MAX_LINE || self.data.len() + line.len() > MAX_LINE {
            self.overflow();
            return;
        }
        if line.is_empty() {
            self.dispatch(out);
            return;
        }
        let text = decode(line);
        if let Some(comment) = text.strip_prefix(':') {
            self.comment = Some(comment.trim_start_matches(' ').to_owned());
            return;
        }
        let (name, value) = match text.find(':') {
            Some(pos) => {
                let value = &text[pos + 1..];
                (&text[..pos], value.strip_prefix(' ').unwrap_or(value))
            }
            None => (&text[..], ""),
        };
        match name {
            "data" => {
                if self.has_data {
                    self.data.push('\n');
                }
                self.data.push_str(value);
                self.has_data = true;
            }
            "event" => self.event = Some(value.to_owned()),
            // An id containing NUL is ignored by the spec.
            "id" if !value.contains('\0') => self.last_id = Some(value.to_owned()),
            "id" | "retry" => {}
            _ => out.push(Frame::Stray(text.into_owned())),
        }
    }

    fn dispatch(&mut self, out: &mut Vec<Frame>) {
        if !self.has_data {
            // The spec drops events without data (but forgets the type).
            self.event = None;
            return;
        }
        self.has_data = false;
        out.push(Frame::Event(SseEvent {
            event: self.event.take(),
            data: std::mem::take(&mut self.data),
            id: self.last_id.clone(),
            comment: self.comment.take(),
        }));
    }
}

/// A line as text, invalid UTF-8 replaced. Valid lines (all but broken ones) are checked by
/// `from_utf8`, which takes ASCII a word at a time where `from_utf8_lossy` goes byte by byte.
fn decode(line: &[u8]) -> Cow<'_, str> {
    match std::str::from_utf8(line) {
        Ok(text) => Cow::Borrowed(text),
        Err(_) => String::from_utf8_lossy(line),
    }
}

/// Whether a line is a recognised SSE field (`data`, `event`, `id`, `retry`).
fn field_name(line: &str) -> Option<&str> {
    let name = line.split(':').next().unwrap_or(line);
    matches!(name, "data" | "event" | "id" | "retry").then_some(name)
}

#[cfg(test)]
#[path = "tests/sse.rs"]
mod tests;
