//! From a client's call to the provider-neutral request: config, template, history and
//! parameter overrides, in the order the upstream must see them.

use std::collections::HashMap;

use entity::llm_configs;

use super::keys::{KeyedTarget, StoredKeys};
use super::template;
use crate::{
    db::{self, Db},
    error::{AppError, AppResult},
    providers::{
        ChatMessage, ChatRequest, ProviderKind, ResponseFormat, Role, Target, Tool, ToolChoice,
        Usage,
    },
    quotas::WorstCase,
    validate,
};

/// Per-call parameters a client may set. The sampling ones override the config's within
/// the same range; the rest have no config default and are sent only when given.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Overrides {
    pub max_tokens: Option<i32>,
    pub temperature: Option<f64>,
    pub top_p: Option<f64>,
    pub frequency_penalty: Option<f64>,
    pub presence_penalty: Option<f64>,
    pub stop: Vec<String>,
    pub seed: Option<i64>,
    pub response_format: Option<ResponseFormat>,
    pub user: Option<String>,
    pub tools: Vec<Tool>,
    pub tool_choice: Option<ToolChoice>,
    pub parallel_tool_calls: Option<bool>,
    pub reasoning_effort: Option<String>,
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

/// One config that may answer a call: where and with which keys, and the request built
/// with that config's prompt and defaults.
#[derive(Debug, Clone)]
pub struct Route {
    pub config: llm_configs::Model,
    /// The config's keys not set aside (none when every key is).
    pub keys: Vec<KeyedTarget>,
    pub request: ChatRequest,
}

impl Route {
    /// The most the call can use here: its prompt (estimated) plus all it may generate.
    fn worst_case_usage(&self) -> Usage {
        let prompt = super::usage::prompt_estimate(&self.request);
        let completion = self.request.max_tokens;
        Usage {
            prompt_tokens: prompt,
            completion_tokens: completion,
            total_tokens: prompt.saturating_add(completion),
        }
    }
}

/// Everything one call needs, checked and resolved.
#[derive(Debug, Clone)]
pub struct PreparedCall {
    /// The config asked for, then its usable fallbacks in the order they are tried.
    pub routes: Vec<Route>,
    pub template_id: Option<i32>,
    pub caller: Caller,
}

impl PreparedCall {
    /// The currencies the routes' prices are in.
    pub fn currencies(&self) -> Vec<&str> {
        self.routes
            .iter()
            .map(|route| route.config.currency.as_str())
            .collect()
    }

    /// The most the call can use, whichever route answers: tokens, and money at each
    /// route's prices.
    pub fn worst_case(&self) -> WorstCase {
        let usages: Vec<Usage> = self.routes.iter().map(Route::worst_case_usage).collect();
        WorstCase {
            tokens: usages
                .iter()
                .map(|u| i64::from(u.total_tokens))
                .max()
                .unwrap_or(0),
            costs: self
                .routes
                .iter()
                .zip(&usages)
                .map(|(route, usage)| {
                    let cost = super::usage::cost(&route.config, usage);
                    (cost, route.config.currency.clone())
                })
                .collect(),
        }
    }
}

pub async fn prepare(
    db: &Db,
    stored_keys: &StoredKeys,
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
    db::configs::check_access(db, caller.group_id, config.id).await?;
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
        messages.push(ChatMessage::text(Role::User, rendered));
    }
    if messages.iter().all(|m| m.role.is_instruction()) {
        return Err(AppError::validation(
            "messages",
            "请提供至少一条用户消息或使用模板",
        ));
    }
    // A fallback that cannot take this request (its provider lacks a feature, a parameter
    // is out of its range) is left out rather than failing the call.
    let mut fallback_routes = Vec::new();
    for fallback in fallbacks(db, &config, caller.group_id).await? {
        let id = fallback.id;
        let set_aside = set_aside(db, id).await?;
        match route(
            fallback,
            messages.clone(),
            input.overrides.clone(),
            stored_keys,
            &set_aside,
        ) {
            Ok(route) => fallback_routes.push(route),
            Err(err) => tracing::debug!(config_id = id, %err, "fallback skipped"),
        }
    }
    let set_aside = set_aside(db, config.id).await?;
    let mut routes = vec![route(
        config,
        messages,
        input.overrides,
        stored_keys,
        &set_aside,
    )?];
    routes.extend(fallback_routes);
    Ok(PreparedCall {
        routes,
        template_id: template.map(|t| t.id),
        caller,
    })
}

/// The configs to try after `config`, in order: its fallbacks, each followed by its own
/// (depth first, each once), leaving out disabled ones and those the group may not use.
async fn fallbacks(
    db: &Db,
    config: &llm_configs::Model,
    group_id: Option<i32>,
) -> AppResult<Vec<llm_configs::Model>> {
    let mut seen = vec![config.id];
    let mut pending: Vec<i32> = config.fallbacks().into_iter().rev().collect();
    let mut chain = Vec::new();
    while let Some(id) = pending.pop() {
        if seen.contains(&id) || seen.len() > MAX_ROUTES {
            continue;
        }
        seen.push(id);
        let Ok(fallback) = db::configs::cached(db, id).await else {
            continue;
        };
        pending.extend(fallback.fallbacks().into_iter().rev());
        let allowed = db::configs::check_access(db, group_id, id).await.is_ok();
        if fallback.is_active && allowed {
            chain.push(fallback);
        }
    }
    Ok(chain)
}

/// The ids of a config's keys that are set aside.
async fn set_aside(db: &Db, config_id: i32) -> AppResult<Vec<String>> {
    Ok(db::config_keys::set_aside(db, config_id)
        .await?
        .into_iter()
        .map(|state| state.key_id)
        .collect())
}

/// A bound on how many configs one call may try.
const MAX_ROUTES: usize = 8;

/// An admin's connection test: one user message to a config, enabled or not.
pub fn prepare_test(
    config: llm_configs::Model,
    message: String,
    caller: Caller,
    stored_keys: &StoredKeys,
) -> AppResult<PreparedCall> {
    let messages = vec![ChatMessage::text(Role::User, message)];
    // A test tries every key, set aside or not: it is how an admin checks one again.
    Ok(PreparedCall {
        routes: vec![route(
            config,
            messages,
            Overrides::default(),
            stored_keys,
            &[],
        )?],
        template_id: None,
        caller,
    })
}

fn route(
    config: llm_configs::Model,
    messages: Vec<ChatMessage>,
    overrides: Overrides,
    stored_keys: &StoredKeys,
    set_aside: &[String],
) -> AppResult<Route> {
    let request = build_request(&config, messages, overrides)?;
    let provider = ProviderKind::parse(&config.provider)
        .ok_or_else(|| AppError::Internal(format!("unknown provider {}", config.provider)))?;
    check_capabilities(provider, &request)?;
    // Decrypted only now, for this call; `Secret` keeps them out of logs.
    let keys = stored_keys
        .open(&config.api_key)
        .map_err(|err| AppError::Internal(format!("config {}: {err}", config.id)))?;
    let keys = keys
        .into_iter()
        .enumerate()
        .map(|(position, (api_key, key_id))| KeyedTarget {
            position,
            key_id,
            target: Target {
                provider,
                api_url: config.api_url.clone(),
                api_key,
            },
        })
        .filter(|key| !set_aside.contains(&key.key_id))
        .collect();
    Ok(Route {
        keys,
        request,
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
    let total: usize = messages
        .iter()
        .map(|m| {
            let images: usize = m.content.images().map(|image| image.url.len()).sum();
            let calls: usize = m.tool_calls.iter().map(|c| c.arguments.len()).sum();
            m.content.text().chars().count() + images + calls
        })
        .sum();
    if total > MAX_CONTENT_CHARS {
        return Err(AppError::validation("messages", "消息内容过长"));
    }
    Ok(())
}

/// The config's system prompt first, then the request's instructions (system, developer),
/// then the rest in the order given (so history stays intact). A parameter the call sets
/// wins over the config's; a reasoning model's config sends no sampling defaults.
pub fn build_request(
    config: &llm_configs::Model,
    messages: Vec<ChatMessage>,
    overrides: Overrides,
) -> AppResult<ChatRequest> {
    let (system, rest): (Vec<_>, Vec<_>) =
        messages.into_iter().partition(|m| m.role.is_instruction());
    let mut ordered = Vec::with_capacity(system.len() + rest.len() + 1);
    if let Some(prompt) = config
        .system_prompt
        .as_ref()
        .filter(|p| !p.trim().is_empty())
    {
        ordered.push(ChatMessage::text(Role::System, prompt.clone()));
    }
    ordered.extend(system);
    ordered.extend(rest);
    let max_tokens = overrides.max_tokens.unwrap_or(config.max_tokens);
    let default = |value: f64| (!config.reasoning_model).then_some(value);
    let sampling = |field, label, given: Option<f64>, configured, min, max| {
        given
            .or(default(configured))
            .map(|value| validate::range_f64(field, label, value, min, max))
            .transpose()
    };
    let request = ChatRequest {
        model: config.model.clone(),
        messages: ordered,
        max_tokens: validate::range_i64("max_tokens", "Max Tokens", max_tokens.into(), 1, 32000)?
            as u32,
        temperature: sampling(
            "temperature",
            "Temperature",
            overrides.temperature,
            config.temperature,
            0.0,
            2.0,
        )?,
        top_p: sampling("top_p", "Top P", overrides.top_p, config.top_p, 0.0, 1.0)?,
        frequency_penalty: sampling(
            "frequency_penalty",
            "Frequency Penalty",
            overrides.frequency_penalty,
            config.frequency_penalty,
            -2.0,
            2.0,
        )?,
        presence_penalty: sampling(
            "presence_penalty",
            "Presence Penalty",
            overrides.presence_penalty,
            config.presence_penalty,
            -2.0,
            2.0,
        )?,
        stop: overrides.stop,
        seed: overrides.seed,
        response_format: overrides.response_format,
        user: overrides.user,
        tools: overrides.tools,
        tool_choice: overrides.tool_choice,
        parallel_tool_calls: overrides.parallel_tool_calls,
        reasoning_effort: overrides.reasoning_effort,
    };
    check_extensions(&request)?;
    Ok(request)
}

const MAX_STOP: usize = 4;
const MAX_TOOLS: usize = 128;

/// The parts of an SDK's request a provider may not support, and their shapes.
fn check_extensions(request: &ChatRequest) -> AppResult<()> {
    if request.stop.len() > MAX_STOP {
        return Err(AppError::validation(
            "stop",
            format!("停止词最多 {MAX_STOP} 个"),
        ));
    }
    if request.tools.len() > MAX_TOOLS {
        return Err(AppError::validation(
            "tools",
            format!("工具最多 {MAX_TOOLS} 个"),
        ));
    }
    if let Some(tool) = request.tools.iter().find(|t| !valid_tool_name(&t.name)) {
        return Err(AppError::validation(
            "tools",
            format!(
                "工具名称无效：{}（只能包含字母、数字、_ 和 -，1–64 个字符）",
                tool.name
            ),
        ));
    }
    if let Some(ToolChoice::Function(name)) = &request.tool_choice
        && !request.tools.iter().any(|t| &t.name == name)
    {
        return Err(AppError::validation(
            "tool_choice",
            format!("tool_choice 指定的工具不在 tools 中：{name}"),
        ));
    }
    Ok(())
}

fn valid_tool_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// Refuses what the provider's protocol cannot carry, before anything is sent or charged.
fn check_capabilities(provider: ProviderKind, request: &ChatRequest) -> AppResult<()> {
    let can = provider.capabilities();
    let refuse = |field, what: &str| {
        Err(AppError::Unsupported {
            field,
            message: format!("该模型配置的提供商（{}）不支持{what}", provider.as_str()),
        })
    };
    if request.has_images() && !can.images {
        return refuse("messages", "图片输入");
    }
    if request.uses_tools() && !can.tools {
        return refuse("tools", "工具调用");
    }
    if request.response_format.is_some() && !can.response_format {
        return refuse("response_format", "指定回复格式（response_format）");
    }
    Ok(())
}
