//! Sign-in: username and password → token (localStorage, see `session`) and role.

use serde_json::json;
use yew::platform::spawn_local;
use yew::prelude::*;

use crate::api::Api;
use crate::api::models::LoginResult;
use crate::components::form::on_input;
use crate::components::icon::Icon;
use crate::components::misc::Alert;
use crate::context::use_app;
use crate::i18n::Lang;
use crate::session::{Role, Session};

#[derive(Properties, PartialEq)]
pub struct LoginProps {
    /// i18n key of a message to show first ("登录已过期，请重新登录").
    #[prop_or_default]
    pub flash: Option<&'static str>,
}

#[component]
pub fn LoginPage(props: &LoginProps) -> Html {
    let app = use_app();
    let tr = app.tr;
    let username = use_state(String::new);
    let password = use_state(String::new);
    let error = use_state(|| None::<String>);
    let busy = use_state(|| false);

    let onsubmit = {
        let (username, password, error, busy) = (
            username.clone(),
            password.clone(),
            error.clone(),
            busy.clone(),
        );
        let login = app.login.clone();
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            if *busy {
                return;
            }
            let name = username.trim().to_string();
            if name.is_empty() || password.is_empty() {
                error.set(Some(tr.t("login.missing").to_string()));
                return;
            }
            busy.set(true);
            error.set(None);
            let body = json!({ "username": name, "password": *password });
            let (error, busy, login) = (error.clone(), busy.clone(), login.clone());
            spawn_local(async move {
                let result = Api::anonymous()
                    .post::<LoginResult>("/api/auth/login", &body)
                    .await;
                busy.set(false);
                match result {
                    Ok(answer) => match Role::parse(&answer.role) {
                        Some(role) => login.emit(Session {
                            token: answer.token,
                            role,
                            username: name,
                            expires_at: answer.expires_at,
                        }),
                        None => error.set(Some(tr.t("login.bad_role").to_string())),
                    },
                    Err(err) => error.set(Some(err.display(tr))),
                }
            });
        })
    };
    let switch_lang = {
        let cb = app.set_lang.clone();
        let next = match tr.0 {
            Lang::Zh => Lang::En,
            Lang::En => Lang::Zh,
        };
        Callback::from(move |_: MouseEvent| cb.emit(next))
    };

    html! {
        <div class="login-page">
            <button type="button" class="btn btn-ghost btn-sm login-lang" onclick={switch_lang} data-testid="lang-switch">
                <Icon name="globe" />{ tr.t("lang.other") }
            </button>
            <form class="login-card" {onsubmit} data-testid="login-form" novalidate=true>
                <div class="login-brand">
                    <span class="brand-logo big"><Icon name="bot" /></span>
                    <h1>{ tr.t("login.title") }</h1>
                    <p class="muted">{ tr.t("login.subtitle") }</p>
                </div>
                if let (Some(key), None) = (props.flash, (*error).as_ref()) {
                    <Alert kind="info" testid="login-flash">{ tr.t(key) }</Alert>
                }
                if let Some(message) = (*error).clone() {
                    <Alert testid="login-error">{ message }</Alert>
                }
                <label class="login-field">
                    <span>{ tr.t("login.username") }</span>
                    <div class="input-icon">
                        <Icon name="user" />
                        <input class="input" id="login-username" data-testid="login-username" autocomplete="username"
                            value={(*username).clone()} oninput={on_input(Callback::from(move |v| username.set(v)))} />
                    </div>
                </label>
                <label class="login-field">
                    <span>{ tr.t("login.password") }</span>
                    <div class="input-icon">
                        <Icon name="lock" />
                        <input class="input" type="password" id="login-password" data-testid="login-password"
                            autocomplete="current-password" value={(*password).clone()}
                            oninput={on_input(Callback::from(move |v| password.set(v)))} />
                    </div>
                </label>
                <button type="submit" class="btn btn-primary btn-block" disabled={*busy} data-testid="login-submit">
                    if *busy { <span class="spinner"></span> }
                    { tr.t("login.submit") }
                </button>
            </form>
        </div>
    }
}
