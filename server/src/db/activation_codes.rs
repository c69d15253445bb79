//! `activation_codes` repository.

use chrono::{DateTime, Utc};
use entity::activation_codes::{ActiveModel, Column, Entity, Model};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};

use super::{Db, changes::Change, delete_row, find_row, first_row, write_error_at};
use crate::error::AppResult;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeFields {
    pub code: String,
    pub group_id: i32,
    pub is_active: bool,
    pub expires_at: Option<DateTime<Utc>>,
    pub note: Option<String>,
}

impl CodeFields {
    pub fn of(model: &Model) -> Self {
        Self {
            code: model.code.clone(),
            group_id: model.group_id,
            is_active: model.is_active,
            expires_at: model.expires_at,
            note: model.note.clone(),
        }
    }

    fn apply(self, row: &mut ActiveModel) {
        row.code = Set(self.code);
        row.group_id = Set(self.group_id);
        row.is_active = Set(self.is_active);
        row.expires_at = Set(self.expires_at);
        row.note = Set(self.note);
        row.updated_at = Set(Utc::now());
    }
}

pub async fn list(db: &Db, group_id: Option<i32>) -> AppResult<Vec<Model>> {
    let mut query = Entity::find().order_by_desc(Column::Id);
    if let Some(group_id) = group_id {
        query = query.filter(Column::GroupId.eq(group_id));
    }
    Ok(query.all(&db.read).await?)
}

/// The row as the hot path reads it: a copy at most `cache::TTL` old.
pub async fn cached(db: &Db, id: i32) -> AppResult<Model> {
    db.cache
        .activation_codes
        .get_or_load(id, async || get(db, id).await)
        .await
}

pub async fn get(db: &Db, id: i32) -> AppResult<Model> {
    find_row::<Entity>(db, id, "激活码").await
}

pub async fn find_by_code(db: &Db, code: &str) -> AppResult<Option<Model>> {
    Ok(first_row(Entity::find().filter(Column::Code.eq(code)), &db.read).await?)
}

/// The code a person typed: spaces around it (and inside, as when read out in groups)
/// do not count, nor does case, since generated codes are upper-case. A custom code stored
/// with lower-case letters before codes were stored upper-case still matches as typed.
pub async fn find_typed(db: &Db, typed: &str) -> AppResult<Option<Model>> {
    let compact: String = typed.chars().filter(|c| !c.is_whitespace()).collect();
    let upper = compact.to_uppercase();
    if let Some(code) = find_by_code(db, &upper).await? {
        return Ok(Some(code));
    }
    if compact == upper {
        return Ok(None);
    }
    find_by_code(db, &compact).await
}

pub async fn create(db: &Db, fields: CodeFields) -> AppResult<Model> {
    let mut row = ActiveModel {
        created_at: Set(Utc::now()),
        ..Default::default()
    };
    fields.apply(&mut row);
    row.insert(&db.write)
        .await
        .map_err(|err| write_error_at(err, "code", "激活码已存在", "所属分组不存在"))
}

pub async fn update(db: &Db, id: i32, fields: CodeFields) -> AppResult<Model> {
    let mut row: ActiveModel = get(db, id).await?.into();
    fields.apply(&mut row);
    let updated = row
        .update(&db.write)
        .await
        .map_err(|err| write_error_at(err, "code", "激活码已存在", "所属分组不存在"))?;
    db.changed(Change::ActivationCode(id)).await;
    Ok(updated)
}

pub async fn touch_used(db: &Db, id: i32) -> AppResult<()> {
    ActiveModel {
        id: Set(id),
        last_used_at: Set(Some(Utc::now())),
        ..Default::default()
    }
    .update(&db.write)
    .await?;
    db.changed(Change::ActivationCode(id)).await;
    Ok(())
}

pub async fn delete(db: &Db, id: i32) -> AppResult<()> {
    delete_row::<Entity>(db, id, "激活码", "激活码仍被引用").await?;
    db.changed(Change::ActivationCode(id)).await;
    Ok(())
}
