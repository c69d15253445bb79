//! The OpenAI- and Anthropic-compatible surface under `/v1`, for standard SDKs and tools:
//! `GET /v1/models`, `POST /v1/chat/completions` (OpenAI) and `POST /v1/messages`
//! (Anthropic). A model is a config, by name. Each request is read into the relay's own
//! types and handed to the relay like any other call: one lifecycle, one record.
//!
//! These routes speak the SDKs' wire formats (errors included) rather than the envelope of
//! `/api`, so they are plain poem handlers outside the OpenAPI document.

mod chat;
mod chat_reply;
mod errors;
mod messages;
mod messages_reply;

use chrono::Utc;
use futures::{Stream, StreamExt, stream};
use poem::{
    Body, Endpoint, EndpointExt, IntoResponse, Request, Response, Route, get, handler,
    http::HeaderMap,
    post,
    web::{
        Data, Json, Path,
        sse::{Event, SSE},
    },
};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::{
    api::client::calls::{KEEP_ALIVE, caller},
    auth::{self, Principal},
    db,
    error::{AppError, AppResult, AuthFailure, classify},
    relay::{CallInput, RelayEvent},
    state::AppState,
};
use errors::Dialect;

pub fn routes() -> impl Endpoint {
    Route::new()
        .at("/models", get(list_models))
        .at("/models/:id", get(get_model))
        .at("/chat/completions", post(chat_completions))
        .at("/messages", post(create_message))
        .catch_all_error(render_error)
}

/// A path or method this surface does not have, answered in OpenAI's shape.
async fn render_error(err: poem::Error) -> Response {
    let (app, status) = classify(&err);
    let mut response = errors::response(&app, Dialect::OpenAi);
    response.set_status(status);
    response
}

/// The key from `Authorization: Bearer …` (OpenAI SDKs, Anthropic's `auth_token`) or
/// `x-api-key` (Anthropic's `api_key`).
fn presented_token(headers: &HeaderMap) -> Option<&str> {
    let bearer = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.get(..7)
                .filter(|p| p.eq_ignore_ascii_case("bearer "))
                .map(|_| &v[7..])
        });
    bearer
        .or_else(|| headers.get("x-api-key").and_then(|v| v.to_str().ok()))
        .map(str::trim)
        .filter(|token| !token.is_empty())
}

async fn authenticate(state: &AppState, req: &Request) -> AppResult<Principal> {
    let token =
        presented_token(req.headers()).ok_or(AppError::Unauthorized(AuthFailure::MissingToken))?;
    auth::authenticate_bearer(state, token).await
}

/// Anthropic's SDKs always send `anthropic-version`; OpenAI's never do.
fn dialect_of(req: &Request) -> Dialect {
    if req.headers().contains_key("anthropic-version") {
        Dialect::Anthropic
    } else {
        Dialect::OpenAi
    }
}

fn answer(result: AppResult<Response>, dialect: Dialect) -> Response {
    result.unwrap_or_else(|err| errors::response(&err, dialect))
}

async fn read_json<T: DeserializeOwned>(body: Body) -> AppResult<T> {
    let bytes = body
        .into_vec()
        .await
        .map_err(|err| AppError::BadRequest(err.to_string()))?;
    serde_json::from_slice(&bytes).map_err(|err| AppError::BadRequest(err.to_string()))
}

/// The model as both SDKs read it (each ignores the other's fields).
fn model_object(config: &entity::llm_configs::Model) -> Value {
    json!({
        "id": config.name,
        "object": "model",
        "type": "model",
        "created": config.created_at.timestamp(),
        "created_at": config.created_at.to_rfc3339(),
        "owned_by": config.provider,
        "display_name": config.name,
    })
}

#[handler]
async fn list_models(req: &Request, state: Data<&AppState>) -> Response {
    let result = async {
        let principal = authenticate(&state, req).await?;
        let configs = db::configs::usable_by(&state.db, principal.group_id()).await?;
        let data: Vec<Value> = configs.iter().map(model_object).collect();
        Ok(Json(json!({
            "object": "list",
            "data": data,
            "has_more": false,
            "first_id": configs.first().map(|c| &c.name),
            "last_id": configs.last().map(|c| &c.name),
        }))
        .into_response())
    };
    answer(result.await, dialect_of(req))
}

#[handler]
async fn get_model(req: &Request, state: Data<&AppState>, Path(name): Path<String>) -> Response {
    let result = async {
        let principal = authenticate(&state, req).await?;
        let config = db::configs::active_by_name(&state.db, &name).await?;
        db::configs::check_access(&state.db, principal.group_id(), config.id).await?;
        Ok(Json(model_object(&config)).into_response())
    };
    answer(result.await, dialect_of(req))
}

/// The config a `/v1` call names, and the call for the relay.
async fn call_input(
    state: &AppState,
    model: &str,
    parts: (Vec<crate::providers::ChatMessage>, crate::relay::Overrides),
) -> AppResult<CallInput> {
    let config = db::configs::active_by_name(&state.db, model).await?;
    let (messages, overrides) = parts;
    Ok(CallInput {
        config_id: Some(config.id),
        messages,
        overrides,
        ..CallInput::default()
    })
}

#[handler]
async fn chat_completions(req: &Request, state: Data<&AppState>, body: Body) -> Response {
    let result = async {
        let principal = authenticate(&state, req).await?;
        let request: chat::ChatCompletionRequest = read_json(body).await?;
        let (model, stream, include_usage) = (
            request.model.clone(),
            request.is_stream(),
            request.include_usage(),
        );
        let input = call_input(&state, &model, request.into_parts()?).await?;
        let created = Utc::now().timestamp();
        if !stream {
            let result = state.relay.complete(input, caller(&principal)).await?;
            return Ok(Json(chat_reply::completion(&result, &model, created)).into_response());
        }
        let session = state.relay.stream(input, caller(&principal)).await?;
        let mut encoder = chat_reply::ChunkEncoder::new(model, created, include_usage);
        let first = stream::iter([Event::message(encoder.start())]);
        let rest = until_done(session.events, move |event| {
            let encoded = encoder.encode(event);
            (
                encoded.payloads.into_iter().map(Event::message).collect(),
                encoded.done,
            )
        });
        Ok(sse(first.chain(rest)))
    };
    answer(result.await, Dialect::OpenAi)
}

#[handler]
async fn create_message(req: &Request, state: Data<&AppState>, body: Body) -> Response {
    let result = async {
        let principal = authenticate(&state, req).await?;
        let request: messages::MessagesRequest = read_json(body).await?;
        let (model, stream) = (request.model.clone(), request.is_stream());
        let input = call_input(&state, &model, request.into_parts()?).await?;
        if !stream {
            let result = state.relay.complete(input, caller(&principal)).await?;
            return Ok(Json(messages_reply::message(&result, &model)).into_response());
        }
        let session = state.relay.stream(input, caller(&principal)).await?;
        let (name, data) = messages_reply::EventEncoder::start(&model);
        let first = stream::iter([Event::message(data).event_type(name)]);
        let mut encoder = messages_reply::EventEncoder::new();
        let rest = until_done(session.events, move |event| {
            let (named, done) = encoder.encode(event);
            let events = named
                .into_iter()
                .map(|(name, data)| Event::message(data).event_type(name))
                .collect();
            (events, done)
        });
        Ok(sse(first.chain(rest)))
    };
    answer(result.await, Dialect::Anthropic)
}

/// The relay's events, each turned into SSE events by `encode`, until it says the answer is
/// over (dropping the receiver then tells the relay nobody reads any more).
fn until_done(
    events: tokio::sync::mpsc::Receiver<RelayEvent>,
    encode: impl FnMut(RelayEvent) -> (Vec<Event>, bool) + Send + 'static,
) -> impl Stream<Item = Event> + Send + 'static {
    stream::unfold(
        (events, encode, false),
        |(mut events, mut encode, done)| async move {
            if done {
                return None;
            }
            let event = events.recv().await?;
            let (out, done) = encode(event);
            Some((stream::iter(out), (events, encode, done)))
        },
    )
    .flatten()
}

fn sse(events: impl Stream<Item = Event> + Send + 'static) -> Response {
    SSE::new(events).keep_alive(KEEP_ALIVE).into_response()
}
