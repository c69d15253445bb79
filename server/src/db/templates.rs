//! `llm_prompt_templates` repository.

use chrono::Utc;
use entity::llm_prompt_templates::{ActiveModel, Column, Entity, Model};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};

use super::{Db, changes::Change, delete_row, find_row, write_error_at};
use crate::error::AppResult;

#[derive(Debug, Clone, PartialEq)]
pub struct TemplateFields {
    pub config_id: i32,
    pub template_name: String,
    pub template_content: String,
    pub variables: Vec<String>,
    pub description: Option<String>,
    pub is_active: bool,
}

impl TemplateFields {
    pub fn of(model: &Model) -> Self {
        Self {
            config_id: model.config_id,
            template_name: model.template_name.clone(),
            template_content: model.template_content.clone(),
            variables: variables_of(model),
            description: model.description.clone(),
            is_active: model.is_active,
        }
    }

    fn apply(self, row: &mut ActiveModel) {
        row.config_id = Set(self.config_id);
        row.template_name = Set(self.template_name);
        row.template_content = Set(self.template_content);
        row.variables = Set(Some(serde_json::json!(self.variables)));
        row.description = Set(self.description);
        row.is_active = Set(self.is_active);
        row.updated_at = Set(Utc::now());
    }
}

/// The stored variable list; an absent or malformed column reads as empty.
pub fn variables_of(model: &Model) -> Vec<String> {
    model
        .variables
        .as_ref()
        .and_then(|value| serde_json::from_value(value.clone()).ok())
        .unwrap_or_default()
}

pub async fn list(db: &Db, config_id: Option<i32>, active_only: bool) -> AppResult<Vec<Model>> {
    let mut query = Entity::find().order_by_asc(Column::Id);
    if let Some(config_id) = config_id {
        query = query.filter(Column::ConfigId.eq(config_id));
    }
    if active_only {
        query = query.filter(Column::IsActive.eq(true));
    }
    Ok(query.all(&db.read).await?)
}

/// The row as the hot path reads it: a copy at most `cache::TTL` old.
pub async fn cached(db: &Db, id: i32) -> AppResult<Model> {
    db.cache
        .templates
        .get_or_load(id, async || get(db, id).await)
        .await
}

pub async fn get(db: &Db, id: i32) -> AppResult<Model> {
    find_row::<Entity>(db, id, "模板").await
}

pub async fn create(db: &Db, fields: TemplateFields) -> AppResult<Model> {
    let mut row = ActiveModel {
        created_at: Set(Utc::now()),
        ..Default::default()
    };
    fields.apply(&mut row);
    row.insert(&db.write).await.map_err(|err| {
        write_error_at(
            err,
            "template_name",
            "该配置下已有同名模板",
            "所属配置不存在",
        )
    })
}

pub async fn update(db: &Db, id: i32, fields: TemplateFields) -> AppResult<Model> {
    let mut row: ActiveModel = get(db, id).await?.into();
    fields.apply(&mut row);
    let updated = row.update(&db.write).await.map_err(|err| {
        write_error_at(
            err,
            "template_name",
            "该配置下已有同名模板",
            "所属配置不存在",
        )
    })?;
    db.changed(Change::Template(id)).await;
    Ok(updated)
}

pub async fn delete(db: &Db, id: i32) -> AppResult<()> {
    delete_row::<Entity>(db, id, "模板", "模板仍被引用").await?;
    db.changed(Change::Template(id)).await;
    Ok(())
}
