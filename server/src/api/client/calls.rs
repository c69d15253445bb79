//! `POST /api/llm/call`, `/call-template` and `/call-stream`: the Windows client's calls.
//! Streams come in the requirements' two formats: `data: {"type":"chunk",…}` lines for
//! `/call` with `stream: true`, and named `event: chunk` / `event: done` for `/call-stream`.

use std::{collections::HashMap, time::Duration};

use futures::StreamExt;
use poem::web::sse::Event;
use poem_openapi::{ApiResponse, Object, ResponseContent, payload::EventStream};
use serde::{Serialize, Serializer, ser::SerializeStruct};

use crate::{
    api::envelope::{Direct, Envelope},
    auth::Principal,
    error::AppResult,
    providers::{ChatMessage, Role},
    relay::{CallInput, Caller, Overrides, RelayEvent},
    state::AppState,
};

/// One message of the conversation (history may be included).
#[derive(Debug, Clone, Object)]
pub struct Message {
    /// system | user | assistant
    #[oai(deserialize_with = "crate::api::strict::strings")]
    pub role: String,
    #[oai(deserialize_with = "crate::api::strict::strings")]
    pub content: String,
}

#[derive(Debug, Object)]
pub struct CallRequest {
    pub config_id: i32,
    #[oai(nullable)]
    pub messages: Option<Vec<Message>>,
    /// A template of this config; its rendered text is sent as the last user message.
    #[oai(nullable)]
    pub template_id: Option<i32>,
    #[oai(nullable, deserialize_with = "crate::api::strict::strings")]
    pub template_variables: Option<HashMap<String, String>>,
    /// Overrides the config's value (1–32000).
    #[oai(nullable)]
    pub max_tokens: Option<i32>,
    /// Overrides the config's value (0–2).
    #[oai(nullable)]
    pub temperature: Option<f64>,
    /// Overrides the config's value (0–1).
    #[oai(nullable)]
    pub top_p: Option<f64>,
    /// Overrides the config's value (−2–2).
    #[oai(nullable)]
    pub frequency_penalty: Option<f64>,
    /// Overrides the config's value (−2–2).
    #[oai(nullable)]
    pub presence_penalty: Option<f64>,
    /// Answer as `text/event-stream` (`data: {"type":"chunk"…}` lines).
    #[oai(nullable)]
    pub stream: Option<bool>,
}

#[derive(Debug, Object)]
pub struct TemplateCallRequest {
    pub template_id: i32,
    #[oai(nullable, deserialize_with = "crate::api::strict::strings")]
    pub variables: Option<HashMap<String, String>>,
    /// Answer as `text/event-stream` (`data: {"type":"chunk"…}` lines).
    #[oai(nullable)]
    pub stream: Option<bool>,
}

#[derive(Debug, Object)]
pub struct CallResult {
    pub response: String,
    pub model: String,
    pub tokens_used: u32,
    pub prompt_tokens: u32,
    pub completion_tokens: u32,
    /// The call's record, already stored.
    pub call_log_id: i64,
    pub duration_ms: i64,
}

/// Keys in alphabetical order, as poem-openapi's `ToJSON` writes them (see `Direct`).
impl Serialize for CallResult {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut out = serializer.serialize_struct("CallResult", 7)?;
        out.serialize_field("call_log_id", &self.call_log_id)?;
        out.serialize_field("completion_tokens", &self.completion_tokens)?;
        out.serialize_field("duration_ms", &self.duration_ms)?;
        out.serialize_field("model", &self.model)?;
        out.serialize_field("prompt_tokens", &self.prompt_tokens)?;
        out.serialize_field("response", &self.response)?;
        out.serialize_field("tokens_used", &self.tokens_used)?;
        out.end()
    }
}

/// One server-sent event. `type` is `chunk`, `done` or `error` (for `/call-stream` it is
/// the SSE event name and is not repeated in `data`).
#[derive(Debug, Clone, Object)]
pub struct StreamMessage {
    #[oai(rename = "type", skip_serializing_if_is_none)]
    pub kind: Option<String>,
    #[oai(skip_serializing_if_is_none)]
    pub content: Option<String>,
    #[oai(skip_serializing_if_is_none)]
    pub tokens_used: Option<u32>,
    #[oai(skip_serializing_if_is_none)]
    pub prompt_tokens: Option<u32>,
    #[oai(skip_serializing_if_is_none)]
    pub completion_tokens: Option<u32>,
    /// True when the upstream sent no usage and tokens were counted locally.
    #[oai(skip_serializing_if_is_none)]
    pub tokens_estimated: Option<bool>,
    #[oai(skip_serializing_if_is_none)]
    pub call_log_id: Option<i64>,
    #[oai(skip_serializing_if_is_none)]
    pub code: Option<String>,
    #[oai(skip_serializing_if_is_none)]
    pub message: Option<String>,
}

/// Written straight to text, once per event: poem-openapi's `ToJSON` would build a
/// `serde_json::Value` map of it first. The keys come in that map's alphabetical order, so the
/// bytes sent are the same.
impl Serialize for StreamMessage {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut out = serializer.serialize_struct("StreamMessage", 9)?;
        present(&mut out, "call_log_id", &self.call_log_id)?;
        present(&mut out, "code", &self.code)?;
        present(&mut out, "completion_tokens", &self.completion_tokens)?;
        present(&mut out, "content", &self.content)?;
        present(&mut out, "message", &self.message)?;
        present(&mut out, "prompt_tokens", &self.prompt_tokens)?;
        present(&mut out, "tokens_estimated", &self.tokens_estimated)?;
        present(&mut out, "tokens_used", &self.tokens_used)?;
        present(&mut out, "type", &self.kind)?;
        out.end()
    }
}

/// A field that is left out when `None` (the schema's `skip_serializing_if_is_none`).
fn present<S: SerializeStruct, T: Serialize>(
    out: &mut S,
    key: &'static str,
    value: &Option<T>,
) -> Result<(), S::Error> {
    match value {
        Some(value) => out.serialize_field(key, value),
        None => out.skip_field(key),
    }
}

type Messages = futures::stream::BoxStream<'static, StreamMessage>;

#[derive(ResponseContent)]
pub enum CallBody {
    Json(Direct<CallResult>),
    Stream(EventStream<Messages>),
}

#[derive(ApiResponse)]
pub enum CallReply {
    /// The answer: JSON, or an event stream when `stream` was true.
    #[oai(status = 200)]
    Ok(
        CallBody,
        /// `no` on streams, so proxies do not buffer them.
        #[oai(header = "X-Accel-Buffering")]
        Option<String>,
        /// `no-cache` on streams.
        #[oai(header = "Cache-Control")]
        Option<String>,
    ),
}

/// The requirements' two stream layouts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamFormat {
    /// `data: {"type":"chunk","content":"…"}`
    Typed,
    /// `event: chunk` + `data: {"content":"…"}`
    Named,
}

/// A comment line this often keeps proxies between us and the client from closing a quiet
/// stream (a client that hangs up is noticed at once: see `connections`).
pub(crate) const KEEP_ALIVE: Duration = Duration::from_secs(10);

pub fn caller(principal: &Principal) -> Caller {
    match principal {
        Principal::Client { code, group_id, .. } => Caller {
            group_id: Some(*group_id),
            activation_code: Some(code.clone()),
            ..Caller::default()
        },
        Principal::User { id, group_id, .. } => Caller {
            group_id: *group_id,
            user_id: Some(*id),
            ..Caller::default()
        },
        Principal::ApiKey { key_id, group_id } => Caller {
            group_id: Some(*group_id),
            api_key_id: Some(*key_id),
            ..Caller::default()
        },
    }
}

pub fn input_of(body: CallRequest) -> AppResult<CallInput> {
    let messages = body
        .messages
        .unwrap_or_default()
        .into_iter()
        .map(message)
        .collect::<AppResult<Vec<_>>>()?;
    Ok(CallInput {
        config_id: Some(body.config_id),
        messages,
        template_id: body.template_id,
        variables: body.template_variables.unwrap_or_default(),
        overrides: Overrides {
            max_tokens: body.max_tokens,
            temperature: body.temperature,
            top_p: body.top_p,
            frequency_penalty: body.frequency_penalty,
            presence_penalty: body.presence_penalty,
            ..Overrides::default()
        },
    })
}

fn message(message: Message) -> AppResult<ChatMessage> {
    let role = match message.role.as_str() {
        "system" => Role::System,
        "user" => Role::User,
        "assistant" => Role::Assistant,
        _ => {
            return Err(crate::error::AppError::validation(
                "messages",
                "消息角色必须是 system、user 或 assistant",
            ));
        }
    };
    Ok(ChatMessage::text(role, message.content))
}

/// Hands the call to the relay and answers it as JSON or as a stream in `format`.
pub async fn answer(
    state: &AppState,
    input: CallInput,
    principal: &Principal,
    stream: Option<StreamFormat>,
) -> AppResult<CallReply> {
    let Some(format) = stream else {
        let result = state.relay.complete(input, caller(principal)).await?;
        return Ok(CallReply::Ok(
            CallBody::Json(Direct(Envelope {
                success: true,
                data: CallResult {
                    response: result.response,
                    model: result.model,
                    tokens_used: result.usage.total_tokens,
                    prompt_tokens: result.usage.prompt_tokens,
                    completion_tokens: result.usage.completion_tokens,
                    call_log_id: result.call_log_id,
                    duration_ms: result.duration_ms,
                },
            })),
            None,
            None,
        ));
    };
    let session = state.relay.stream(input, caller(principal)).await?;
    let mut events = session.events;
    // Polled as it is: `unfold` would build a future (moving the receiver) per event.
    let messages: Messages = Box::pin(
        futures::stream::poll_fn(move |cx| events.poll_recv(cx))
            .filter_map(|event| futures::future::ready(to_message(event))),
    );
    let stream = EventStream::new(messages)
        .keep_alive(KEEP_ALIVE)
        .to_event(move |message| to_sse(message, format));
    Ok(CallReply::Ok(
        CallBody::Stream(stream),
        Some("no".into()),
        Some("no-cache".into()),
    ))
}

/// The requirements' stream has no place for reasoning: it is recorded, not sent.
fn to_message(event: RelayEvent) -> Option<StreamMessage> {
    let mut message = StreamMessage {
        kind: None,
        content: None,
        tokens_used: None,
        prompt_tokens: None,
        completion_tokens: None,
        tokens_estimated: None,
        call_log_id: None,
        code: None,
        message: None,
    };
    match event {
        RelayEvent::Chunk(text) => {
            message.kind = Some("chunk".into());
            message.content = Some(text);
        }
        // The client API carries neither (it sends no tools).
        RelayEvent::Reasoning(_) | RelayEvent::ToolCall(_) => return None,
        RelayEvent::Done {
            usage,
            estimated,
            call_log_id,
            ..
        } => {
            message.kind = Some("done".into());
            message.tokens_used = Some(usage.total_tokens);
            message.prompt_tokens = Some(usage.prompt_tokens);
            message.completion_tokens = Some(usage.completion_tokens);
            message.tokens_estimated = Some(estimated);
            message.call_log_id = Some(call_log_id);
        }
        RelayEvent::Error {
            code,
            message: text,
        } => {
            message.kind = Some("error".into());
            message.code = Some(code);
            message.message = Some(text);
        }
    }
    Some(message)
}

fn to_sse(mut message: StreamMessage, format: StreamFormat) -> Event {
    match format {
        StreamFormat::Typed => Event::message(json_text(&message)),
        StreamFormat::Named => {
            let name = message.kind.take().unwrap_or_default();
            Event::message(json_text(&message)).event_type(name)
        }
    }
}

fn json_text(message: &StreamMessage) -> String {
    // Only strings and numbers: writing them to a `String` cannot fail.
    serde_json::to_string(message).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use poem_openapi::types::ToJSON;

    use super::*;

    /// The direct writers must send the bytes poem-openapi's `Value` did.
    #[test]
    fn written_as_poem_openapi_writes_them() {
        let result = CallResult {
            response: "答\"案\n".into(),
            model: "gpt".into(),
            tokens_used: 3,
            prompt_tokens: 1,
            completion_tokens: 2,
            call_log_id: 42,
            duration_ms: -1,
        };
        let envelope = Envelope {
            success: true,
            data: result,
        };
        assert_eq!(
            serde_json::to_string(&envelope).unwrap(),
            envelope.to_json_string()
        );
        let full = StreamMessage {
            kind: Some("done".into()),
            content: Some("内容".into()),
            tokens_used: Some(3),
            prompt_tokens: Some(1),
            completion_tokens: Some(2),
            tokens_estimated: Some(true),
            call_log_id: Some(7),
            code: Some("X".into()),
            message: Some("m".into()),
        };
        assert_eq!(json_text(&full), full.to_json_string());
        let chunk = to_message(RelayEvent::Chunk("a".into())).unwrap();
        assert_eq!(json_text(&chunk), chunk.to_json_string());
        assert_eq!(json_text(&chunk), r#"{"content":"a","type":"chunk"}"#);
    }
}
