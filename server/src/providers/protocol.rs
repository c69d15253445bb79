//! The [`Protocol`] trait every wire protocol implements, and the attempt flows built on
//! it once for all: send, classify a non-2xx, decode a body or a stream, refresh a stale
//! credential once, and answer a non-streaming call by aggregating a stream.

use std::future::Future;
use std::sync::Arc;
use std::time::Instant;

use futures::StreamExt;
use reqwest::header::{CONTENT_TYPE, HeaderMap};
use serde_json::Value;

use super::errors::{body_snippet, from_reqwest};
use super::stream::{Decoder, SseStream};
use super::{
    Assembly, ChatRequest, Completion, EventStream, FailureKind, Progress, Providers, StreamEvent,
    Target, ToolCallDelta, UpstreamError, UpstreamResult,
};
use crate::secret::Secret;

pub(crate) trait Protocol: Sync {
    /// The HTTP request of one attempt: URL, credential headers, JSON body.
    fn prepare(
        &self,
        ctx: &Providers,
        target: &Target,
        req: &ChatRequest,
        stream: bool,
    ) -> impl Future<Output = UpstreamResult<reqwest::RequestBuilder>> + Send;

    /// A whole 2xx JSON answer, which may still hold an in-band error.
    fn completion(&self, body: Value) -> UpstreamResult<Completion>;

    fn decoder(&self) -> Box<dyn Decoder>;

    /// A non-2xx answer.
    fn error(&self, status: u16, headers: &HeaderMap, body: &[u8]) -> UpstreamError;

    /// `err` says the cached credential went stale (Baidu 110/111, Zhipu 1003): forget the
    /// one cached before `started` and return true, so the attempt is made once more.
    fn refresh_credential(
        &self,
        _ctx: &Providers,
        _target: &Target,
        _err: &UpstreamError,
        _started: Instant,
    ) -> bool {
        false
    }

    /// Stream upstream even for a non-streaming call (a call too long to wait for whole).
    fn prefers_stream(&self, _req: &ChatRequest) -> bool {
        false
    }

    /// `err` from a non-streaming call means the model only answers streams.
    fn stream_only(&self, _err: &UpstreamError) -> bool {
        false
    }
}

/// One attempt's inputs, as the flows below pass them around.
pub(crate) struct Attempt<'a> {
    pub ctx: &'a Providers,
    pub target: &'a Target,
    pub req: &'a ChatRequest,
    pub progress: &'a Arc<Progress>,
}

pub(crate) async fn complete<P: Protocol>(p: &P, at: &Attempt<'_>) -> UpstreamResult<Completion> {
    let result = if p.prefers_stream(at.req) {
        aggregate(p, at).await
    } else {
        let result = refreshing(p, at, || complete_once(p, at)).await;
        match result {
            Err(err) if p.stream_only(&err) => aggregate(p, at).await,
            other => other,
        }
    };
    result.map_err(|err| err.scrub(at.target.api_key.expose()))
}

pub(crate) async fn open_stream<P: Protocol>(
    p: &P,
    at: &Attempt<'_>,
) -> UpstreamResult<EventStream> {
    refreshing(p, at, || stream_once(p, at))
        .await
        .map(|stream| scrubbed(stream, at.target.api_key.clone()))
        .map_err(|err| err.scrub(at.target.api_key.expose()))
}

/// The errors a stream yields after it opened (an in-band error event, a cut) may quote the
/// credential too, like the opening error: each is scrubbed before it leaves `providers`.
pub(crate) fn scrubbed(stream: EventStream, key: Secret) -> EventStream {
    Box::pin(stream.map(move |item| item.map_err(|err| err.scrub(key.expose()))))
}

/// Runs `attempt`, and once more if its error shows a stale cached credential.
async fn refreshing<P, T, F, Fut>(p: &P, at: &Attempt<'_>, attempt: F) -> UpstreamResult<T>
where
    P: Protocol,
    F: Fn() -> Fut,
    Fut: Future<Output = UpstreamResult<T>>,
{
    let started = Instant::now();
    match attempt().await {
        Err(err) if p.refresh_credential(at.ctx, at.target, &err, started) => attempt().await,
        other => other,
    }
}

/// Sends the request; a non-2xx is classified by the protocol.
async fn send<P: Protocol>(
    p: &P,
    at: &Attempt<'_>,
    stream: bool,
) -> UpstreamResult<reqwest::Response> {
    let request = p.prepare(at.ctx, at.target, at.req, stream).await?;
    let response = request.send().await.map_err(from_reqwest)?;
    at.progress.mark_headers();
    let status = response.status();
    if status.is_success() {
        return Ok(response);
    }
    let headers = response.headers().clone();
    if status.is_redirection() {
        return Err(redirect_error(status.as_u16(), &headers));
    }
    // The status alone still classifies the failure if its body cannot be read.
    let body = read_body(response).await.unwrap_or_default();
    Err(p.error(status.as_u16(), &headers, &body))
}

/// A 3xx (never followed, see [`super::http_client`]): the admin must fix the URL, so it is
/// not retried, and the detail says where the upstream wanted to go.
fn redirect_error(status: u16, headers: &HeaderMap) -> UpstreamError {
    let location = headers
        .get(reqwest::header::LOCATION)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
        .unwrap_or_default();
    UpstreamError::new(
        FailureKind::Rejected,
        format!("HTTP {status}: redirect not followed (Location: {location}); check the config's api_url"),
    )
    .with_status(status)
}

async fn complete_once<P: Protocol>(p: &P, at: &Attempt<'_>) -> UpstreamResult<Completion> {
    let response = send(p, at, false).await?;
    let body = read_body(response).await?;
    at.progress.mark_bytes();
    p.completion(parse_json(&body)?)
}

async fn stream_once<P: Protocol>(p: &P, at: &Attempt<'_>) -> UpstreamResult<EventStream> {
    let response = send(p, at, true).await?;
    let is_json = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if is_json {
        // A JSON body instead of SSE: an error (Baidu, DashScope), or an upstream that
        // ignored `stream`. Either way the body says it all.
        let body = read_body(response).await?;
        at.progress.mark_bytes();
        let completion = p.completion(parse_json(&body)?)?;
        return Ok(completion_events(completion));
    }
    let body = Box::pin(response.bytes_stream());
    let mut stream = SseStream::new(body, p.decoder(), at.progress.clone());
    stream.prime().await?;
    Ok(Box::pin(stream))
}

/// Largest upstream body read into memory: a whole answer is a few hundred KiB at most, so
/// this only stops a hostile or broken upstream from exhausting memory.
pub(crate) const MAX_BODY: usize = 16 * 1024 * 1024;

/// The whole body, or a protocol error once it passes [`MAX_BODY`] (nothing more is read).
pub(crate) async fn read_body(mut response: reqwest::Response) -> UpstreamResult<Vec<u8>> {
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(from_reqwest)? {
        if body.len() + chunk.len() > MAX_BODY {
            return Err(UpstreamError::protocol(format!(
                "answer longer than {MAX_BODY} bytes"
            )));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

pub(crate) fn parse_json(body: &[u8]) -> UpstreamResult<Value> {
    serde_json::from_slice(body).map_err(|err| {
        UpstreamError::protocol(format!(
            "answer is not JSON ({err}): {}",
            body_snippet(body)
        ))
    })
}

/// One streaming attempt collected into a [`Completion`].
async fn aggregate<P: Protocol>(p: &P, at: &Attempt<'_>) -> UpstreamResult<Completion> {
    let mut stream = refreshing(p, at, || stream_once(p, at)).await?;
    let mut assembly = Assembly::default();
    while let Some(event) = stream.next().await {
        assembly.apply(&event?);
    }
    Ok(assembly.into_completion())
}

/// A whole answer replayed as stream events.
fn completion_events(completion: Completion) -> EventStream {
    let mut events = Vec::with_capacity(4 + completion.tool_calls.len());
    if let Some(id) = completion.id {
        events.push(StreamEvent::Id(id));
    }
    if !completion.reasoning.is_empty() {
        events.push(StreamEvent::Reasoning(completion.reasoning));
    }
    if !completion.text.is_empty() {
        events.push(StreamEvent::Delta(completion.text));
    }
    for (index, call) in completion.tool_calls.into_iter().enumerate() {
        events.push(StreamEvent::ToolCall(ToolCallDelta {
            index: index as u32,
            id: Some(call.id),
            name: Some(call.name),
            arguments: call.arguments,
        }));
    }
    if let Some(usage) = completion.usage {
        events.push(StreamEvent::Usage(usage));
    }
    if let Some(reason) = completion.finish_reason {
        events.push(StreamEvent::Finish(reason));
    }
    Box::pin(futures::stream::iter(events.into_iter().map(Ok)))
}

#[cfg(test)]
#[path = "tests/limits.rs"]
mod tests;
