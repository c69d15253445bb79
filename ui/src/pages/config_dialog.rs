//! 新增/编辑配置: basics, parameters (sliders with number boxes), prompt, prices, routing
//! (fallbacks, circuit breaker) and advanced settings. The stored keys are never shown: only
//! each one's mask and state (with 恢复 for a key set aside); newly typed keys (one per line)
//! may be revealed, and an empty key field on update keeps the stored ones.

use std::collections::HashMap;

use yew::platform::spawn_local;
use yew::prelude::*;

use super::config_keys::KeyStates;
use super::config_routing::FallbackField;
use super::config_test::TestTarget;
use crate::api::models::ConfigView;
use crate::components::dialog::FormDialog;
use crate::components::form::{Field, Slider, Switch, on_input, on_select, on_textarea};
use crate::components::icon::Icon;
use crate::components::misc::Alert;
use crate::config_form::{self, ConfigForm};
use crate::context::use_app;
use crate::providers::{self, PROVIDERS};

#[derive(Properties, PartialEq)]
pub struct ConfigDialogProps {
    /// None = a new config.
    pub config: Option<ConfigView>,
    /// A new config starting from this one's values (复制为新配置); its key is not copied.
    #[prop_or_default]
    pub copy_of: Option<ConfigView>,
    pub on_close: Callback<()>,
    pub on_saved: Callback<ConfigView>,
    /// 测试连接 with the form's values as they stand.
    pub on_test: Callback<TestTarget>,
    pub on_templates: Callback<ConfigView>,
    /// Every config, for the fallbacks.
    #[prop_or_default]
    pub configs: Vec<ConfigView>,
    /// Something was saved outside the form (a key put back): the list should reload.
    #[prop_or_default]
    pub on_refresh: Callback<()>,
}

/// Fields the form shows; a server error on any other field goes to the banner only.
const FORM_FIELDS: [&str; 19] = [
    "name",
    "provider",
    "api_url",
    "api_key",
    "model",
    "max_tokens",
    "temperature",
    "top_p",
    "frequency_penalty",
    "presence_penalty",
    "system_prompt",
    "timeout_seconds",
    "max_retries",
    "input_price",
    "output_price",
    "currency",
    "fallback_config_ids",
    "breaker_threshold",
    "breaker_cooldown_seconds",
];

#[component]
pub fn ConfigDialog(props: &ConfigDialogProps) -> Html {
    let app = use_app();
    let tr = app.tr;
    let editing = props.config.is_some();
    let form = {
        let initial = initial_form(props, tr);
        use_state(move || initial)
    };
    let errors = use_state(HashMap::<String, String>::new);
    let banner = use_state(|| None::<String>);
    let busy = use_state(|| false);
    let show_key = use_state(|| false);
    // The stored keys' states: 恢复 changes them without saving the form.
    let keys = {
        let stored = props
            .config
            .as_ref()
            .map(|c| c.api_keys.clone())
            .unwrap_or_default();
        use_state(move || stored)
    };

    // A setter for one field of the form.
    let set = |apply: fn(&mut ConfigForm, String)| {
        let (form, errors) = (form.clone(), errors.clone());
        Callback::from(move |value: String| {
            let mut next = (*form).clone();
            apply(&mut next, value);
            form.set(next);
            if !errors.is_empty() {
                errors.set(HashMap::new());
            }
        })
    };
    let error_of = |field: &str| errors.get(field).cloned();
    // The form's body, or every mistake marked at its field.
    let checked_body = {
        let (form, errors, banner, app) =
            (form.clone(), errors.clone(), banner.clone(), app.clone());
        let editing = props.config.is_some();
        move || match form.to_body(editing) {
            Ok(body) => Some(body),
            Err(found) => {
                errors.set(crate::forms::by_field(&found, app.tr));
                banner.set(None);
                None
            }
        }
    };

    let save = {
        let (errors, banner, busy, app) =
            (errors.clone(), banner.clone(), busy.clone(), app.clone());
        let on_saved = props.on_saved.clone();
        let id = props.config.as_ref().map(|c| c.id);
        let checked_body = checked_body.clone();
        Callback::from(move |_: ()| {
            if *busy {
                return;
            }
            let Some(body) = checked_body() else {
                return;
            };
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
                            .put::<ConfigView>(&format!("/api/admin/llm/configs/{id}"), &body)
                            .await
                    }
                    None => {
                        app.api
                            .post::<ConfigView>("/api/admin/llm/configs", &body)
                            .await
                    }
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

    let on_provider = {
        let form = form.clone();
        Callback::from(move |provider: String| {
            let mut next = (*form).clone();
            next.set_provider(&provider);
            form.set(next);
        })
    };
    let on_reasoning = {
        let form = form.clone();
        Callback::from(move |checked: bool| {
            let mut next = (*form).clone();
            next.reasoning_model = checked;
            form.set(next);
        })
    };
    let on_fallbacks = {
        let (form, errors) = (form.clone(), errors.clone());
        Callback::from(move |ids: Vec<i32>| {
            let mut next = (*form).clone();
            next.fallback_config_ids = ids;
            form.set(next);
            errors.set(HashMap::new());
        })
    };
    let on_active = {
        let form = form.clone();
        Callback::from(move |checked: bool| {
            let mut next = (*form).clone();
            next.is_active = checked;
            form.set(next);
        })
    };
    let dirty = *form != initial_form(props, tr);
    let open_templates = props.config.clone().map(|config| {
        let cb = props.on_templates.clone();
        Callback::from(move |_: MouseEvent| cb.emit(config.clone()))
    });
    let open_test = {
        let cb = props.on_test.clone();
        let id = props.config.as_ref().map(|c| c.id);
        Callback::from(move |_: MouseEvent| {
            if let Some(body) = checked_body() {
                cb.emit(TestTarget::form(id, body));
            }
        })
    };

    let key_field = {
        let has_key = props.config.as_ref().is_some_and(|c| c.has_api_key);
        let on_restored = {
            let (keys, on_refresh) = (keys.clone(), props.on_refresh.clone());
            Callback::from(move |config: ConfigView| {
                keys.set(config.api_keys);
                on_refresh.emit(());
            })
        };
        let config_id = props.config.as_ref().map(|c| c.id).unwrap_or_default();
        let toggle = {
            let show_key = show_key.clone();
            Callback::from(move |_: MouseEvent| show_key.set(!*show_key))
        };
        // What this provider's key looks like (Baidu's is a pair, Zhipu's has a dot …).
        let placeholder = if has_key {
            tr.t("config.api_key_keep")
        } else {
            tr.t(providers::key_hint(&form.provider))
        };
        let hint: Option<AttrValue> = Some(
            format!(
                "{} · {} · {}",
                tr.t(providers::key_hint(&form.provider)),
                tr.t("config.api_key_lines"),
                tr.t("config.api_key_hint")
            )
            .into(),
        );
        html! {
            <Field label={tr.t("config.api_key")} id="config-api-key" required={!editing} error={error_of("api_key")} {hint}>
                if has_key {
                    <KeyStates config_id={config_id} keys={(*keys).clone()} {on_restored} />
                }
                <div class="input-group">
                    // A textarea cannot be a password field: CSS hides what is typed instead.
                    <textarea class={classes!("textarea", "mono", (!*show_key).then_some("secret-text"))} id="config-api-key"
                        data-testid="config-api-key" autocomplete="off" spellcheck="false" rows="2" placeholder={placeholder}
                        value={form.api_key.clone()} oninput={on_textarea(set(|f, v| f.api_key = v))} />
                    <button type="button" class="btn btn-icon" onclick={toggle} data-testid="toggle-api-key"
                        disabled={form.api_key.is_empty()}
                        title={if *show_key { tr.t("config.hide_key") } else { tr.t("config.show_key") }}>
                        <Icon name={if *show_key { "eye-off" } else { "eye" }} />
                    </button>
                </div>
            </Field>
        }
    };

    let slider = |id: &'static str,
                  label: &'static str,
                  value: &String,
                  bounds: (f64, f64, f64),
                  apply: fn(&mut ConfigForm, String)| {
        let (min, max, step) = bounds;
        html! {
            <Field label={tr.t(label)} id={id} error={error_of(field_of(id))}
                hint={Some(AttrValue::from(format!("{} – {}", crate::format::plain_number(min), crate::format::plain_number(max))))}>
                <Slider id={id} value={value.clone()} {min} {max} {step} on_change={set(apply)} />
            </Field>
        }
    };

    let title = if editing {
        tr.t("config.edit_title")
    } else {
        tr.t("config.add_title")
    };
    let extra = html! {
        <button type="button" class="btn" onclick={open_test} data-testid="dialog-test-config"
            title={tr.t("config.test_form_hint")}>
            <Icon name="zap" />{ tr.t("config.test") }
        </button>
    };

    html! {
        <FormDialog title={title} name="config" size="lg" {dirty} busy={*busy} banner={(*banner).clone()}
            on_save={save} on_close={props.on_close.clone()} {extra}>
            <section class="form-section">
                <h3>{ tr.t("config.section.basic") }</h3>
                <div class="form-grid">
                    <Field label={tr.t("config.name")} id="config-name" required=true error={error_of("name")}>
                        <input class="input" id="config-name" data-testid="config-name" maxlength="100"
                            placeholder={tr.t("config.name_placeholder")}
                            value={form.name.clone()} oninput={on_input(set(|f, v| f.name = v))} />
                    </Field>
                    <Field label={tr.t("config.provider")} id="config-provider" required=true error={error_of("provider")}>
                        <select class="select" id="config-provider" data-testid="config-provider" onchange={on_select(on_provider)}>
                            { for PROVIDERS.iter().map(|p| html! {
                                <option value={p.id} selected={form.provider == p.id}>{ tr.t(p.label) }</option>
                            }) }
                            if providers::find(&form.provider).is_none() {
                                <option value={form.provider.clone()} selected=true>{ form.provider.clone() }</option>
                            }
                        </select>
                    </Field>
                    <Field label={tr.t("config.api_url")} id="config-api-url" required={form.provider == "custom" || editing}
                        error={error_of("api_url")} class="span-2"
                        hint={Some(AttrValue::from(tr.t("config.api_url_hint")))}>
                        <input class="input mono" id="config-api-url" data-testid="config-api-url" maxlength="500"
                            placeholder="https://…" value={form.api_url.clone()} oninput={on_input(set(|f, v| f.api_url = v))} />
                    </Field>
                    <div class="span-2">{ key_field }</div>
                    <Field label={tr.t("config.model")} id="config-model" required=true error={error_of("model")}>
                        <input class="input mono" id="config-model" data-testid="config-model" maxlength="100"
                            placeholder={providers::model_hint(&form.provider)} list="model-suggestions"
                            value={form.model.clone()} oninput={on_input(set(|f, v| f.model = v))} />
                        <datalist id="model-suggestions" data-testid="model-suggestions">
                            { for providers::model_suggestions(&form.provider).iter().map(|m| html! { <option value={*m} /> }) }
                        </datalist>
                    </Field>
                </div>
            </section>
            <section class="form-section">
                <h3>{ tr.t("config.section.params") }</h3>
                <div class="form-grid">
                    { slider("config-max-tokens", "config.max_tokens", &form.max_tokens, config_form::MAX_TOKENS, |f, v| f.max_tokens = v) }
                    { slider("config-temperature", "config.temperature", &form.temperature, config_form::TEMPERATURE, |f, v| f.temperature = v) }
                    { slider("config-top-p", "config.top_p", &form.top_p, config_form::TOP_P, |f, v| f.top_p = v) }
                    { slider("config-frequency-penalty", "config.frequency_penalty", &form.frequency_penalty, config_form::PENALTY, |f, v| f.frequency_penalty = v) }
                    { slider("config-presence-penalty", "config.presence_penalty", &form.presence_penalty, config_form::PENALTY, |f, v| f.presence_penalty = v) }
                    <Field label={tr.t("config.reasoning_model")} id="config-reasoning-model"
                        hint={Some(AttrValue::from(tr.t("config.reasoning_model_hint")))}>
                        <Switch id="config-reasoning-model" checked={form.reasoning_model} on_change={on_reasoning}
                            label={if form.reasoning_model { tr.t("config.reasoning_model_on") } else { tr.t("config.reasoning_model_off") }} />
                    </Field>
                </div>
            </section>
            <section class="form-section">
                <h3>{ tr.t("config.section.prompt") }</h3>
                <Field label={tr.t("config.system_prompt")} id="config-system-prompt" error={error_of("system_prompt")} class="stacked">
                    <textarea class="textarea" id="config-system-prompt" data-testid="config-system-prompt" rows="4"
                        placeholder={tr.t("config.system_prompt_placeholder")}
                        value={form.system_prompt.clone()} oninput={on_textarea(set(|f, v| f.system_prompt = v))} />
                </Field>
                <div class="template-link">
                    <button type="button" class="btn btn-sm" data-testid="btn-manage-templates"
                        disabled={open_templates.is_none()} onclick={open_templates.unwrap_or_default()}>
                        <Icon name="file" />{ tr.t("config.manage_templates") }
                    </button>
                    if !editing { <span class="muted small">{ tr.t("config.templates_after_save") }</span> }
                </div>
            </section>
            <section class="form-section">
                <h3>{ tr.t("config.section.price") }</h3>
                <div class="form-grid three">
                    <Field label={tr.t("config.input_price")} id="config-input-price" error={error_of("input_price")}>
                        <input class="input" type="number" min="0" step="0.0001" id="config-input-price" data-testid="config-input-price"
                            value={form.input_price.clone()} oninput={on_input(set(|f, v| f.input_price = v))} />
                    </Field>
                    <Field label={tr.t("config.output_price")} id="config-output-price" error={error_of("output_price")}>
                        <input class="input" type="number" min="0" step="0.0001" id="config-output-price" data-testid="config-output-price"
                            value={form.output_price.clone()} oninput={on_input(set(|f, v| f.output_price = v))} />
                    </Field>
                    <Field label={tr.t("config.currency")} id="config-currency" error={error_of("currency")}>
                        <input class="input" id="config-currency" data-testid="config-currency" maxlength="8" list="currencies"
                            value={form.currency.clone()} oninput={on_input(set(|f, v| f.currency = v))} />
                        <datalist id="currencies"><option value="CNY" /><option value="USD" /></datalist>
                    </Field>
                </div>
                <p class="muted small">{ tr.t("config.price_hint") }</p>
            </section>
            <section class="form-section">
                <h3>{ tr.t("config.section.routing") }</h3>
                if let Some(until) = props.config.as_ref().and_then(|c| c.circuit_open_until.clone()) {
                    <Alert kind="warning" testid="circuit-open">{ tr.tf("breaker.open_until", &[("time", &app.datetime(&until))]) }</Alert>
                }
                <div class="form-grid">
                    <FallbackField own={props.config.as_ref().map(|c| c.id)} chosen={form.fallback_config_ids.clone()}
                        configs={props.configs.clone()} error={error_of("fallback_config_ids")} on_change={on_fallbacks} />
                    <Field label={tr.t("config.breaker_threshold")} id="config-breaker-threshold" error={error_of("breaker_threshold")}
                        hint={Some(AttrValue::from(tr.t("config.breaker_threshold_hint")))}>
                        <div class="input-suffix">
                            <input class="input" type="number" min="1" max="100" id="config-breaker-threshold"
                                data-testid="config-breaker-threshold" placeholder={tr.t("config.breaker_off")}
                                value={form.breaker_threshold.clone()} oninput={on_input(set(|f, v| f.breaker_threshold = v))} />
                            <span>{ tr.t("unit.times") }</span>
                        </div>
                    </Field>
                    <Field label={tr.t("config.breaker_cooldown")} id="config-breaker-cooldown" error={error_of("breaker_cooldown_seconds")}
                        hint={Some(AttrValue::from("1 – 3600"))}>
                        <div class="input-suffix">
                            <input class="input" type="number" min="1" max="3600" id="config-breaker-cooldown"
                                data-testid="config-breaker-cooldown" value={form.breaker_cooldown_seconds.clone()}
                                oninput={on_input(set(|f, v| f.breaker_cooldown_seconds = v))} />
                            <span>{ tr.t("unit.seconds") }</span>
                        </div>
                    </Field>
                </div>
            </section>
            <section class="form-section">
                <h3>{ tr.t("config.section.advanced") }</h3>
                <div class="form-grid three">
                    <Field label={tr.t("config.timeout")} id="config-timeout" error={error_of("timeout_seconds")}
                        hint={Some(AttrValue::from("1 – 600"))}>
                        <div class="input-suffix">
                            <input class="input" type="number" min="1" max="600" id="config-timeout" data-testid="config-timeout"
                                value={form.timeout_seconds.clone()} oninput={on_input(set(|f, v| f.timeout_seconds = v))} />
                            <span>{ tr.t("unit.seconds") }</span>
                        </div>
                    </Field>
                    <Field label={tr.t("config.retries")} id="config-retries" error={error_of("max_retries")}
                        hint={Some(AttrValue::from("0 – 10"))}>
                        <div class="input-suffix">
                            <input class="input" type="number" min="0" max="10" id="config-retries" data-testid="config-retries"
                                value={form.max_retries.clone()} oninput={on_input(set(|f, v| f.max_retries = v))} />
                            <span>{ tr.t("unit.times") }</span>
                        </div>
                    </Field>
                    <Field label={tr.t("config.active")} id="config-active">
                        <Switch id="config-active" checked={form.is_active} on_change={on_active}
                            label={if form.is_active { tr.t("common.enabled") } else { tr.t("common.disabled") }} />
                    </Field>
                </div>
            </section>
        </FormDialog>
    }
}

/// What the form opens with: the config, a copy of one under a new name (its key is never
/// known here, so it must be typed), or the defaults.
fn initial_form(props: &ConfigDialogProps, tr: crate::i18n::Tr) -> ConfigForm {
    match (&props.config, &props.copy_of) {
        (Some(config), _) => ConfigForm::from_view(config),
        (None, Some(source)) => ConfigForm {
            name: tr.tf("config.copy_name", &[("name", &source.name)]),
            ..ConfigForm::from_view(source)
        },
        (None, None) => ConfigForm::default(),
    }
}

/// The request field behind a control id.
fn field_of(id: &str) -> &'static str {
    match id {
        "config-max-tokens" => "max_tokens",
        "config-temperature" => "temperature",
        "config-top-p" => "top_p",
        "config-frequency-penalty" => "frequency_penalty",
        "config-presence-penalty" => "presence_penalty",
        _ => "",
    }
}
