//! Form pieces: a labelled field with its error, text/number inputs, a slider bound to a
//! number box, a switch, and a select.

use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct FieldProps {
    pub label: AttrValue,
    /// The `id` of the control, for the label's `for`.
    #[prop_or_default]
    pub id: AttrValue,
    #[prop_or_default]
    pub error: Option<String>,
    #[prop_or_default]
    pub hint: Option<AttrValue>,
    #[prop_or_default]
    pub required: bool,
    #[prop_or_default]
    pub children: Html,
    #[prop_or_default]
    pub class: Classes,
}

#[component]
pub fn Field(props: &FieldProps) -> Html {
    html! {
        <div class={classes!("field", props.error.is_some().then_some("has-error"), props.class.clone())}>
            <label class="field-label" for={props.id.clone()}>
                { props.label.clone() }
                if props.required { <span class="req">{ "*" }</span> }
            </label>
            <div class="field-control">
                { props.children.clone() }
                if let Some(error) = &props.error {
                    <div class="field-error" data-testid={format!("error-{}", props.id)} role="alert">{ error.clone() }</div>
                } else if let Some(hint) = &props.hint {
                    <div class="field-hint">{ hint.clone() }</div>
                }
            </div>
        </div>
    }
}

/// An `oninput` handler that passes the input's new value.
pub fn on_input(cb: Callback<String>) -> Callback<InputEvent> {
    Callback::from(move |e: InputEvent| {
        let input: web_sys::HtmlInputElement = e.target_unchecked_into();
        cb.emit(input.value());
    })
}

/// An `oninput` handler for a textarea.
pub fn on_textarea(cb: Callback<String>) -> Callback<InputEvent> {
    Callback::from(move |e: InputEvent| {
        let area: web_sys::HtmlTextAreaElement = e.target_unchecked_into();
        cb.emit(area.value());
    })
}

/// An `onchange` handler for a select.
pub fn on_select(cb: Callback<String>) -> Callback<Event> {
    Callback::from(move |e: Event| {
        let select: web_sys::HtmlSelectElement = e.target_unchecked_into();
        cb.emit(select.value());
    })
}

#[derive(Properties, PartialEq)]
pub struct SliderProps {
    pub id: AttrValue,
    pub value: AttrValue,
    pub min: f64,
    pub max: f64,
    pub step: f64,
    pub on_change: Callback<String>,
}

/// A range slider and a number box showing the same value; either may be used.
#[component]
pub fn Slider(props: &SliderProps) -> Html {
    let parsed: Option<f64> = props.value.trim().parse().ok();
    let slider_value = parsed
        .map(|v| v.clamp(props.min, props.max))
        .unwrap_or(props.min)
        .to_string();
    html! {
        <div class="slider">
            <input type="range" min={props.min.to_string()} max={props.max.to_string()}
                step={props.step.to_string()} value={slider_value}
                aria-label={props.id.clone()} data-testid={format!("{}-range", props.id)}
                oninput={on_input(props.on_change.clone())} />
            <input type="number" class="input input-num" id={props.id.clone()} min={props.min.to_string()}
                max={props.max.to_string()} step={props.step.to_string()} value={props.value.clone()}
                data-testid={props.id.clone()} oninput={on_input(props.on_change.clone())} />
        </div>
    }
}

#[derive(Properties, PartialEq)]
pub struct SwitchProps {
    pub checked: bool,
    pub on_change: Callback<bool>,
    #[prop_or_default]
    pub id: AttrValue,
    #[prop_or_default]
    pub label: AttrValue,
    #[prop_or_default]
    pub disabled: bool,
}

#[component]
pub fn Switch(props: &SwitchProps) -> Html {
    let onchange = {
        let cb = props.on_change.clone();
        Callback::from(move |e: Event| {
            let input: web_sys::HtmlInputElement = e.target_unchecked_into();
            cb.emit(input.checked());
        })
    };
    html! {
        <label class="switch">
            <input type="checkbox" id={props.id.clone()} checked={props.checked} disabled={props.disabled}
                data-testid={props.id.clone()} {onchange} />
            <span class="switch-track"><span class="switch-thumb"></span></span>
            if !props.label.is_empty() { <span class="switch-label">{ props.label.clone() }</span> }
        </label>
    }
}
