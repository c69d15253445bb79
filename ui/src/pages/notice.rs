//! What a signed-in non-admin sees (the back office has nothing for them), and the 404 page.

use yew::prelude::*;
use yew_router::prelude::*;

use crate::components::icon::Icon;
use crate::context::use_app;
use crate::route::Route;

#[component]
pub fn NoAccessPage() -> Html {
    let app = use_app();
    let tr = app.tr;
    let role = app
        .session
        .as_ref()
        .map(|s| tr.t(s.role.label()))
        .unwrap_or_default();
    let logout = {
        let cb = app.logout.clone();
        Callback::from(move |_: MouseEvent| cb.emit(()))
    };
    html! {
        <div class="notice-page" data-testid="no-access">
            <div class="notice-card">
                <span class="notice-icon"><Icon name="info" /></span>
                <h2>{ tr.t("noaccess.title") }</h2>
                <p>{ tr.tf("noaccess.body", &[("role", role)]) }</p>
                <p class="muted">{ tr.t("noaccess.client") }</p>
                <button type="button" class="btn" onclick={logout} data-testid="noaccess-logout">
                    <Icon name="logout" />{ tr.t("auth.logout") }
                </button>
            </div>
        </div>
    }
}

#[component]
pub fn NotFoundPage() -> Html {
    let tr = use_app().tr;
    html! {
        <div class="notice-page" data-testid="not-found">
            <div class="notice-card">
                <span class="notice-icon"><Icon name="alert" /></span>
                <h2>{ tr.t("notfound.title") }</h2>
                <p class="muted">{ tr.t("notfound.body") }</p>
                <Link<Route> to={Route::Home} classes="btn btn-primary">{ tr.t("notfound.home") }</Link<Route>>
            </div>
        </div>
    }
}
