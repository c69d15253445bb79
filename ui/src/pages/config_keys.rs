//! A config's keys as the admin sees them: masked, and whether calls use them (正常, 已搁置
//! with the upstream's reason and time, 冷却中 until when), with 恢复 for a key set aside;
//! and the one-line summary the config list shows.

use serde_json::json;
use yew::platform::spawn_local;
use yew::prelude::*;

use crate::api::models::{ConfigView, KeyView};
use crate::components::icon::Icon;
use crate::components::misc::Badge;
use crate::context::use_app;

/// How many keys a config has, and how many calls do not use (set aside) or try last (cooling).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct KeyCounts {
    pub total: usize,
    pub set_aside: usize,
    pub cooling: usize,
}

impl KeyCounts {
    pub fn of(keys: &[KeyView]) -> Self {
        Self {
            total: keys.len(),
            set_aside: keys.iter().filter(|k| k.set_aside).count(),
            // A key set aside is not used at all: its cooling does not matter.
            cooling: keys
                .iter()
                .filter(|k| !k.set_aside && k.cooling_until.is_some())
                .count(),
        }
    }
}

#[derive(Properties, PartialEq)]
pub struct KeyStatesProps {
    pub config_id: i32,
    pub keys: Vec<KeyView>,
    /// The config as the server has it after a key was put back.
    pub on_restored: Callback<ConfigView>,
}

#[component]
pub fn KeyStates(props: &KeyStatesProps) -> Html {
    let app = use_app();
    let tr = app.tr;
    let busy = use_state(|| None::<i32>);
    let restore = {
        let (app, busy, on_restored) = (app.clone(), busy.clone(), props.on_restored.clone());
        let id = props.config_id;
        Callback::from(move |key: KeyView| {
            let (app, busy, on_restored) = (app.clone(), busy.clone(), on_restored.clone());
            busy.set(Some(key.position));
            spawn_local(async move {
                let path = format!("/api/admin/llm/configs/{id}/keys/{}/restore", key.position);
                let result = app.api.post::<ConfigView>(&path, &json!({})).await;
                busy.set(None);
                match result {
                    Ok(config) => {
                        app.success(app.tr.tf("key.restored", &[("key", &key.masked)]));
                        on_restored.emit(config);
                    }
                    Err(err) => app.api_error(&err),
                }
            });
        })
    };
    let rows = props.keys.iter().map(|key| {
        let position = key.position;
        let state = if key.set_aside {
            let when = key.set_aside_at.as_deref().map(|t| app.datetime(t)).unwrap_or_default();
            let restore = restore.clone();
            let key_view = key.clone();
            html! {
                <>
                    <Badge tone="red">{ tr.t("key.set_aside") }</Badge>
                    <span class="muted small key-reason" data-testid={format!("key-reason-{position}")}>
                        { tr.tf("key.set_aside_detail", &[("reason", key.reason.as_deref().unwrap_or("-")), ("time", &when)]) }
                    </span>
                    <button type="button" class="btn btn-sm" data-testid={format!("key-restore-{position}")}
                        disabled={*busy == Some(position)}
                        onclick={Callback::from(move |_: MouseEvent| restore.emit(key_view.clone()))}>
                        <Icon name="refresh" />{ tr.t("key.restore") }
                    </button>
                </>
            }
        } else if let Some(until) = &key.cooling_until {
            html! {
                <Badge tone="amber">{ tr.tf("key.cooling_until", &[("time", &app.datetime(until))]) }</Badge>
            }
        } else {
            html! { <Badge tone="green">{ tr.t("key.healthy") }</Badge> }
        };
        html! {
            <li class="key-row" key={position} data-testid={format!("key-state-{position}")}>
                <code class="mask">{ key.masked.clone() }</code>
                { state }
            </li>
        }
    });
    html! {
        <ul class="key-list" data-testid="api-key-states">{ for rows }</ul>
    }
}

#[derive(Properties, PartialEq)]
pub struct KeySummaryProps {
    pub keys: Vec<KeyView>,
}

/// The config list's line: 「2 个 Key」 and what is set aside or cooling.
#[component]
pub fn KeySummary(props: &KeySummaryProps) -> Html {
    let tr = use_app().tr;
    let counts = KeyCounts::of(&props.keys);
    let n = |v: usize| v.to_string();
    html! {
        <span class="key-summary">
            <span>{ tr.tf("key.count", &[("n", &n(counts.total))]) }</span>
            if counts.set_aside > 0 {
                <Badge tone="red">{ tr.tf("key.count_set_aside", &[("n", &n(counts.set_aside))]) }</Badge>
            }
            if counts.cooling > 0 {
                <Badge tone="amber">{ tr.tf("key.count_cooling", &[("n", &n(counts.cooling))]) }</Badge>
            }
        </span>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_keys_by_state() {
        let key = |set_aside: bool, cooling: bool| KeyView {
            set_aside,
            cooling_until: cooling.then(|| "2026-11-30T10:00:00Z".into()),
            ..KeyView::default()
        };
        let counts = KeyCounts::of(&[key(false, false), key(true, true), key(false, true)]);
        assert_eq!(
            counts,
            KeyCounts {
                total: 3,
                set_aside: 1,
                cooling: 1
            }
        );
        assert_eq!(KeyCounts::of(&[]), KeyCounts::default());
    }
}
