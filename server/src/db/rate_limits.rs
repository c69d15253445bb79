//! `rate_limits`: a group's requests per minute counted across every instance sharing the
//! database, as a GCRA state moved in one conditional upsert (no read-modify-write race).

use std::time::Duration;

use entity::rate_limits::{Column, Entity};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QuerySelect,
    sea_query::{Expr, ExprTrait, Func, OnConflict, Query},
};

use super::Db;

/// Takes one request from the group's allowance of `per_minute` (a burst of that many, then
/// one each `60 / per_minute` s). `Err(wait)` when none is left; `now` is Unix seconds.
pub async fn acquire(
    db: &Db,
    group_id: i32,
    per_minute: u32,
    now: f64,
) -> Result<Result<(), Duration>, DbErr> {
    let per_minute = f64::from(Ord::max(per_minute, 1));
    let interval = 60.0 / per_minute;
    let tolerance = interval * (per_minute - 1.0);
    let started = || Func::greatest([Expr::col((Entity, Column::Tat)), Expr::val(now)]);
    let upsert = Query::insert()
        .into_table(Entity)
        .columns([Column::GroupId, Column::Tat])
        .values_panic([group_id.into(), (now + interval).into()])
        .on_conflict(
            OnConflict::column(Column::GroupId)
                .value(Column::Tat, started().add(interval))
                .action_and_where(started().sub(now).lte(tolerance))
                .to_owned(),
        )
        .returning_col(Column::Tat)
        .to_owned();
    if db.write.query_one(&upsert).await?.is_some() {
        return Ok(Ok(()));
    }
    // `all`, not `one`: see `first_row`.
    let tat: Option<f64> = Entity::find()
        .select_only()
        .column(Column::Tat)
        .filter(Column::GroupId.eq(group_id))
        .into_tuple()
        .all(&db.read)
        .await?
        .into_iter()
        .next();
    let wait = tat.map_or(interval, |tat| (tat - now - tolerance).max(0.001));
    Ok(Err(Duration::from_secs_f64(wait)))
}
