//! `users` repository.

use chrono::Utc;
use entity::users::{ActiveModel, Column, Entity, Model};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, Set,
};

use super::{Db, delete_row, find_row, write_error};
use crate::error::AppResult;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserFields {
    pub username: String,
    pub role: String,
    pub parent_id: Option<i32>,
    pub group_id: Option<i32>,
    pub is_active: bool,
}

impl UserFields {
    pub fn of(model: &Model) -> Self {
        Self {
            username: model.username.clone(),
            role: model.role.clone(),
            parent_id: model.parent_id,
            group_id: model.group_id,
            is_active: model.is_active,
        }
    }

    fn apply(self, row: &mut ActiveModel) {
        row.username = Set(self.username);
        row.role = Set(self.role);
        row.parent_id = Set(self.parent_id);
        row.group_id = Set(self.group_id);
        row.is_active = Set(self.is_active);
        row.updated_at = Set(Utc::now());
    }
}

const DUPLICATE: &str = "用户名已存在，或所属分组/上级账号不存在";

pub async fn list(db: &Db) -> AppResult<Vec<Model>> {
    Ok(Entity::find()
        .order_by_asc(Column::Id)
        .all(&db.read)
        .await?)
}

pub async fn get(db: &Db, id: i32) -> AppResult<Model> {
    find_row::<Entity>(db, id, "用户").await
}

pub async fn find_by_username(db: &Db, username: &str) -> AppResult<Option<Model>> {
    Ok(Entity::find()
        .filter(Column::Username.eq(username))
        .one(&db.read)
        .await?)
}

pub async fn count_active_admins(db: &Db) -> AppResult<u64> {
    Ok(Entity::find()
        .filter(Column::Role.eq("admin"))
        .filter(Column::IsActive.eq(true))
        .count(&db.read)
        .await?)
}

pub async fn create(db: &Db, fields: UserFields, password_hash: String) -> AppResult<Model> {
    let mut row = ActiveModel {
        password_hash: Set(password_hash),
        created_at: Set(Utc::now()),
        ..Default::default()
    };
    fields.apply(&mut row);
    row.insert(&db.write)
        .await
        .map_err(|err| write_error(err, DUPLICATE))
}

pub async fn update(
    db: &Db,
    id: i32,
    fields: UserFields,
    password_hash: Option<String>,
) -> AppResult<Model> {
    let mut row: ActiveModel = get(db, id).await?.into();
    fields.apply(&mut row);
    if let Some(hash) = password_hash {
        row.password_hash = Set(hash);
    }
    row.update(&db.write)
        .await
        .map_err(|err| write_error(err, DUPLICATE))
}

pub async fn touch_login(db: &Db, id: i32) -> AppResult<()> {
    ActiveModel {
        id: Set(id),
        last_login_at: Set(Some(Utc::now())),
        ..Default::default()
    }
    .update(&db.write)
    .await?;
    Ok(())
}

pub async fn delete(db: &Db, id: i32) -> AppResult<()> {
    delete_row::<Entity>(db, id, "用户", "该用户仍被引用").await
}
