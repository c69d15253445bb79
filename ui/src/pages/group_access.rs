//! Which configs a group's clients may use: 「全部已启用的配置」 or a ticked list.

use yew::prelude::*;

use crate::api::models::ConfigView;
use crate::components::form::Field;
use crate::components::misc::Badge;
use crate::context::use_app;

#[derive(Properties, PartialEq)]
pub struct AccessFieldProps {
    pub all: bool,
    /// The ticked configs (when not `all`).
    pub chosen: Vec<i32>,
    pub configs: Vec<ConfigView>,
    #[prop_or_default]
    pub error: Option<String>,
    pub on_all: Callback<bool>,
    pub on_toggle: Callback<(i32, bool)>,
}

#[component]
pub fn AccessField(props: &AccessFieldProps) -> Html {
    let tr = use_app().tr;
    let radio = |all: bool, testid: &'static str, label: &'static str| {
        let on_all = props.on_all.clone();
        html! {
            <label class="choice">
                <input type="radio" name="group-access" checked={props.all == all} data-testid={testid}
                    onchange={Callback::from(move |_: Event| on_all.emit(all))} />
                <span>{ tr.t(label) }</span>
            </label>
        }
    };
    let boxes = props.configs.iter().map(|config| {
        let (id, on_toggle) = (config.id, props.on_toggle.clone());
        let onchange = Callback::from(move |e: Event| {
            let input: web_sys::HtmlInputElement = e.target_unchecked_into();
            on_toggle.emit((id, input.checked()));
        });
        html! {
            <label class="choice" key={id}>
                <input type="checkbox" checked={props.chosen.contains(&id)}
                    data-testid={format!("group-config-{id}")} {onchange} />
                <span>{ config.name.clone() }</span>
                if !config.is_active { <Badge tone="gray">{ tr.t("common.disabled") }</Badge> }
            </label>
        }
    });
    html! {
        <Field label={tr.t("group.access")} id="group-access" error={props.error.clone()}
            hint={Some(AttrValue::from(tr.t("group.access_hint")))}>
            <div class="choices" data-testid="group-access">
                { radio(true, "group-access-all", "group.access_all") }
                { radio(false, "group-access-only", "group.access_only") }
            </div>
            if !props.all {
                <div class="choice-list" data-testid="group-config-list">
                    { for boxes }
                    if props.configs.is_empty() { <span class="muted small">{ tr.t("group.no_configs") }</span> }
                </div>
            }
        </Field>
    }
}
