//! `llm_configs` repository.

use chrono::Utc;
use entity::llm_configs::{self, ActiveModel, Column, Entity, Model};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};

use super::{Db, changes::Change, delete_row, find_row, first_row, write_error_at};
use crate::error::{AppError, AppResult};

/// Everything an admin sets on a config except its key.
#[derive(Debug, Clone, PartialEq)]
pub struct ConfigFields {
    pub name: String,
    pub provider: String,
    pub api_url: String,
    pub model: String,
    pub max_tokens: i32,
    pub temperature: f64,
    pub top_p: f64,
    pub frequency_penalty: f64,
    pub presence_penalty: f64,
    pub reasoning_model: bool,
    /// Tried in order when this config fails before answering.
    pub fallback_config_ids: Vec<i32>,
    /// Consecutive failures that open the circuit; `None` = no breaker.
    pub breaker_threshold: Option<i32>,
    pub breaker_cooldown_seconds: i32,
    pub system_prompt: Option<String>,
    pub timeout_seconds: i32,
    pub max_retries: i32,
    pub input_price: f64,
    pub output_price: f64,
    pub currency: String,
    pub is_active: bool,
}

impl ConfigFields {
    pub fn of(model: &Model) -> Self {
        Self {
            name: model.name.clone(),
            provider: model.provider.clone(),
            api_url: model.api_url.clone(),
            model: model.model.clone(),
            max_tokens: model.max_tokens,
            temperature: model.temperature,
            top_p: model.top_p,
            frequency_penalty: model.frequency_penalty,
            presence_penalty: model.presence_penalty,
            reasoning_model: model.reasoning_model,
            fallback_config_ids: model.fallbacks(),
            breaker_threshold: model.breaker_threshold,
            breaker_cooldown_seconds: model.breaker_cooldown_seconds,
            system_prompt: model.system_prompt.clone(),
            timeout_seconds: model.timeout_seconds,
            max_retries: model.max_retries,
            input_price: model.input_price,
            output_price: model.output_price,
            currency: model.currency.clone(),
            is_active: model.is_active,
        }
    }

    /// The fields on a config in memory (a connection test of values not saved).
    pub fn apply_to(self, model: &mut Model) {
        model.name = self.name;
        model.provider = self.provider;
        model.api_url = self.api_url;
        model.model = self.model;
        model.max_tokens = self.max_tokens;
        model.temperature = self.temperature;
        model.top_p = self.top_p;
        model.frequency_penalty = self.frequency_penalty;
        model.presence_penalty = self.presence_penalty;
        model.reasoning_model = self.reasoning_model;
        model.fallback_config_ids = fallbacks_text(&self.fallback_config_ids);
        model.breaker_threshold = self.breaker_threshold;
        model.breaker_cooldown_seconds = self.breaker_cooldown_seconds;
        model.system_prompt = self.system_prompt;
        model.timeout_seconds = self.timeout_seconds;
        model.max_retries = self.max_retries;
        model.input_price = self.input_price;
        model.output_price = self.output_price;
        model.currency = self.currency;
        model.is_active = self.is_active;
    }

    fn apply(self, row: &mut ActiveModel) {
        row.name = Set(self.name);
        row.provider = Set(self.provider);
        row.api_url = Set(self.api_url);
        row.model = Set(self.model);
        row.max_tokens = Set(self.max_tokens);
        row.temperature = Set(self.temperature);
        row.top_p = Set(self.top_p);
        row.frequency_penalty = Set(self.frequency_penalty);
        row.presence_penalty = Set(self.presence_penalty);
        row.reasoning_model = Set(self.reasoning_model);
        row.breaker_threshold = Set(self.breaker_threshold);
        row.breaker_cooldown_seconds = Set(self.breaker_cooldown_seconds);
        row.fallback_config_ids = Set(fallbacks_text(&self.fallback_config_ids));
        row.system_prompt = Set(self.system_prompt);
        row.timeout_seconds = Set(self.timeout_seconds);
        row.max_retries = Set(self.max_retries);
        row.input_price = Set(self.input_price);
        row.output_price = Set(self.output_price);
        row.currency = Set(self.currency);
        row.is_active = Set(self.is_active);
        row.updated_at = Set(Utc::now());
    }
}

/// The fallbacks as stored: a JSON array, or NULL for none.
fn fallbacks_text(ids: &[i32]) -> Option<String> {
    (!ids.is_empty()).then(|| serde_json::Value::from(ids.to_vec()).to_string())
}

const DUPLICATE: &str = "配置名称已存在";

pub async fn list(db: &Db) -> AppResult<Vec<Model>> {
    Ok(Entity::find()
        .order_by_asc(Column::Id)
        .all(&db.read)
        .await?)
}

pub async fn list_active(db: &Db) -> AppResult<Vec<Model>> {
    Ok(Entity::find()
        .filter(Column::IsActive.eq(true))
        .order_by_asc(Column::Id)
        .all(&db.read)
        .await?)
}

/// The enabled configs a group may use (all of them without a group).
pub async fn usable_by(db: &Db, group_id: Option<i32>) -> AppResult<Vec<Model>> {
    let mut configs = list_active(db).await?;
    if let Some(group_id) = group_id {
        let group = super::groups::cached(db, group_id).await?;
        configs.retain(|config| group.may_use(config.id));
    }
    Ok(configs)
}

/// Refuses a config the group may not use.
pub async fn check_access(db: &Db, group_id: Option<i32>, config_id: i32) -> AppResult<()> {
    let Some(group_id) = group_id else {
        return Ok(());
    };
    if super::groups::cached(db, group_id)
        .await?
        .may_use(config_id)
    {
        Ok(())
    } else {
        Err(AppError::ConfigNotAllowed)
    }
}

/// An enabled config by its name (the `model` of an SDK's call), as the hot path reads it
/// (at most `cache::TTL` old): reading it cost every `/v1` call ~140k instructions.
pub async fn active_by_name(db: &Db, name: &str) -> AppResult<Model> {
    db.cache
        .configs_by_name
        .get_or_load(name.to_owned(), async || {
            let config = Entity::find()
                .filter(Column::Name.eq(name))
                .filter(Column::IsActive.eq(true));
            first_row(config, &db.read)
                .await?
                .ok_or_else(|| AppError::ModelNotFound(name.to_owned()))
        })
        .await
}

/// The row as the hot path reads it: a copy at most `cache::TTL` old.
pub async fn cached(db: &Db, id: i32) -> AppResult<Model> {
    db.cache
        .configs
        .get_or_load(id, async || get(db, id).await)
        .await
}

pub async fn get(db: &Db, id: i32) -> AppResult<Model> {
    find_row::<Entity>(db, id, "配置").await
}

pub async fn create(
    db: &Db,
    fields: ConfigFields,
    encrypted_key: String,
    created_by: Option<i32>,
) -> AppResult<Model> {
    let now = Utc::now();
    let mut row = ActiveModel {
        api_key: Set(encrypted_key),
        created_at: Set(now),
        created_by: Set(created_by),
        ..Default::default()
    };
    fields.apply(&mut row);
    row.insert(&db.write)
        .await
        .map_err(|err| write_error_at(err, "name", DUPLICATE, DUPLICATE))
}

/// Writes the merged fields; `encrypted_key` of `None` keeps the stored key.
pub async fn update(
    db: &Db,
    id: i32,
    fields: ConfigFields,
    encrypted_key: Option<String>,
) -> AppResult<Model> {
    let mut row: ActiveModel = get(db, id).await?.into();
    fields.apply(&mut row);
    if let Some(key) = encrypted_key {
        row.api_key = Set(key);
    }
    let updated = row
        .update(&db.write)
        .await
        .map_err(|err| write_error_at(err, "name", DUPLICATE, DUPLICATE))?;
    db.changed(Change::Config(id)).await;
    Ok(updated)
}

pub async fn delete(db: &Db, id: i32) -> AppResult<()> {
    delete_row::<Entity>(db, id, "配置", "配置仍被引用").await?;
    db.changed(Change::Config(id)).await;
    // Its templates went with it (ON DELETE CASCADE).
    db.changed(Change::AllTemplates).await;
    Ok(())
}

/// Every stored (encrypted) key, for `rotate-key`.
pub async fn all_keys(
    conn: &impl sea_orm::ConnectionTrait,
) -> Result<Vec<(i32, String)>, sea_orm::DbErr> {
    Ok(Entity::find()
        .all(conn)
        .await?
        .into_iter()
        .map(|row| (row.id, row.api_key))
        .collect())
}

pub async fn set_key(
    conn: &impl sea_orm::ConnectionTrait,
    id: i32,
    encrypted_key: String,
) -> Result<(), sea_orm::DbErr> {
    llm_configs::ActiveModel {
        id: Set(id),
        api_key: Set(encrypted_key),
        ..Default::default()
    }
    .update(conn)
    .await
    .map(|_| ())
}
