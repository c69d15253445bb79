//! 激活码管理: create (group, optional code, expiry, note), copy, enable/disable, edit, delete.

use std::collections::HashMap;

use serde_json::{Map, Value, json};
use yew::platform::spawn_local;
use yew::prelude::*;

use crate::api::models::{CodeView, GroupView};
use crate::components::dialog::{Confirm, FormDialog};
use crate::components::form::{Field, Switch, on_input, on_select};
use crate::components::icon::Icon;
use crate::components::misc::{Alert, Badge};
use crate::components::table::{Column, DataTable};
use crate::context::use_app;
use crate::dates;
use crate::hooks::{use_fetch, use_version};
use crate::platform;
use crate::query::with_query;

/// Fields the form shows; a server error on any other field goes to the banner.
const FORM_FIELDS: [&str; 4] = ["code", "expires_at", "group_id", "note"];
#[component]
pub fn CodesPage() -> Html {
    let app = use_app();
    let tr = app.tr;
    let (version, reload) = use_version();
    let group_filter = use_state(String::new);
    let groups = use_fetch::<Vec<GroupView>>(Some("/api/admin/groups".into()), 0, false);
    let codes = use_fetch::<Vec<CodeView>>(
        Some(with_query(
            "/api/admin/activation-codes",
            &[("group_id", (*group_filter).clone())],
        )),
        version,
        false,
    );
    let editing = use_state(|| None::<Option<CodeView>>);
    let deleting = use_state(|| None::<CodeView>);
    let group_list = groups.data.clone().unwrap_or_default();
    let group_name = |id: i32| {
        group_list
            .iter()
            .find(|g| g.id == id)
            .map(|g| g.name.clone())
            .unwrap_or_else(|| format!("#{id}"))
    };

    let copy = {
        let app = app.clone();
        Callback::from(move |code: String| {
            let app = app.clone();
            spawn_local(async move {
                if platform::copy_text(&code).await {
                    app.success(app.tr.tf("code.copied", &[("code", &code)]));
                } else {
                    app.error(app.tr.t("common.copy_failed"));
                }
            });
        })
    };
    let toggle = {
        let (app, reload) = (app.clone(), reload.clone());
        Callback::from(move |code: CodeView| {
            let (app, reload) = (app.clone(), reload.clone());
            spawn_local(async move {
                let body = json!({ "is_active": !code.is_active });
                match app
                    .api
                    .put::<CodeView>(&format!("/api/admin/activation-codes/{}", code.id), &body)
                    .await
                {
                    Ok(saved) => {
                        let key = if saved.is_active {
                            "config.enabled_ok"
                        } else {
                            "config.disabled_ok"
                        };
                        app.success(app.tr.tf(key, &[("name", &saved.code)]));
                        reload.emit(());
                    }
                    Err(err) => app.api_error(&err),
                }
            });
        })
    };
    let confirm_delete = {
        let (app, reload, deleting) = (app.clone(), reload.clone(), deleting.clone());
        Callback::from(move |_| {
            let Some(code) = (*deleting).clone() else {
                return;
            };
            let (app, reload, deleting) = (app.clone(), reload.clone(), deleting.clone());
            spawn_local(async move {
                let result = app
                    .api
                    .delete(&format!("/api/admin/activation-codes/{}", code.id))
                    .await;
                deleting.set(None);
                match result {
                    Ok(()) => {
                        app.success(app.tr.tf("common.deleted_named", &[("name", &code.code)]));
                        reload.emit(());
                    }
                    Err(err) => app.api_error(&err),
                }
            });
        })
    };

    let now = platform::now_ms();
    let rows = codes.data.clone().unwrap_or_default();
    let table_rows = rows.iter().map(|code| {
        let (c1, c2, c3) = (code.clone(), code.clone(), code.clone());
        let text = code.code.clone();
        let (editing, deleting, toggle, copy) = (editing.clone(), deleting.clone(), toggle.clone(), copy.clone());
        let expired = code.expires_at.as_deref().is_some_and(|at| dates::is_past(at, now));
        html! {
            <tr key={code.id} data-testid={format!("code-row-{}", code.id)}>
                <td class="num">{ code.id }</td>
                <td>
                    <span class="code-cell">
                        <code class="code" data-testid={format!("code-text-{}", code.id)}>{ code.code.clone() }</code>
                        <button type="button" class="icon-btn" title={tr.t("common.copy")} data-testid={format!("code-copy-{}", code.id)}
                            onclick={Callback::from(move |_| copy.emit(text.clone()))}>
                            <Icon name="copy" />
                        </button>
                    </span>
                </td>
                <td>{ group_name(code.group_id) }</td>
                <td>
                    if !code.is_active { <Badge tone="gray">{ tr.t("common.disabled") }</Badge> }
                    else if expired { <Badge tone="amber">{ tr.t("code.expired") }</Badge> }
                    else { <Badge tone="green">{ tr.t("common.enabled") }</Badge> }
                </td>
                <td class="nowrap">{ code.expires_at.as_ref().map(|at| app.datetime(at)).unwrap_or_else(|| tr.t("code.never").into()) }</td>
                <td class="nowrap">{ app.opt_datetime(code.last_used_at.as_ref()) }</td>
                <td class="preview" title={code.note.clone().unwrap_or_default()}>{ code.note.clone().unwrap_or_else(|| "-".into()) }</td>
                <td class="nowrap">{ app.datetime(&code.created_at) }</td>
                <td class="actions">
                    <button type="button" class="link-btn" data-testid={format!("code-edit-{}", code.id)}
                        onclick={Callback::from(move |_| editing.set(Some(Some(c1.clone()))))}>
                        <Icon name="edit" />{ tr.t("common.edit") }
                    </button>
                    <button type="button" class="link-btn" data-testid={format!("code-toggle-{}", code.id)}
                        onclick={Callback::from(move |_| toggle.emit(c2.clone()))}>
                        <Icon name="power" />{ if code.is_active { tr.t("common.disable") } else { tr.t("common.enable") } }
                    </button>
                    <button type="button" class="link-btn danger" data-testid={format!("code-delete-{}", code.id)}
                        onclick={Callback::from(move |_| deleting.set(Some(c3.clone())))}>
                        <Icon name="trash" />{ tr.t("common.delete") }
                    </button>
                </td>
            </tr>
        }
    });
    let on_saved = {
        let (editing, reload) = (editing.clone(), reload.clone());
        Callback::from(move |_: CodeView| {
            editing.set(None);
            reload.emit(());
        })
    };

    html! {
        <div class="page" data-testid="codes-page">
            <div class="toolbar">
                <button type="button" class="btn btn-primary" id="btn-add-code" data-testid="btn-add-code"
                    disabled={group_list.is_empty()}
                    onclick={{ let editing = editing.clone(); Callback::from(move |_| editing.set(Some(None))) }}>
                    <Icon name="plus" />{ tr.t("code.add") }
                </button>
                if groups.data.as_ref().is_some_and(|g| g.is_empty()) {
                    <span class="muted small">{ tr.t("code.need_group") }</span>
                }
                <span class="spacer"></span>
                <label class="inline-filter">
                    <span>{ tr.t("logs.group") }</span>
                    <select class="select" data-testid="code-group-filter"
                        onchange={on_select({ let f = group_filter.clone(); Callback::from(move |v| f.set(v)) })}>
                        <option value="" selected={group_filter.is_empty()}>{ tr.t("common.all") }</option>
                        { for group_list.iter().map(|g| html! {
                            <option value={g.id.to_string()} selected={*group_filter == g.id.to_string()}>{ g.name.clone() }</option>
                        }) }
                    </select>
                </label>
                <button type="button" class="btn btn-ghost" onclick={{ let reload = reload.clone(); Callback::from(move |_| reload.emit(())) }}>
                    <Icon name="refresh" />{ tr.t("common.refresh") }
                </button>
            </div>
            if let Some(err) = groups.error.clone() { <Alert>{ err.display(tr) }</Alert> }
            <DataTable testid="code-table" loading={codes.loading} error={codes.error.clone()} empty={rows.is_empty()}
                on_retry={Some(reload.clone())} columns={vec![
                    Column::num("ID"),
                    Column::text(tr.t("code.code")),
                    Column::text(tr.t("logs.group")),
                    Column::text(tr.t("common.status")),
                    Column::text(tr.t("code.expires")),
                    Column::text(tr.t("code.last_activated")),
                    Column::text(tr.t("code.note")),
                    Column::text(tr.t("common.created_at")),
                    Column::text(tr.t("common.actions")),
                ]}>
                { for table_rows }
            </DataTable>
            if let Some(code) = (*editing).clone() {
                <CodeDialog code={code} groups={group_list.clone()} on_saved={on_saved}
                    on_close={{ let editing = editing.clone(); Callback::from(move |_| editing.set(None)) }} />
            }
            if let Some(code) = (*deleting).clone() {
                <Confirm title={tr.t("code.delete_title")} message={tr.tf("code.delete_body", &[("code", &code.code)])}
                    confirm_label={Some(AttrValue::from(tr.t("common.delete")))} on_confirm={confirm_delete}
                    on_cancel={{ let deleting = deleting.clone(); Callback::from(move |_| deleting.set(None)) }} />
            }
        </div>
    }
}

#[derive(Properties, PartialEq)]
struct CodeDialogProps {
    code: Option<CodeView>,
    groups: Vec<GroupView>,
    on_close: Callback<()>,
    on_saved: Callback<CodeView>,
}

#[component]
fn CodeDialog(props: &CodeDialogProps) -> Html {
    let app = use_app();
    let tr = app.tr;
    let tz = app.tz.clone();
    let original = props.code.clone();
    let initial = use_memo((), {
        let (original, groups, tz) = (original.clone(), props.groups.clone(), tz.clone());
        move |_| CodeFields::of(original.as_ref(), &groups, &tz)
    });
    let group = use_state(|| initial.group.clone());
    let code = use_state(String::new);
    let expires = use_state(|| initial.expires.clone());
    let note = use_state(|| initial.note.clone());
    let active = use_state(|| initial.active);
    let errors = use_state(HashMap::<String, String>::new);
    let banner = use_state(|| None::<String>);
    let busy = use_state(|| false);
    let error_of = |field: &str| errors.get(field).cloned();

    let save = {
        let (group, code, expires, note, active) = (
            group.clone(),
            code.clone(),
            expires.clone(),
            note.clone(),
            active.clone(),
        );
        let (errors, banner, busy, app, on_saved) = (
            errors.clone(),
            banner.clone(),
            busy.clone(),
            app.clone(),
            props.on_saved.clone(),
        );
        let original = original.clone();
        Callback::from(move |_: ()| {
            let Ok(group_id) = group.parse::<i32>() else {
                errors.set(HashMap::from([(
                    "group_id".to_string(),
                    tr.tf("form.required", &[("label", tr.t("logs.group"))]),
                )]));
                return;
            };
            let mut body = Map::new();
            body.insert("group_id".into(), json!(group_id));
            body.insert("note".into(), json!(note.trim()));
            body.insert("is_active".into(), json!(*active));
            if expires.trim().is_empty() {
                if original.as_ref().is_some_and(|c| c.expires_at.is_some()) {
                    body.insert("clear_expiry".into(), json!(true));
                }
            } else {
                match dates::local_input_to_rfc3339(&expires, &tz) {
                    Some(at) => {
                        body.insert("expires_at".into(), json!(at));
                    }
                    None => {
                        errors.set(HashMap::from([(
                            "expires_at".to_string(),
                            tr.t("code.bad_expiry").to_string(),
                        )]));
                        return;
                    }
                }
            }
            if original.is_none() && !code.trim().is_empty() {
                body.insert("code".into(), json!(code.trim()));
            }
            let body = Value::Object(body);
            busy.set(true);
            let (errors, banner, busy, app, on_saved) = (
                errors.clone(),
                banner.clone(),
                busy.clone(),
                app.clone(),
                on_saved.clone(),
            );
            let id = original.as_ref().map(|c| c.id);
            spawn_local(async move {
                let result = match id {
                    Some(id) => {
                        app.api
                            .put::<CodeView>(&format!("/api/admin/activation-codes/{id}"), &body)
                            .await
                    }
                    None => {
                        app.api
                            .post::<CodeView>("/api/admin/activation-codes", &body)
                            .await
                    }
                };
                busy.set(false);
                match result {
                    Ok(saved) => {
                        let key = if id.is_some() {
                            "common.saved_named"
                        } else {
                            "code.created"
                        };
                        app.success(app.tr.tf(key, &[("name", &saved.code)]));
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
    let dirty = CodeFields {
        group: (*group).clone(),
        expires: (*expires).clone(),
        note: (*note).clone(),
        active: *active,
    } != *initial
        || !code.is_empty();
    let title = if props.code.is_some() {
        tr.t("code.edit_title")
    } else {
        tr.t("code.add_title")
    };
    html! {
        <FormDialog {title} name="code" {dirty} busy={*busy} banner={(*banner).clone()}
            on_save={save} on_close={props.on_close.clone()}>
            <Field label={tr.t("logs.group")} id="code-group" required=true error={error_of("group_id")}>
                <select class="select" id="code-group" data-testid="code-group"
                    onchange={on_select({ let group = group.clone(); Callback::from(move |v| group.set(v)) })}>
                    { for props.groups.iter().map(|g| html! {
                        <option value={g.id.to_string()} selected={*group == g.id.to_string()}>{ g.name.clone() }</option>
                    }) }
                </select>
            </Field>
            <Field label={tr.t("code.code")} id="code-code" error={error_of("code")}
                hint={props.code.is_none().then(|| AttrValue::from(tr.t("code.code_hint")))}>
                if let Some(existing) = &props.code {
                    <code class="code">{ existing.code.clone() }</code>
                } else {
                    <input class="input mono" id="code-code" data-testid="code-code" maxlength="32" value={(*code).clone()}
                        placeholder={tr.t("code.auto")} oninput={on_input({ let code = code.clone(); Callback::from(move |v| code.set(v)) })} />
                }
            </Field>
            <Field label={tr.t("code.expires")} id="code-expires" error={error_of("expires_at")}
                hint={Some(AttrValue::from(tr.t("code.expires_hint")))}>
                <div class="input-group">
                    <input class="input" type="datetime-local" id="code-expires" data-testid="code-expires" value={(*expires).clone()}
                        oninput={on_input({ let expires = expires.clone(); Callback::from(move |v| expires.set(v)) })} />
                    <button type="button" class="btn" disabled={expires.is_empty()} data-testid="code-clear-expiry"
                        onclick={{ let expires = expires.clone(); Callback::from(move |_| expires.set(String::new())) }}>
                        { tr.t("code.never") }
                    </button>
                </div>
            </Field>
            <Field label={tr.t("code.note")} id="code-note" error={error_of("note")}>
                <input class="input" id="code-note" data-testid="code-note" maxlength="255" value={(*note).clone()}
                    oninput={on_input({ let note = note.clone(); Callback::from(move |v| note.set(v)) })} />
            </Field>
            <Field label={tr.t("common.status")} id="code-active">
                <Switch id="code-active" checked={*active} on_change={{ let active = active.clone(); Callback::from(move |v| active.set(v)) }}
                    label={if *active { tr.t("common.enabled") } else { tr.t("common.disabled") }} />
            </Field>
        </FormDialog>
    }
}

/// The dialog's editable values as it opened, to tell a changed form from an untouched one.
#[derive(Clone, PartialEq)]
struct CodeFields {
    group: String,
    expires: String,
    note: String,
    active: bool,
}

impl CodeFields {
    fn of(code: Option<&CodeView>, groups: &[GroupView], tz: &dates::Zone) -> Self {
        Self {
            group: code
                .map(|c| c.group_id.to_string())
                .or_else(|| groups.first().map(|g| g.id.to_string()))
                .unwrap_or_default(),
            expires: code
                .and_then(|c| c.expires_at.clone())
                .map(|at| dates::rfc3339_to_local_input(&at, tz))
                .unwrap_or_default(),
            note: code.and_then(|c| c.note.clone()).unwrap_or_default(),
            active: code.is_none_or(|c| c.is_active),
        }
    }
}
