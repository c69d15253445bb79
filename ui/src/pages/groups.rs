//! 分组管理: token and request limits, money budgets and the configs each group may use,
//! with today's and this month's usage.

use std::collections::HashMap;

use yew::platform::spawn_local;
use yew::prelude::*;

use super::group_access::AccessField;
use crate::api::models::{ConfigView, GroupView, Stats};
use crate::components::dialog::{Confirm, FormDialog};
use crate::components::form::{Field, on_input, on_textarea};
use crate::components::icon::Icon;
use crate::components::misc::{Alert, UsageBar};
use crate::components::table::{Column, DataTable};
use crate::context::use_app;
use crate::format;
use crate::group_form::{GroupForm, access_text};
use crate::hooks::{Fetch, use_fetch, use_group_usage, use_version};
use crate::query::LogFilter;

/// Fields the form shows; a server error on any other field goes to the banner.
const FORM_FIELDS: [&str; 9] = [
    "config_ids",
    "cost_currency",
    "daily_cost_limit",
    "daily_token_limit",
    "description",
    "monthly_cost_limit",
    "monthly_token_limit",
    "name",
    "requests_per_minute",
];
#[component]
pub fn GroupsPage() -> Html {
    let app = use_app();
    let tr = app.tr;
    let (version, reload) = use_version();
    let groups = use_fetch::<Vec<GroupView>>(Some("/api/admin/groups".into()), version, false);
    // For the access column and the dialog's list of configs.
    let configs =
        use_fetch::<Vec<ConfigView>>(Some("/api/admin/llm/configs".into()), version, false);
    let all_configs = configs.data.clone().unwrap_or_default();
    let editing = use_state(|| None::<Option<GroupView>>);
    let deleting = use_state(|| None::<GroupView>);
    let (usage, usage_error) = use_group_usage(
        groups
            .data
            .clone()
            .unwrap_or_default()
            .iter()
            .map(|g| g.id)
            .collect(),
    );
    // Money per currency comes from the statistics (the usage counters add currencies).
    let today = app.today();
    let (year, month, _) = crate::dates::civil_from_days(today);
    let costs_of = |start: i64| {
        let filter = LogFilter {
            start_date: crate::dates::ymd(start),
            end_date: crate::dates::ymd(today),
            ..LogFilter::default()
        };
        Some(filter.stats_url())
    };
    let today_stats = use_fetch::<Stats>(costs_of(today), version, false);
    let month_stats = use_fetch::<Stats>(
        costs_of(crate::dates::days_from_civil(year, month, 1)),
        version,
        false,
    );
    let cost_in = |stats: &Fetch<Stats>, group_id: i32| {
        stats
            .data
            .as_ref()
            .and_then(|s| s.by_group.iter().find(|g| g.group_id == Some(group_id)))
            .map(|g| format::moneys(&g.costs))
            .unwrap_or_else(|| format::moneys(&[]))
    };

    let confirm_delete = {
        let (app, reload, deleting) = (app.clone(), reload.clone(), deleting.clone());
        Callback::from(move |_| {
            let Some(group) = (*deleting).clone() else {
                return;
            };
            let (app, reload, deleting) = (app.clone(), reload.clone(), deleting.clone());
            spawn_local(async move {
                let result = app
                    .api
                    .delete(&format!("/api/admin/groups/{}", group.id))
                    .await;
                deleting.set(None);
                match result {
                    Ok(()) => {
                        app.success(app.tr.tf("common.deleted_named", &[("name", &group.name)]));
                        reload.emit(());
                    }
                    Err(err) => app.api_error(&err),
                }
            });
        })
    };

    let rows = groups.data.clone().unwrap_or_default();
    let limit = |v: Option<i64>| {
        v.map(format::thousands)
            .unwrap_or_else(|| tr.t("common.unlimited").into())
    };
    let table_rows = rows.iter().map(|group| {
        let (g1, g2) = (group.clone(), group.clone());
        let (editing, deleting) = (editing.clone(), deleting.clone());
        let u = usage.get(&group.id);
        let rpm_text = |v: i64| if v == 0 { tr.t("common.unlimited").to_string() } else { format::thousands(v) };
        let rpm = match (group.requests_per_minute, u.and_then(|u| u.requests_per_minute)) {
            (Some(own), _) => rpm_text(own),
            (None, Some(effective)) => format!("{} ({})", tr.t("group.rpm_default"), rpm_text(effective)),
            (None, None) => tr.t("group.rpm_default").to_string(),
        };
        html! {
            <tr key={group.id} data-testid={format!("group-row-{}", group.id)}>
                <td class="num">{ group.id }</td>
                <td>
                    <div class="strong">{ group.name.clone() }</div>
                    if let Some(d) = group.description.clone().filter(|d| !d.is_empty()) { <div class="muted small">{ d }</div> }
                </td>
                <td data-testid={format!("group-access-{}", group.id)}>
                    { access_text(group.config_ids.as_deref(), &all_configs, tr) }
                </td>
                <td class="num">{ limit(group.daily_token_limit) }</td>
                <td class="num">{ limit(group.monthly_token_limit) }</td>
                <td class="num">{ rpm }</td>
                <td class="usage-cell" data-testid={format!("group-today-{}", group.id)}>
                    if let Some(u) = u {
                        <UsageBar used={u.today.tokens} limit={u.today.limit.or(group.daily_token_limit)} />
                        <div class="muted small">{ tr.tf("group.calls_cost", &[("calls", &format::thousands(u.today.calls)), ("cost", &cost_in(&today_stats, group.id))]) }</div>
                    } else { <span class="muted">{ "-" }</span> }
                </td>
                <td class="usage-cell" data-testid={format!("group-month-{}", group.id)}>
                    if let Some(u) = u {
                        <UsageBar used={u.month.tokens} limit={u.month.limit.or(group.monthly_token_limit)} />
                        <div class="muted small">{ tr.tf("group.calls_cost", &[("calls", &format::thousands(u.month.calls)), ("cost", &cost_in(&month_stats, group.id))]) }</div>
                    } else { <span class="muted">{ "-" }</span> }
                </td>
                <td class="actions">
                    <button type="button" class="link-btn" data-testid={format!("group-edit-{}", group.id)}
                        onclick={Callback::from(move |_| editing.set(Some(Some(g1.clone()))))}>
                        <Icon name="edit" />{ tr.t("common.edit") }
                    </button>
                    <button type="button" class="link-btn danger" data-testid={format!("group-delete-{}", group.id)}
                        onclick={Callback::from(move |_| deleting.set(Some(g2.clone())))}>
                        <Icon name="trash" />{ tr.t("common.delete") }
                    </button>
                </td>
            </tr>
        }
    });
    let on_saved = {
        let (editing, reload) = (editing.clone(), reload.clone());
        Callback::from(move |_: GroupView| {
            editing.set(None);
            reload.emit(());
        })
    };

    html! {
        <div class="page" data-testid="groups-page">
            <div class="toolbar">
                <button type="button" class="btn btn-primary" id="btn-add-group" data-testid="btn-add-group"
                    onclick={{ let editing = editing.clone(); Callback::from(move |_| editing.set(Some(None))) }}>
                    <Icon name="plus" />{ tr.t("group.add") }
                </button>
                <span class="spacer"></span>
                <button type="button" class="btn btn-ghost" onclick={{ let reload = reload.clone(); Callback::from(move |_| reload.emit(())) }}>
                    <Icon name="refresh" />{ tr.t("common.refresh") }
                </button>
            </div>
            if let Some(err) = usage_error.clone() {
                <Alert testid="usage-error">{ tr.tf("group.usage_failed", &[("msg", &err.display(tr))]) }</Alert>
            }
            <DataTable testid="group-table" loading={groups.loading} error={groups.error.clone()} empty={rows.is_empty()}
                on_retry={Some(reload.clone())} columns={vec![
                    Column::num("ID"),
                    Column::text(tr.t("group.name")),
                    Column::text(tr.t("group.access")),
                    Column::num(tr.t("group.daily_limit")),
                    Column::num(tr.t("group.monthly_limit")),
                    Column::num(tr.t("group.rpm")),
                    Column::text(tr.t("group.today")),
                    Column::text(tr.t("group.month")),
                    Column::text(tr.t("common.actions")),
                ]}>
                { for table_rows }
            </DataTable>
            if let Some(group) = (*editing).clone() {
                <GroupDialog group={group} configs={all_configs.clone()} on_saved={on_saved}
                    on_close={{ let editing = editing.clone(); Callback::from(move |_| editing.set(None)) }} />
            }
            if let Some(group) = (*deleting).clone() {
                <Confirm title={tr.t("group.delete_title")} message={tr.tf("group.delete_body", &[("name", &group.name)])}
                    confirm_label={Some(AttrValue::from(tr.t("common.delete")))} on_confirm={confirm_delete}
                    on_cancel={{ let deleting = deleting.clone(); Callback::from(move |_| deleting.set(None)) }} />
            }
        </div>
    }
}

#[derive(Properties, PartialEq)]
struct GroupDialogProps {
    group: Option<GroupView>,
    configs: Vec<ConfigView>,
    on_close: Callback<()>,
    on_saved: Callback<GroupView>,
}

#[component]
fn GroupDialog(props: &GroupDialogProps) -> Html {
    let app = use_app();
    let tr = app.tr;
    let form = {
        let group = props.group.clone();
        use_state(move || group.as_ref().map(GroupForm::from_view).unwrap_or_default())
    };
    let errors = use_state(HashMap::<String, String>::new);
    let banner = use_state(|| None::<String>);
    let busy = use_state(|| false);
    let set = |apply: fn(&mut GroupForm, String)| {
        let (form, errors) = (form.clone(), errors.clone());
        Callback::from(move |value: String| {
            let mut next = (*form).clone();
            apply(&mut next, value);
            form.set(next);
            errors.set(HashMap::new());
        })
    };
    let error_of = |field: &str| errors.get(field).cloned();
    let on_all = {
        let (form, errors) = (form.clone(), errors.clone());
        Callback::from(move |all: bool| {
            let mut next = (*form).clone();
            next.all_configs = all;
            form.set(next);
            errors.set(HashMap::new());
        })
    };
    let on_toggle = {
        let (form, errors) = (form.clone(), errors.clone());
        Callback::from(move |(id, on): (i32, bool)| {
            let mut next = (*form).clone();
            next.toggle_config(id, on);
            form.set(next);
            errors.set(HashMap::new());
        })
    };
    let save = {
        let (form, errors, banner, busy, app) = (
            form.clone(),
            errors.clone(),
            banner.clone(),
            busy.clone(),
            app.clone(),
        );
        let (original, on_saved) = (props.group.clone(), props.on_saved.clone());
        Callback::from(move |_: ()| {
            let body = match form.to_body(original.as_ref()) {
                Ok(body) => body,
                Err(found) => {
                    errors.set(crate::forms::by_field(&found, app.tr));
                    return;
                }
            };
            busy.set(true);
            let (errors, banner, busy, app, on_saved) = (
                errors.clone(),
                banner.clone(),
                busy.clone(),
                app.clone(),
                on_saved.clone(),
            );
            let id = original.as_ref().map(|g| g.id);
            spawn_local(async move {
                let result = match id {
                    Some(id) => {
                        app.api
                            .put::<GroupView>(&format!("/api/admin/groups/{id}"), &body)
                            .await
                    }
                    None => app.api.post::<GroupView>("/api/admin/groups", &body).await,
                };
                busy.set(false);
                match result {
                    Ok(saved) => {
                        app.success(app.tr.tf("common.saved_named", &[("name", &saved.name)]));
                        on_saved.emit(saved);
                    }
                    Err(err) => {
                        let (found, message) =
                            crate::forms::place_error(&err, app.tr, &FORM_FIELDS);
                        errors.set(found);
                        banner.set(message);
                    }
                }
            });
        })
    };
    let dirty = *form
        != props
            .group
            .as_ref()
            .map(GroupForm::from_view)
            .unwrap_or_default();
    let title = if props.group.is_some() {
        tr.t("group.edit_title")
    } else {
        tr.t("group.add_title")
    };
    html! {
        <FormDialog title={title} name="group" {dirty} busy={*busy} banner={(*banner).clone()}
            on_save={save} on_close={props.on_close.clone()}>
            <Field label={tr.t("group.name")} id="group-name" required=true error={error_of("name")}>
                <input class="input" id="group-name" data-testid="group-name" maxlength="100" value={form.name.clone()}
                    oninput={on_input(set(|f, v| f.name = v))} />
            </Field>
            <Field label={tr.t("group.description")} id="group-description" error={error_of("description")}>
                <textarea class="textarea" id="group-description" data-testid="group-description" rows="2"
                    value={form.description.clone()} oninput={on_textarea(set(|f, v| f.description = v))} />
            </Field>
            <Field label={tr.t("group.daily_limit")} id="group-daily" error={error_of("daily_token_limit")}
                hint={Some(AttrValue::from(tr.t("group.empty_unlimited")))}>
                <input class="input" type="number" min="0" id="group-daily" data-testid="group-daily" value={form.daily_token_limit.clone()}
                    placeholder={tr.t("common.unlimited")} oninput={on_input(set(|f, v| f.daily_token_limit = v))} />
            </Field>
            <Field label={tr.t("group.monthly_limit")} id="group-monthly" error={error_of("monthly_token_limit")}
                hint={Some(AttrValue::from(tr.t("group.empty_unlimited")))}>
                <input class="input" type="number" min="0" id="group-monthly" data-testid="group-monthly" value={form.monthly_token_limit.clone()}
                    placeholder={tr.t("common.unlimited")} oninput={on_input(set(|f, v| f.monthly_token_limit = v))} />
            </Field>
            <Field label={tr.t("group.rpm")} id="group-rpm" error={error_of("requests_per_minute")}
                hint={Some(AttrValue::from(tr.t("group.empty_default")))}>
                <input class="input" type="number" min="0" id="group-rpm" data-testid="group-rpm" value={form.requests_per_minute.clone()}
                    placeholder={tr.t("group.rpm_default")} oninput={on_input(set(|f, v| f.requests_per_minute = v))} />
            </Field>
            <Field label={tr.t("group.daily_cost_limit")} id="group-daily-cost" error={error_of("daily_cost_limit")}
                hint={Some(AttrValue::from(tr.t("group.budget_hint")))}>
                <input class="input" type="number" min="0" step="0.01" id="group-daily-cost" data-testid="group-daily-cost"
                    value={form.daily_cost_limit.clone()} placeholder={tr.t("common.unlimited")}
                    oninput={on_input(set(|f, v| f.daily_cost_limit = v))} />
            </Field>
            <Field label={tr.t("group.monthly_cost_limit")} id="group-monthly-cost" error={error_of("monthly_cost_limit")}
                hint={Some(AttrValue::from(tr.t("group.budget_hint")))}>
                <input class="input" type="number" min="0" step="0.01" id="group-monthly-cost" data-testid="group-monthly-cost"
                    value={form.monthly_cost_limit.clone()} placeholder={tr.t("common.unlimited")}
                    oninput={on_input(set(|f, v| f.monthly_cost_limit = v))} />
            </Field>
            <Field label={tr.t("group.cost_currency")} id="group-cost-currency" error={error_of("cost_currency")}>
                <input class="input" id="group-cost-currency" data-testid="group-cost-currency" maxlength="8" list="budget-currencies"
                    value={form.cost_currency.clone()} placeholder="CNY" oninput={on_input(set(|f, v| f.cost_currency = v))} />
                <datalist id="budget-currencies"><option value="CNY" /><option value="USD" /></datalist>
            </Field>
            <AccessField all={form.all_configs} chosen={form.config_ids.clone()} configs={props.configs.clone()}
                error={error_of("config_ids")} {on_all} {on_toggle} />
        </FormDialog>
    }
}
