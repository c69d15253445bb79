//! 测试连接: sends a test message through a saved config and shows the reply and the time
//! taken, or the upstream error as the server words it.

use serde_json::json;
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

#[derive(Properties, PartialEq)]
pub struct TestDialogProps {
    pub config: ConfigView,
    pub on_close: Callback<()>,
}

#[derive(Clone, PartialEq)]
enum Outcome {
    Idle,
    Running,
    Passed(TestResult),
    Failed(ApiError),
}

#[component]
pub fn TestDialog(props: &TestDialogProps) -> Html {
    let app = use_app();
    let tr = app.tr;
    let message = use_state(|| tr.t("test.default_message").to_string());
    let outcome = use_state(|| Outcome::Idle);

    let run = {
        let (message, outcome, app) = (message.clone(), outcome.clone(), app.clone());
        let id = props.config.id;
        Callback::from(move |_: MouseEvent| {
            if *outcome == Outcome::Running {
                return;
            }
            outcome.set(Outcome::Running);
            let body = json!({ "test_message": message.trim() });
            let (outcome, app) = (outcome.clone(), app.clone());
            spawn_local(async move {
                let path = format!("/api/admin/llm/configs/{id}/test");
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
                if let Some(id) = result.call_log_id {
                    <div class="muted small" data-testid="test-log-id">{ tr.tf("test.log_id", &[("id", &id.to_string())]) }</div>
                }
                <div class="label">{ tr.t("test.reply") }</div>
                <pre class="pre" data-testid="test-response">{ result.response.clone() }</pre>
            </div>
        },
        Outcome::Failed(err) => html! {
            <div data-testid="test-error">
                <Alert>
                    <div>{ err.display(tr) }</div>
                    <div class="muted small">{ format!("{} · HTTP {}", err.code, err.status) }</div>
                </Alert>
            </div>
        },
    };
    html! {
        <Dialog title={tr.tf("test.title", &[("name", &props.config.name)])} on_close={props.on_close.clone()}
            {footer} testid="test-dialog">
            <p class="muted small">{ tr.tf("test.about", &[("model", &props.config.model)]) }</p>
            <Field label={tr.t("test.message")} id="test-message" class="stacked">
                <input class="input" id="test-message" data-testid="test-message" value={(*message).clone()}
                    oninput={on_input(Callback::from(move |v| message.set(v)))} />
            </Field>
            { result }
        </Dialog>
    }
}
