//! `/admin/llm-logs`: call records with filters, summary cards, paging, CSV export and the
//! detail dialog. Previews are shown as text only.

use gloo_timers::callback::Interval;
use yew::platform::spawn_local;
use yew::prelude::*;
use yew_router::prelude::*;

use super::log_detail::LogDetailDialog;
use crate::api::models::{ApiKeyView, ConfigView, LogRow, Page};
use crate::components::form::{on_input, on_select};
use crate::components::icon::Icon;
use crate::components::misc::{Badge, StatCard, ZoneNote};
use crate::components::pagination::Pagination;
use crate::components::table::{Column, DataTable};
use crate::context::use_app;
use crate::dates;
use crate::format;
use crate::hooks::{use_fetch, use_version};
use crate::platform;
use crate::query::{self, LogFilter};
use crate::route::Route;

/// The page in the address (`?page=3`), 1 without one.
fn page_from_query(query: &str) -> u32 {
    query::parse(query)
        .into_iter()
        .find(|(key, _)| key == "page")
        .and_then(|(_, value)| value.parse().ok())
        .filter(|page| *page >= 1)
        .unwrap_or(1)
}

/// The record named by `?log_id=…` (a test's or the overview's link opens its detail).
fn record_from_query(query: &str) -> Option<i64> {
    query::parse(query)
        .into_iter()
        .find(|(key, _)| key == "log_id")
        .and_then(|(_, value)| value.parse().ok())
}

/// Seconds between reloads while 自动刷新 is on.
const AUTO_REFRESH_SECONDS: u32 = 10;

#[component]
pub fn LogsPage() -> Html {
    let app = use_app();
    let tr = app.tr;
    // The filters and the page live in the address too: a reload, a bookmark or the back
    // button shows the same records, and a link (the overview, the stats) sets them.
    let location = use_location();
    let address = location
        .as_ref()
        .map(|l| l.query_str().to_string())
        .unwrap_or_default();
    let initial = LogFilter::from_query(&address);
    let draft = {
        let initial = initial.clone();
        use_state(move || initial)
    };
    let applied = use_state(move || initial);
    let page = {
        let address = address.clone();
        use_state(move || page_from_query(&address))
    };
    let page_size = use_state(|| 20u32);
    let (version, reload) = use_version();
    let detail = {
        let address = address.clone();
        use_state(move || record_from_query(&address))
    };
    let auto_refresh = use_state(|| false);
    {
        let (draft, applied, page) = (draft.clone(), applied.clone(), page.clone());
        use_effect_with(address.clone(), move |address| {
            let (filter, at) = (LogFilter::from_query(address), page_from_query(address));
            if *applied != filter || *page != at {
                draft.set(filter.clone());
                applied.set(filter);
                page.set(at);
            }
            || ()
        });
    }
    {
        let navigator = use_navigator();
        let wanted = applied.page_query(*page);
        use_effect_with(wanted, move |wanted| {
            let current = LogFilter::from_query(&address).page_query(page_from_query(&address));
            if *wanted != current
                && let Some(navigator) = navigator
            {
                let pairs = query::parse(wanted);
                let _ = navigator.replace_with_query(&Route::Logs, &pairs);
            }
            || ()
        });
    }
    {
        let reload = reload.clone();
        use_effect_with(*auto_refresh, move |on| {
            let timer =
                on.then(|| Interval::new(AUTO_REFRESH_SECONDS * 1000, move || reload.emit(())));
            move || drop(timer)
        });
    }
    let exporting = use_state(|| false);

    let list = use_fetch::<Page<LogRow>>(Some(applied.list_url(*page, *page_size)), version, true);
    // The cards' totals come on their own: the table shows as soon as its page is read.
    let totals = use_fetch::<Page<LogRow>>(Some(applied.summary_url()), version, true);
    let configs = use_fetch::<Vec<ConfigView>>(Some("/api/admin/llm/configs".into()), 0, false);
    let api_keys = use_fetch::<Vec<ApiKeyView>>(Some("/api/admin/api-keys".into()), 0, false);

    let edit = |apply: fn(&mut LogFilter, String)| {
        let draft = draft.clone();
        Callback::from(move |value: String| {
            let mut next = (*draft).clone();
            apply(&mut next, value);
            draft.set(next);
        })
    };
    let search = {
        let (draft, applied, page, reload) =
            (draft.clone(), applied.clone(), page.clone(), reload.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            if *applied == *draft && *page == 1 {
                reload.emit(());
            }
            applied.set((*draft).clone());
            page.set(1);
        })
    };
    let reset = {
        let (draft, applied, page) = (draft.clone(), applied.clone(), page.clone());
        Callback::from(move |_: MouseEvent| {
            draft.set(LogFilter::default());
            applied.set(LogFilter::default());
            page.set(1);
        })
    };
    let quick_range = |days: i64| {
        let (draft, today) = (draft.clone(), app.today());
        Callback::from(move |_: MouseEvent| {
            let mut next = (*draft).clone();
            next.start_date = dates::ymd(today - days + 1);
            next.end_date = dates::ymd(today);
            draft.set(next);
        })
    };
    let export = {
        let (applied, exporting, app) = (applied.clone(), exporting.clone(), app.clone());
        Callback::from(move |_: MouseEvent| {
            if *exporting {
                return;
            }
            exporting.set(true);
            let (url, exporting, app) = (applied.export_url(), exporting.clone(), app.clone());
            spawn_local(async move {
                let result = app.api.download(&url).await;
                exporting.set(false);
                match result {
                    Ok((bytes, name)) => {
                        let name = name
                            .unwrap_or_else(|| format!("llm-logs-{}.csv", dates::ymd(app.today())));
                        if platform::save_file(&bytes, &name, "text/csv;charset=utf-8") {
                            app.success(app.tr.tf("logs.exported", &[("name", &name)]));
                        } else {
                            app.error(app.tr.t("logs.export_failed"));
                        }
                    }
                    Err(err) => app.api_error(&err),
                }
            });
        })
    };

    // While new totals load, the cards say so rather than show the previous filters' totals.
    let summary = match totals.loading {
        true => None,
        false => totals.data.as_ref().and_then(|page| page.summary.clone()),
    };
    let card = |f: &dyn Fn(&crate::api::models::StatsSummary) -> String| -> AttrValue {
        match (&summary, totals.loading) {
            (Some(summary), _) => f(summary).into(),
            (None, true) => "…".into(),
            (None, false) => "-".into(),
        }
    };

    let data = list.data.clone();
    let rows = data.as_ref().map(|p| p.data.clone()).unwrap_or_default();
    let total = data.as_ref().map(|p| p.total).unwrap_or(0);
    let more = data.as_ref().is_some_and(|p| p.total_is_lower_bound);
    let config_names = configs.data.clone().unwrap_or_default();
    let key_names = api_keys.data.clone().unwrap_or_default();

    let table_rows = rows.iter().map(|row| {
        let id = row.id;
        let open = {
            let detail = detail.clone();
            Callback::from(move |_: MouseEvent| detail.set(Some(id)))
        };
        let request = row.request_preview.clone().unwrap_or_default();
        let response = row.response_preview.clone().unwrap_or_default();
        let status = if row.status == "success" {
            html! { <Badge tone="green">{ tr.t("logs.success") }</Badge> }
        } else {
            html! { <Badge tone="red" title={row.error_code.clone().map(AttrValue::from)}>{ tr.t("logs.error") }</Badge> }
        };
        let tokens_title = format!(
            "Prompt {} · Completion {}",
            format::opt_thousands(row.prompt_tokens),
            format::opt_thousands(row.completion_tokens)
        );
        html! {
            <tr key={row.id} data-testid={format!("log-row-{}", row.id)}>
                <td class="num">{ row.id }</td>
                <td class="nowrap">{ format::name_or_id(row.config_name.as_deref(), row.config_id, "-") }</td>
                <td class="clip" title={row.model.clone().unwrap_or_default()}><code>{ format::name_or_id(row.model.as_deref(), None, "-") }</code></td>
                <td class="nowrap">{ format::name_or_id(row.api_key_name.as_deref(), row.api_key_id, "-") }</td>
                <td class="preview" title={request.clone()}>{ if request.is_empty() { "-".to_string() } else { request } }</td>
                <td class="preview" title={response.clone()}>{ if response.is_empty() { "-".to_string() } else { response } }</td>
                <td class="num" title={tokens_title}>{ format::opt_thousands(row.tokens_used) }</td>
                <td class="num">{ row.duration_ms.map(format::duration_ms).unwrap_or_else(|| "-".into()) }</td>
                <td>
                    { status }
                    if row.is_stream { <Badge tone="blue">{ tr.t("logs.stream") }</Badge> }
                </td>
                <td class="nowrap">{ app.datetime(&row.created_at) }</td>
                <td class="actions">
                    <button type="button" class="link-btn" onclick={open} data-testid={format!("log-detail-{}", row.id)}>
                        { tr.t("logs.detail") }
                    </button>
                </td>
            </tr>
        }
    });

    html! {
        <div class="page" data-testid="logs-page">
            <form class="card filters" onsubmit={search} data-testid="log-filters">
                <div class="filter-grid">
                    <label class="filter">
                        <span>{ tr.t("logs.range") }</span>
                        <div class="range">
                            <input type="date" class="input" id="filter-start" data-testid="filter-start" value={draft.start_date.clone()}
                                oninput={on_input(edit(|f, v| f.start_date = v))} aria-label={tr.t("logs.start")} />
                            <span class="range-sep">{ "~" }</span>
                            <input type="date" class="input" id="filter-end" data-testid="filter-end" value={draft.end_date.clone()}
                                oninput={on_input(edit(|f, v| f.end_date = v))} aria-label={tr.t("logs.end")} />
                        </div>
                    </label>
                    <label class="filter">
                        <span>{ tr.t("logs.config") }</span>
                        <select class="select" id="filter-config" data-testid="filter-config" onchange={on_select(edit(|f, v| f.config_id = v))}>
                            <option value="" selected={draft.config_id.is_empty()}>{ tr.t("common.all") }</option>
                            { for config_names.iter().map(|c| html! {
                                <option value={c.id.to_string()} selected={draft.config_id == c.id.to_string()}>{ c.name.clone() }</option>
                            }) }
                        </select>
                    </label>
                    <label class="filter">
                        <span>{ tr.t("common.status") }</span>
                        <select class="select" id="filter-status" data-testid="filter-status" onchange={on_select(edit(|f, v| f.status = v))}>
                            <option value="" selected={draft.status.is_empty()}>{ tr.t("common.all") }</option>
                            <option value="success" selected={draft.status == "success"}>{ tr.t("logs.success") }</option>
                            <option value="error" selected={draft.status == "error"}>{ tr.t("logs.error") }</option>
                        </select>
                    </label>
                    <label class="filter">
                        <span>{ tr.t("logs.activation_code") }</span>
                        <input class="input" id="filter-code" data-testid="filter-code" value={draft.activation_code.clone()}
                            placeholder={tr.t("logs.code_placeholder")} oninput={on_input(edit(|f, v| f.activation_code = v))} />
                    </label>
                    <label class="filter">
                        <span>{ tr.t("logs.api_key") }</span>
                        <select class="select" id="filter-api-key" data-testid="filter-api-key" onchange={on_select(edit(|f, v| f.api_key_id = v))}>
                            <option value="" selected={draft.api_key_id.is_empty()}>{ tr.t("common.all") }</option>
                            { for key_names.iter().map(|k| html! {
                                <option value={k.id.to_string()} selected={draft.api_key_id == k.id.to_string()}>{ k.name.clone() }</option>
                            }) }
                        </select>
                    </label>
                    <label class="filter">
                        <span>{ tr.t("logs.keyword") }</span>
                        <input class="input" id="filter-q" data-testid="filter-q" value={draft.q.clone()}
                            placeholder={tr.t("logs.keyword_placeholder")} oninput={on_input(edit(|f, v| f.q = v))} />
                    </label>
                </div>
                <div class="filter-actions">
                    <div class="quick">
                        <button type="button" class="chip-btn" onclick={quick_range(1)} data-testid="range-today">{ tr.t("logs.today") }</button>
                        <button type="button" class="chip-btn" onclick={quick_range(7)} data-testid="range-7">{ tr.t("logs.last7") }</button>
                        <button type="button" class="chip-btn" onclick={quick_range(30)} data-testid="range-30">{ tr.t("logs.last30") }</button>
                    </div>
                    <ZoneNote />
                    <span class="spacer"></span>
                    <label class="auto-refresh" title={tr.tf("logs.auto_refresh_hint", &[("s", &AUTO_REFRESH_SECONDS.to_string())])}>
                        <input type="checkbox" data-testid="auto-refresh" checked={*auto_refresh}
                            onchange={{ let auto_refresh = auto_refresh.clone(); Callback::from(move |_| auto_refresh.set(!*auto_refresh)) }} />
                        { tr.t("logs.auto_refresh") }
                    </label>
                    <button type="submit" class="btn btn-primary" id="btn-search" data-testid="btn-search">
                        <Icon name="search" />{ tr.t("common.search") }
                    </button>
                    <button type="button" class="btn" onclick={reset} id="btn-reset" data-testid="btn-reset">
                        <Icon name="refresh" />{ tr.t("common.reset") }
                    </button>
                    <button type="button" class="btn" onclick={export} disabled={*exporting} id="btn-export" data-testid="btn-export">
                        if *exporting { <span class="spinner"></span> } else { <Icon name="download" /> }
                        { tr.t("logs.export") }
                    </button>
                </div>
                if draft.dates_reversed() {
                    <div class="field-error">{ tr.t("logs.dates_reversed") }</div>
                }
            </form>

            <div class="stat-grid five" data-testid="log-stats">
                <StatCard title={tr.t("stats.total_calls")} icon="activity" tone="blue" testid="card-calls"
                    value={card(&|s| format::thousands(s.total_calls))}
                    sub={summary.as_ref().map(|s| AttrValue::from(tr.tf("stats.calls_split", &[("ok", &format::thousands(s.success_calls)), ("err", &format::thousands(s.error_calls))])))} />
                <StatCard title={tr.t("stats.success_rate")} icon="check-circle" tone="green" testid="card-rate"
                    value={card(&|s| if s.total_calls == 0 { "-".into() } else { format::percent(s.success_rate) })} />
                <StatCard title={tr.t("stats.avg_duration")} icon="clock" tone="amber" testid="card-duration"
                    value={card(&|s| if s.total_calls == 0 { "-".into() } else { format::duration_ms(s.avg_duration_ms) })} />
                <StatCard title={tr.t("stats.tokens")} icon="hash" tone="violet" testid="card-tokens"
                    value={card(&|s| format::compact(s.total_tokens))}
                    sub={summary.as_ref().map(|s| AttrValue::from(tr.tf("stats.token_split", &[("p", &format::compact(s.prompt_tokens)), ("c", &format::compact(s.completion_tokens))])))} />
                <StatCard title={tr.t("stats.cost")} icon="coin" tone="rose" testid="card-cost"
                    value={card(&|s| format::moneys(&s.costs))} />
            </div>

            <DataTable testid="log-table" loading={list.loading} error={list.error.clone()} empty={rows.is_empty()}
                on_retry={Some(reload.clone())} columns={vec![
                    Column::num("ID"),
                    Column::text(tr.t("logs.config")),
                    Column::text(tr.t("logs.model")),
                    Column::text(tr.t("logs.api_key")),
                    Column::text(tr.t("logs.request_preview")),
                    Column::text(tr.t("logs.response_preview")),
                    Column::num("Token"),
                    Column::num(tr.t("logs.duration")),
                    Column::text(tr.t("common.status")),
                    Column::text(tr.t("logs.time")),
                    Column::text(tr.t("logs.detail")),
                ]}
                footer={html! {
                    <Pagination total={total} more={more} page={*page} page_size={*page_size}
                        on_page={{ let page = page.clone(); Callback::from(move |p| page.set(p)) }}
                        on_page_size={{ let (page, page_size) = (page.clone(), page_size.clone()); Callback::from(move |s| { page_size.set(s); page.set(1); }) }} />
                }}>
                { for table_rows }
            </DataTable>
            if let Some(id) = *detail {
                <LogDetailDialog id={id} on_close={{ let detail = detail.clone(); Callback::from(move |_| detail.set(None)) }} />
            }
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_page_and_the_record_from_the_address() {
        let address = "?config_id=3&status=error&page=4&log_id=77";
        let filter = LogFilter::from_query(address);
        assert_eq!(
            (filter.config_id.as_str(), filter.status.as_str()),
            ("3", "error")
        );
        assert_eq!(page_from_query(address), 4);
        assert_eq!(record_from_query(address), Some(77));
        assert_eq!(page_from_query("?page=0"), 1);
        assert_eq!(record_from_query(""), None);
        // Whatever the address holds is only ever sent encoded and shown as text.
        assert_eq!(
            LogFilter::from_query("config_id=%3Cscript").config_id,
            "<script"
        );
    }
}
