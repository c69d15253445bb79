//! `/api/admin/groups`: client groups and their limits (null = unlimited / default).

use chrono::{DateTime, Utc};
use entity::groups::Model;
use poem::web::Data;
use poem_openapi::{Object, OpenApi, param::Path, payload::Json};

use crate::{
    api::{
        ApiTags,
        admin::stats::{Money, add_money},
        envelope::{Deleted, Reply, deleted, ok},
    },
    auth::AdminAuth,
    db::{
        self,
        groups::GroupFields,
        stats::{SplitBy, StatsFilter},
    },
    error::AppResult,
    state::AppState,
    validate,
};

#[derive(Debug, Object)]
pub struct GroupView {
    pub id: i32,
    pub name: String,
    #[oai(nullable)]
    pub description: Option<String>,
    /// Tokens per day; null = unlimited.
    #[oai(nullable)]
    pub daily_token_limit: Option<i64>,
    /// Tokens per month; null = unlimited.
    #[oai(nullable)]
    pub monthly_token_limit: Option<i64>,
    /// Requests per minute; null = the configured default.
    #[oai(nullable)]
    pub requests_per_minute: Option<i32>,
    /// The configs this group's clients may use; null = every enabled config.
    #[oai(nullable)]
    pub config_ids: Option<Vec<i32>>,
    /// Money per day in `cost_currency`; null = unlimited.
    #[oai(nullable)]
    pub daily_cost_limit: Option<f64>,
    /// Money per month in `cost_currency`; null = unlimited.
    #[oai(nullable)]
    pub monthly_cost_limit: Option<f64>,
    /// The currency budgets count in (calls priced otherwise convert at the admin's rates).
    pub cost_currency: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Object)]
pub struct CreateGroup {
    #[oai(deserialize_with = "crate::api::strict::strings")]
    #[oai(validator(max_length = 100, pattern = "\\S"))]
    pub name: String,
    #[oai(nullable, deserialize_with = "crate::api::strict::strings")]
    #[oai(validator(max_length = 2000))]
    pub description: Option<String>,
    #[oai(nullable)]
    #[oai(validator(minimum(value = "0"), maximum(value = "2147483647000")))]
    pub daily_token_limit: Option<i64>,
    #[oai(nullable)]
    #[oai(validator(minimum(value = "0"), maximum(value = "2147483647000")))]
    pub monthly_token_limit: Option<i64>,
    #[oai(nullable)]
    #[oai(validator(minimum(value = "0"), maximum(value = "1000000")))]
    pub requests_per_minute: Option<i32>,
    /// The configs this group's clients may use; omitted = every enabled config.
    #[oai(nullable)]
    pub config_ids: Option<Vec<i32>>,
    #[oai(nullable)]
    #[oai(validator(minimum(value = "0"), maximum(value = "1000000000000")))]
    pub daily_cost_limit: Option<f64>,
    #[oai(nullable)]
    #[oai(validator(minimum(value = "0"), maximum(value = "1000000000000")))]
    pub monthly_cost_limit: Option<f64>,
    /// Default `CNY`.
    #[oai(nullable, deserialize_with = "crate::api::strict::strings")]
    #[oai(validator(max_length = 8, pattern = "\\S"))]
    pub cost_currency: Option<String>,
}

/// Change only the fields given; to remove a limit send `clear_limits`.
#[derive(Debug, Object)]
pub struct UpdateGroup {
    #[oai(nullable, deserialize_with = "crate::api::strict::strings")]
    #[oai(validator(max_length = 100, pattern = "\\S"))]
    pub name: Option<String>,
    #[oai(nullable, deserialize_with = "crate::api::strict::strings")]
    #[oai(validator(max_length = 2000))]
    pub description: Option<String>,
    #[oai(nullable)]
    #[oai(validator(minimum(value = "0"), maximum(value = "2147483647000")))]
    pub daily_token_limit: Option<i64>,
    #[oai(nullable)]
    #[oai(validator(minimum(value = "0"), maximum(value = "2147483647000")))]
    pub monthly_token_limit: Option<i64>,
    #[oai(nullable)]
    #[oai(validator(minimum(value = "0"), maximum(value = "1000000")))]
    pub requests_per_minute: Option<i32>,
    /// Replaces the configs this group may use.
    #[oai(nullable)]
    pub config_ids: Option<Vec<i32>>,
    #[oai(nullable)]
    #[oai(validator(minimum(value = "0"), maximum(value = "1000000000000")))]
    pub daily_cost_limit: Option<f64>,
    #[oai(nullable)]
    #[oai(validator(minimum(value = "0"), maximum(value = "1000000000000")))]
    pub monthly_cost_limit: Option<f64>,
    #[oai(nullable, deserialize_with = "crate::api::strict::strings")]
    #[oai(validator(max_length = 8, pattern = "\\S"))]
    pub cost_currency: Option<String>,
    /// Names of limits to reset to null: `daily_token_limit`, `monthly_token_limit`,
    /// `requests_per_minute`, `daily_cost_limit`, `monthly_cost_limit`, and `config_ids`
    /// (every enabled config again).
    #[oai(nullable, deserialize_with = "crate::api::strict::strings")]
    #[oai(validator(
        pattern = "^(daily_token_limit|monthly_token_limit|requests_per_minute|daily_cost_limit|monthly_cost_limit|config_ids)$"
    ))]
    pub clear_limits: Option<Vec<String>>,
}

/// One period's usage against its limit.
#[derive(Debug, Object)]
pub struct PeriodUsage {
    /// YYYY-MM-DD or YYYY-MM (local).
    pub period: String,
    pub tokens: i64,
    /// Worst case of calls still running.
    pub reserved_tokens: i64,
    pub calls: i64,
    /// What the period's calls cost, per currency (the configs' own, never added together).
    pub costs: Vec<Money>,
    /// What the budget counts: the calls' cost in the group's `cost_currency`.
    pub spent: f64,
    /// Worst-case cost of calls still running, in `cost_currency`.
    pub reserved_cost: f64,
    /// null = unlimited.
    #[oai(nullable)]
    pub limit: Option<i64>,
    /// Money budget in `cost_currency`; null = unlimited.
    #[oai(nullable)]
    pub cost_limit: Option<f64>,
}

#[derive(Debug, Object)]
pub struct GroupUsage {
    pub group_id: i32,
    /// The currency of `spent`, `reserved_cost` and `cost_limit`.
    pub cost_currency: String,
    pub today: PeriodUsage,
    pub month: PeriodUsage,
    /// The limit in force (the group's, else the configured default; 0 = unlimited).
    pub requests_per_minute: i64,
}

pub struct GroupsApi;

#[OpenApi(prefix_path = "/admin/groups", tag = "ApiTags::AdminGroups")]
impl GroupsApi {
    /// 获取分组列表
    #[oai(path = "/", method = "get", operation_id = "admin_list_groups")]
    async fn list(
        &self,
        state: Data<&AppState>,
        _auth: AdminAuth,
    ) -> AppResult<Reply<Vec<GroupView>>> {
        Ok(ok(db::groups::list(&state.db)
            .await?
            .iter()
            .map(view)
            .collect()))
    }

    /// 创建分组
    #[oai(path = "/", method = "post", operation_id = "admin_create_group")]
    async fn create(
        &self,
        state: Data<&AppState>,
        _auth: AdminAuth,
        body: Json<CreateGroup>,
    ) -> AppResult<Reply<GroupView>> {
        let body = body.0;
        let fields = validated(GroupFields {
            name: body.name,
            description: body.description,
            daily_token_limit: body.daily_token_limit,
            monthly_token_limit: body.monthly_token_limit,
            requests_per_minute: body.requests_per_minute,
            config_ids: body.config_ids,
            daily_cost_limit: body.daily_cost_limit,
            monthly_cost_limit: body.monthly_cost_limit,
            cost_currency: body.cost_currency.unwrap_or_else(|| "CNY".into()),
        })?;
        check_configs(&state, &fields).await?;
        Ok(ok(view(&db::groups::create(&state.db, fields).await?)))
    }

    /// 更新分组
    #[oai(path = "/:id", method = "put", operation_id = "admin_update_group")]
    async fn update(
        &self,
        state: Data<&AppState>,
        _auth: AdminAuth,
        id: Path<i32>,
        body: Json<UpdateGroup>,
    ) -> AppResult<Reply<GroupView>> {
        let body = body.0;
        let mut fields = GroupFields::of(&db::groups::get(&state.db, id.0).await?);
        if let Some(name) = body.name {
            fields.name = name;
        }
        if let Some(description) = body.description {
            fields.description = Some(description);
        }
        for limit in body.clear_limits.unwrap_or_default() {
            match limit.as_str() {
                "daily_token_limit" => fields.daily_token_limit = None,
                "monthly_token_limit" => fields.monthly_token_limit = None,
                "requests_per_minute" => fields.requests_per_minute = None,
                "config_ids" => fields.config_ids = None,
                "daily_cost_limit" => fields.daily_cost_limit = None,
                "monthly_cost_limit" => fields.monthly_cost_limit = None,
                _ => {
                    return Err(crate::error::AppError::validation(
                        "clear_limits",
                        format!("未知的限制名称：{limit}"),
                    ));
                }
            }
        }
        fields.daily_token_limit = body.daily_token_limit.or(fields.daily_token_limit);
        fields.monthly_token_limit = body.monthly_token_limit.or(fields.monthly_token_limit);
        fields.requests_per_minute = body.requests_per_minute.or(fields.requests_per_minute);
        if body.config_ids.is_some() {
            fields.config_ids = body.config_ids;
        }
        fields.daily_cost_limit = body.daily_cost_limit.or(fields.daily_cost_limit);
        fields.monthly_cost_limit = body.monthly_cost_limit.or(fields.monthly_cost_limit);
        if let Some(currency) = body.cost_currency {
            fields.cost_currency = currency;
        }
        let fields = validated(fields)?;
        check_configs(&state, &fields).await?;
        Ok(ok(view(
            &db::groups::update(&state.db, id.0, fields).await?,
        )))
    }

    /// 分组用量：今日与本月的Token、调用次数、费用及上限
    #[oai(
        path = "/:id/usage",
        method = "get",
        operation_id = "admin_group_usage"
    )]
    async fn usage(
        &self,
        state: Data<&AppState>,
        _auth: AdminAuth,
        id: Path<i32>,
    ) -> AppResult<Reply<GroupUsage>> {
        let group = db::groups::get(&state.db, id.0).await?;
        let clock = state.quotas.clock();
        let period = clock.period(clock.now());
        let read = |name: &'static str,
                    key: String,
                    first_day: String,
                    limit: Option<i64>,
                    cost_limit: Option<f64>| {
            let (db, today) = (&state.db, period.day.clone());
            async move {
                let row = db::usage::read(db, group.id, name, &key).await?;
                AppResult::Ok(PeriodUsage {
                    costs: costs_between(db, group.id, first_day, today).await?,
                    period: key,
                    tokens: row.used_tokens,
                    reserved_tokens: row.reserved_tokens,
                    calls: row.calls,
                    spent: row.spent,
                    reserved_cost: row.reserved_cost,
                    limit,
                    cost_limit,
                })
            }
        };
        Ok(ok(GroupUsage {
            group_id: group.id,
            today: read(
                db::usage::DAY,
                period.day.clone(),
                period.day.clone(),
                group.daily_token_limit,
                group.daily_cost_limit,
            )
            .await?,
            month: read(
                db::usage::MONTH,
                period.month.clone(),
                format!("{}-01", period.month),
                group.monthly_token_limit,
                group.monthly_cost_limit,
            )
            .await?,
            cost_currency: group.cost_currency.clone(),
            requests_per_minute: group
                .requests_per_minute
                .map(i64::from)
                .unwrap_or(i64::from(state.config.default_requests_per_minute)),
        }))
    }

    /// 删除分组（分组下有激活码时不可删除）
    #[oai(path = "/:id", method = "delete", operation_id = "admin_delete_group")]
    async fn delete(
        &self,
        state: Data<&AppState>,
        _auth: AdminAuth,
        id: Path<i32>,
    ) -> AppResult<Reply<Deleted>> {
        db::groups::delete(&state.db, id.0).await?;
        Ok(deleted(id.0))
    }
}

/// Every config a group is limited to must exist.
async fn check_configs(state: &AppState, fields: &GroupFields) -> AppResult<()> {
    let Some(ids) = &fields.config_ids else {
        return Ok(());
    };
    let existing: Vec<i32> = db::configs::list(&state.db)
        .await?
        .iter()
        .map(|c| c.id)
        .collect();
    match ids.iter().find(|id| !existing.contains(id)) {
        Some(missing) => Err(crate::error::AppError::validation(
            "config_ids",
            format!("配置不存在：{missing}"),
        )),
        None => Ok(()),
    }
}

fn money_limit(field: &'static str, label: &str, value: Option<f64>) -> AppResult<Option<f64>> {
    value
        .map(|v| validate::range_f64(field, label, v, 0.0, 1e12))
        .transpose()
}

fn validated(fields: GroupFields) -> AppResult<GroupFields> {
    let limit = |field, label, value: Option<i64>| {
        value
            .map(|v| validate::range_i64(field, label, v, 0, i64::from(i32::MAX) * 1000))
            .transpose()
    };
    Ok(GroupFields {
        name: validate::text("name", "分组名称", &fields.name, 100)?,
        description: validate::optional_text("description", "分组说明", fields.description, 2000)?,
        daily_token_limit: limit(
            "daily_token_limit",
            "每日Token上限",
            fields.daily_token_limit,
        )?,
        monthly_token_limit: limit(
            "monthly_token_limit",
            "每月Token上限",
            fields.monthly_token_limit,
        )?,
        requests_per_minute: fields
            .requests_per_minute
            .map(|v| {
                validate::range_i64(
                    "requests_per_minute",
                    "每分钟请求数",
                    v.into(),
                    0,
                    1_000_000,
                )
                .map(|v| v as i32)
            })
            .transpose()?,
        daily_cost_limit: money_limit("daily_cost_limit", "每日费用预算", fields.daily_cost_limit)?,
        monthly_cost_limit: money_limit(
            "monthly_cost_limit",
            "每月费用预算",
            fields.monthly_cost_limit,
        )?,
        cost_currency: validate::text("cost_currency", "预算币种", &fields.cost_currency, 8)?
            .to_uppercase(),
        config_ids: fields.config_ids.map(|mut ids| {
            ids.sort_unstable();
            ids.dedup();
            ids
        }),
    })
}

fn view(row: &Model) -> GroupView {
    GroupView {
        id: row.id,
        name: row.name.clone(),
        description: row.description.clone(),
        daily_token_limit: row.daily_token_limit,
        monthly_token_limit: row.monthly_token_limit,
        requests_per_minute: row.requests_per_minute,
        config_ids: row.allowed_configs(),
        daily_cost_limit: row.daily_cost_limit,
        monthly_cost_limit: row.monthly_cost_limit,
        cost_currency: row.cost_currency.clone(),
        created_at: row.created_at,
        updated_at: row.updated_at,
    }
}

/// A group's cost per currency over local days, from the hourly totals every record adds to.
async fn costs_between(
    db: &db::Db,
    group_id: i32,
    start_day: String,
    end_day: String,
) -> AppResult<Vec<Money>> {
    let filter = StatsFilter {
        start_day,
        end_day,
        config_id: None,
        group_id: Some(group_id),
    };
    let mut costs = Vec::new();
    for line in db::stats::totals(db, &filter, SplitBy::Nothing).await? {
        add_money(&mut costs, &line.currency, line.totals.cost);
    }
    Ok(costs)
}
