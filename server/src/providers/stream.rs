//! Turns a streaming HTTP body into [`StreamEvent`]s: bytes → [`SseParser`] → a
//! protocol's [`Decoder`]. The same driver serves every protocol.

use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use bytes::Bytes;
use futures::Stream;

use super::errors::from_reqwest;
use super::sse::{Frame, MAX_LINE, SseEvent, SseParser};
use super::{Progress, StreamEvent, ToolCallDelta, UpstreamError, UpstreamResult, Usage};

/// What one protocol does with the frames of its stream.
pub(crate) trait Decoder: Send {
    /// One event; `Ok(true)` when it was the protocol's end marker (`[DONE]`, `message_stop`).
    fn event(&mut self, ev: &SseEvent, out: &mut Out) -> UpstreamResult<bool>;

    /// A line inside the stream that is not SSE.
    fn stray(&mut self, _line: &str, _out: &mut Out) -> UpstreamResult<()> {
        Ok(())
    }

    /// The body ended without an end marker: the proper end for protocols that have none
    /// (after their final chunk), a cut otherwise.
    fn eof(&mut self, out: &mut Out) -> UpstreamResult<()>;
}

/// Most tool calls one answer may make: far beyond any model's parallel calls.
pub(crate) const MAX_TOOL_CALLS: u32 = 128;

/// The decoded events waiting to be yielded.
#[derive(Debug, Default)]
pub(crate) struct Out {
    queue: VecDeque<UpstreamResult<StreamEvent>>,
    last_usage: Option<Usage>,
    id_sent: bool,
}

impl Out {
    /// New text; empty deltas (role-only chunks, keep-alives) are not events.
    pub fn delta(&mut self, text: &str) {
        if !text.is_empty() {
            self.queue
                .push_back(Ok(StreamEvent::Delta(text.to_owned())));
        }
    }

    /// New reasoning text; empty pieces are not events.
    pub fn reasoning(&mut self, text: &str) {
        if !text.is_empty() {
            self.queue
                .push_back(Ok(StreamEvent::Reasoning(text.to_owned())));
        }
    }

    /// Usage so far; repeated identical values (DashScope sends it on every chunk) are dropped.
    pub fn usage(&mut self, usage: Usage) {
        if self.last_usage != Some(usage) {
            self.last_usage = Some(usage);
            self.queue.push_back(Ok(StreamEvent::Usage(usage)));
        }
    }

    /// A piece of a tool call; a piece with nothing in it (DashScope's closing
    /// `"function":{}`) is not an event, and empty ids and names count as absent. An index
    /// past [`MAX_TOOL_CALLS`] is a protocol error: the calls are assembled by index, so an
    /// upstream's `"index": 4294967295` must not become an allocation of that many calls.
    pub fn tool_call(&mut self, mut delta: ToolCallDelta) -> UpstreamResult<()> {
        if delta.index >= MAX_TOOL_CALLS {
            return Err(UpstreamError::protocol(format!(
                "tool call index {} over the limit of {MAX_TOOL_CALLS} calls",
                delta.index
            )));
        }
        delta.id = delta.id.filter(|id| !id.is_empty());
        delta.name = delta.name.filter(|name| !name.is_empty());
        if delta.id.is_some() || delta.name.is_some() || !delta.arguments.is_empty() {
            self.queue.push_back(Ok(StreamEvent::ToolCall(delta)));
        }
        Ok(())
    }

    /// The upstream's id of the answer, once (chunks repeat it).
    pub fn id(&mut self, id: &str) {
        if !id.is_empty() && !self.id_sent {
            self.id_sent = true;
            self.queue.push_back(Ok(StreamEvent::Id(id.to_owned())));
        }
    }

    pub fn finish(&mut self, reason: impl Into<String>) {
        self.queue.push_back(Ok(StreamEvent::Finish(reason.into())));
    }
}

type Body = Pin<Box<dyn Stream<Item = reqwest::Result<Bytes>> + Send>>;

pub(crate) struct SseStream {
    body: Body,
    progress: Arc<Progress>,
    parser: SseParser,
    decoder: Box<dyn Decoder>,
    frames: Vec<Frame>,
    out: Out,
    done: bool,
}

impl SseStream {
    pub fn new(body: Body, decoder: Box<dyn Decoder>, progress: Arc<Progress>) -> Self {
        Self {
            body,
            progress,
            parser: SseParser::new(),
            decoder,
            frames: Vec::new(),
            out: Out::default(),
            done: false,
        }
    }

    /// Reads until the first output (text, reasoning or a finish reason), so that an error
    /// sent before the answer began (Anthropic's `event: error` after a 200, a cut before any byte) is
    /// returned here, where the relay may still retry, rather than as a stream item.
    pub async fn prime(&mut self) -> UpstreamResult<()> {
        std::future::poll_fn(|cx| {
            loop {
                for item in &self.out.queue {
                    match item {
                        Ok(StreamEvent::Usage(_) | StreamEvent::Id(_)) => {}
                        Ok(_) => return Poll::Ready(Ok(())),
                        Err(err) => return Poll::Ready(Err(err.clone())),
                    }
                }
                if self.done {
                    return Poll::Ready(Ok(()));
                }
                ready!(self.poll_fill(cx));
            }
        })
        .await
    }

    /// Reads one chunk of the body and decodes it into the queue.
    fn poll_fill(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let chunk = ready!(self.body.as_mut().poll_next(cx));
        match chunk {
            Some(Ok(bytes)) => {
                self.progress.mark_bytes();
                self.parser.push(&bytes, &mut self.frames);
                if self.parser.overflowed() {
                    self.decode_frames();
                    self.done = true;
                    self.out
                        .queue
                        .push_back(Err(UpstreamError::protocol(format!(
                            "stream line or event longer than {MAX_LINE} bytes"
                        ))));
                    return Poll::Ready(());
                }
            }
            Some(Err(err)) => {
                self.done = true;
                self.out.queue.push_back(Err(from_reqwest(err)));
                return Poll::Ready(());
            }
            None => {
                self.parser.finish(&mut self.frames);
                self.decode_frames();
                if !self.done {
                    self.done = true;
                    if let Err(err) = self.decoder.eof(&mut self.out) {
                        self.out.queue.push_back(Err(err));
                    }
                }
                return Poll::Ready(());
            }
        }
        self.decode_frames();
        Poll::Ready(())
    }

    fn decode_frames(&mut self) {
        for frame in self.frames.drain(..) {
            if self.done {
                break;
            }
            let result = match &frame {
                Frame::Event(ev) => self.decoder.event(ev, &mut self.out),
                Frame::Stray(line) => self.decoder.stray(line, &mut self.out).map(|()| false),
            };
            match result {
                Ok(end) => self.done = end,
                Err(err) => {
                    self.done = true;
                    self.out.queue.push_back(Err(err));
                }
            }
        }
    }
}

impl Stream for SseStream {
    type Item = UpstreamResult<StreamEvent>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            if let Some(item) = this.out.queue.pop_front() {
                return Poll::Ready(Some(item));
            }
            if this.done {
                return Poll::Ready(None);
            }
            ready!(this.poll_fill(cx));
        }
    }
}

/// Decodes a complete body in one go (unit tests and the fuzz targets feed bodies through here).
pub(crate) fn decode_all(
    decoder: Box<dyn Decoder>,
    chunks: &[&[u8]],
) -> Vec<UpstreamResult<StreamEvent>> {
    use futures::StreamExt;
    let owned: Vec<reqwest::Result<Bytes>> = chunks
        .iter()
        .map(|c| Ok(Bytes::copy_from_slice(c)))
        .collect();
    let stream = SseStream::new(
        Box::pin(futures::stream::iter(owned)),
        decoder,
        Progress::new(),
    );
    futures::executor::block_on(stream.collect())
}
