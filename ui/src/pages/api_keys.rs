//! API Key: keys that tools call the model endpoints with. Create (the full key is shown
//! once, with a copy button), list with the masked key, enable/disable, revoke.

use std::collections::HashMap;

use serde_json::{Map, Value, json};
use yew::platform::spawn_local;
use yew::prelude::*;

use crate::api::models::{ApiKeyView, CreatedApiKey, GroupView};
use crate::components::dialog::{Confirm, Dialog, FormDialog};
use crate::components::form::{Field, on_input, on_select};
use crate::components::icon::Icon;
use crate::components::misc::{Alert, Badge};
use crate::components::table::{Column, DataTable};
use crate::context::use_app;
use crate::dates;
use crate::hooks::{use_fetch, use_version};
use crate::platform;

/// Fields the form shows; a server error on any other field goes to the banner.
const FORM_FIELDS: [&str; 3] = ["expires_at", "group_id", "name"];
#[component]
pub fn ApiKeysPage() -> Html {
    let app = use_app();
    let tr = app.tr;
    let (version, reload) = use_version();
    let groups = use_fetch::<Vec<GroupView>>(Some("/api/admin/groups".into()), 0, false);
    let keys = use_fetch::<Vec<ApiKeyView>>(Some("/api/admin/api-keys".into()), version, false);
    let creating = use_state(|| false);
    let revoking = use_state(|| None::<ApiKeyView>);
    let group_list = groups.data.clone().unwrap_or_default();
    let group_name = |id: i32| {
        group_list
            .iter()
            .find(|g| g.id == id)
            .map(|g| g.name.clone())
            .unwrap_or_else(|| format!("#{id}"))
    };

    let toggle = {
        let (app, reload) = (app.clone(), reload.clone());
        Callback::from(move |key: ApiKeyView| {
            let (app, reload) = (app.clone(), reload.clone());
            spawn_local(async move {
                let body = json!({ "is_active": !key.is_active });
                match app
                    .api
                    .put::<ApiKeyView>(&format!("/api/admin/api-keys/{}", key.id), &body)
                    .await
                {
                    Ok(saved) => {
                        let done = if saved.is_active {
                            "config.enabled_ok"
                        } else {
                            "config.disabled_ok"
                        };
                        app.success(app.tr.tf(done, &[("name", &saved.name)]));
                        reload.emit(());
                    }
                    Err(err) => app.api_error(&err),
                }
            });
        })
    };
    let confirm_revoke = {
        let (app, reload, revoking) = (app.clone(), reload.clone(), revoking.clone());
        Callback::from(move |_| {
            let Some(key) = (*revoking).clone() else {
                return;
            };
            let (app, reload, revoking) = (app.clone(), reload.clone(), revoking.clone());
            spawn_local(async move {
                let result = app
                    .api
                    .delete(&format!("/api/admin/api-keys/{}", key.id))
                    .await;
                revoking.set(None);
                match result {
                    Ok(()) => {
                        app.success(app.tr.tf("apikey.revoked", &[("name", &key.name)]));
                        reload.emit(());
                    }
                    Err(err) => app.api_error(&err),
                }
            });
        })
    };

    let now = platform::now_ms();
    let rows = keys.data.clone().unwrap_or_default();
    let table_rows = rows.iter().map(|key| {
        let (k1, k2) = (key.clone(), key.clone());
        let (toggle, revoking) = (toggle.clone(), revoking.clone());
        let expired = key.expires_at.as_deref().is_some_and(|at| dates::is_past(at, now));
        html! {
            <tr key={key.id} data-testid={format!("apikey-row-{}", key.id)}>
                <td>{ key.name.clone() }</td>
                <td><code class="code" data-testid={format!("apikey-prefix-{}", key.id)}>{ key.key_prefix.clone() }</code></td>
                <td>{ group_name(key.group_id) }</td>
                <td>
                    if !key.is_active { <Badge tone="gray">{ tr.t("common.disabled") }</Badge> }
                    else if expired { <Badge tone="amber">{ tr.t("code.expired") }</Badge> }
                    else { <Badge tone="green">{ tr.t("common.enabled") }</Badge> }
                </td>
                <td class="nowrap">{ app.datetime(&key.created_at) }</td>
                <td class="nowrap">{ app.opt_datetime(key.last_used_at.as_ref()) }</td>
                <td class="nowrap">{ key.expires_at.as_ref().map(|at| app.datetime(at)).unwrap_or_else(|| tr.t("code.never").into()) }</td>
                <td class="actions">
                    <button type="button" class="link-btn" data-testid={format!("apikey-toggle-{}", key.id)}
                        onclick={Callback::from(move |_| toggle.emit(k1.clone()))}>
                        <Icon name="power" />{ if key.is_active { tr.t("common.disable") } else { tr.t("common.enable") } }
                    </button>
                    <button type="button" class="link-btn danger" data-testid={format!("apikey-revoke-{}", key.id)}
                        onclick={Callback::from(move |_| revoking.set(Some(k2.clone())))}>
                        <Icon name="trash" />{ tr.t("apikey.revoke") }
                    </button>
                </td>
            </tr>
        }
    });
    let close_create = {
        let (creating, reload) = (creating.clone(), reload.clone());
        Callback::from(move |created: bool| {
            creating.set(false);
            if created {
                reload.emit(());
            }
        })
    };

    html! {
        <div class="page" data-testid="apikeys-page">
            <div class="toolbar">
                <button type="button" class="btn btn-primary" data-testid="btn-add-apikey"
                    disabled={group_list.is_empty()}
                    onclick={{ let creating = creating.clone(); Callback::from(move |_| creating.set(true)) }}>
                    <Icon name="plus" />{ tr.t("apikey.add") }
                </button>
                if groups.data.as_ref().is_some_and(|g| g.is_empty()) {
                    <span class="muted small">{ tr.t("code.need_group") }</span>
                }
                <span class="spacer"></span>
                <button type="button" class="btn btn-ghost" onclick={{ let reload = reload.clone(); Callback::from(move |_| reload.emit(())) }}>
                    <Icon name="refresh" />{ tr.t("common.refresh") }
                </button>
            </div>
            <p class="muted small note">{ tr.t("apikey.about") }</p>
            if let Some(err) = groups.error.clone() { <Alert>{ err.display(tr) }</Alert> }
            <DataTable testid="apikey-table" loading={keys.loading} error={keys.error.clone()} empty={rows.is_empty()}
                on_retry={Some(reload.clone())} columns={vec![
                    Column::text(tr.t("apikey.name")),
                    Column::text(tr.t("apikey.key")),
                    Column::text(tr.t("logs.group")),
                    Column::text(tr.t("common.status")),
                    Column::text(tr.t("common.created_at")),
                    Column::text(tr.t("code.last_used")),
                    Column::text(tr.t("code.expires")),
                    Column::text(tr.t("common.actions")),
                ]}>
                { for table_rows }
            </DataTable>
            if *creating {
                <CreateDialog groups={group_list.clone()} on_close={close_create} />
            }
            if let Some(key) = (*revoking).clone() {
                <Confirm title={tr.t("apikey.revoke_title")} message={tr.tf("apikey.revoke_body", &[("name", &key.name)])}
                    confirm_label={Some(AttrValue::from(tr.t("apikey.revoke")))} on_confirm={confirm_revoke}
                    on_cancel={{ let revoking = revoking.clone(); Callback::from(move |_| revoking.set(None)) }} />
            }
        </div>
    }
}

#[derive(Properties, PartialEq)]
struct CreateDialogProps {
    groups: Vec<GroupView>,
    /// `true` when a key was created (the list must reload).
    on_close: Callback<bool>,
}

/// The form, then, once created, the full key with its copy-once warning. The key lives
/// only in this dialog's state: closing it drops the key from the page.
#[component]
fn CreateDialog(props: &CreateDialogProps) -> Html {
    let app = use_app();
    let tr = app.tr;
    let tz = app.tz.clone();
    let name = use_state(String::new);
    let first_group = props
        .groups
        .first()
        .map(|g| g.id.to_string())
        .unwrap_or_default();
    let group = use_state(|| first_group.clone());
    let expires = use_state(String::new);
    let errors = use_state(HashMap::<String, String>::new);
    let banner = use_state(|| None::<String>);
    let busy = use_state(|| false);
    let created = use_state(|| None::<CreatedApiKey>);
    let error_of = |field: &str| errors.get(field).cloned();

    let save = {
        let (name, group, expires) = (name.clone(), group.clone(), expires.clone());
        let (errors, banner, busy, created, app) = (
            errors.clone(),
            banner.clone(),
            busy.clone(),
            created.clone(),
            app.clone(),
        );
        Callback::from(move |_: ()| {
            let Ok(group_id) = group.parse::<i32>() else {
                errors.set(HashMap::from([(
                    "group_id".to_string(),
                    tr.tf("form.required", &[("label", tr.t("logs.group"))]),
                )]));
                return;
            };
            let mut body = Map::new();
            body.insert("name".into(), json!(name.trim()));
            body.insert("group_id".into(), json!(group_id));
            if !expires.trim().is_empty() {
                let Some(at) = dates::local_input_to_rfc3339(&expires, &tz) else {
                    errors.set(HashMap::from([(
                        "expires_at".to_string(),
                        tr.t("code.bad_expiry").to_string(),
                    )]));
                    return;
                };
                body.insert("expires_at".into(), json!(at));
            }
            let body = Value::Object(body);
            busy.set(true);
            let (errors, banner, busy, created, app) = (
                errors.clone(),
                banner.clone(),
                busy.clone(),
                created.clone(),
                app.clone(),
            );
            spawn_local(async move {
                let result = app
                    .api
                    .post::<CreatedApiKey>("/api/admin/api-keys", &body)
                    .await;
                busy.set(false);
                match result {
                    Ok(key) => created.set(Some(key)),
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

    if let Some(key) = (*created).clone() {
        let copy = {
            let (app, text) = (app.clone(), key.key.clone());
            Callback::from(move |_: MouseEvent| {
                let (app, text) = (app.clone(), text.clone());
                spawn_local(async move {
                    if platform::copy_text(&text).await {
                        app.success(app.tr.t("apikey.copied"));
                    } else {
                        app.error(app.tr.t("common.copy_failed"));
                    }
                });
            })
        };
        let done = {
            let cb = props.on_close.clone();
            Callback::from(move |_: MouseEvent| cb.emit(true))
        };
        let footer = html! {
            <button type="button" class="btn btn-primary" onclick={done} data-testid="apikey-done">{ tr.t("apikey.done") }</button>
        };
        return html! {
            <Dialog title={tr.t("apikey.created_title")} on_close={props.on_close.reform(|_| true)} {footer} testid="apikey-created">
                <Alert kind="warning" testid="apikey-once-warning">{ tr.t("apikey.once_warning") }</Alert>
                <Field label={key.api_key.name.clone()} id="apikey-full">
                    <span class="code-cell">
                        <code class="code secret-once" id="apikey-full" data-testid="apikey-full">{ key.key.clone() }</code>
                        <button type="button" class="icon-btn" title={tr.t("common.copy")} data-testid="apikey-copy" onclick={copy}>
                            <Icon name="copy" />
                        </button>
                    </span>
                </Field>
            </Dialog>
        };
    }

    let dirty = !name.is_empty() || !expires.is_empty() || *group != first_group;
    html! {
        <FormDialog title={tr.t("apikey.add")} name="apikey" {dirty} busy={*busy} banner={(*banner).clone()}
            on_save={save} on_close={props.on_close.reform(|_| false)}>
            <Field label={tr.t("apikey.name")} id="apikey-name" required=true error={error_of("name")}>
                <input class="input" id="apikey-name" data-testid="apikey-name" maxlength="100" value={(*name).clone()}
                    oninput={on_input({ let name = name.clone(); Callback::from(move |v| name.set(v)) })} />
            </Field>
            <Field label={tr.t("logs.group")} id="apikey-group" required=true error={error_of("group_id")}>
                <select class="select" id="apikey-group" data-testid="apikey-group"
                    onchange={on_select({ let group = group.clone(); Callback::from(move |v| group.set(v)) })}>
                    { for props.groups.iter().map(|g| html! {
                        <option value={g.id.to_string()} selected={*group == g.id.to_string()}>{ g.name.clone() }</option>
                    }) }
                </select>
            </Field>
            <Field label={tr.t("code.expires")} id="apikey-expires" error={error_of("expires_at")}
                hint={Some(AttrValue::from(tr.t("code.expires_hint")))}>
                <input class="input" type="datetime-local" id="apikey-expires" data-testid="apikey-expires" value={(*expires).clone()}
                    oninput={on_input({ let expires = expires.clone(); Callback::from(move |v| expires.set(v)) })} />
            </Field>
        </FormDialog>
    }
}
