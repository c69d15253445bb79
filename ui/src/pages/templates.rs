//! Prompt模板管理 for one config: the list, enable/disable, delete, and the editor.

use serde_json::json;
use yew::platform::spawn_local;
use yew::prelude::*;

use super::template_form::TemplateForm;
use crate::api::models::{ConfigView, TemplateView};
use crate::components::dialog::{Confirm, Dialog};
use crate::components::icon::Icon;
use crate::components::misc::ActiveBadge;
use crate::components::table::{Column, DataTable};
use crate::context::use_app;
use crate::hooks::{use_fetch, use_version};

#[derive(Properties, PartialEq)]
pub struct TemplatesDialogProps {
    pub config: ConfigView,
    pub on_close: Callback<()>,
}

#[component]
pub fn TemplatesDialog(props: &TemplatesDialogProps) -> Html {
    let app = use_app();
    let tr = app.tr;
    let (version, reload) = use_version();
    let path = format!("/api/admin/llm/templates?config_id={}", props.config.id);
    let list = use_fetch::<Vec<TemplateView>>(Some(path), version, false);
    let editing = use_state(|| None::<Option<TemplateView>>);
    let deleting = use_state(|| None::<TemplateView>);

    let toggle = {
        let (app, reload) = (app.clone(), reload.clone());
        Callback::from(move |template: TemplateView| {
            let (app, reload) = (app.clone(), reload.clone());
            spawn_local(async move {
                let body = json!({ "is_active": !template.is_active });
                let path = format!("/api/admin/llm/templates/{}", template.id);
                match app.api.put::<TemplateView>(&path, &body).await {
                    Ok(saved) => {
                        let key = if saved.is_active {
                            "config.enabled_ok"
                        } else {
                            "config.disabled_ok"
                        };
                        app.success(app.tr.tf(key, &[("name", &saved.template_name)]));
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
            let Some(template) = (*deleting).clone() else {
                return;
            };
            let (app, reload, deleting) = (app.clone(), reload.clone(), deleting.clone());
            spawn_local(async move {
                let result = app
                    .api
                    .delete(&format!("/api/admin/llm/templates/{}", template.id))
                    .await;
                deleting.set(None);
                match result {
                    Ok(()) => {
                        app.success(
                            app.tr
                                .tf("common.deleted_named", &[("name", &template.template_name)]),
                        );
                        reload.emit(());
                    }
                    Err(err) => app.api_error(&err),
                }
            });
        })
    };

    let rows = list.data.clone().unwrap_or_default();
    let body_rows = rows.iter().map(|template| {
        let (t1, t2, t3) = (template.clone(), template.clone(), template.clone());
        let (editing, deleting, toggle) = (editing.clone(), deleting.clone(), toggle.clone());
        html! {
            <tr key={template.id} data-testid={format!("template-row-{}", template.id)}>
                <td class="num">{ template.id }</td>
                <td>
                    <div class="strong">{ template.template_name.clone() }</div>
                    if let Some(description) = template.description.clone().filter(|d| !d.is_empty()) {
                        <div class="muted small">{ description }</div>
                    }
                </td>
                <td>
                    <div class="chips">
                        { for template.variables.iter().map(|v| html! { <span class="chip">{ format!("{{{v}}}") }</span> }) }
                        if template.variables.is_empty() { <span class="muted">{ "-" }</span> }
                    </div>
                </td>
                <td><ActiveBadge active={template.is_active} /></td>
                <td class="actions">
                    <button type="button" class="link-btn" data-testid={format!("template-edit-{}", template.id)}
                        onclick={Callback::from(move |_| editing.set(Some(Some(t1.clone()))))}>
                        <Icon name="edit" />{ tr.t("common.edit") }
                    </button>
                    <button type="button" class="link-btn" data-testid={format!("template-toggle-{}", template.id)}
                        onclick={Callback::from(move |_| toggle.emit(t2.clone()))}>
                        <Icon name="power" />{ if template.is_active { tr.t("common.disable") } else { tr.t("common.enable") } }
                    </button>
                    <button type="button" class="link-btn danger" data-testid={format!("template-delete-{}", template.id)}
                        onclick={Callback::from(move |_| deleting.set(Some(t3.clone())))}>
                        <Icon name="trash" />{ tr.t("common.delete") }
                    </button>
                </td>
            </tr>
        }
    });
    let on_saved = {
        let (editing, reload) = (editing.clone(), reload.clone());
        Callback::from(move |_: TemplateView| {
            editing.set(None);
            reload.emit(());
        })
    };
    let close = {
        let cb = props.on_close.clone();
        Callback::from(move |_: MouseEvent| cb.emit(()))
    };
    let footer = html! { <button type="button" class="btn" onclick={close}>{ tr.t("common.close") }</button> };

    html! {
        <>
            <Dialog title={tr.tf("template.title", &[("name", &props.config.name)])} on_close={props.on_close.clone()}
                size="lg" {footer} testid="templates-dialog">
                <div class="toolbar">
                    <button type="button" class="btn btn-primary" id="btn-add-template" data-testid="btn-add-template"
                        onclick={{ let editing = editing.clone(); Callback::from(move |_| editing.set(Some(None))) }}>
                        <Icon name="plus" />{ tr.t("template.add") }
                    </button>
                    <span class="muted small">{ tr.t("template.about") }</span>
                </div>
                <DataTable testid="template-table" plain=true loading={list.loading} error={list.error.clone()}
                    empty={rows.is_empty()} on_retry={Some(reload.clone())} columns={vec![
                        Column::num("ID"),
                        Column::text(tr.t("template.name")),
                        Column::text(tr.t("template.variables")),
                        Column::text(tr.t("common.status")),
                        Column::text(tr.t("common.actions")),
                    ]}>
                    { for body_rows }
                </DataTable>
            </Dialog>
            if let Some(template) = (*editing).clone() {
                <TemplateForm config_id={props.config.id} template={template} on_saved={on_saved}
                    on_close={{ let editing = editing.clone(); Callback::from(move |_| editing.set(None)) }} />
            }
            if let Some(template) = (*deleting).clone() {
                <Confirm title={tr.t("template.delete_title")}
                    message={tr.tf("template.delete_body", &[("name", &template.template_name)])}
                    confirm_label={Some(AttrValue::from(tr.t("common.delete")))} on_confirm={confirm_delete}
                    on_cancel={{ let deleting = deleting.clone(); Callback::from(move |_| deleting.set(None)) }} />
            }
        </>
    }
}
