//! The template editor: variables are detected live from `{identifier}` placeholders (the
//! server's rule) and the preview fills them with sample values typed here.

use std::collections::HashMap;

use serde_json::json;
use yew::platform::spawn_local;
use yew::prelude::*;

use crate::api::models::TemplateView;
use crate::components::dialog::FormDialog;
use crate::components::form::{Field, Switch, on_input, on_textarea};
use crate::context::use_app;
use crate::template::{self, Segment};

#[derive(Properties, PartialEq)]
pub struct TemplateFormProps {
    pub config_id: i32,
    /// None = a new template.
    pub template: Option<TemplateView>,
    pub on_close: Callback<()>,
    pub on_saved: Callback<TemplateView>,
}

const FORM_FIELDS: [&str; 4] = [
    "template_name",
    "template_content",
    "variables",
    "description",
];

#[component]
pub fn TemplateForm(props: &TemplateFormProps) -> Html {
    let app = use_app();
    let tr = app.tr;
    let initial = props.template.clone().unwrap_or(TemplateView {
        is_active: true,
        ..TemplateView::default()
    });
    let name = use_state(|| initial.template_name.clone());
    let content = use_state(|| initial.template_content.clone());
    let description = use_state(|| initial.description.clone().unwrap_or_default());
    let active = use_state(|| initial.is_active);
    let samples = use_state(HashMap::<String, String>::new);
    let errors = use_state(HashMap::<String, String>::new);
    let banner = use_state(|| None::<String>);
    let busy = use_state(|| false);

    let variables = template::variables(&content);
    let error_of = |field: &str| errors.get(field).cloned();

    let save = {
        let (name, content, description, active) = (
            name.clone(),
            content.clone(),
            description.clone(),
            active.clone(),
        );
        let (errors, banner, busy, app) =
            (errors.clone(), banner.clone(), busy.clone(), app.clone());
        let on_saved = props.on_saved.clone();
        let id = props.template.as_ref().map(|t| t.id);
        let config_id = props.config_id;
        Callback::from(move |_: ()| {
            let mut problems = HashMap::new();
            if name.trim().is_empty() {
                problems.insert(
                    "template_name".to_string(),
                    tr.tf("form.required", &[("label", tr.t("template.name"))]),
                );
            }
            if content.trim().is_empty() {
                problems.insert(
                    "template_content".to_string(),
                    tr.tf("form.required", &[("label", tr.t("template.content"))]),
                );
            }
            if !problems.is_empty() {
                errors.set(problems);
                return;
            }
            let body = json!({
                "config_id": config_id,
                "template_name": name.trim(),
                "template_content": *content,
                "variables": template::variables(&content),
                "description": description.trim(),
                "is_active": *active,
            });
            busy.set(true);
            let (errors, banner, busy, app, on_saved) = (
                errors.clone(),
                banner.clone(),
                busy.clone(),
                app.clone(),
                on_saved.clone(),
            );
            spawn_local(async move {
                let result = match id {
                    Some(id) => {
                        app.api
                            .put::<TemplateView>(&format!("/api/admin/llm/templates/{id}"), &body)
                            .await
                    }
                    None => {
                        app.api
                            .post::<TemplateView>("/api/admin/llm/templates", &body)
                            .await
                    }
                };
                busy.set(false);
                match result {
                    Ok(saved) => {
                        app.success(
                            app.tr
                                .tf("common.saved_named", &[("name", &saved.template_name)]),
                        );
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

    let preview = template::preview(&content, &samples)
        .into_iter()
        .map(|segment| match segment {
            Segment::Text(text) => html! { <>{ text }</> },
            Segment::Value { name, value } => {
                html! { <mark class="filled" title={name}>{ value }</mark> }
            }
            Segment::Missing(name) => {
                html! { <mark class="missing">{ format!("{{{name}}}") }</mark> }
            }
        })
        .collect::<Html>();

    let sample_inputs = variables
        .iter()
        .map(|variable| {
            let value = samples.get(variable).cloned().unwrap_or_default();
            let samples = samples.clone();
            let key = variable.clone();
            let set = Callback::from(move |v: String| {
                let mut next = (*samples).clone();
                next.insert(key.clone(), v);
                samples.set(next);
            });
            html! {
                <label class="sample" key={variable.clone()}>
                    <code>{ format!("{{{variable}}}") }</code>
                    <input class="input input-sm" value={value} data-testid={format!("sample-{variable}")}
                        placeholder={tr.t("template.sample_placeholder")} oninput={on_input(set)} />
                </label>
            }
        })
        .collect::<Html>();

    let dirty = *name != initial.template_name
        || *content != initial.template_content
        || *description != initial.description.clone().unwrap_or_default()
        || *active != initial.is_active;
    let clear = |handle: UseStateHandle<String>| {
        let errors = errors.clone();
        Callback::from(move |v: String| {
            handle.set(v);
            if !errors.is_empty() {
                errors.set(HashMap::new());
            }
        })
    };
    let title = if props.template.is_some() {
        tr.t("template.edit_title")
    } else {
        tr.t("template.add_title")
    };

    html! {
        <FormDialog title={title} name="template" size="xl" {dirty} busy={*busy} banner={(*banner).clone()}
            on_save={save} on_close={props.on_close.clone()}>
            <div class="template-editor">
                <div class="template-fields">
                    <Field label={tr.t("template.name")} id="template-name" required=true error={error_of("template_name")} class="stacked">
                        <input class="input" id="template-name" data-testid="template-name" maxlength="100"
                            placeholder={tr.t("template.name_placeholder")}
                            value={(*name).clone()} oninput={on_input(clear(name.clone()))} />
                    </Field>
                    <Field label={tr.t("template.description")} id="template-description" error={error_of("description")} class="stacked">
                        <input class="input" id="template-description" data-testid="template-description"
                            value={(*description).clone()} oninput={on_input(clear(description.clone()))} />
                    </Field>
                    <Field label={tr.t("template.content")} id="template-content" required=true
                        error={error_of("template_content").or_else(|| error_of("variables"))} class="stacked"
                        hint={Some(AttrValue::from(tr.t("template.content_hint")))}>
                        <textarea class="textarea mono" id="template-content" data-testid="template-content" rows="9"
                            placeholder={tr.t("template.content_placeholder")}
                            value={(*content).clone()} oninput={on_textarea(clear(content.clone()))} />
                    </Field>
                    <Field label={tr.t("common.status")} id="template-active" class="stacked">
                        <Switch id="template-active" checked={*active}
                            on_change={{ let active = active.clone(); Callback::from(move |v| active.set(v)) }}
                            label={if *active { tr.t("common.enabled") } else { tr.t("common.disabled") }} />
                    </Field>
                </div>
                <div class="template-side">
                    <div class="label">{ tr.t("template.detected") }</div>
                    <div class="chips" data-testid="template-variables">
                        { for variables.iter().map(|v| html! { <span class="chip" key={v.clone()}>{ v.clone() }</span> }) }
                        if variables.is_empty() { <span class="muted small">{ tr.t("template.no_variables") }</span> }
                    </div>
                    if !variables.is_empty() {
                        <div class="label">{ tr.t("template.samples") }</div>
                        <div class="samples">{ sample_inputs }</div>
                    }
                    <div class="label">{ tr.t("template.preview") }</div>
                    <pre class="pre preview" data-testid="template-preview">{ preview }</pre>
                </div>
            </div>
        </FormDialog>
    }
}
