//! `/admin/llm-stats` (调用统计): summary, the daily trend and the hourly distribution as
//! inline SVG, and per-config / per-group rankings by tokens or cost.

use yew::prelude::*;
use yew_router::prelude::*;

use crate::api::models::{ConfigStats, ConfigView, GroupStats, GroupView, Stats};
use crate::components::charts::{BarChart, LineChart};
use crate::components::form::{on_input, on_select};
use crate::components::icon::Icon;
use crate::components::misc::{Alert, StatCard};
use crate::context::use_app;
use crate::dates;
use crate::format;
use crate::hooks::{use_fetch, use_version};
use crate::platform;
use crate::query::LogFilter;
use crate::route::Route;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Metric {
    Calls,
    Tokens,
    Cost,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Rank {
    Tokens,
    Cost,
}

/// Per-config rows ranked by tokens or by cost, largest first.
fn ranked_configs(rows: &[ConfigStats], rank: Rank) -> Vec<ConfigStats> {
    let mut rows = rows.to_vec();
    match rank {
        Rank::Tokens => {
            rows.sort_by(|a, b| b.tokens.cmp(&a.tokens).then(b.cost.total_cmp(&a.cost)))
        }
        Rank::Cost => rows.sort_by(|a, b| b.cost.total_cmp(&a.cost).then(b.tokens.cmp(&a.tokens))),
    }
    rows
}

fn ranked_groups(rows: &[GroupStats], rank: Rank) -> Vec<GroupStats> {
    let mut rows = rows.to_vec();
    match rank {
        Rank::Tokens => {
            rows.sort_by(|a, b| b.tokens.cmp(&a.tokens).then(b.cost.total_cmp(&a.cost)))
        }
        Rank::Cost => rows.sort_by(|a, b| b.cost.total_cmp(&a.cost).then(b.tokens.cmp(&a.tokens))),
    }
    rows
}

/// The 24 hours, with 0 for hours the server left out.
fn hours(stats: &Stats) -> Vec<f64> {
    let mut values = vec![0.0; 24];
    for hour in &stats.hourly {
        if let Some(slot) = values.get_mut(hour.hour as usize) {
            *slot += hour.calls as f64;
        }
    }
    values
}

#[component]
pub fn StatsPage() -> Html {
    let app = use_app();
    let tr = app.tr;
    let default_filter = || {
        let today = platform::today();
        LogFilter {
            start_date: dates::ymd(today - 29),
            end_date: dates::ymd(today),
            ..LogFilter::default()
        }
    };
    let draft = use_state(default_filter);
    let applied = use_state(default_filter);
    let (version, reload) = use_version();
    let metric = use_state(|| Metric::Calls);
    let config_rank = use_state(|| Rank::Tokens);
    let group_rank = use_state(|| Rank::Tokens);

    let stats = use_fetch::<Stats>(Some(applied.stats_url()), version, false);
    let configs = use_fetch::<Vec<ConfigView>>(Some("/api/admin/llm/configs".into()), 0, false);
    let groups = use_fetch::<Vec<GroupView>>(Some("/api/admin/groups".into()), 0, false);

    let edit = |apply: fn(&mut LogFilter, String)| {
        let draft = draft.clone();
        Callback::from(move |value: String| {
            let mut next = (*draft).clone();
            apply(&mut next, value);
            draft.set(next);
        })
    };
    let search = {
        let (draft, applied, reload) = (draft.clone(), applied.clone(), reload.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            if *applied == *draft {
                reload.emit(());
            }
            applied.set((*draft).clone());
        })
    };

    let data = stats.data.clone().unwrap_or_default();
    let s = &data.summary;
    let has_data = stats.data.is_some();
    let value = |text: String| -> AttrValue { if has_data { text.into() } else { "-".into() } };

    let labels: Vec<String> = data.daily.iter().map(|d| d.date.clone()).collect();
    let (values, tone, fmt): (Vec<f64>, &str, Callback<f64, String>) = match *metric {
        Metric::Calls => (
            data.daily.iter().map(|d| d.calls as f64).collect(),
            "blue",
            Callback::from(|v: f64| format::thousands(v.round() as i64)),
        ),
        Metric::Tokens => (
            data.daily.iter().map(|d| d.tokens as f64).collect(),
            "violet",
            Callback::from(|v: f64| format::thousands(v.round() as i64)),
        ),
        Metric::Cost => (
            data.daily.iter().map(|d| d.cost).collect(),
            "amber",
            Callback::from(format::cost),
        ),
    };
    let tab = |m: Metric, key: &'static str, testid: &'static str| {
        let metric = metric.clone();
        html! {
            <button type="button" class={classes!("tab", (*metric == m).then_some("active"))} data-testid={testid}
                onclick={Callback::from(move |_| metric.set(m))}>{ tr.t(key) }</button>
        }
    };
    let rank_tabs = |handle: &UseStateHandle<Rank>, prefix: &'static str| {
        let (a, b) = (handle.clone(), handle.clone());
        html! {
            <div class="tabs small">
                <button type="button" class={classes!("tab", (**handle == Rank::Tokens).then_some("active"))}
                    data-testid={format!("{prefix}-by-tokens")} onclick={Callback::from(move |_| a.set(Rank::Tokens))}>{ tr.t("stats.by_tokens") }</button>
                <button type="button" class={classes!("tab", (**handle == Rank::Cost).then_some("active"))}
                    data-testid={format!("{prefix}-by-cost")} onclick={Callback::from(move |_| b.set(Rank::Cost))}>{ tr.t("stats.by_cost") }</button>
            </div>
        }
    };
    let hour_labels: Vec<String> = (0..24).map(|h| format!("{h:02}")).collect();
    let group_names = groups.data.clone().unwrap_or_default();

    html! {
        <div class="page" data-testid="stats-page">
            <form class="card filters" onsubmit={search} data-testid="stats-filters">
                <div class="filter-grid">
                    <label class="filter">
                        <span>{ tr.t("logs.range") }</span>
                        <div class="range">
                            <input type="date" class="input" data-testid="stats-start" value={draft.start_date.clone()}
                                oninput={on_input(edit(|f, v| f.start_date = v))} aria-label={tr.t("logs.start")} />
                            <span class="range-sep">{ "~" }</span>
                            <input type="date" class="input" data-testid="stats-end" value={draft.end_date.clone()}
                                oninput={on_input(edit(|f, v| f.end_date = v))} aria-label={tr.t("logs.end")} />
                        </div>
                    </label>
                    <label class="filter">
                        <span>{ tr.t("logs.config") }</span>
                        <select class="select" data-testid="stats-config" onchange={on_select(edit(|f, v| f.config_id = v))}>
                            <option value="" selected={draft.config_id.is_empty()}>{ tr.t("common.all") }</option>
                            { for configs.data.clone().unwrap_or_default().iter().map(|c| html! {
                                <option value={c.id.to_string()} selected={draft.config_id == c.id.to_string()}>{ c.name.clone() }</option>
                            }) }
                        </select>
                    </label>
                    <label class="filter">
                        <span>{ tr.t("logs.group") }</span>
                        <select class="select" data-testid="stats-group" onchange={on_select(edit(|f, v| f.group_id = v))}>
                            <option value="" selected={draft.group_id.is_empty()}>{ tr.t("common.all") }</option>
                            { for group_names.iter().map(|g| html! {
                                <option value={g.id.to_string()} selected={draft.group_id == g.id.to_string()}>{ g.name.clone() }</option>
                            }) }
                        </select>
                    </label>
                    <div class="filter filter-buttons">
                        <button type="submit" class="btn btn-primary" data-testid="stats-search">
                            <Icon name="search" />{ tr.t("common.query") }
                        </button>
                    </div>
                </div>
            </form>
            if let Some(err) = stats.error.clone() {
                <Alert testid="stats-error">{ tr.tf("stats.failed", &[("msg", &err.display(tr))]) }</Alert>
            } else if has_data && !data.start_date.is_empty() {
                <p class="muted small note" data-testid="stats-range">
                    { tr.tf("stats.range", &[("start", &data.start_date), ("end", &data.end_date)]) }
                </p>
            }
            <div class="stat-grid five">
                <StatCard title={tr.t("stats.total_calls")} icon="activity" tone="blue" testid="stats-calls"
                    value={value(format::thousands(s.total_calls))}
                    sub={has_data.then(|| AttrValue::from(tr.tf("stats.calls_split", &[("ok", &format::thousands(s.success_calls)), ("err", &format::thousands(s.error_calls))])))} />
                <StatCard title={tr.t("stats.success_rate")} icon="check-circle" tone="green" testid="stats-rate"
                    value={value(if s.total_calls == 0 { "-".into() } else { format::percent(s.success_rate) })} />
                <StatCard title={tr.t("stats.avg_duration")} icon="clock" tone="amber" testid="stats-duration"
                    value={value(if s.total_calls == 0 { "-".into() } else { format::duration_ms(s.avg_duration_ms) })} />
                <StatCard title={tr.t("stats.tokens")} icon="hash" tone="violet" testid="stats-tokens"
                    value={value(format::compact(s.total_tokens))}
                    sub={has_data.then(|| AttrValue::from(tr.tf("stats.token_split", &[("p", &format::compact(s.prompt_tokens)), ("c", &format::compact(s.completion_tokens))])))} />
                <StatCard title={tr.t("stats.cost")} icon="coin" tone="rose" testid="stats-cost"
                    value={value(format::cost(s.total_cost))} />
            </div>
            <div class="card chart-card">
                <div class="card-head">
                    <h3>{ tr.t("stats.daily") }</h3>
                    <div class="tabs">
                        { tab(Metric::Calls, "stats.metric.calls", "metric-calls") }
                        { tab(Metric::Tokens, "stats.metric.tokens", "metric-tokens") }
                        { tab(Metric::Cost, "stats.metric.cost", "metric-cost") }
                    </div>
                </div>
                <LineChart labels={labels} values={values} format={fmt} tone={tone} testid="chart-daily" />
            </div>
            <div class="card chart-card">
                <div class="card-head"><h3>{ tr.t("stats.hourly") }</h3></div>
                <BarChart labels={hour_labels} values={hours(&data)} testid="chart-hourly" tone="green"
                    format={Callback::from(|v: f64| format::thousands(v.round() as i64))} />
            </div>
            <div class="two-col">
                <div class="card table-card">
                    <div class="card-head">
                        <h3>{ tr.t("stats.by_config") }</h3>
                        { rank_tabs(&config_rank, "config-rank") }
                    </div>
                    <table class="table" data-testid="stats-config-table">
                        <thead><tr>
                            <th class="num">{ "#" }</th>
                            <th>{ tr.t("logs.config") }</th>
                            <th class="num">{ tr.t("stats.calls") }</th>
                            <th class="num">{ tr.t("stats.success_rate") }</th>
                            <th class="num">{ tr.t("stats.avg_duration") }</th>
                            <th class="num">{ "Token" }</th>
                            <th class="num">{ tr.t("stats.cost") }</th>
                        </tr></thead>
                        <tbody>
                            { for ranked_configs(&data.by_config, *config_rank).into_iter().enumerate().map(|(i, row)| {
                                let name = format::name_or_id(row.config_name.as_deref(), row.config_id, tr.t("stats.no_config"));
                                let link = row.config_id.filter(|id| *id > 0).map(|id| html! {
                                    <Link<Route, Vec<(String, String)>> to={Route::Logs} query={Some(vec![("config_id".to_string(), id.to_string())])}
                                        classes="link">{ name.clone() }</Link<Route, Vec<(String, String)>>>
                                }).unwrap_or_else(|| html! { <>{ name.clone() }</> });
                                html! {
                                    <tr>
                                        <td class="num rank">{ i + 1 }</td>
                                        <td>{ link }</td>
                                        <td class="num">{ format::thousands(row.calls) }</td>
                                        <td class="num">{ format::percent(row.success_rate) }</td>
                                        <td class="num">{ format::duration_ms(row.avg_duration_ms) }</td>
                                        <td class="num">{ format::thousands(row.tokens) }</td>
                                        <td class="num">{ format::cost(row.cost) }</td>
                                    </tr>
                                }
                            }) }
                            if data.by_config.is_empty() {
                                <tr class="state-row"><td colspan="7"><div class="state state-empty">{ tr.t("common.empty") }</div></td></tr>
                            }
                        </tbody>
                    </table>
                </div>
                <div class="card table-card">
                    <div class="card-head">
                        <h3>{ tr.t("stats.by_group") }</h3>
                        { rank_tabs(&group_rank, "group-rank") }
                    </div>
                    <table class="table" data-testid="stats-group-table">
                        <thead><tr>
                            <th class="num">{ "#" }</th>
                            <th>{ tr.t("logs.group") }</th>
                            <th class="num">{ tr.t("stats.calls") }</th>
                            <th class="num">{ "Token" }</th>
                            <th class="num">{ tr.t("stats.cost") }</th>
                        </tr></thead>
                        <tbody>
                            { for ranked_groups(&data.by_group, *group_rank).into_iter().enumerate().map(|(i, row)| {
                                let name = format::name_or_id(row.group_name.as_deref(), row.group_id, tr.t("stats.no_group"));
                                html! {
                                    <tr>
                                        <td class="num rank">{ i + 1 }</td>
                                        <td>{ name }</td>
                                        <td class="num">{ format::thousands(row.calls) }</td>
                                        <td class="num">{ format::thousands(row.tokens) }</td>
                                        <td class="num">{ format::cost(row.cost) }</td>
                                    </tr>
                                }
                            }) }
                            if data.by_group.is_empty() {
                                <tr class="state-row"><td colspan="5"><div class="state state-empty">{ tr.t("common.empty") }</div></td></tr>
                            }
                        </tbody>
                    </table>
                </div>
            </div>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::models::HourlyStats;

    #[test]
    fn ranks_by_tokens_or_cost() {
        let rows = vec![
            ConfigStats {
                config_id: Some(1),
                tokens: 10,
                cost: 5.0,
                ..ConfigStats::default()
            },
            ConfigStats {
                config_id: Some(2),
                tokens: 30,
                cost: 1.0,
                ..ConfigStats::default()
            },
            ConfigStats {
                config_id: Some(3),
                tokens: 20,
                cost: 9.0,
                ..ConfigStats::default()
            },
        ];
        let ids =
            |rows: Vec<ConfigStats>| rows.iter().filter_map(|r| r.config_id).collect::<Vec<_>>();
        assert_eq!(ids(ranked_configs(&rows, Rank::Tokens)), vec![2, 3, 1]);
        assert_eq!(ids(ranked_configs(&rows, Rank::Cost)), vec![3, 1, 2]);
        let groups = vec![
            GroupStats {
                group_id: Some(1),
                tokens: 1,
                cost: 2.0,
                ..GroupStats::default()
            },
            GroupStats {
                group_id: Some(2),
                tokens: 2,
                cost: 1.0,
                ..GroupStats::default()
            },
        ];
        assert_eq!(ranked_groups(&groups, Rank::Cost)[0].group_id, Some(1));
        assert_eq!(ranked_groups(&groups, Rank::Tokens)[0].group_id, Some(2));
    }

    #[test]
    fn fills_all_24_hours() {
        let stats = Stats {
            hourly: vec![
                HourlyStats { hour: 3, calls: 5 },
                HourlyStats { hour: 23, calls: 1 },
                HourlyStats { hour: 99, calls: 7 },
            ],
            ..Stats::default()
        };
        let values = hours(&stats);
        assert_eq!(values.len(), 24);
        assert_eq!(values[3], 5.0);
        assert_eq!(values[23], 1.0);
        assert_eq!(values.iter().sum::<f64>(), 6.0);
    }
}
