//! `/api/admin/llm/stats` (调用统计): totals, per config, per group, per day and per hour,
//! read from the hourly aggregates (fast on any log size; kept after old records are purged).
//! Money is always per currency: costs in different currencies are never added together.

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

/// An amount of money in one currency.
#[derive(Debug, Clone, PartialEq, Object)]
pub struct Money {
    /// The config's currency, e.g. `CNY`, `USD`.
    pub currency: String,
    pub amount: f64,
}

/// Adds `amount` in `currency`, keeping currencies apart (ordered by currency).
pub fn add_money(costs: &mut Vec<Money>, currency: &str, amount: f64) {
    match costs.iter_mut().find(|m| m.currency == currency) {
        Some(money) => money.amount += amount,
        None => {
            costs.push(Money {
                currency: currency.to_string(),
                amount,
            });
            costs.sort_by(|a, b| a.currency.cmp(&b.currency));
        }
    }
}

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
    /// The cost in each currency the calls were priced in.
    pub costs: Vec<Money>,
}

/// One config's calls in one currency (a config whose currency was changed has a line
/// for each).
#[derive(Debug, Object)]
pub struct ConfigStats {
    /// 0 for calls without a config (tests of unsaved configs).
    pub config_id: i32,
    /// The config's name now; the name recorded with its calls once it is deleted.
    pub config_name: String,
    pub currency: String,
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
    pub costs: Vec<Money>,
}

#[derive(Debug, Object)]
pub struct DayStats {
    /// YYYY-MM-DD (local)
    pub date: String,
    pub calls: i64,
    pub tokens: i64,
    pub costs: Vec<Money>,
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
    /// Ranked by tokens, then calls.
    pub by_config: Vec<ConfigStats>,
    /// Ranked by tokens, then calls.
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
        // Each split reads the days' hourly rows once: read side by side on the pool's
        // connections, the page takes about as long as the slowest (90 days of 1M calls on
        // SQLite: 154–197 ms one after the other, 92 ms side by side).
        let (db, wanted) = (&state.db, &filter);
        let read = |split| async move {
            db::stats::totals(db, wanted, split)
                .await
                .map_err(AppError::from)
        };
        let (total, by_config, by_group, days, hours, configs, groups) = tokio::try_join!(
            read(SplitBy::Nothing),
            read(SplitBy::Config),
            read(SplitBy::Group),
            read(SplitBy::Day),
            read(SplitBy::HourOfDay),
            db::configs::list(db),
            db::groups::list(db),
        )?;
        let total = merged(total).into_values().next().unwrap_or_default();
        // Current names: statistics follow a renamed config.
        let config_names: HashMap<i32, String> = configs
            .into_iter()
            .map(|config| (config.id, config.name))
            .collect();
        let mut by_config: Vec<ConfigStats> = by_config
            .into_iter()
            .map(|line| config_stats(line, &config_names))
            .collect();
        by_config.sort_by(|a, b| b.tokens.cmp(&a.tokens).then(b.calls.cmp(&a.calls)));
        let group_names: HashMap<i32, String> = groups
            .into_iter()
            .map(|group| (group.id, group.name))
            .collect();
        let mut by_group: Vec<GroupStats> = merged(by_group)
            .into_iter()
            .map(|(key, sum)| {
                let group_id = key.parse().unwrap_or(0);
                GroupStats {
                    group_name: group_names.get(&group_id).cloned().unwrap_or_else(|| {
                        if group_id == 0 {
                            "（无分组）".into()
                        } else {
                            format!("#{group_id}")
                        }
                    }),
                    group_id,
                    calls: sum.totals.calls,
                    tokens: sum.totals.tokens(),
                    costs: sum.costs,
                }
            })
            .collect();
        by_group.sort_by(|a, b| b.tokens.cmp(&a.tokens).then(b.calls.cmp(&a.calls)));
        let mut days = merged(days);
        let daily = start
            .iter_days()
            .take_while(|d| *d <= end)
            .map(|d| {
                let date = d.format("%Y-%m-%d").to_string();
                let sum = days.remove(&date).unwrap_or_default();
                DayStats {
                    date,
                    calls: sum.totals.calls,
                    tokens: sum.totals.tokens(),
                    costs: sum.costs,
                }
            })
            .collect();
        let hours = merged(hours);
        let hourly = (0..24)
            .map(|hour| HourStats {
                hour,
                calls: hours
                    .get(&hour.to_string())
                    .map(|sum| sum.totals.calls)
                    .unwrap_or(0),
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

/// The lines of one key: counts added up, money kept per currency.
#[derive(Debug, Default)]
struct Sum {
    /// `cost` stays 0: money is in `costs`.
    totals: Totals,
    costs: Vec<Money>,
}

/// The summary of per-currency totals (the log page's cards).
pub fn summary_of(lines: Vec<(String, Totals)>) -> Summary {
    let mut sum = Sum::default();
    for (currency, totals) in lines {
        sum.totals.add(&Totals {
            cost: 0.0,
            ..totals
        });
        add_money(&mut sum.costs, &currency, totals.cost);
    }
    summary(&sum)
}

fn merged(lines: Vec<Line>) -> HashMap<String, Sum> {
    let mut out: HashMap<String, Sum> = HashMap::new();
    for line in lines {
        let sum = out.entry(line.key).or_default();
        sum.totals.add(&Totals {
            cost: 0.0,
            ..line.totals
        });
        add_money(&mut sum.costs, &line.currency, line.totals.cost);
    }
    out
}

fn summary(sum: &Sum) -> Summary {
    let total = &sum.totals;
    Summary {
        total_calls: total.calls,
        success_calls: total.success_calls,
        error_calls: total.calls - total.success_calls,
        success_rate: rate(total.success_calls, total.calls),
        avg_duration_ms: rate(total.duration_ms_sum, total.calls),
        total_tokens: total.tokens(),
        prompt_tokens: total.prompt_tokens,
        completion_tokens: total.completion_tokens,
        costs: sum.costs.clone(),
    }
}

fn config_stats(line: Line, names: &HashMap<i32, String>) -> ConfigStats {
    let config_id = line.key.parse().unwrap_or(0);
    ConfigStats {
        config_name: names.get(&config_id).cloned().unwrap_or(line.name),
        config_id,
        currency: line.currency,
        calls: line.totals.calls,
        success_rate: rate(line.totals.success_calls, line.totals.calls),
        avg_duration_ms: rate(line.totals.duration_ms_sum, line.totals.calls),
        tokens: line.totals.tokens(),
        cost: line.totals.cost,
    }
}
