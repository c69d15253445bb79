//! `/admin/` for admins: today and this month at a glance (calls, tokens, cost per
//! currency, error rate), the busiest configs and groups, groups near their limits and
//! the latest failures; each links to the filtered log or to the group.

use yew::prelude::*;
use yew_router::prelude::*;

use crate::api::models::{GroupView, LogRow, Page, Stats};
use crate::components::icon::Icon;
use crate::components::misc::{Badge, StatCard, UsageBar, ZoneNote};
use crate::context::use_app;
use crate::dates;
use crate::format;
use crate::hooks::{use_fetch, use_group_usage, use_version};
use crate::pages::alerts::AlertList;
use crate::query::{LogFilter, with_query};
use crate::route::{BASENAME, Route};

/// Busiest configs and groups shown.
const TOP: usize = 5;
/// A group counts as near its limit from this share of it.
const NEAR_LIMIT: f64 = 0.8;

/// The log page's address for `filter`.
fn logs_href(filter: &LogFilter) -> String {
    let pairs = [
        ("start_date", filter.start_date.clone()),
        ("end_date", filter.end_date.clone()),
        ("config_id", filter.config_id.clone()),
        ("group_id", filter.group_id.clone()),
        ("status", filter.status.clone()),
    ];
    with_query(&format!("{BASENAME}/llm-logs"), &pairs)
}

/// The share of `limit` used, when there is a limit.
fn share(used: i64, limit: Option<i64>) -> Option<f64> {
    limit.filter(|l| *l > 0).map(|l| used as f64 / l as f64)
}

#[component]
pub fn DashboardPage() -> Html {
    let app = use_app();
    let tr = app.tr;
    let (version, reload) = use_version();
    let today = app.today();
    let (year, month, _) = dates::civil_from_days(today);
    let day = |days: i64| dates::ymd(days);
    let range = |start: String| LogFilter {
        start_date: start,
        end_date: day(today),
        ..LogFilter::default()
    };
    let today_range = range(day(today));
    let month_range = range(day(dates::days_from_civil(year, month, 1)));
    let today_stats = use_fetch::<Stats>(Some(today_range.stats_url()), version, false);
    let month_stats = use_fetch::<Stats>(Some(month_range.stats_url()), version, false);
    let failed = LogFilter {
        status: "error".into(),
        ..LogFilter::default()
    };
    let failures = use_fetch::<Page<LogRow>>(Some(failed.list_url(1, TOP as u32)), version, true);
    let groups = use_fetch::<Vec<GroupView>>(Some("/api/admin/groups".into()), version, false);
    let group_list = groups.data.clone().unwrap_or_default();
    let (usage, _) = use_group_usage(group_list.iter().map(|g| g.id).collect());

    let period = |title: &'static str, range: &LogFilter, stats: &Option<Stats>, testid: &str| {
        let s = stats
            .as_ref()
            .map(|s| s.summary.clone())
            .unwrap_or_default();
        let loaded = stats.is_some();
        let value = |text: String| -> AttrValue { if loaded { text.into() } else { "-".into() } };
        let errors = LogFilter {
            status: "error".into(),
            ..range.clone()
        };
        html! {
            <section class="card dash-period" data-testid={testid.to_string()}>
                <div class="card-head">
                    <h3>{ tr.t(title) }</h3>
                    <a class="link small" href={logs_href(range)} data-testid={format!("{testid}-logs")}>{ tr.t("dash.open_logs") }</a>
                </div>
                <div class="stat-grid">
                    <StatCard title={tr.t("stats.total_calls")} icon="activity" tone="blue" testid={format!("{testid}-calls")}
                        value={value(format::thousands(s.total_calls))} />
                    <StatCard title={tr.t("stats.tokens")} icon="hash" tone="violet" testid={format!("{testid}-tokens")}
                        value={value(format::compact(s.total_tokens))} />
                    <StatCard title={tr.t("stats.cost")} icon="coin" tone="rose" testid={format!("{testid}-cost")}
                        value={value(format::moneys(&s.costs))} />
                    <a class="stat-link" href={logs_href(&errors)} data-testid={format!("{testid}-errors")}>
                        <StatCard title={tr.t("dash.error_rate")} icon="alert" tone="amber"
                            value={value(if s.total_calls == 0 { "-".into() } else { format::percent(1.0 - s.success_rate) })}
                            sub={loaded.then(|| AttrValue::from(tr.tf("dash.errors", &[("n", &format::thousands(s.error_calls))])))} />
                    </a>
                </div>
            </section>
        }
    };

    let month = month_stats.data.clone().unwrap_or_default();
    let busiest_configs = month.by_config.iter().take(TOP).map(|row| {
        let name = format::name_or_id(
            row.config_name.as_deref(),
            row.config_id,
            tr.t("stats.no_config"),
        );
        let href = row.config_id.filter(|id| *id > 0).map(|id| {
            logs_href(&LogFilter {
                config_id: id.to_string(),
                ..month_range.clone()
            })
        });
        html! {
            <tr>
                <td>{ match href {
                    Some(href) => html! { <a class="link" {href}>{ name }</a> },
                    None => html! { <>{ name }</> },
                } }</td>
                <td class="num">{ format::thousands(row.calls) }</td>
                <td class="num">{ format::compact(row.tokens) }</td>
                <td class="num">{ format::money(row.cost, &row.currency) }</td>
            </tr>
        }
    });
    let busiest_groups = month.by_group.iter().take(TOP).map(|row| {
        let name = format::name_or_id(
            row.group_name.as_deref(),
            row.group_id,
            tr.t("stats.no_group"),
        );
        let href = row.group_id.filter(|id| *id > 0).map(|id| {
            logs_href(&LogFilter {
                group_id: id.to_string(),
                ..month_range.clone()
            })
        });
        html! {
            <tr>
                <td>{ match href {
                    Some(href) => html! { <a class="link" {href}>{ name }</a> },
                    None => html! { <>{ name }</> },
                } }</td>
                <td class="num">{ format::thousands(row.calls) }</td>
                <td class="num">{ format::compact(row.tokens) }</td>
                <td class="num">{ format::moneys(&row.costs) }</td>
            </tr>
        }
    });
    // The fuller of each group's day and month, from NEAR_LIMIT of a limit up.
    let mut near: Vec<(GroupView, f64, i64, Option<i64>, &'static str)> = group_list
        .iter()
        .filter_map(|group| {
            let u = usage.get(&group.id)?;
            let day_limit = u.today.limit.or(group.daily_token_limit);
            let month_limit = u.month.limit.or(group.monthly_token_limit);
            let candidates = [
                (
                    share(u.today.tokens, day_limit),
                    u.today.tokens,
                    day_limit,
                    "dash.today",
                ),
                (
                    share(u.month.tokens, month_limit),
                    u.month.tokens,
                    month_limit,
                    "dash.month",
                ),
            ];
            candidates
                .into_iter()
                .filter_map(|(share, used, limit, label)| share.map(|s| (s, used, limit, label)))
                .filter(|(share, ..)| *share >= NEAR_LIMIT)
                .max_by(|a, b| a.0.total_cmp(&b.0))
                .map(|(share, used, limit, label)| (group.clone(), share, used, limit, label))
        })
        .collect();
    near.sort_by(|a, b| b.1.total_cmp(&a.1));
    let failure_rows = failures.data.clone().map(|p| p.data).unwrap_or_default();
    let table = |testid: &'static str, head: Html, rows: Html, empty: bool| {
        html! {
            <table class="table" data-testid={testid}>
                <thead>{ head }</thead>
                <tbody>
                    { rows }
                    if empty {
                        <tr class="state-row"><td colspan="4"><div class="state state-empty">{ tr.t("common.empty") }</div></td></tr>
                    }
                </tbody>
            </table>
        }
    };
    let usage_head = html! { <tr>
        <th>{ tr.t("logs.config") }</th><th class="num">{ tr.t("stats.calls") }</th>
        <th class="num">{ "Token" }</th><th class="num">{ tr.t("stats.cost") }</th>
    </tr> };
    let group_head = html! { <tr>
        <th>{ tr.t("logs.group") }</th><th class="num">{ tr.t("stats.calls") }</th>
        <th class="num">{ "Token" }</th><th class="num">{ tr.t("stats.cost") }</th>
    </tr> };

    html! {
        <div class="page" data-testid="dashboard-page">
            <div class="toolbar">
                <ZoneNote />
                <span class="spacer"></span>
                <button type="button" class="btn btn-ghost" data-testid="btn-refresh"
                    onclick={{ let reload = reload.clone(); Callback::from(move |_| reload.emit(())) }}>
                    <Icon name="refresh" />{ tr.t("common.refresh") }
                </button>
            </div>
            { period("dash.today", &today_range, &today_stats.data, "dash-today") }
            { period("dash.month", &month_range, &month_stats.data, "dash-month") }
            <div class="two-col">
                <section class="card table-card">
                    <div class="card-head"><h3>{ tr.t("dash.busiest_configs") }</h3></div>
                    { table("dash-configs", usage_head, busiest_configs.collect::<Html>(), month.by_config.is_empty()) }
                </section>
                <section class="card table-card">
                    <div class="card-head"><h3>{ tr.t("dash.busiest_groups") }</h3></div>
                    { table("dash-groups", group_head, busiest_groups.collect::<Html>(), month.by_group.is_empty()) }
                </section>
            </div>
            <div class="two-col">
                <section class="card table-card">
                    <div class="card-head">
                        <h3>{ tr.t("dash.near_limits") }</h3>
                        <Link<Route> to={Route::Groups} classes="link small">{ tr.t("dash.open_groups") }</Link<Route>>
                    </div>
                    <div class="dash-list" data-testid="dash-near-limits">
                        { for near.iter().map(|(group, _, used, limit, label)| html! {
                            <div class="dash-item" data-testid={format!("dash-near-{}", group.id)}>
                                <div class="dash-item-head">
                                    <a class="link strong" href={logs_href(&LogFilter { group_id: group.id.to_string(), ..month_range.clone() })}>{ group.name.clone() }</a>
                                    <span class="muted small">{ tr.t(label) }</span>
                                </div>
                                <UsageBar used={*used} limit={*limit} />
                            </div>
                        }) }
                        if near.is_empty() {
                            <div class="state state-empty">{ tr.t("dash.none_near") }</div>
                        }
                    </div>
                </section>
                <section class="card table-card">
                    <div class="card-head">
                        <h3>{ tr.t("dash.recent_alerts") }</h3>
                        <Link<Route> to={Route::Alerts} classes="link small">{ tr.t("dash.open_alerts") }</Link<Route>>
                    </div>
                    <AlertList limit={5} version={version} testid="dash-alerts" />
                </section>
            </div>
            <div class="two-col">
                <section class="card table-card">
                    <div class="card-head">
                        <h3>{ tr.t("dash.recent_failures") }</h3>
                        <a class="link small" href={logs_href(&failed)}>{ tr.t("dash.open_logs") }</a>
                    </div>
                    <div class="dash-list" data-testid="dash-failures">
                        { for failure_rows.iter().map(|row| html! {
                            <a class="dash-item link-row" href={format!("{BASENAME}/llm-logs?log_id={}", row.id)} data-testid={format!("dash-failure-{}", row.id)}>
                                <div class="dash-item-head">
                                    <span class="strong">{ format::name_or_id(row.config_name.as_deref(), row.config_id, "-") }</span>
                                    <Badge tone="red">{ row.error_code.clone().unwrap_or_else(|| tr.t("logs.error").into()) }</Badge>
                                    <span class="muted small">{ app.datetime(&row.created_at) }</span>
                                </div>
                                <div class="muted small clip">{ row.request_preview.clone().unwrap_or_default() }</div>
                            </a>
                        }) }
                        if failure_rows.is_empty() {
                            <div class="state state-empty">{ tr.t("dash.no_failures") }</div>
                        }
                    </div>
                </section>
            </div>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_carry_the_filters() {
        let filter = LogFilter {
            start_date: "2026-11-01".into(),
            end_date: "2026-11-30".into(),
            group_id: "4".into(),
            ..LogFilter::default()
        };
        assert_eq!(
            logs_href(&filter),
            "/admin/llm-logs?start_date=2026-11-01&end_date=2026-11-30&group_id=4"
        );
        assert_eq!(share(80, Some(100)), Some(0.8));
        assert_eq!(share(80, None), None);
        assert_eq!(share(80, Some(0)), None);
    }
}
