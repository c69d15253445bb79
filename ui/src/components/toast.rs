//! Notifications in the top-right corner; errors stay longer and can be closed.

use yew::prelude::*;

use super::icon::Icon;
use crate::context::{Notice, NoticeKind};

#[derive(Properties, PartialEq)]
pub struct ToastsProps {
    pub items: Vec<(u32, Notice)>,
    pub on_close: Callback<u32>,
}

#[component]
pub fn Toasts(props: &ToastsProps) -> Html {
    html! {
        <div class="toasts" aria-live="polite" data-testid="toasts">
            { for props.items.iter().map(|(id, notice)| {
                let id = *id;
                let on_close = props.on_close.clone();
                let (class, icon) = match notice.kind {
                    NoticeKind::Success => ("toast toast-success", "check-circle"),
                    NoticeKind::Error => ("toast toast-error", "alert"),
                };
                html! {
                    <div key={id} class={class} role={if notice.kind == NoticeKind::Error { "alert" } else { "status" }}>
                        <Icon name={icon} />
                        <span class="toast-text">{ notice.text.clone() }</span>
                        <button type="button" class="icon-btn" aria-label="close"
                            onclick={Callback::from(move |_| on_close.emit(id))}>
                            <Icon name="x" />
                        </button>
                    </div>
                }
            }) }
        </div>
    }
}
