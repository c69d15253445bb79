//! `/admin/alerts`: the alerts (newest first, with each webhook delivery's outcome) and the
//! webhooks they are sent to (企业微信, 钉钉, 飞书 robots or a generic JSON POST). A webhook's
//! URL and signing secret are write-only: the list shows the host and whether a secret is
//! set, and editing leaves them unchanged unless new ones are typed.

use std::collections::HashMap;

use serde_json::{Map, Value, json};
use yew::platform::spawn_local;
use yew::prelude::*;

use crate::api::models::{AlertPage, AlertView, WebhookTestResult, WebhookView};
use crate::components::dialog::{Confirm, Dialog};
use crate::components::form::{Field, Switch, on_input, on_select};
use crate::components::icon::Icon;
use crate::components::misc::{Alert, Badge};
use crate::components::table::{Column, DataTable};
use crate::context::use_app;
use crate::hooks::{use_fetch, use_version};

/// Fields the webhook form shows; a server error on any other field goes to the banner.
const FORM_FIELDS: [&str; 4] = ["name", "secret", "type", "url"];
/// The webhook kinds, with their label keys.
const KINDS: [(&str, &str); 4] = [
    ("wecom", "webhook.kind.wecom"),
    ("dingtalk", "webhook.kind.dingtalk"),
    ("feishu", "webhook.kind.feishu"),
    ("generic", "webhook.kind.generic"),
];

fn kind_label(kind: &str) -> &'static str {
    KINDS
        .iter()
        .find(|(k, _)| *k == kind)
        .map(|(_, label)| *label)
        .unwrap_or("webhook.kind.generic")
}

fn signs(kind: &str) -> bool {
    matches!(kind, "dingtalk" | "feishu")
}

#[derive(Properties, PartialEq)]
pub struct AlertListProps {
    /// How many of the newest alerts to show.
    pub limit: u32,
    pub version: u32,
    #[prop_or_default]
    pub testid: AttrValue,
}

/// The newest alerts, each with its deliveries' outcome; shared by this page and the
/// overview.
#[component]
pub fn AlertList(props: &AlertListProps) -> Html {
    let app = use_app();
    let tr = app.tr;
    let page = use_fetch::<AlertPage>(
        Some(format!("/api/admin/alerts?page_size={}", props.limit)),
        props.version,
        false,
    );
    let items = page.data.clone().map(|p| p.items).unwrap_or_default();
    let row = |alert: &AlertView| {
        let tone = if alert.severity == "critical" {
            "red"
        } else {
            "amber"
        };
        let level = if alert.severity == "critical" {
            "alert.critical"
        } else {
            "alert.warning"
        };
        html! {
            <div class={classes!("dash-item", alert.read_at.is_none().then_some("unread"))} data-testid={format!("alert-{}", alert.id)}>
                <div class="dash-item-head">
                    <Badge tone={tone}>{ tr.t(level) }</Badge>
                    <span class="strong">{ alert.title.clone() }</span>
                    <span class="muted small">{ app.datetime(&alert.created_at) }</span>
                    if alert.read_at.is_none() {
                        <Badge tone="blue">{ tr.t("alert.unread") }</Badge>
                    }
                </div>
                <div class="small">{ alert.message.clone() }</div>
                if !alert.deliveries.is_empty() {
                    <div class="muted small">
                        { for alert.deliveries.iter().map(|d| {
                            let (tone, label) = match d.status.as_str() {
                                "delivered" => ("green", "alert.delivered"),
                                "failed" => ("red", "alert.failed"),
                                _ => ("gray", "alert.pending"),
                            };
                            html! {
                                <span class="delivery" title={d.last_error.clone().unwrap_or_default()}>
                                    { d.webhook_name.clone() }{ " " }
                                    <Badge tone={tone}>{ tr.tf(label, &[("n", &d.attempts.to_string())]) }</Badge>
                                    if let Some(error) = &d.last_error { { " " }{ error.clone() } }
                                    { " " }
                                </span>
                            }
                        }) }
                    </div>
                }
            </div>
        }
    };
    html! {
        <div class="dash-list" data-testid={props.testid.clone()}>
            { for items.iter().map(row) }
            if let Some(err) = page.error.clone() { <Alert>{ err.display(tr) }</Alert> }
            if items.is_empty() && !page.loading && page.error.is_none() {
                <div class="state state-empty">{ tr.t("alert.none") }</div>
            }
        </div>
    }
}

#[component]
pub fn AlertsPage() -> Html {
    let app = use_app();
    let tr = app.tr;
    let (version, reload) = use_version();
    let hooks = use_fetch::<Vec<WebhookView>>(Some("/api/admin/webhooks".into()), version, false);
    let editing = use_state(|| None::<Option<WebhookView>>);
    let deleting = use_state(|| None::<WebhookView>);

    let test = {
        let (app, reload) = (app.clone(), reload.clone());
        Callback::from(move |hook: WebhookView| {
            let (app, reload) = (app.clone(), reload.clone());
            spawn_local(async move {
                let path = format!("/api/admin/webhooks/{}/test", hook.id);
                match app.api.post::<WebhookTestResult>(&path, &json!({})).await {
                    Ok(result) if result.delivered => {
                        app.success(app.tr.tf("webhook.test_ok", &[("name", &hook.name)]))
                    }
                    Ok(result) => app.error(app.tr.tf(
                        "webhook.test_failed",
                        &[("error", &result.error.unwrap_or_default())],
                    )),
                    Err(err) => app.api_error(&err),
                }
                reload.emit(());
            });
        })
    };
    let mark_read = {
        let (app, reload) = (app.clone(), reload.clone());
        Callback::from(move |_: MouseEvent| {
            let (app, reload) = (app.clone(), reload.clone());
            spawn_local(async move {
                match app
                    .api
                    .post::<Value>("/api/admin/alerts/read", &json!({}))
                    .await
                {
                    Ok(_) => reload.emit(()),
                    Err(err) => app.api_error(&err),
                }
            });
        })
    };
    let confirm_delete = {
        let (app, reload, deleting) = (app.clone(), reload.clone(), deleting.clone());
        Callback::from(move |_| {
            let Some(hook) = (*deleting).clone() else {
                return;
            };
            let (app, reload, deleting) = (app.clone(), reload.clone(), deleting.clone());
            spawn_local(async move {
                let result = app
                    .api
                    .delete(&format!("/api/admin/webhooks/{}", hook.id))
                    .await;
                deleting.set(None);
                match result {
                    Ok(()) => {
                        app.success(app.tr.tf("webhook.deleted", &[("name", &hook.name)]));
                        reload.emit(());
                    }
                    Err(err) => app.api_error(&err),
                }
            });
        })
    };

    let rows = hooks.data.clone().unwrap_or_default();
    let table_rows = rows.iter().map(|hook| {
        let (h1, h2, h3) = (hook.clone(), hook.clone(), hook.clone());
        let (test, editing, deleting) = (test.clone(), editing.clone(), deleting.clone());
        let last = match hook.last_status.as_deref() {
            Some("delivered") => html! { <Badge tone="green">{ tr.t("webhook.last_ok") }</Badge> },
            Some(_) => html! { <Badge tone="red" title={hook.last_error.clone().map(AttrValue::from)}>{ tr.t("webhook.last_failed") }</Badge> },
            None => html! { <span class="muted">{ "-" }</span> },
        };
        html! {
            <tr key={hook.id} data-testid={format!("webhook-row-{}", hook.id)}>
                <td>{ hook.name.clone() }</td>
                <td>{ tr.t(kind_label(&hook.kind)) }</td>
                <td><code class="code" data-testid={format!("webhook-url-{}", hook.id)}>{ hook.url_hint.clone() }</code>
                    if hook.has_secret { { " " }<Badge tone="blue">{ tr.t("webhook.signed") }</Badge> }</td>
                <td>
                    if hook.enabled { <Badge tone="green">{ tr.t("common.enabled") }</Badge> }
                    else { <Badge tone="gray">{ tr.t("common.disabled") }</Badge> }
                </td>
                <td data-testid={format!("webhook-last-{}", hook.id)}>
                    { last }
                    if let Some(error) = &hook.last_error { <div class="muted small clip">{ error.clone() }</div> }
                    <div class="muted small">{ app.opt_datetime(hook.last_attempt_at.as_ref()) }</div>
                </td>
                <td class="actions">
                    <button type="button" class="link-btn" data-testid={format!("webhook-test-{}", hook.id)}
                        onclick={Callback::from(move |_| test.emit(h1.clone()))}>
                        <Icon name="zap" />{ tr.t("webhook.test") }
                    </button>
                    <button type="button" class="link-btn" data-testid={format!("webhook-edit-{}", hook.id)}
                        onclick={Callback::from(move |_| editing.set(Some(Some(h2.clone()))))}>
                        <Icon name="edit" />{ tr.t("common.edit") }
                    </button>
                    <button type="button" class="link-btn danger" data-testid={format!("webhook-delete-{}", hook.id)}
                        onclick={Callback::from(move |_| deleting.set(Some(h3.clone())))}>
                        <Icon name="trash" />{ tr.t("common.delete") }
                    </button>
                </td>
            </tr>
        }
    });
    let close_dialog = {
        let (editing, reload) = (editing.clone(), reload.clone());
        Callback::from(move |saved: bool| {
            editing.set(None);
            if saved {
                reload.emit(());
            }
        })
    };

    html! {
        <div class="page" data-testid="alerts-page">
            <section class="card table-card">
                <div class="card-head">
                    <h3>{ tr.t("alert.recent") }</h3>
                    <span class="spacer"></span>
                    <button type="button" class="btn btn-ghost" data-testid="btn-mark-read" onclick={mark_read}>
                        { tr.t("alert.mark_read") }
                    </button>
                    <button type="button" class="btn btn-ghost" onclick={{ let reload = reload.clone(); Callback::from(move |_| reload.emit(())) }}>
                        <Icon name="refresh" />{ tr.t("common.refresh") }
                    </button>
                </div>
                <AlertList limit={50} version={version} testid="alerts-list" />
            </section>
            <section class="card table-card">
                <div class="card-head">
                    <h3>{ tr.t("webhook.title") }</h3>
                    <span class="spacer"></span>
                    <button type="button" class="btn btn-primary" data-testid="btn-add-webhook"
                        onclick={{ let editing = editing.clone(); Callback::from(move |_| editing.set(Some(None))) }}>
                        <Icon name="plus" />{ tr.t("webhook.add") }
                    </button>
                </div>
                <p class="muted small note">{ tr.t("webhook.about") }</p>
                <DataTable testid="webhook-table" plain=true loading={hooks.loading} error={hooks.error.clone()}
                    empty={rows.is_empty()} on_retry={Some(reload.clone())} columns={vec![
                        Column::text(tr.t("webhook.name")),
                        Column::text(tr.t("webhook.kind")),
                        Column::text(tr.t("webhook.url")),
                        Column::text(tr.t("common.status")),
                        Column::text(tr.t("webhook.last")),
                        Column::text(tr.t("common.actions")),
                    ]}>
                    { for table_rows }
                </DataTable>
            </section>
            if let Some(hook) = (*editing).clone() {
                <WebhookDialog hook={hook} on_close={close_dialog} />
            }
            if let Some(hook) = (*deleting).clone() {
                <Confirm title={tr.t("webhook.delete_title")} message={tr.tf("webhook.delete_body", &[("name", &hook.name)])}
                    confirm_label={Some(AttrValue::from(tr.t("common.delete")))} on_confirm={confirm_delete}
                    on_cancel={{ let deleting = deleting.clone(); Callback::from(move |_| deleting.set(None)) }} />
            }
        </div>
    }
}

#[derive(Properties, PartialEq)]
struct WebhookDialogProps {
    /// `None`: a new webhook.
    hook: Option<WebhookView>,
    /// `true` when saved.
    on_close: Callback<bool>,
}

#[component]
fn WebhookDialog(props: &WebhookDialogProps) -> Html {
    let app = use_app();
    let tr = app.tr;
    let existing = props.hook.clone();
    let name = use_state(|| {
        existing
            .as_ref()
            .map(|h| h.name.clone())
            .unwrap_or_default()
    });
    let kind = use_state(|| {
        existing
            .as_ref()
            .map(|h| h.kind.clone())
            .unwrap_or_else(|| "wecom".into())
    });
    let url = use_state(String::new);
    let secret = use_state(String::new);
    let enabled = use_state(|| existing.as_ref().is_none_or(|h| h.enabled));
    let errors = use_state(HashMap::<String, String>::new);
    let banner = use_state(|| None::<String>);
    let busy = use_state(|| false);
    let error_of = |field: &str| errors.get(field).cloned();

    let save = {
        let (name, kind, url, secret, enabled) = (
            name.clone(),
            kind.clone(),
            url.clone(),
            secret.clone(),
            enabled.clone(),
        );
        let (errors, banner, busy, app, on_close) = (
            errors.clone(),
            banner.clone(),
            busy.clone(),
            app.clone(),
            props.on_close.clone(),
        );
        let id = existing.as_ref().map(|h| h.id);
        Callback::from(move |_: MouseEvent| {
            let mut body = Map::new();
            body.insert("name".into(), json!(name.trim()));
            body.insert("type".into(), json!(*kind));
            body.insert("enabled".into(), json!(*enabled));
            // Blank on edit: the stored URL and secret stay.
            if !url.trim().is_empty() || id.is_none() {
                body.insert("url".into(), json!(url.trim()));
            }
            if signs(&kind) && !secret.trim().is_empty() {
                body.insert("secret".into(), json!(secret.trim()));
            }
            let body = Value::Object(body);
            busy.set(true);
            let (errors, banner, busy, app, on_close) = (
                errors.clone(),
                banner.clone(),
                busy.clone(),
                app.clone(),
                on_close.clone(),
            );
            spawn_local(async move {
                let result = match id {
                    Some(id) => {
                        app.api
                            .put::<WebhookView>(&format!("/api/admin/webhooks/{id}"), &body)
                            .await
                    }
                    None => {
                        app.api
                            .post::<WebhookView>("/api/admin/webhooks", &body)
                            .await
                    }
                };
                busy.set(false);
                match result {
                    Ok(saved) => {
                        app.success(app.tr.tf("webhook.saved", &[("name", &saved.name)]));
                        on_close.emit(true);
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

    let close = {
        let cb = props.on_close.clone();
        Callback::from(move |_: MouseEvent| cb.emit(false))
    };
    let footer = html! {
        <>
            <button type="button" class="btn" onclick={close}>{ tr.t("common.cancel") }</button>
            <button type="button" class="btn btn-primary" onclick={save} disabled={*busy} data-testid="webhook-save">{ tr.t("common.save") }</button>
        </>
    };
    let title = if existing.is_some() {
        tr.t("webhook.edit")
    } else {
        tr.t("webhook.add")
    };
    let url_hint = match &existing {
        Some(hook) => tr.tf("webhook.url_keep", &[("host", &hook.url_hint)]),
        None => tr.t("webhook.url_hint").to_string(),
    };
    html! {
        <Dialog title={title} on_close={props.on_close.reform(|_| false)} {footer} testid="webhook-dialog">
            if let Some(message) = (*banner).clone() { <Alert>{ message }</Alert> }
            <Field label={tr.t("webhook.name")} id="webhook-name" required=true error={error_of("name")}>
                <input class="input" id="webhook-name" data-testid="webhook-name" maxlength="100" value={(*name).clone()}
                    oninput={on_input({ let name = name.clone(); Callback::from(move |v| name.set(v)) })} />
            </Field>
            <Field label={tr.t("webhook.kind")} id="webhook-kind" required=true error={error_of("type")}>
                <select class="select" id="webhook-kind" data-testid="webhook-kind"
                    onchange={on_select({ let kind = kind.clone(); Callback::from(move |v| kind.set(v)) })}>
                    { for KINDS.iter().map(|(value, label)| html! {
                        <option value={*value} selected={*kind == *value}>{ tr.t(label) }</option>
                    }) }
                </select>
            </Field>
            <Field label={tr.t("webhook.url")} id="webhook-url" required={existing.is_none()} error={error_of("url")}
                hint={Some(AttrValue::from(url_hint))}>
                <input class="input" id="webhook-url" data-testid="webhook-url" type="password" autocomplete="off"
                    maxlength="1000" value={(*url).clone()}
                    oninput={on_input({ let url = url.clone(); Callback::from(move |v| url.set(v)) })} />
            </Field>
            if signs(&kind) {
                <Field label={tr.t("webhook.secret")} id="webhook-secret" error={error_of("secret")}
                    hint={Some(AttrValue::from(tr.t("webhook.secret_hint")))}>
                    <input class="input" id="webhook-secret" data-testid="webhook-secret" type="password" autocomplete="off"
                        maxlength="200" value={(*secret).clone()}
                        oninput={on_input({ let secret = secret.clone(); Callback::from(move |v| secret.set(v)) })} />
                </Field>
            }
            <Switch id="webhook-enabled" label={tr.t("common.enabled")} checked={*enabled}
                on_change={{ let enabled = enabled.clone(); Callback::from(move |v| enabled.set(v)) }} />
        </Dialog>
    }
}
