//! 备用配置: the configs tried, in order, when this one fails before answering. The server
//! refuses a cycle (and says so on the field); the picker already leaves out the config
//! itself and those already chosen.

use yew::prelude::*;

use crate::api::models::ConfigView;
use crate::components::form::{Field, on_select};
use crate::components::icon::Icon;
use crate::context::use_app;

/// The server's limit.
const MAX_FALLBACKS: usize = 5;

/// The configs that may still be added: not the config itself, not already chosen.
pub fn candidates<'a>(
    own: Option<i32>,
    chosen: &[i32],
    configs: &'a [ConfigView],
) -> Vec<&'a ConfigView> {
    configs
        .iter()
        .filter(|c| Some(c.id) != own && !chosen.contains(&c.id))
        .collect()
}

/// `list` with the entry at `index` moved one place earlier (`up`) or later.
pub fn moved(list: &[i32], index: usize, up: bool) -> Vec<i32> {
    let mut out = list.to_vec();
    let other = if up {
        index.checked_sub(1)
    } else {
        Some(index + 1)
    };
    if let Some(other) = other.filter(|o| *o < out.len() && index < out.len()) {
        out.swap(index, other);
    }
    out
}

#[derive(Properties, PartialEq)]
pub struct FallbackFieldProps {
    /// The config being edited (None = a new one).
    pub own: Option<i32>,
    pub chosen: Vec<i32>,
    pub configs: Vec<ConfigView>,
    #[prop_or_default]
    pub error: Option<String>,
    pub on_change: Callback<Vec<i32>>,
}

#[component]
pub fn FallbackField(props: &FallbackFieldProps) -> Html {
    let tr = use_app().tr;
    // The config picked in the select, added by the button.
    let pick = use_state(String::new);
    let name_of = |id: i32| {
        props
            .configs
            .iter()
            .find(|c| c.id == id)
            .map(|c| c.name.clone())
            .unwrap_or_else(|| format!("#{id}"))
    };
    let last = props.chosen.len().saturating_sub(1);
    let rows = props.chosen.iter().enumerate().map(|(index, id)| {
        let change = |next: Vec<i32>| {
            let cb = props.on_change.clone();
            Callback::from(move |_: MouseEvent| cb.emit(next.clone()))
        };
        let removed: Vec<i32> = props.chosen.iter().copied().filter(|c| c != id).collect();
        html! {
            <li class="fallback-row" key={*id} data-testid={format!("fallback-{id}")}>
                <span class="fallback-order">{ index + 1 }</span>
                <span class="fallback-name">{ name_of(*id) }</span>
                <button type="button" class="icon-btn" title={tr.t("fallback.up")} aria-label={tr.t("fallback.up")}
                    disabled={index == 0} onclick={change(moved(&props.chosen, index, true))}
                    data-testid={format!("fallback-up-{id}")}><Icon name="up" /></button>
                <button type="button" class="icon-btn" title={tr.t("fallback.down")} aria-label={tr.t("fallback.down")}
                    disabled={index == last} onclick={change(moved(&props.chosen, index, false))}
                    data-testid={format!("fallback-down-{id}")}><Icon name="down" /></button>
                <button type="button" class="icon-btn" title={tr.t("common.delete")} aria-label={tr.t("common.delete")}
                    onclick={change(removed)} data-testid={format!("fallback-remove-{id}")}><Icon name="x" /></button>
            </li>
        }
    });
    let on_pick = {
        let pick = pick.clone();
        on_select(Callback::from(move |value: String| pick.set(value)))
    };
    let add = {
        let (cb, chosen, pick) = (props.on_change.clone(), props.chosen.clone(), pick.clone());
        Callback::from(move |_: MouseEvent| {
            if let Ok(id) = pick.parse::<i32>() {
                let mut next = chosen.clone();
                next.push(id);
                pick.set(String::new());
                cb.emit(next);
            }
        })
    };
    let options = candidates(props.own, &props.chosen, &props.configs);
    html! {
        <Field label={tr.t("fallback.label")} id="config-fallback-add" error={props.error.clone()} class="span-2"
            hint={Some(AttrValue::from(tr.t("fallback.hint")))}>
            <ol class="fallback-list" data-testid="fallback-list">{ for rows }</ol>
            if props.chosen.len() < MAX_FALLBACKS && !options.is_empty() {
                <div class="input-group">
                    <select class="select" id="config-fallback-add" data-testid="config-fallback-add" onchange={on_pick}>
                        <option value="" selected={pick.is_empty()}>{ tr.t("fallback.pick") }</option>
                        { for options.iter().map(|c| html! {
                            <option value={c.id.to_string()} selected={*pick == c.id.to_string()}>{ c.name.clone() }</option>
                        }) }
                    </select>
                    <button type="button" class="btn" onclick={add} disabled={pick.is_empty()}
                        data-testid="config-fallback-add-btn">
                        <Icon name="plus" />{ tr.t("fallback.add") }
                    </button>
                </div>
            }
        </Field>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offers_neither_itself_nor_the_chosen_and_moves_in_order() {
        let configs: Vec<ConfigView> = (1..=4)
            .map(|id| ConfigView {
                id,
                ..ConfigView::default()
            })
            .collect();
        let ids = |list: Vec<&ConfigView>| list.iter().map(|c| c.id).collect::<Vec<_>>();
        assert_eq!(ids(candidates(Some(2), &[4], &configs)), vec![1, 3]);
        assert_eq!(ids(candidates(None, &[], &configs)), vec![1, 2, 3, 4]);
        assert_eq!(moved(&[1, 2, 3], 2, true), vec![1, 3, 2]);
        assert_eq!(moved(&[1, 2, 3], 0, false), vec![2, 1, 3]);
        assert_eq!(moved(&[1, 2, 3], 0, true), vec![1, 2, 3]);
        assert_eq!(moved(&[1, 2, 3], 2, false), vec![1, 2, 3]);
    }
}
