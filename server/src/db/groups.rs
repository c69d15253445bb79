//! `groups` repository.

use chrono::Utc;
use entity::groups::{ActiveModel, Column, Entity, Model};

use sea_orm::{ActiveModelTrait, EntityTrait, QueryOrder, Set};

use super::{Db, changes::Change, delete_row, find_row, write_error_at};
use crate::error::AppResult;

#[derive(Debug, Clone, PartialEq)]
pub struct GroupFields {
    pub name: String,
    pub description: Option<String>,
    pub daily_token_limit: Option<i64>,
    pub monthly_token_limit: Option<i64>,
    pub requests_per_minute: Option<i32>,
    /// `None`: every enabled config.
    pub config_ids: Option<Vec<i32>>,
    pub daily_cost_limit: Option<f64>,
    pub monthly_cost_limit: Option<f64>,
    pub cost_currency: String,
}

impl GroupFields {
    pub fn of(model: &Model) -> Self {
        Self {
            name: model.name.clone(),
            description: model.description.clone(),
            daily_token_limit: model.daily_token_limit,
            monthly_token_limit: model.monthly_token_limit,
            requests_per_minute: model.requests_per_minute,
            config_ids: model.allowed_configs(),
            daily_cost_limit: model.daily_cost_limit,
            monthly_cost_limit: model.monthly_cost_limit,
            cost_currency: model.cost_currency.clone(),
        }
    }

    fn apply(self, row: &mut ActiveModel) {
        row.name = Set(self.name);
        row.description = Set(self.description);
        row.daily_token_limit = Set(self.daily_token_limit);
        row.monthly_token_limit = Set(self.monthly_token_limit);
        row.requests_per_minute = Set(self.requests_per_minute);
        row.daily_cost_limit = Set(self.daily_cost_limit);
        row.monthly_cost_limit = Set(self.monthly_cost_limit);
        row.cost_currency = Set(self.cost_currency);
        row.config_ids = Set(self
            .config_ids
            .map(|ids| serde_json::Value::from(ids).to_string()));
        row.updated_at = Set(Utc::now());
    }
}

pub async fn list(db: &Db) -> AppResult<Vec<Model>> {
    Ok(Entity::find()
        .order_by_asc(Column::Id)
        .all(&db.read)
        .await?)
}

/// The row as the hot path reads it: a copy at most `cache::TTL` old.
pub async fn cached(db: &Db, id: i32) -> AppResult<Model> {
    db.cache
        .groups
        .get_or_load(id, async || get(db, id).await)
        .await
}

pub async fn get(db: &Db, id: i32) -> AppResult<Model> {
    find_row::<Entity>(db, id, "分组").await
}

pub async fn create(db: &Db, fields: GroupFields) -> AppResult<Model> {
    let mut row = ActiveModel {
        created_at: Set(Utc::now()),
        ..Default::default()
    };
    fields.apply(&mut row);
    row.insert(&db.write)
        .await
        .map_err(|err| write_error_at(err, "name", "分组名称已存在", "分组名称已存在"))
}

pub async fn update(db: &Db, id: i32, fields: GroupFields) -> AppResult<Model> {
    let mut row: ActiveModel = get(db, id).await?.into();
    fields.apply(&mut row);
    let updated = row
        .update(&db.write)
        .await
        .map_err(|err| write_error_at(err, "name", "分组名称已存在", "分组名称已存在"))?;
    db.changed(Change::Group(id)).await;
    Ok(updated)
}

pub async fn delete(db: &Db, id: i32) -> AppResult<()> {
    delete_row::<Entity>(
        db,
        id,
        "分组",
        "该分组下仍有激活码或 API Key，请先删除或转移",
    )
    .await?;
    db.changed(Change::Group(id)).await;
    Ok(())
}
