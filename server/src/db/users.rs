//! `users` repository.

use chrono::Utc;
use entity::users::{ActiveModel, Column, Entity, Model};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseTransaction, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, Set, TransactionTrait,
};

use super::{Db, find_row, first_row, write_error, write_error_at};
use crate::error::{AppError, AppResult};

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
    let user = Entity::find().filter(Column::Username.eq(username));
    Ok(first_row(user, &db.read).await?)
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
        .map_err(|err| write_error_at(err, "username", "用户名已存在", "所属分组或上级账号不存在"))
}

/// Changes an account. Taking away an active admin (demotion or deactivation) is refused
/// with 409 when no other active admin would remain; see [`lock_other_admins`].
pub async fn update(
    db: &Db,
    id: i32,
    fields: UserFields,
    password_hash: Option<String>,
) -> AppResult<Model> {
    let txn = db.write.begin().await?;
    let current = first_row(Entity::find_by_id(id), &txn)
        .await?
        .ok_or(AppError::NotFound("用户"))?;
    let loses_admin = is_active_admin(&current) && (fields.role != "admin" || !fields.is_active);
    if loses_admin {
        lock_other_admins(&txn, id).await?;
    }
    let credentials_changed = password_hash.is_some()
        || fields.role != current.role
        || fields.is_active != current.is_active;
    let mut row: ActiveModel = current.into();
    fields.apply(&mut row);
    if let Some(hash) = password_hash {
        row.password_hash = Set(hash);
    }
    if credentials_changed {
        row.credentials_changed_at = Set(Some(Utc::now()));
    }
    let updated = row.update(&txn).await.map_err(|err| {
        write_error_at(err, "username", "用户名已存在", "所属分组或上级账号不存在")
    })?;
    txn.commit().await?;
    Ok(updated)
}

/// Deletes an account (its sub-accounts go with it); the last active admin is kept.
pub async fn delete(db: &Db, id: i32) -> AppResult<()> {
    let txn = db.write.begin().await?;
    let current = first_row(Entity::find_by_id(id), &txn)
        .await?
        .ok_or(AppError::NotFound("用户"))?;
    if is_active_admin(&current) {
        lock_other_admins(&txn, id).await?;
    }
    Entity::delete_by_id(id)
        .exec(&txn)
        .await
        .map_err(|err| write_error(err, "该用户仍被引用"))?;
    txn.commit().await?;
    Ok(())
}

fn is_active_admin(user: &Model) -> bool {
    user.role == "admin" && user.is_active
}

/// 409 unless an active admin other than `id` exists. "Check, then write" must be one
/// serialised step, or concurrent demotions of the last two admins both pass: SQLite has a
/// single writer connection, and on PostgreSQL every active admin row is locked in id order
/// (`FOR UPDATE`, no deadlock between two such transactions) until the change commits.
async fn lock_other_admins(txn: &DatabaseTransaction, id: i32) -> AppResult<()> {
    let admins = Entity::find()
        .filter(Column::Role.eq("admin"))
        .filter(Column::IsActive.eq(true))
        .order_by_asc(Column::Id)
        .lock_exclusive()
        .all(txn)
        .await?;
    if admins.iter().all(|admin| admin.id == id) {
        return Err(AppError::Conflict("至少需要保留一个启用的管理员".into()));
    }
    Ok(())
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
