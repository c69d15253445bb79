//! `/api/admin/llm/stats` (调用统计): totals, per config, per group, per day and per hour,
//! read from the hourly aggregates (fast on any log size; kept after old records are purged).

use std::collections::HashMap;

use chrono::{Duration, NaiveDate};
use poem::web::Data;
use poem_openapi::{Object, OpenApi, param::Query};

use crate::{
    api::{
        ApiTags,
        envelope::{Reply, ok},
    },
    auth::AdminAuth,
    db::{
        self,
        stats::{Line, SplitBy, StatsFilter, Totals},
    },
    error::{AppError, AppResult},
    state::AppState,
};

/// The longest range one request may cover.
const MAX_DAYS: i64 = 3660;

#[derive(Debug, Object)]
pub struct Summary {
    pub total_calls: i64,
    pub success_calls: i64,
    pub error_calls: i64,
    /// 0..1
    pub success_rate: f64,
    pub avg_duration_ms: f64,
    pub total_tokens: i64,
    pub prompt_tokens: i64,
    pub completion_tokens: i64,
    pub total_cost: f64,
}

#[derive(Debug, Object)]
pub struct ConfigStats {
    /// 0 for calls without a config.
    pub config_id: i32,
    pub config_name: String,
    pub calls: i64,
    pub success_rate: f64,
    pub avg_duration_ms: f64,
    pub tokens: i64,
    pub cost: f64,
}

#[derive(Debug, Object)]
pub struct GroupStats {
    /// 0 for calls outside any group (admins' tests).
    pub group_id: i32,
    pub group_name: String,
    pub calls: i64,
    pub tokens: i64,
    pub cost: f64,
}

#[derive(Debug, Object)]
pub struct DayStats {
    /// YYYY-MM-DD (local)
    pub date: String,
    pub calls: i64,
    pub tokens: i64,
    pub cost: f64,
}

#[derive(Debug, Object)]
pub struct HourStats {
    /// 0..23 (local)
    pub hour: i32,
    pub calls: i64,
}

#[derive(Debug, Object)]
pub struct Stats {
    pub start_date: String,
    pub end_date: String,
    pub summary: Summary,
    /// Ranked by tokens, then cost.
    pub by_config: Vec<ConfigStats>,
    /// Ranked by tokens, then cost.
    pub by_group: Vec<GroupStats>,
    /// Every day of the range, oldest first.
    pub daily: Vec<DayStats>,
    /// All 24 hours.
    pub hourly: Vec<HourStats>,
}

pub struct StatsApi;

#[OpenApi(prefix_path = "/admin/llm/stats", tag = "ApiTags::AdminLogs")]
impl StatsApi {
    /// 调用统计（默认最近30天；日期为本地日期，含首尾两天）
    #[oai(path = "/", method = "get", operation_id = "admin_stats")]
    async fn stats(
        &self,
        state: Data<&AppState>,
        _auth: AdminAuth,
        /// YYYY-MM-DD
        #[oai(validator(pattern = "^([0-9]{4}-[0-9]{2}-[0-9]{2})?$"))]
        start_date: Query<Option<String>>,
        /// YYYY-MM-DD
        #[oai(validator(pattern = "^([0-9]{4}-[0-9]{2}-[0-9]{2})?$"))]
        end_date: Query<Option<String>>,
        config_id: Query<Option<i32>>,
        group_id: Query<Option<i32>>,
    ) -> AppResult<Reply<Stats>> {
        let today = state.quotas.clock().today();
        let end = day(end_date.0.as_deref(), "end_date")?.unwrap_or(today);
        let start = day(start_date.0.as_deref(), "start_date")?.unwrap_or(end - Duration::days(29));
        if start > end || (end - start).num_days() > MAX_DAYS {
            return Err(AppError::validation("start_date", "日期范围无效"));
        }
        let filter = StatsFilter {
            start_day: start.format("%Y-%m-%d").to_string(),
            end_day: end.format("%Y-%m-%d").to_string(),
            config_id: config_id.0,
            group_id: group_id.0,
        };
        let read = |split| db::stats::totals(&state.db, &filter, split);
        let total = read(SplitBy::Nothing)
            .await?
            .into_iter()
            .next()
            .map(|line| line.totals)
            .unwrap_or_default();
        let mut by_config: Vec<ConfigStats> = read(SplitBy::Config)
            .await?
            .into_iter()
            .map(config_stats)
            .collect();
        by_config.sort_by(|a, b| b.tokens.cmp(&a.tokens).then(b.cost.total_cmp(&a.cost)));
        let group_names: HashMap<i32, String> = db::groups::list(&state.db)
            .await?
            .into_iter()
            .map(|group| (group.id, group.name))
            .collect();
        let mut by_group: Vec<GroupStats> = read(SplitBy::Group)
            .await?
            .into_iter()
            .map(|line| {
                let group_id = line.key.parse().unwrap_or(0);
                GroupStats {
                    group_name: group_names.get(&group_id).cloned().unwrap_or_else(|| {
                        if group_id == 0 {
                            "（无分组）".into()
                        } else {
                            format!("#{group_id}")
                        }
                    }),
                    group_id,
                    calls: line.totals.calls,
                    tokens: line.totals.tokens(),
                    cost: line.totals.cost,
                }
            })
            .collect();
        by_group.sort_by(|a, b| b.tokens.cmp(&a.tokens).then(b.cost.total_cmp(&a.cost)));
        let days: HashMap<String, Totals> = read(SplitBy::Day)
            .await?
            .into_iter()
            .map(|line| (line.key, line.totals))
            .collect();
        let daily = start
            .iter_days()
            .take_while(|d| *d <= end)
            .map(|d| {
                let date = d.format("%Y-%m-%d").to_string();
                let totals = days.get(&date).copied().unwrap_or_default();
                DayStats {
                    date,
                    calls: totals.calls,
                    tokens: totals.tokens(),
                    cost: totals.cost,
                }
            })
            .collect();
        let hours: HashMap<i32, i64> = read(SplitBy::HourOfDay)
            .await?
            .into_iter()
            .map(|line| (line.key.parse().unwrap_or(0), line.totals.calls))
            .collect();
        let hourly = (0..24)
            .map(|hour| HourStats {
                hour,
                calls: hours.get(&hour).copied().unwrap_or(0),
            })
            .collect();
        Ok(ok(Stats {
            start_date: filter.start_day,
            end_date: filter.end_day,
            summary: summary(&total),
            by_config,
            by_group,
            daily,
            hourly,
        }))
    }
}

fn day(value: Option<&str>, field: &'static str) -> AppResult<Option<NaiveDate>> {
    value
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(|v| {
            NaiveDate::parse_from_str(v.get(..10).unwrap_or(v), "%Y-%m-%d")
                .map_err(|_| AppError::validation(field, "日期格式应为 YYYY-MM-DD"))
        })
        .transpose()
}

fn rate(part: i64, whole: i64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 / whole as f64
    }
}

fn summary(total: &Totals) -> Summary {
    Summary {
        total_calls: total.calls,
        success_calls: total.success_calls,
        error_calls: total.calls - total.success_calls,
        success_rate: rate(total.success_calls, total.calls),
        avg_duration_ms: rate(total.duration_ms_sum, total.calls),
        total_tokens: total.tokens(),
        prompt_tokens: total.prompt_tokens,
        completion_tokens: total.completion_tokens,
        total_cost: total.cost,
    }
}

fn config_stats(line: Line) -> ConfigStats {
    ConfigStats {
        config_id: line.key.parse().unwrap_or(0),
        config_name: line.name,
        calls: line.totals.calls,
        success_rate: rate(line.totals.success_calls, line.totals.calls),
        avg_duration_ms: rate(line.totals.duration_ms_sum, line.totals.calls),
        tokens: line.totals.tokens(),
        cost: line.totals.cost,
    }
}
