//! `/api/admin/llm/configs`: model configs (大模型配置). The API key is write-only: it is
//! encrypted on the way in and only ever shown masked.

use chrono::{DateTime, Utc};
use entity::{config_key_states, llm_configs::Model};
use poem::{http::StatusCode, web::Data};
use poem_openapi::{ApiResponse, Object, OpenApi, param::Path, payload::Json};

use crate::{
    api::{
        ApiTags,
        envelope::{Deleted, Reply, deleted, ok},
    },
    auth::{AdminAuth, Principal},
    crypto::{key_id, mask_key},
    db::{self, configs::ConfigFields},
    error::{AppError, AppResult},
    providers::ProviderKind,
    relay::Answered,
    secret::Secret,
    state::AppState,
    validate,
};

/// A config as an admin sees it: never the key itself.
#[derive(Debug, Object)]
pub struct ConfigView {
    pub id: i32,
    pub name: String,
    /// openai | anthropic | aliyun | xunfei | baidu | zhipu | custom
    pub provider: String,
    pub api_url: String,
    pub model: String,
    pub has_api_key: bool,
    /// The first key, e.g. `sk-…abcd`.
    pub api_key_masked: String,
    /// Every key, masked, with its state: calls spread over the keys not set aside.
    pub api_keys: Vec<KeyView>,
    pub max_tokens: i32,
    pub temperature: f64,
    pub top_p: f64,
    pub frequency_penalty: f64,
    pub presence_penalty: f64,
    /// A reasoning model (o-series, gpt-5, thinking models): temperature, top_p and the
    /// penalties above are not sent upstream; a call's own values still are.
    pub reasoning_model: bool,
    /// Configs tried in order when this one fails before answering (connection errors,
    /// rate limits, overload, a refused key); for streams only before the first output.
    pub fallback_config_ids: Vec<i32>,
    /// Circuit breaker: after this many failed calls in a row the config is skipped (its
    /// fallbacks answer) for `breaker_cooldown_seconds`; null = no breaker.
    #[oai(nullable)]
    pub breaker_threshold: Option<i32>,
    pub breaker_cooldown_seconds: i32,
    /// While this server skips the config (its circuit is open): until when.
    #[oai(nullable)]
    pub circuit_open_until: Option<DateTime<Utc>>,
    #[oai(nullable)]
    pub system_prompt: Option<String>,
    pub timeout_seconds: i32,
    pub max_retries: i32,
    /// Price per million prompt tokens.
    pub input_price: f64,
    /// Price per million completion tokens.
    pub output_price: f64,
    pub currency: String,
    pub is_active: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// One of a config's keys as an admin sees it.
#[derive(Debug, Object)]
pub struct KeyView {
    /// Its place in the config's list (0 = first line).
    pub position: i32,
    /// e.g. `sk-…abcd`.
    pub masked: String,
    /// The upstream refused it (bad key, exhausted balance): no call uses it until it is
    /// put back (`POST …/keys/{position}/restore`).
    pub set_aside: bool,
    /// What the upstream said.
    #[oai(nullable)]
    pub reason: Option<String>,
    #[oai(nullable)]
    pub set_aside_at: Option<DateTime<Utc>>,
    /// The upstream rate-limited it: this server tries it last until then.
    #[oai(nullable)]
    pub cooling_until: Option<DateTime<Utc>>,
}

/// Create a config. Omitted parameters take the requirements' defaults; an omitted
/// `api_url` takes the provider's standard endpoint (required for `custom`).
#[derive(Debug, Object)]
pub struct CreateConfig {
    #[oai(deserialize_with = "crate::api::strict::strings")]
    #[oai(validator(max_length = 100, pattern = "\\S"))]
    pub name: String,
    #[oai(deserialize_with = "crate::api::strict::strings")]
    #[oai(validator(pattern = "^(openai|anthropic|aliyun|xunfei|baidu|zhipu|custom)$"))]
    pub provider: String,
    #[oai(nullable, deserialize_with = "crate::api::strict::strings")]
    #[oai(validator(pattern = "^https?://[^\\s/?#]+([/?#]\\S*)?$", max_length = 500))]
    pub api_url: Option<String>,
    /// One key, or several one per line (calls spread over them). Each is stored
    /// AES-256-GCM encrypted on its own; never returned.
    #[oai(deserialize_with = "crate::api::strict::strings")]
    #[oai(validator(pattern = "\\S"))]
    pub api_key: String,
    #[oai(deserialize_with = "crate::api::strict::strings")]
    #[oai(validator(max_length = 100, pattern = "\\S"))]
    pub model: String,
    #[oai(nullable)]
    #[oai(validator(minimum(value = "1"), maximum(value = "32000")))]
    pub max_tokens: Option<i32>,
    #[oai(nullable)]
    #[oai(validator(minimum(value = "0"), maximum(value = "2")))]
    pub temperature: Option<f64>,
    #[oai(nullable)]
    #[oai(validator(minimum(value = "0"), maximum(value = "1")))]
    pub top_p: Option<f64>,
    #[oai(nullable)]
    #[oai(validator(minimum(value = "-2"), maximum(value = "2")))]
    pub frequency_penalty: Option<f64>,
    #[oai(nullable)]
    #[oai(validator(minimum(value = "-2"), maximum(value = "2")))]
    pub presence_penalty: Option<f64>,
    /// Default false. True: the sampling defaults are not sent (reasoning models refuse them).
    #[oai(nullable)]
    pub reasoning_model: Option<bool>,
    /// Configs tried in order when this one fails before answering (at most 5, no cycles).
    #[oai(nullable)]
    pub fallback_config_ids: Option<Vec<i32>>,
    /// Failed calls in a row that open the circuit breaker (1–100); 0 = no breaker.
    #[oai(nullable)]
    #[oai(validator(minimum(value = "0"), maximum(value = "100")))]
    pub breaker_threshold: Option<i32>,
    /// How long an open circuit skips the config (1–3600 s, default 60).
    #[oai(nullable)]
    #[oai(validator(minimum(value = "1"), maximum(value = "3600")))]
    pub breaker_cooldown_seconds: Option<i32>,
    #[oai(nullable, deserialize_with = "crate::api::strict::strings")]
    #[oai(validator(max_length = 100000))]
    pub system_prompt: Option<String>,
    #[oai(nullable)]
    #[oai(validator(minimum(value = "1"), maximum(value = "600")))]
    pub timeout_seconds: Option<i32>,
    #[oai(nullable)]
    #[oai(validator(minimum(value = "0"), maximum(value = "10")))]
    pub max_retries: Option<i32>,
    #[oai(nullable)]
    #[oai(validator(minimum(value = "0"), maximum(value = "1000000")))]
    pub input_price: Option<f64>,
    #[oai(nullable)]
    #[oai(validator(minimum(value = "0"), maximum(value = "1000000")))]
    pub output_price: Option<f64>,
    #[oai(nullable, deserialize_with = "crate::api::strict::strings")]
    #[oai(validator(max_length = 8, pattern = "\\S"))]
    pub currency: Option<String>,
    #[oai(nullable)]
    pub is_active: Option<bool>,
}

/// Change only the fields given. Without `api_key` the stored key is kept;
/// an empty `system_prompt` clears it.
#[derive(Debug, Object)]
pub struct UpdateConfig {
    #[oai(nullable, deserialize_with = "crate::api::strict::strings")]
    #[oai(validator(max_length = 100, pattern = "\\S"))]
    pub name: Option<String>,
    #[oai(nullable, deserialize_with = "crate::api::strict::strings")]
    #[oai(validator(pattern = "^(openai|anthropic|aliyun|xunfei|baidu|zhipu|custom)$"))]
    pub provider: Option<String>,
    #[oai(nullable, deserialize_with = "crate::api::strict::strings")]
    #[oai(validator(pattern = "^https?://[^\\s/?#]+([/?#]\\S*)?$", max_length = 500))]
    pub api_url: Option<String>,
    #[oai(nullable, deserialize_with = "crate::api::strict::strings")]
    #[oai(validator(pattern = "\\S"))]
    pub api_key: Option<String>,
    #[oai(nullable, deserialize_with = "crate::api::strict::strings")]
    #[oai(validator(max_length = 100, pattern = "\\S"))]
    pub model: Option<String>,
    #[oai(nullable)]
    #[oai(validator(minimum(value = "1"), maximum(value = "32000")))]
    pub max_tokens: Option<i32>,
    #[oai(nullable)]
    #[oai(validator(minimum(value = "0"), maximum(value = "2")))]
    pub temperature: Option<f64>,
    #[oai(nullable)]
    #[oai(validator(minimum(value = "0"), maximum(value = "1")))]
    pub top_p: Option<f64>,
    #[oai(nullable)]
    #[oai(validator(minimum(value = "-2"), maximum(value = "2")))]
    pub frequency_penalty: Option<f64>,
    #[oai(nullable)]
    #[oai(validator(minimum(value = "-2"), maximum(value = "2")))]
    pub presence_penalty: Option<f64>,
    /// Default false. True: the sampling defaults are not sent (reasoning models refuse them).
    #[oai(nullable)]
    pub reasoning_model: Option<bool>,
    /// Replaces the fallbacks (at most 5, no cycles); `[]` removes them.
    #[oai(nullable)]
    pub fallback_config_ids: Option<Vec<i32>>,
    /// Failed calls in a row that open the circuit breaker (1–100); 0 = no breaker.
    #[oai(nullable)]
    #[oai(validator(minimum(value = "0"), maximum(value = "100")))]
    pub breaker_threshold: Option<i32>,
    /// How long an open circuit skips the config (1–3600 s, default 60).
    #[oai(nullable)]
    #[oai(validator(minimum(value = "1"), maximum(value = "3600")))]
    pub breaker_cooldown_seconds: Option<i32>,
    #[oai(nullable, deserialize_with = "crate::api::strict::strings")]
    #[oai(validator(max_length = 100000))]
    pub system_prompt: Option<String>,
    #[oai(nullable)]
    #[oai(validator(minimum(value = "1"), maximum(value = "600")))]
    pub timeout_seconds: Option<i32>,
    #[oai(nullable)]
    #[oai(validator(minimum(value = "0"), maximum(value = "10")))]
    pub max_retries: Option<i32>,
    #[oai(nullable)]
    #[oai(validator(minimum(value = "0"), maximum(value = "1000000")))]
    pub input_price: Option<f64>,
    #[oai(nullable)]
    #[oai(validator(minimum(value = "0"), maximum(value = "1000000")))]
    pub output_price: Option<f64>,
    #[oai(nullable, deserialize_with = "crate::api::strict::strings")]
    #[oai(validator(max_length = 8, pattern = "\\S"))]
    pub currency: Option<String>,
    #[oai(nullable)]
    pub is_active: Option<bool>,
}

/// A connection test of a saved config: one message sent through it. Any config field
/// given (the edit form's unsaved values, a new key) is used for this test instead of
/// the stored one, and nothing is saved.
#[derive(Debug, Object)]
pub struct TestConfig {
    /// Default: "Hello".
    #[oai(nullable, deserialize_with = "crate::api::strict::strings")]
    pub test_message: Option<String>,
    #[oai(flatten)]
    pub config: UpdateConfig,
}

/// A connection test of a config that is not saved (the new-config form): the same body
/// as creating one, plus the message. Nothing is saved; the call is recorded without a
/// config id.
#[derive(Debug, Object)]
pub struct TestNewConfig {
    /// Default: "Hello".
    pub test_message: Option<String>,
    #[oai(flatten)]
    pub config: CreateConfig,
}

/// The requirements' test answer (not wrapped in `data`).
#[derive(Debug, Object)]
pub struct TestResult {
    pub success: bool,
    pub message: String,
    pub response: String,
    pub duration_ms: i64,
    /// The call's record.
    pub call_log_id: i64,
}

/// A test whose call failed upstream: the error envelope plus what the upstream itself
/// said (as recorded, keys scrubbed) and the record to open.
#[derive(Debug, Object)]
pub struct TestFailure {
    /// Always `false`.
    pub success: bool,
    pub code: String,
    pub message: String,
    /// The upstream's own words, e.g. `Auth HTTP 401 [invalid_api_key]: Incorrect API key provided`.
    #[oai(skip_serializing_if_is_none)]
    pub detail: Option<String>,
    /// The call's record (absent when it could not be written).
    #[oai(skip_serializing_if_is_none)]
    pub call_log_id: Option<i64>,
}

#[derive(ApiResponse)]
pub enum TestAnswer {
    /// 测试成功
    #[oai(status = 200)]
    Passed(Json<TestResult>),
    /// 上游调用失败（502 / 504 / 429）：错误码、上游原话与调用记录
    Failed(StatusCode, Json<TestFailure>),
}

pub struct ConfigsApi;

#[OpenApi(prefix_path = "/admin/llm/configs", tag = "ApiTags::AdminConfigs")]
impl ConfigsApi {
    /// 获取配置列表
    #[oai(path = "/", method = "get", operation_id = "admin_list_configs")]
    async fn list(
        &self,
        state: Data<&AppState>,
        _auth: AdminAuth,
    ) -> AppResult<Reply<Vec<ConfigView>>> {
        let rows = db::configs::list(&state.db).await?;
        Ok(ok(views(&state, &rows).await?))
    }

    /// 创建配置
    #[oai(path = "/", method = "post", operation_id = "admin_create_config")]
    async fn create(
        &self,
        state: Data<&AppState>,
        auth: AdminAuth,
        body: Json<CreateConfig>,
    ) -> AppResult<Reply<ConfigView>> {
        let (fields, keys) = new_config(body.0)?;
        check_fallbacks(&state, None, &fields.fallback_config_ids).await?;
        let keys = state.cipher.encrypt_all(&keys);
        let created_by = match auth.0 {
            Principal::User { id, .. } => Some(id),
            Principal::Client { .. } | Principal::ApiKey { .. } => None,
        };
        let row = db::configs::create(&state.db, fields, keys, created_by).await?;
        tracing::info!(config_id = row.id, name = %row.name, "config created");
        Ok(ok(one(&state, &row).await?))
    }

    /// 获取配置详情
    #[oai(path = "/:id", method = "get", operation_id = "admin_get_config")]
    async fn get(
        &self,
        state: Data<&AppState>,
        _auth: AdminAuth,
        id: Path<i32>,
    ) -> AppResult<Reply<ConfigView>> {
        let row = db::configs::get(&state.db, id.0).await?;
        Ok(ok(one(&state, &row).await?))
    }

    /// 更新配置（只改给出的字段；启用/禁用即 `{"is_active": false}`）
    #[oai(path = "/:id", method = "put", operation_id = "admin_update_config")]
    async fn update(
        &self,
        state: Data<&AppState>,
        _auth: AdminAuth,
        id: Path<i32>,
        body: Json<UpdateConfig>,
    ) -> AppResult<Reply<ConfigView>> {
        let current = db::configs::get(&state.db, id.0).await?;
        let (fields, keys) = changed_config(&current, body.0)?;
        check_fallbacks(&state, Some(id.0), &fields.fallback_config_ids).await?;
        let key = keys.map(|keys| state.cipher.encrypt_all(&keys));
        let row = db::configs::update(&state.db, id.0, fields, key).await?;
        tracing::info!(config_id = row.id, "config updated");
        Ok(ok(one(&state, &row).await?))
    }

    /// 恢复一个被搁置的 Key（上游曾拒绝它：Key 无效或余额不足）
    #[oai(
        path = "/:id/keys/:position/restore",
        method = "post",
        operation_id = "admin_restore_config_key"
    )]
    async fn restore_key(
        &self,
        state: Data<&AppState>,
        _auth: AdminAuth,
        id: Path<i32>,
        position: Path<i32>,
    ) -> AppResult<Reply<ConfigView>> {
        let row = db::configs::get(&state.db, id.0).await?;
        let keys = decrypted_keys(&state, &row)?;
        let key = usize::try_from(position.0)
            .ok()
            .and_then(|p| keys.get(p))
            .ok_or(AppError::NotFound("Key"))?;
        db::config_keys::restore(&state.db, row.id, &key_id(key.expose())).await?;
        tracing::info!(config_id = row.id, key = position.0, "key put back");
        Ok(ok(one(&state, &row).await?))
    }

    /// 测试连接：用该配置真实调用一次大模型（会记录调用）。请求体中给出的配置字段（表单中未保存的值、
    /// 新的 API Key）只用于本次测试，不会保存
    #[oai(
        path = "/:id/test",
        method = "post",
        operation_id = "admin_test_config"
    )]
    async fn test(
        &self,
        state: Data<&AppState>,
        auth: AdminAuth,
        id: Path<i32>,
        body: Json<TestConfig>,
    ) -> AppResult<TestAnswer> {
        let body = body.0;
        let mut config = db::configs::get(&state.db, id.0).await?;
        let (fields, keys) = changed_config(&config, body.config)?;
        fields.apply_to(&mut config);
        if let Some(keys) = keys {
            config.api_key = state.cipher.encrypt_all(&keys);
        }
        run_test(&state, &auth, config, body.test_message).await
    }

    /// 测试未保存的配置：请求体同创建配置（含 API Key），只测试、不保存；调用记录不关联任何配置
    #[oai(
        path = "/test",
        method = "post",
        operation_id = "admin_test_new_config"
    )]
    async fn test_new(
        &self,
        state: Data<&AppState>,
        auth: AdminAuth,
        body: Json<TestNewConfig>,
    ) -> AppResult<TestAnswer> {
        let body = body.0;
        let (fields, keys) = new_config(body.config)?;
        let now = Utc::now();
        let mut config = Model {
            // No row: the record's config id stays empty (see the relay's record).
            id: 0,
            name: String::new(),
            provider: String::new(),
            api_url: String::new(),
            api_key: state.cipher.encrypt_all(&keys),
            model: String::new(),
            max_tokens: 0,
            temperature: 0.0,
            top_p: 0.0,
            frequency_penalty: 0.0,
            presence_penalty: 0.0,
            reasoning_model: false,
            fallback_config_ids: None,
            breaker_threshold: None,
            breaker_cooldown_seconds: 0,
            system_prompt: None,
            timeout_seconds: 0,
            max_retries: 0,
            input_price: 0.0,
            output_price: 0.0,
            currency: String::new(),
            is_active: false,
            created_at: now,
            updated_at: now,
            created_by: None,
        };
        fields.apply_to(&mut config);
        run_test(&state, &auth, config, body.test_message).await
    }

    /// 删除配置（其模板一并删除；调用记录保留）
    #[oai(path = "/:id", method = "delete", operation_id = "admin_delete_config")]
    async fn delete(
        &self,
        state: Data<&AppState>,
        _auth: AdminAuth,
        id: Path<i32>,
    ) -> AppResult<Reply<Deleted>> {
        db::configs::delete(&state.db, id.0).await?;
        tracing::info!(config_id = id.0, "config deleted");
        Ok(deleted(id.0))
    }
}

/// Sends the test message through `config` and words the answer: the reply, or the
/// failure with the upstream's words from the record.
async fn run_test(
    state: &AppState,
    auth: &AdminAuth,
    config: Model,
    message: Option<String>,
) -> AppResult<TestAnswer> {
    let message = message
        .filter(|m| !m.trim().is_empty())
        .unwrap_or_else(|| "Hello".into());
    let caller = crate::api::client::caller(&auth.0);
    let Answered {
        result,
        call_log_id,
    } = state.relay.test_config(config, message, caller).await?;
    match result {
        Ok(result) => Ok(TestAnswer::Passed(Json(TestResult {
            success: true,
            message: "配置测试成功".into(),
            response: result.response,
            duration_ms: result.duration_ms,
            call_log_id: result.call_log_id,
        }))),
        // Only an upstream failure is the config's fault; anything else is the server's.
        Err(err @ AppError::Upstream(_)) => {
            let detail = match call_log_id {
                Some(id) => db::call_logs::get(&state.db, id)
                    .await?
                    .and_then(|record| record.error_message),
                None => None,
            };
            Ok(TestAnswer::Failed(
                err.status(),
                Json(TestFailure {
                    success: false,
                    code: err.code().into(),
                    message: err.to_string(),
                    detail,
                    call_log_id,
                }),
            ))
        }
        Err(err) => Err(err),
    }
}

/// A create body checked: the config's fields (defaults filled in) and its key.
fn new_config(body: CreateConfig) -> AppResult<(ConfigFields, Vec<String>)> {
    let provider = parse_provider(&body.provider)?;
    let defaults = Defaults::standard();
    let fields = validated(ConfigFields {
        name: body.name,
        provider: body.provider,
        api_url: body
            .api_url
            .unwrap_or_else(|| provider.default_api_url().to_string()),
        model: body.model,
        max_tokens: body.max_tokens.unwrap_or(defaults.max_tokens),
        temperature: body.temperature.unwrap_or(defaults.temperature),
        top_p: body.top_p.unwrap_or(defaults.top_p),
        frequency_penalty: body.frequency_penalty.unwrap_or(0.0),
        presence_penalty: body.presence_penalty.unwrap_or(0.0),
        reasoning_model: body.reasoning_model.unwrap_or(false),
        fallback_config_ids: body.fallback_config_ids.unwrap_or_default(),
        breaker_threshold: body.breaker_threshold,
        breaker_cooldown_seconds: body.breaker_cooldown_seconds.unwrap_or(60),
        system_prompt: body.system_prompt,
        timeout_seconds: body.timeout_seconds.unwrap_or(defaults.timeout_seconds),
        max_retries: body.max_retries.unwrap_or(defaults.max_retries),
        input_price: body.input_price.unwrap_or(0.0),
        output_price: body.output_price.unwrap_or(0.0),
        currency: body.currency.unwrap_or_else(|| "CNY".into()),
        is_active: body.is_active.unwrap_or(true),
    })?;
    let keys = validated_keys(provider, &body.api_key)?;
    Ok((fields, keys))
}

/// `current` with an update body's fields applied and checked, and the new keys if given.
fn changed_config(
    current: &Model,
    body: UpdateConfig,
) -> AppResult<(ConfigFields, Option<Vec<String>>)> {
    let mut fields = ConfigFields::of(current);
    if let Some(provider) = body.provider {
        parse_provider(&provider)?;
        fields.provider = provider;
    }
    set(&mut fields.name, body.name);
    set(&mut fields.api_url, body.api_url);
    set(&mut fields.model, body.model);
    set(&mut fields.max_tokens, body.max_tokens);
    set(&mut fields.temperature, body.temperature);
    set(&mut fields.top_p, body.top_p);
    set(&mut fields.frequency_penalty, body.frequency_penalty);
    set(&mut fields.presence_penalty, body.presence_penalty);
    set(&mut fields.reasoning_model, body.reasoning_model);
    set(&mut fields.fallback_config_ids, body.fallback_config_ids);
    if body.breaker_threshold.is_some() {
        fields.breaker_threshold = body.breaker_threshold;
    }
    set(
        &mut fields.breaker_cooldown_seconds,
        body.breaker_cooldown_seconds,
    );
    if let Some(prompt) = body.system_prompt {
        fields.system_prompt = Some(prompt);
    }
    set(&mut fields.timeout_seconds, body.timeout_seconds);
    set(&mut fields.max_retries, body.max_retries);
    set(&mut fields.input_price, body.input_price);
    set(&mut fields.output_price, body.output_price);
    set(&mut fields.currency, body.currency);
    set(&mut fields.is_active, body.is_active);
    let fields = validated(fields)?;
    let provider = parse_provider(&fields.provider)?;
    let keys = body
        .api_key
        .as_deref()
        .map(|typed| validated_keys(provider, typed))
        .transpose()?;
    Ok((fields, keys))
}

/// The requirements' defaults (max_tokens 2000, temperature 0.7, top_p 1.0, 30 s, 3 retries).
struct Defaults {
    max_tokens: i32,
    temperature: f64,
    top_p: f64,
    timeout_seconds: i32,
    max_retries: i32,
}

impl Defaults {
    fn standard() -> Self {
        Self {
            max_tokens: 2000,
            temperature: 0.7,
            top_p: 1.0,
            timeout_seconds: 30,
            max_retries: 3,
        }
    }
}

fn set<T>(target: &mut T, value: Option<T>) {
    if let Some(value) = value {
        *target = value;
    }
}

fn parse_provider(value: &str) -> AppResult<ProviderKind> {
    ProviderKind::parse(value.trim()).ok_or_else(|| {
        AppError::validation(
            "provider",
            "提供商必须是 openai、anthropic、aliyun、xunfei、baidu、zhipu、custom 之一",
        )
    })
}

const MAX_KEYS: usize = 20;

/// The keys typed, one per line (blank lines ignored), each checked for its provider's shape.
fn validated_keys(provider: ProviderKind, typed: &str) -> AppResult<Vec<String>> {
    let keys: Vec<&str> = typed
        .lines()
        .map(str::trim)
        .filter(|key| !key.is_empty())
        .collect();
    if keys.is_empty() {
        return Err(AppError::validation("api_key", "API Key不能为空"));
    }
    if keys.len() > MAX_KEYS {
        return Err(AppError::validation(
            "api_key",
            format!("API Key 最多 {MAX_KEYS} 个"),
        ));
    }
    if keys.iter().any(|key| key.chars().count() > 4096) {
        return Err(AppError::validation("api_key", "API Key过长"));
    }
    if keys
        .iter()
        .enumerate()
        .any(|(i, key)| keys[..i].contains(key))
    {
        return Err(AppError::validation("api_key", "API Key 重复"));
    }
    keys.into_iter()
        .map(|key| validated_key(provider, key))
        .collect()
}

/// A key checked for its provider's shape, so a key pasted for the wrong provider or
/// half-copied is refused on save instead of failing every call.
fn validated_key(provider: ProviderKind, key: &str) -> AppResult<String> {
    if key.chars().any(char::is_whitespace) {
        return Err(AppError::validation(
            "api_key",
            "API Key 中不能有空格，请检查是否复制完整（多个 Key 每行一个）",
        ));
    }
    let halves = |sep: char| {
        key.split_once(sep)
            .is_some_and(|(a, b)| !a.is_empty() && !b.is_empty() && !b.contains(sep))
    };
    match provider {
        // The OAuth pair that buys access tokens (see providers/baidu_token.rs).
        ProviderKind::Baidu if !halves(':') => Err(AppError::validation(
            "api_key",
            "百度千帆的 API Key 格式应为 client_id:client_secret（API Key 与 Secret Key 用英文冒号连接）",
        )),
        // `id.secret` is signed into a JWT; a key without a dot is sent as it is.
        ProviderKind::Zhipu if key.contains('.') && !halves('.') => Err(AppError::validation(
            "api_key",
            "智谱的 API Key 格式应为 id.secret（只含一个英文句点）",
        )),
        _ => Ok(key.to_string()),
    }
}

fn validated(fields: ConfigFields) -> AppResult<ConfigFields> {
    Ok(ConfigFields {
        name: validate::text("name", "配置名称", &fields.name, 100)?,
        provider: parse_provider(&fields.provider)?.as_str().to_string(),
        api_url: validate::http_url("api_url", &fields.api_url)?,
        model: validate::text("model", "模型名称", &fields.model, 100)?,
        max_tokens: validate::range_i64(
            "max_tokens",
            "Max Tokens",
            fields.max_tokens.into(),
            1,
            32000,
        )? as i32,
        temperature: validate::range_f64(
            "temperature",
            "Temperature",
            fields.temperature,
            0.0,
            2.0,
        )?,
        top_p: validate::range_f64("top_p", "Top P", fields.top_p, 0.0, 1.0)?,
        frequency_penalty: validate::range_f64(
            "frequency_penalty",
            "Frequency Penalty",
            fields.frequency_penalty,
            -2.0,
            2.0,
        )?,
        presence_penalty: validate::range_f64(
            "presence_penalty",
            "Presence Penalty",
            fields.presence_penalty,
            -2.0,
            2.0,
        )?,
        reasoning_model: fields.reasoning_model,
        fallback_config_ids: fields.fallback_config_ids,
        // 0 turns the breaker off.
        breaker_threshold: fields
            .breaker_threshold
            .filter(|n| *n != 0)
            .map(|n| validate::range_i64("breaker_threshold", "熔断阈值", n.into(), 1, 100))
            .transpose()?
            .map(|n| n as i32),
        breaker_cooldown_seconds: validate::range_i64(
            "breaker_cooldown_seconds",
            "熔断冷却时间",
            fields.breaker_cooldown_seconds.into(),
            1,
            3600,
        )? as i32,
        system_prompt: validate::optional_text(
            "system_prompt",
            "System Prompt",
            fields.system_prompt,
            100_000,
        )?,
        timeout_seconds: validate::range_i64(
            "timeout_seconds",
            "超时时间",
            fields.timeout_seconds.into(),
            1,
            600,
        )? as i32,
        max_retries: validate::range_i64(
            "max_retries",
            "重试次数",
            fields.max_retries.into(),
            0,
            10,
        )? as i32,
        input_price: validate::range_f64(
            "input_price",
            "输入价格",
            fields.input_price,
            0.0,
            1_000_000.0,
        )?,
        output_price: validate::range_f64(
            "output_price",
            "输出价格",
            fields.output_price,
            0.0,
            1_000_000.0,
        )?,
        currency: validate::text("currency", "币种", &fields.currency, 8)?.to_uppercase(),
        is_active: fields.is_active,
    })
}

const MAX_FALLBACKS: usize = 5;

/// A config's fallbacks exist, are not itself or repeated, and lead back to it by no path
/// (a fallback's own fallbacks are tried too).
async fn check_fallbacks(state: &AppState, id: Option<i32>, fallbacks: &[i32]) -> AppResult<()> {
    let invalid = |message: String| Err(AppError::validation("fallback_config_ids", message));
    if fallbacks.len() > MAX_FALLBACKS {
        return invalid(format!("备用配置最多 {MAX_FALLBACKS} 个"));
    }
    if fallbacks
        .iter()
        .enumerate()
        .any(|(i, f)| fallbacks[..i].contains(f))
    {
        return invalid("备用配置不能重复".into());
    }
    if id.is_some_and(|id| fallbacks.contains(&id)) {
        return invalid("不能把配置自己设为备用配置".into());
    }
    let configs = db::configs::list(&state.db).await?;
    let next = |config_id: i32| -> Vec<i32> {
        configs
            .iter()
            .find(|c| c.id == config_id)
            .map(Model::fallbacks)
            .unwrap_or_default()
    };
    if let Some(missing) = fallbacks
        .iter()
        .find(|f| !configs.iter().any(|c| c.id == **f))
    {
        return invalid(format!("备用配置不存在：{missing}"));
    }
    let Some(id) = id else {
        // Nothing refers to a config being created: it cannot be on a cycle.
        return Ok(());
    };
    let mut seen = Vec::new();
    let mut pending = fallbacks.to_vec();
    while let Some(current) = pending.pop() {
        if current == id {
            return invalid("备用配置不能形成循环".into());
        }
        if !seen.contains(&current) {
            seen.push(current);
            pending.extend(next(current));
        }
    }
    Ok(())
}

fn decrypted_keys(state: &AppState, row: &Model) -> AppResult<Vec<Secret>> {
    state
        .cipher
        .decrypt_all(&row.api_key)
        .map_err(|err| AppError::Internal(format!("config {}: {err}", row.id)))
}

async fn one(state: &AppState, row: &Model) -> AppResult<ConfigView> {
    let set_aside = db::config_keys::set_aside(&state.db, row.id).await?;
    Ok(view(state, row, &set_aside))
}

async fn views(state: &AppState, rows: &[Model]) -> AppResult<Vec<ConfigView>> {
    let set_aside = db::config_keys::all(&state.db).await?;
    Ok(rows
        .iter()
        .map(|row| view(state, row, &set_aside))
        .collect())
}

fn view(state: &AppState, row: &Model, set_aside: &[config_key_states::Model]) -> ConfigView {
    // Keys that no longer decrypt are still "set": the mask says so instead of failing the list.
    let keys = decrypted_keys(state, row).unwrap_or_default();
    let masked = keys
        .first()
        .map(|key| mask_key(key.expose()))
        .unwrap_or_else(|| "****".into());
    let api_keys = keys
        .iter()
        .enumerate()
        .map(|(position, key)| {
            let id = key_id(key.expose());
            let aside = set_aside
                .iter()
                .find(|s| s.config_id == row.id && s.key_id == id);
            KeyView {
                position: position as i32,
                masked: mask_key(key.expose()),
                set_aside: aside.is_some(),
                reason: aside.map(|s| s.reason.clone()),
                set_aside_at: aside.map(|s| s.set_aside_at),
                cooling_until: state.relay.key_cooling_until(&id),
            }
        })
        .collect();
    ConfigView {
        id: row.id,
        name: row.name.clone(),
        provider: row.provider.clone(),
        api_url: row.api_url.clone(),
        model: row.model.clone(),
        has_api_key: !row.api_key.is_empty(),
        api_key_masked: masked,
        api_keys,
        max_tokens: row.max_tokens,
        temperature: row.temperature,
        top_p: row.top_p,
        frequency_penalty: row.frequency_penalty,
        presence_penalty: row.presence_penalty,
        reasoning_model: row.reasoning_model,
        fallback_config_ids: row.fallbacks(),
        breaker_threshold: row.breaker_threshold,
        breaker_cooldown_seconds: row.breaker_cooldown_seconds,
        circuit_open_until: state.relay.circuit_open_until(row.id),
        system_prompt: row.system_prompt.clone(),
        timeout_seconds: row.timeout_seconds,
        max_retries: row.max_retries,
        input_price: row.input_price,
        output_price: row.output_price,
        currency: row.currency.clone(),
        is_active: row.is_active,
        created_at: row.created_at,
        updated_at: row.updated_at,
    }
}
