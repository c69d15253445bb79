//! 调用详情: one call record in full. Everything in a record came from a client or an
//! upstream, so it is shown as text nodes only (Yew escapes them), never as HTML.

use serde_json::Value;
use yew::prelude::*;

use crate::api::models::LogDetail;
use crate::components::dialog::Dialog;
use crate::components::misc::{Alert, Badge, LongText};
use crate::context::use_app;
use crate::format;
use crate::hooks::use_fetch;
use crate::providers;

#[derive(Properties, PartialEq)]
pub struct LogDetailProps {
    pub id: i64,
    pub on_close: Callback<()>,
}

/// `名称 (#id)`, the id alone once the name is gone, or nothing.
fn named(name: Option<&str>, id: Option<i32>) -> Option<String> {
    match (name, id) {
        (Some(name), Some(id)) => Some(format!("{name} (#{id})")),
        (None, Some(id)) => Some(format!("#{id}")),
        (Some(name), None) => Some(name.to_string()),
        (None, None) => None,
    }
}

/// Pretty JSON, or "-" for nothing.
pub fn pretty(value: &Value) -> String {
    match value {
        Value::Null => "-".into(),
        Value::String(text) => text.clone(),
        other => serde_json::to_string_pretty(other).unwrap_or_else(|_| other.to_string()),
    }
}

/// The `{role, content}` pairs of a request, when it has that shape.
fn messages(value: &Value) -> Vec<(String, String)> {
    value
        .as_array()
        .map(|items| {
            items
                .iter()
                .map(|item| {
                    let role = item
                        .get("role")
                        .and_then(Value::as_str)
                        .unwrap_or("?")
                        .to_string();
                    let content = match item.get("content") {
                        Some(Value::String(text)) => text.clone(),
                        Some(other) => pretty(other),
                        None => String::new(),
                    };
                    (role, content)
                })
                .collect()
        })
        .unwrap_or_default()
}

#[component]
pub fn LogDetailDialog(props: &LogDetailProps) -> Html {
    let app = use_app();
    let tr = app.tr;
    let detail =
        use_fetch::<LogDetail>(Some(format!("/api/admin/llm/logs/{}", props.id)), 0, false);
    let show_json = use_state(|| false);

    let close = {
        let cb = props.on_close.clone();
        Callback::from(move |_: MouseEvent| cb.emit(()))
    };
    let footer = html! { <button type="button" class="btn" onclick={close} data-testid="log-detail-close">{ tr.t("common.close") }</button> };
    let title = tr.tf("logs.detail_title", &[("id", &props.id.to_string())]);

    let body = if let Some(err) = &detail.error {
        html! { <Alert testid="log-detail-error">{ err.display(tr) }</Alert> }
    } else if let Some(log) = &detail.data {
        let item = |label: &str, value: Html| {
            html! { <div class="kv"><span class="k">{ label.to_string() }</span><span class="v">{ value }</span></div> }
        };
        let text = |value: Option<String>| -> Html {
            html! { <>{ value.filter(|v| !v.is_empty()).unwrap_or_else(|| "-".into()) }</> }
        };
        let status = if log.status == "success" {
            html! { <Badge tone="green">{ tr.t("logs.success") }</Badge> }
        } else {
            html! { <Badge tone="red">{ tr.t("logs.error") }</Badge> }
        };
        let config = match (
            format::name_or_id(log.config_name.as_deref(), None, ""),
            log.config_id,
        ) {
            (name, Some(id)) if !name.is_empty() => format!("{name} (#{id})"),
            (name, _) if !name.is_empty() => name,
            (_, id) => format::name_or_id(None, id, "-"),
        };
        let msgs = messages(&log.request_messages);
        let response = log.response_content.clone().unwrap_or_default();
        let toggle_json = {
            let show_json = show_json.clone();
            Callback::from(move |_: MouseEvent| show_json.set(!*show_json))
        };
        html! {
            <div class="log-detail" data-testid="log-detail">
                <section class="detail-section">
                    <h3>{ tr.t("logs.basic") }</h3>
                    <div class="kv-grid">
                        { item(tr.t("logs.config"), text(Some(config))) }
                        { item(tr.t("logs.provider"), text(log.provider.clone())) }
                        { item(tr.t("logs.provider"), text(log.provider.as_deref().map(|p| providers::label_key(p).map_or_else(|| p.to_string(), |key| tr.t(key).to_string())))) }
                        { item(tr.t("logs.model"), text(log.model.clone())) }
                        { item(tr.t("logs.group"), text(named(log.group_name.as_deref(), log.group_id))) }
                        if log.user_id.is_some() { { item(tr.t("logs.user"), text(named(log.username.as_deref(), log.user_id))) } }
                        { item(tr.t("logs.activation_code"), html! { <code>{ log.activation_code.clone().unwrap_or_else(|| "-".into()) }</code> }) }
                        { item(tr.t("logs.api_key"), text(Some(format::name_or_id(log.api_key_name.as_deref(), log.api_key_id, "-")))) }
                        { item(tr.t("logs.template"), text(named(log.template_name.as_deref(), log.template_id))) }
                        { item(tr.t("logs.time"), text(Some(app.datetime(&log.created_at)))) }
                        { item(tr.t("logs.duration"), text(log.duration_ms.map(format::duration_ms))) }
                        { item(tr.t("common.status"), status) }
                        { item(tr.t("logs.mode"), text(Some(if log.is_stream { tr.t("logs.stream") } else { tr.t("logs.non_stream") }.to_string()))) }
                        { item(tr.t("logs.retries"), text(log.retry_count.map(|r| r.to_string()))) }
                        { item(tr.t("logs.finish_reason"), text(log.finish_reason.clone())) }
                        { item(tr.t("logs.upstream_id"), html! { <code>{ log.upstream_id.clone().unwrap_or_else(|| "-".into()) }</code> }) }
                        { item(tr.t("logs.cost"), text(log.cost.map(|cost| format::money(cost, &log.currency)))) }
                    </div>
                </section>
                <section class="detail-section">
                    <h3>
                        { tr.t("logs.tokens") }
                        if log.tokens_estimated { <Badge tone="amber" title={Some(AttrValue::from(tr.t("logs.estimated_hint")))}>{ tr.t("logs.estimated") }</Badge> }
                    </h3>
                    <div class="token-split" data-testid="log-tokens">
                        <div><span class="k">{ "Prompt Token" }</span><strong>{ format::opt_thousands(log.prompt_tokens) }</strong></div>
                        <div><span class="k">{ "Completion Token" }</span><strong>{ format::opt_thousands(log.completion_tokens) }</strong></div>
                        <div><span class="k">{ tr.t("logs.total") }</span><strong>{ format::opt_thousands(log.tokens_used) }</strong></div>
                    </div>
                </section>
                if log.status != "success" {
                    <section class="detail-section">
                        <h3>{ tr.t("logs.error_info") }</h3>
                        <Alert testid="log-error-message">
                            if let Some(code) = log.error_code.clone() { <code class="err-code">{ code }</code> }
                            <LongText text={log.error_message.clone().unwrap_or_else(|| "-".into())} />
                        </Alert>
                    </section>
                }
                <section class="detail-section">
                    <h3>
                        { tr.t("logs.request") }
                        <button type="button" class="link-btn small" onclick={toggle_json} data-testid="toggle-request-json">
                            { if *show_json { tr.t("logs.as_chat") } else { tr.t("logs.as_json") } }
                        </button>
                    </h3>
                    if *show_json || msgs.is_empty() {
                        <pre class="pre" data-testid="log-request-json">{ pretty(&log.request_messages) }</pre>
                    } else {
                        <div class="messages" data-testid="log-request-messages">
                            { for msgs.into_iter().map(|(role, content)| html! {
                                <div class={classes!("message", format!("role-{}", role.replace(|c: char| !c.is_ascii_alphanumeric(), "")))}>
                                    <span class="role">{ role }</span>
                                    <div class="msg-content"><LongText text={content} /></div>
                                </div>
                            }) }
                        </div>
                    }
                    if !log.request_params.is_null() {
                        <details class="raw">
                            <summary>{ tr.t("logs.params") }</summary>
                            <pre class="pre">{ pretty(&log.request_params) }</pre>
                        </details>
                    }
                </section>
                <section class="detail-section">
                    <h3>{ tr.t("logs.response") }</h3>
                    <LongText pre=true testid="log-response" text={if response.is_empty() { "-".to_string() } else { response }} />
                    if !log.response_data.is_null() {
                        <details class="raw">
                            <summary>{ tr.t("logs.raw_response") }</summary>
                            <pre class="pre">{ pretty(&log.response_data) }</pre>
                        </details>
                    }
                </section>
            </div>
        }
    } else {
        html! { <div class="state"><span class="spinner"></span>{ tr.t("common.loading") }</div> }
    };

    html! {
        <Dialog title={title} on_close={props.on_close.clone()} size="lg" {footer} testid="log-detail-dialog">
            { body }
        </Dialog>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn formats_request_json() {
        assert_eq!(pretty(&Value::Null), "-");
        assert_eq!(pretty(&json!("x")), "x");
        assert_eq!(
            pretty(&json!([{"role":"user","content":"你好"}])),
            "[\n  {\n    \"content\": \"你好\",\n    \"role\": \"user\"\n  }\n]"
        );
        assert_eq!(
            messages(&json!([{"role":"user","content":"<b>hi</b>"},{"content":[1]}])),
            vec![
                ("user".to_string(), "<b>hi</b>".to_string()),
                ("?".to_string(), "[\n  1\n]".to_string())
            ]
        );
    }
}
