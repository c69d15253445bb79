//! `/admin/llm-stats` (调用统计): summary, the daily trend and the hourly distribution as
//! inline SVG, and per-config / per-group rankings by tokens or cost.

use yew::prelude::*;
use yew_router::prelude::*;

use crate::api::models::{ConfigStats, ConfigView, GroupStats, GroupView, Money, Stats};
use crate::components::charts::{BarChart, LineChart};
use crate::components::form::{on_input, on_select};
use crate::components::icon::Icon;
use crate::components::misc::{Alert, StatCard, ZoneNote};
use crate::context::use_app;
use crate::dates;
use crate::format;
use crate::hooks::{use_fetch, use_version};
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

/// The amount in `currency` (0 when there is none): costs compare within one currency.
fn amount_in(costs: &[Money], currency: &str) -> f64 {
    costs
        .iter()
        .find(|m| m.currency == currency)
        .map_or(0.0, |m| m.amount)
}

/// Per-config rows ranked by tokens, or by cost in `currency` (largest first).
fn ranked_configs(rows: &[ConfigStats], rank: Rank, currency: &str) -> Vec<ConfigStats> {
    let mut rows = rows.to_vec();
    let cost = |row: &ConfigStats| {
        if row.currency == currency {
            row.cost
        } else {
            0.0
        }
    };
    match rank {
        Rank::Tokens => rows.sort_by(|a, b| b.tokens.cmp(&a.tokens).then(b.calls.cmp(&a.calls))),
        Rank::Cost => {
            rows.sort_by(|a, b| cost(b).total_cmp(&cost(a)).then(b.tokens.cmp(&a.tokens)))
        }
    }
    rows
}

fn ranked_groups(rows: &[GroupStats], rank: Rank, currency: &str) -> Vec<GroupStats> {
    let mut rows = rows.to_vec();
    let cost = |row: &GroupStats| amount_in(&row.costs, currency);
    match rank {
        Rank::Tokens => rows.sort_by(|a, b| b.tokens.cmp(&a.tokens).then(b.calls.cmp(&a.calls))),
        Rank::Cost => {
            rows.sort_by(|a, b| cost(b).total_cmp(&cost(a)).then(b.tokens.cmp(&a.tokens)))
        }
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
        let today = app.today();
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
    // The currency the cost chart and the cost ranking use (none chosen: the first).
    let chosen_currency = use_state(String::new);

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

    let currencies: Vec<String> = s.costs.iter().map(|m| m.currency.clone()).collect();
    let currency = if currencies.contains(&*chosen_currency) {
        (*chosen_currency).clone()
    } else {
        currencies.first().cloned().unwrap_or_default()
    };
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
        Metric::Cost => {
            let currency = currency.clone();
            (
                data.daily
                    .iter()
                    .map(|d| amount_in(&d.costs, &currency))
                    .collect(),
                "amber",
                Callback::from(move |v: f64| format::money(v, &currency)),
            )
        }
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
                    { " " }<ZoneNote />
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
                    value={value(format::moneys(&s.costs))} />
            </div>
            <div class="card chart-card">
                <div class="card-head">
                    <h3>{ tr.t("stats.daily") }</h3>
                    <div class="tabs">
                        { tab(Metric::Calls, "stats.metric.calls", "metric-calls") }
                        { tab(Metric::Tokens, "stats.metric.tokens", "metric-tokens") }
                        { tab(Metric::Cost, "stats.metric.cost", "metric-cost") }
                    </div>
                    if currencies.len() > 1 && (*metric == Metric::Cost || *config_rank == Rank::Cost || *group_rank == Rank::Cost) {
                        <div class="tabs small" data-testid="currency-tabs">
                            { for currencies.iter().map(|c| {
                                let (chosen, value) = (chosen_currency.clone(), c.clone());
                                html! {
                                    <button type="button" class={classes!("tab", (*c == currency).then_some("active"))}
                                        data-testid={format!("currency-{c}")} onclick={Callback::from(move |_| chosen.set(value.clone()))}>{ c.clone() }</button>
                                }
                            }) }
                        </div>
                    }
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
                            { for ranked_configs(&data.by_config, *config_rank, &currency).into_iter().enumerate().map(|(i, row)| {
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
                                        <td class="num">{ format::money(row.cost, &row.currency) }</td>
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
                            { for ranked_groups(&data.by_group, *group_rank, &currency).into_iter().enumerate().map(|(i, row)| {
                                let name = format::name_or_id(row.group_name.as_deref(), row.group_id, tr.t("stats.no_group"));
                                html! {
                                    <tr>
                                        <td class="num rank">{ i + 1 }</td>
                                        <td>{ name }</td>
                                        <td class="num">{ format::thousands(row.calls) }</td>
                                        <td class="num">{ format::thousands(row.tokens) }</td>
                                        <td class="num">{ format::moneys(&row.costs) }</td>
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
    fn ranks_by_tokens_or_cost_in_one_currency() {
        let config = |id, tokens, cost: f64, currency: &str| ConfigStats {
            config_id: Some(id),
            tokens,
            cost,
            currency: currency.into(),
            ..ConfigStats::default()
        };
        // 9 USD is not more than 5 CNY: a ranking in CNY puts it after every CNY row.
        let rows = vec![
            config(1, 10, 5.0, "CNY"),
            config(2, 30, 1.0, "CNY"),
            config(3, 20, 9.0, "USD"),
        ];
        let ids =
            |rows: Vec<ConfigStats>| rows.iter().filter_map(|r| r.config_id).collect::<Vec<_>>();
        assert_eq!(
            ids(ranked_configs(&rows, Rank::Tokens, "CNY")),
            vec![2, 3, 1]
        );
        assert_eq!(ids(ranked_configs(&rows, Rank::Cost, "CNY")), vec![1, 2, 3]);
        assert_eq!(ids(ranked_configs(&rows, Rank::Cost, "USD")), vec![3, 2, 1]);
        let money = |currency: &str, amount| Money {
            currency: currency.into(),
            amount,
        };
        let groups = vec![
            GroupStats {
                group_id: Some(1),
                tokens: 1,
                costs: vec![money("CNY", 2.0)],
                ..GroupStats::default()
            },
            GroupStats {
                group_id: Some(2),
                tokens: 2,
                costs: vec![money("CNY", 1.0), money("USD", 7.0)],
                ..GroupStats::default()
            },
        ];
        assert_eq!(
            ranked_groups(&groups, Rank::Cost, "CNY")[0].group_id,
            Some(1)
        );
        assert_eq!(
            ranked_groups(&groups, Rank::Cost, "USD")[0].group_id,
            Some(2)
        );
        assert_eq!(
            ranked_groups(&groups, Rank::Tokens, "CNY")[0].group_id,
            Some(2)
        );
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
