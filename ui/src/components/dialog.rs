//! A modal dialog (title bar with close, body, footer), a confirm dialog and the form
//! dialog every create/edit form uses, built on it.

use yew::prelude::*;

use super::icon::Icon;
use super::misc::Alert;
use crate::context::use_app;

#[derive(Properties, PartialEq)]
pub struct DialogProps {
    pub title: AttrValue,
    pub on_close: Callback<()>,
    #[prop_or_default]
    pub children: Html,
    #[prop_or_default]
    pub footer: Html,
    /// `sm`, `md` (default), `lg` or `xl`.
    #[prop_or(AttrValue::Static("md"))]
    pub size: AttrValue,
    /// `data-testid` of the dialog.
    #[prop_or_default]
    pub testid: AttrValue,
}

#[component]
pub fn Dialog(props: &DialogProps) -> Html {
    let app = use_app();
    let close = {
        let on_close = props.on_close.clone();
        Callback::from(move |_: MouseEvent| on_close.emit(()))
    };
    let on_key = {
        let on_close = props.on_close.clone();
        Callback::from(move |e: KeyboardEvent| {
            if e.key() == "Escape" {
                e.stop_propagation();
                on_close.emit(());
            }
        })
    };
    html! {
        <div class="overlay" onkeydown={on_key}>
            <div class={classes!("dialog", format!("dialog-{}", props.size))} role="dialog"
                aria-modal="true" aria-label={props.title.clone()} data-testid={props.testid.clone()}>
                <div class="dialog-head">
                    <h2>{ props.title.clone() }</h2>
                    <button type="button" class="icon-btn" title={app.tr.t("common.close")}
                        aria-label={app.tr.t("common.close")} data-testid="dialog-close" onclick={close}>
                        <Icon name="x" />
                    </button>
                </div>
                <div class="dialog-body">{ props.children.clone() }</div>
                if props.footer != Html::default() {
                    <div class="dialog-foot">{ props.footer.clone() }</div>
                }
            </div>
        </div>
    }
}

#[derive(Properties, PartialEq)]
pub struct ConfirmProps {
    pub title: AttrValue,
    pub message: AttrValue,
    pub on_confirm: Callback<()>,
    pub on_cancel: Callback<()>,
    #[prop_or_default]
    pub confirm_label: Option<AttrValue>,
    #[prop_or(true)]
    pub danger: bool,
    #[prop_or_default]
    pub busy: bool,
}

#[component]
pub fn Confirm(props: &ConfirmProps) -> Html {
    let app = use_app();
    let tr = app.tr;
    let confirm = {
        let cb = props.on_confirm.clone();
        Callback::from(move |_: MouseEvent| cb.emit(()))
    };
    let cancel = {
        let cb = props.on_cancel.clone();
        Callback::from(move |_: MouseEvent| cb.emit(()))
    };
    let label = props
        .confirm_label
        .clone()
        .unwrap_or_else(|| AttrValue::from(tr.t("common.confirm")));
    let footer = html! {
        <>
            <button type="button" class="btn" onclick={cancel} data-testid="confirm-cancel">{ tr.t("common.cancel") }</button>
            <button type="button" class={classes!("btn", if props.danger { "btn-danger" } else { "btn-primary" })}
                onclick={confirm} disabled={props.busy} data-testid="confirm-ok">{ label }</button>
        </>
    };
    html! {
        <Dialog title={props.title.clone()} on_close={props.on_cancel.clone()} size="sm" {footer} testid="confirm-dialog">
            <p class="confirm-text">{ props.message.clone() }</p>
        </Dialog>
    }
}

/// The unsaved-changes guard of a form dialog. Closing (Esc, ✕, 取消) a form whose values
/// differ from what it opened with first asks 「放弃未保存的修改？」; a clean form closes at
/// once. Returns the close request to wire to the dialog and its cancel button, and the
/// question to render (empty while not asking).
#[hook]
pub fn use_close_guard(dirty: bool, on_close: Callback<()>) -> (Callback<()>, Html) {
    let tr = use_app().tr;
    let asking = use_state(|| false);
    let request = {
        let (asking, on_close) = (asking.clone(), on_close.clone());
        Callback::from(move |_: ()| {
            if dirty {
                asking.set(true);
            } else {
                on_close.emit(());
            }
        })
    };
    let question = if *asking {
        let keep = {
            let asking = asking.clone();
            Callback::from(move |_: ()| asking.set(false))
        };
        html! {
            <Confirm title={tr.t("guard.title")} message={tr.t("guard.body")}
                confirm_label={Some(AttrValue::from(tr.t("guard.discard")))}
                on_confirm={on_close} on_cancel={keep} />
        }
    } else {
        Html::default()
    };
    (request, question)
}

#[derive(Properties, PartialEq)]
pub struct FormDialogProps {
    pub title: AttrValue,
    /// Names the dialog's parts: `{name}-dialog`, `-form`, `-save`, `-cancel`, `-error`.
    pub name: AttrValue,
    #[prop_or(AttrValue::Static("md"))]
    pub size: AttrValue,
    /// The form differs from what it opened with: closing asks first.
    pub dirty: bool,
    /// A save is under way: the button waits.
    pub busy: bool,
    /// An error that belongs to no field.
    #[prop_or_default]
    pub banner: Option<String>,
    pub on_save: Callback<()>,
    pub on_close: Callback<()>,
    /// Buttons before 取消 (测试连接).
    #[prop_or_default]
    pub extra: Html,
    pub children: Html,
}

/// A create/edit form in a dialog: the banner for errors of no field, 取消 and 保存 (Enter
/// saves too), and the unsaved-changes guard on Esc, ✕ and 取消.
#[component]
pub fn FormDialog(props: &FormDialogProps) -> Html {
    let tr = use_app().tr;
    let (request_close, question) = use_close_guard(props.dirty, props.on_close.clone());
    let name = &props.name;
    let form_id = format!("{name}-form");
    let submit = {
        let on_save = props.on_save.clone();
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            on_save.emit(());
        })
    };
    let cancel = {
        let request_close = request_close.clone();
        Callback::from(move |_: MouseEvent| request_close.emit(()))
    };
    let footer = html! {
        <>
            { props.extra.clone() }
            <span class="spacer"></span>
            <button type="button" class="btn" onclick={cancel} data-testid={format!("{name}-cancel")}>{ tr.t("common.cancel") }</button>
            <button type="submit" form={form_id.clone()} class="btn btn-primary" disabled={props.busy}
                data-testid={format!("{name}-save")} id={format!("{name}-save")}>
                if props.busy { <span class="spinner"></span> }
                { tr.t("common.save") }
            </button>
        </>
    };
    html! {
        <Dialog title={props.title.clone()} on_close={request_close} size={props.size.clone()} {footer}
            testid={format!("{name}-dialog")}>
            { question }
            if let Some(message) = props.banner.clone() {
                <Alert testid={format!("{name}-error")}>{ message }</Alert>
            }
            <form id={form_id} onsubmit={submit} novalidate=true>{ props.children.clone() }</form>
        </Dialog>
    }
}
