//! 修改密码 from the header's account menu, for every signed-in account: the current
//! password and the new one twice. The server revokes every other session and answers a
//! fresh token, which replaces this tab's (and, through localStorage, every tab's).

use std::collections::HashMap;

use serde_json::json;
use yew::platform::spawn_local;
use yew::prelude::*;

use crate::api::models::LoginResult;
use crate::components::dialog::FormDialog;
use crate::components::form::{Field, on_input};
use crate::context::use_app;
use crate::session::Session;

#[derive(Properties, PartialEq)]
pub struct PasswordDialogProps {
    pub on_close: Callback<()>,
}

/// Fields the server may name in a 422.
const FIELDS: [&str; 2] = ["old_password", "new_password"];

#[component]
pub fn PasswordDialog(props: &PasswordDialogProps) -> Html {
    let app = use_app();
    let tr = app.tr;
    let old = use_state(String::new);
    let new = use_state(String::new);
    let again = use_state(String::new);
    let errors = use_state(HashMap::<&'static str, String>::new);
    let banner = use_state(|| None::<String>);
    let busy = use_state(|| false);

    let save = {
        let (old, new, again, errors, banner, busy, app) = (
            old.clone(),
            new.clone(),
            again.clone(),
            errors.clone(),
            banner.clone(),
            busy.clone(),
            app.clone(),
        );
        let on_close = props.on_close.clone();
        Callback::from(move |_: ()| {
            if *busy {
                return;
            }
            // Every plain mistake at once, each at its field.
            let mut found = HashMap::new();
            if old.is_empty() {
                found.insert("old_password", tr.t("password.old_missing").to_string());
            }
            if new.chars().count() < 8 {
                found.insert("new_password", tr.t("password.too_short").to_string());
            }
            if *again != *new {
                found.insert("confirm_password", tr.t("password.mismatch").to_string());
            }
            errors.set(found.clone());
            banner.set(None);
            if !found.is_empty() {
                return;
            }
            busy.set(true);
            let body = json!({ "old_password": *old, "new_password": *new });
            let (errors, banner, busy, app, on_close) = (
                errors.clone(),
                banner.clone(),
                busy.clone(),
                app.clone(),
                on_close.clone(),
            );
            spawn_local(async move {
                let result = app
                    .api
                    .post::<LoginResult>("/api/auth/change-password", &body)
                    .await;
                busy.set(false);
                match (result, app.session.clone()) {
                    (Ok(answer), Some(session)) => {
                        app.login.emit(Session {
                            token: answer.token,
                            expires_at: answer.expires_at,
                            ..session
                        });
                        app.success(app.tr.t("password.changed"));
                        on_close.emit(());
                    }
                    (Ok(_), None) => on_close.emit(()),
                    (Err(err), _) => {
                        let message = err.display(app.tr);
                        match err.field().and_then(|f| FIELDS.iter().find(|k| **k == f)) {
                            Some(field) => errors.set(HashMap::from([(*field, message)])),
                            None if !err.is_unauthorized() => banner.set(Some(message)),
                            None => {}
                        }
                    }
                }
            });
        })
    };
    let dirty = !old.is_empty() || !new.is_empty() || !again.is_empty();
    let input = |id: &'static str,
                 field: &'static str,
                 label: &'static str,
                 value: &UseStateHandle<String>| {
        let setter = value.clone();
        let errors_now = errors.clone();
        html! {
            <Field label={tr.t(label)} id={id} required=true error={errors.get(field).cloned()} class="stacked">
                <input class="input" type="password" id={id} data-testid={id} autocomplete={if field == "old_password" { "current-password" } else { "new-password" }}
                    value={(**value).clone()} oninput={on_input(Callback::from(move |v: String| {
                        setter.set(v);
                        if errors_now.contains_key(field) {
                            let mut next = (*errors_now).clone();
                            next.remove(field);
                            errors_now.set(next);
                        }
                    }))} />
            </Field>
        }
    };
    html! {
        <FormDialog title={tr.t("password.title")} name="password" size="sm" {dirty} busy={*busy}
            banner={(*banner).clone()} on_save={save} on_close={props.on_close.clone()}>
            { input("password-old", "old_password", "password.old", &old) }
            { input("password-new", "new_password", "password.new", &new) }
            { input("password-confirm", "confirm_password", "password.confirm", &again) }
            <p class="muted small">{ tr.t("password.hint") }</p>
        </FormDialog>
    }
}
