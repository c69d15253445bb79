//! 测试连接: sends a test message through a config — the saved one from the table, or the
//! edit dialog's values as they stand (unsaved, a new key, a new config) — and shows the
//! reply, or the failure with the upstream's own words and a link to the call record.

use serde_json::{Value, json};
use yew::platform::spawn_local;
use yew::prelude::*;

use crate::api::ApiError;
use crate::api::models::{ConfigView, TestResult};
use crate::components::dialog::Dialog;
use crate::components::form::{Field, on_input};
use crate::components::icon::Icon;
use crate::components::misc::Alert;
use crate::context::use_app;
use crate::format;

/// What to test: where to send it and the config values that go with the message.
#[derive(Debug, Clone, PartialEq)]
pub struct TestTarget {
    pub name: String,
    pub model: String,
    /// `…/configs/{id}/test` or, for a config not saved yet, `…/configs/test`.
    pub path: String,
    /// The form's values (empty for the saved config as it is).
    pub body: Value,
    /// Values from a form, not the saved config.
    pub unsaved: bool,
}

impl TestTarget {
    /// The saved config as it is (the table's 测试连接).
    pub fn saved(config: &ConfigView) -> Self {
        Self {
            name: config.name.clone(),
            model: config.model.clone(),
            path: format!("/api/admin/llm/configs/{}/test", config.id),
            body: json!({}),
            unsaved: false,
        }
    }

    /// The edit dialog's values: `id` is the saved config they change, if any.
    pub fn form(id: Option<i32>, body: Value) -> Self {
        let text = |key: &str| body.get(key).and_then(Value::as_str).unwrap_or_default();
        Self {
            name: text("name").to_string(),
            model: text("model").to_string(),
            path: match id {
                Some(id) => format!("/api/admin/llm/configs/{id}/test"),
                None => "/api/admin/llm/configs/test".into(),
            },
            unsaved: true,
            body,
        }
    }
}

#[derive(Properties, PartialEq)]
pub struct TestDialogProps {
    pub target: TestTarget,
    pub on_close: Callback<()>,
}

#[derive(Clone, PartialEq)]
enum Outcome {
    Idle,
    Running,
    Passed(TestResult),
    Failed(ApiError),
}

/// The call record's address: the logs page opens its detail.
pub fn record_href(id: i64) -> String {
    format!("{}/llm-logs?log_id={id}", crate::route::BASENAME)
}

#[component]
pub fn TestDialog(props: &TestDialogProps) -> Html {
    let app = use_app();
    let tr = app.tr;
    let message = use_state(|| tr.t("test.default_message").to_string());
    let outcome = use_state(|| Outcome::Idle);

    let run = {
        let (message, outcome, app) = (message.clone(), outcome.clone(), app.clone());
        let target = props.target.clone();
        Callback::from(move |_: MouseEvent| {
            if *outcome == Outcome::Running {
                return;
            }
            outcome.set(Outcome::Running);
            let mut body = target.body.clone();
            body["test_message"] = json!(message.trim());
            let (outcome, app, path) = (outcome.clone(), app.clone(), target.path.clone());
            spawn_local(async move {
                outcome.set(match app.api.post_whole::<TestResult>(&path, &body).await {
                    Ok(result) => Outcome::Passed(result),
                    Err(err) => Outcome::Failed(err),
                });
            });
        })
    };
    let close = {
        let cb = props.on_close.clone();
        Callback::from(move |_: MouseEvent| cb.emit(()))
    };
    let running = *outcome == Outcome::Running;
    let footer = html! {
        <>
            <button type="button" class="btn" onclick={close}>{ tr.t("common.close") }</button>
            <button type="button" class="btn btn-primary" onclick={run} disabled={running} data-testid="btn-run-test" id="btn-run-test">
                if running { <span class="spinner"></span> } else { <Icon name="zap" /> }
                { tr.t("test.run") }
            </button>
        </>
    };
    let record_link = |id: i64| {
        html! {
            <a class="link small" href={record_href(id)} target="_blank" rel="noopener" data-testid="test-log-link">
                { tr.tf("test.log_id", &[("id", &id.to_string())]) }
            </a>
        }
    };
    let result = match &*outcome {
        Outcome::Idle => Html::default(),
        Outcome::Running => html! {
            <div class="state"><span class="spinner"></span>{ tr.t("test.running") }</div>
        },
        Outcome::Passed(result) => html! {
            <div class="test-result ok" data-testid="test-success">
                <div class="test-head">
                    <Icon name="check-circle" />
                    <strong>{ if result.message.is_empty() { tr.t("test.ok").to_string() } else { result.message.clone() } }</strong>
                    <span class="muted" data-testid="test-duration">
                        { tr.tf("test.duration", &[("d", &format::duration_ms(result.duration_ms))]) }
                    </span>
                </div>
                if let Some(id) = result.call_log_id { <div>{ record_link(id) }</div> }
                <div class="label">{ tr.t("test.reply") }</div>
                <pre class="pre" data-testid="test-response">{ result.response.clone() }</pre>
            </div>
        },
        Outcome::Failed(err) => html! {
            <div data-testid="test-error">
                <Alert>
                    <div>{ err.display(tr) }</div>
                    if let Some(words) = err.test.as_ref().and_then(|t| t.upstream.clone()) {
                        <div class="label">{ tr.t("test.upstream_said") }</div>
                        <pre class="pre wrap" data-testid="test-upstream">{ words }</pre>
                    }
                    <div class="muted small">{ format!("{} · HTTP {}", err.code, err.status) }</div>
                    if let Some(id) = err.test.as_ref().and_then(|t| t.call_log_id) { <div>{ record_link(id) }</div> }
                </Alert>
            </div>
        },
    };
    let about = if props.target.unsaved {
        "test.about_form"
    } else {
        "test.about"
    };
    let name = if props.target.name.is_empty() {
        tr.t("test.unnamed").to_string()
    } else {
        props.target.name.clone()
    };
    html! {
        <Dialog title={tr.tf("test.title", &[("name", &name)])} on_close={props.on_close.clone()}
            {footer} testid="test-dialog">
            <p class="muted small" data-testid="test-about">{ tr.tf(about, &[("model", &props.target.model)]) }</p>
            <Field label={tr.t("test.message")} id="test-message" class="stacked">
                <input class="input" id="test-message" data-testid="test-message" value={(*message).clone()}
                    oninput={on_input(Callback::from(move |v| message.set(v)))} />
            </Field>
            { result }
        </Dialog>
    }
}
