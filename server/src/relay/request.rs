//! From a client's call to the provider-neutral request: config, template, history and
//! parameter overrides, in the order the upstream must see them.

use std::collections::HashMap;

use entity::llm_configs;

use super::template;
use crate::{
    crypto::Cipher,
    db::{self, Db},
    error::{AppError, AppResult},
    providers::{ChatMessage, ChatRequest, ProviderKind, Role, Target},
    validate,
};

/// Per-call parameters a client may set; each overrides the config's within the same range.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Overrides {
    pub max_tokens: Option<i32>,
    pub temperature: Option<f64>,
    pub top_p: Option<f64>,
    pub frequency_penalty: Option<f64>,
    pub presence_penalty: Option<f64>,
}

/// What a client asked for.
#[derive(Debug, Clone, Default)]
pub struct CallInput {
    /// `None` for a template call: the template's config is used.
    pub config_id: Option<i32>,
    pub messages: Vec<ChatMessage>,
    pub template_id: Option<i32>,
    pub variables: HashMap<String, String>,
    pub overrides: Overrides,
}

/// Who is calling, as recorded with the call.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Caller {
    pub group_id: Option<i32>,
    pub activation_code: Option<String>,
    pub user_id: Option<i32>,
    pub api_key_id: Option<i32>,
}

/// Everything one call needs, checked and resolved.
#[derive(Debug, Clone)]
pub struct PreparedCall {
    pub config: llm_configs::Model,
    pub template_id: Option<i32>,
    pub target: Target,
    pub request: ChatRequest,
    pub caller: Caller,
}

impl PreparedCall {
    /// The most the call can use: its prompt (estimated) plus everything it may generate.
    pub fn worst_case_tokens(&self) -> i64 {
        i64::from(super::usage::prompt_estimate(&self.request.messages))
            + i64::from(self.request.max_tokens)
    }
}

pub async fn prepare(
    db: &Db,
    cipher: &Cipher,
    input: CallInput,
    caller: Caller,
) -> AppResult<PreparedCall> {
    let template = match input.template_id {
        Some(id) => Some(db::templates::cached(db, id).await?),
        None => None,
    };
    let config_id = match (input.config_id, &template) {
        (Some(id), _) => id,
        (None, Some(template)) => template.config_id,
        (None, None) => return Err(AppError::validation("config_id", "请指定配置ID")),
    };
    let config = db::configs::cached(db, config_id).await?;
    if !config.is_active {
        return Err(AppError::Unavailable("该配置已被禁用".into()));
    }
    let mut messages = input.messages;
    check_history(&messages)?;
    if let Some(template) = &template {
        if template.config_id != config.id {
            return Err(AppError::validation("template_id", "该模板不属于所选配置"));
        }
        if !template.is_active {
            return Err(AppError::Unavailable("该模板已被禁用".into()));
        }
        let rendered = template::render(&template.template_content, &input.variables)?;
        messages.push(ChatMessage {
            role: Role::User,
            content: rendered,
        });
    }
    if !messages.iter().any(|m| m.role != Role::System) {
        return Err(AppError::validation(
            "messages",
            "请提供至少一条用户消息或使用模板",
        ));
    }
    let request = build_request(&config, messages, &input.overrides)?;
    resolved(config, template.map(|t| t.id), request, caller, cipher)
}

/// An admin's connection test: one user message to a config, enabled or not.
pub fn prepare_test(
    config: llm_configs::Model,
    message: String,
    caller: Caller,
    cipher: &Cipher,
) -> AppResult<PreparedCall> {
    let messages = vec![ChatMessage {
        role: Role::User,
        content: message,
    }];
    let request = build_request(&config, messages, &Overrides::default())?;
    resolved(config, None, request, caller, cipher)
}

fn resolved(
    config: llm_configs::Model,
    template_id: Option<i32>,
    request: ChatRequest,
    caller: Caller,
    cipher: &Cipher,
) -> AppResult<PreparedCall> {
    let provider = ProviderKind::parse(&config.provider)
        .ok_or_else(|| AppError::Internal(format!("unknown provider {}", config.provider)))?;
    // Decrypted only now, for this call; `Secret` keeps it out of logs.
    let api_key = cipher
        .decrypt(&config.api_key)
        .map_err(|err| AppError::Internal(format!("config {}: {err}", config.id)))?;
    Ok(PreparedCall {
        target: Target {
            provider,
            api_url: config.api_url.clone(),
            api_key,
        },
        template_id,
        request,
        caller,
        config,
    })
}

const MAX_MESSAGES: usize = 500;
const MAX_CONTENT_CHARS: usize = 1_000_000;

fn check_history(messages: &[ChatMessage]) -> AppResult<()> {
    if messages.len() > MAX_MESSAGES {
        return Err(AppError::validation(
            "messages",
            format!("消息数量不能超过 {MAX_MESSAGES} 条"),
        ));
    }
    let total: usize = messages.iter().map(|m| m.content.chars().count()).sum();
    if total > MAX_CONTENT_CHARS {
        return Err(AppError::validation("messages", "消息内容过长"));
    }
    Ok(())
}

/// The config's system prompt first, then the request's system messages, then the rest in
/// the order given (so history stays intact).
pub fn build_request(
    config: &llm_configs::Model,
    messages: Vec<ChatMessage>,
    overrides: &Overrides,
) -> AppResult<ChatRequest> {
    let (system, rest): (Vec<_>, Vec<_>) =
        messages.into_iter().partition(|m| m.role == Role::System);
    let mut ordered = Vec::with_capacity(system.len() + rest.len() + 1);
    if let Some(prompt) = config
        .system_prompt
        .as_ref()
        .filter(|p| !p.trim().is_empty())
    {
        ordered.push(ChatMessage {
            role: Role::System,
            content: prompt.clone(),
        });
    }
    ordered.extend(system);
    ordered.extend(rest);
    let max_tokens = overrides.max_tokens.unwrap_or(config.max_tokens);
    Ok(ChatRequest {
        model: config.model.clone(),
        messages: ordered,
        max_tokens: validate::range_i64("max_tokens", "Max Tokens", max_tokens.into(), 1, 32000)?
            as u32,
        temperature: validate::range_f64(
            "temperature",
            "Temperature",
            overrides.temperature.unwrap_or(config.temperature),
            0.0,
            2.0,
        )?,
        top_p: validate::range_f64(
            "top_p",
            "Top P",
            overrides.top_p.unwrap_or(config.top_p),
            0.0,
            1.0,
        )?,
        frequency_penalty: validate::range_f64(
            "frequency_penalty",
            "Frequency Penalty",
            overrides
                .frequency_penalty
                .unwrap_or(config.frequency_penalty),
            -2.0,
            2.0,
        )?,
        presence_penalty: validate::range_f64(
            "presence_penalty",
            "Presence Penalty",
            overrides
                .presence_penalty
                .unwrap_or(config.presence_penalty),
            -2.0,
            2.0,
        )?,
    })
}
