//! The llm-proxy admin UI: a Yew single-page app that trunk builds into `../assets`, which
//! the server embeds and serves at `/admin/`. Logic that needs no browser (envelopes, forms,
//! templates, formatting, i18n) lives in plain modules with host-run unit tests.

mod api;
mod app;
mod chart;
mod components;
mod config_form;
mod context;
mod dates;
mod format;
mod forms;
mod group_form;
mod hooks;
mod i18n;
mod pages;
mod platform;
mod providers;
mod query;
mod rates_form;
mod route;
mod session;
mod template;

fn main() {
    yew::Renderer::<app::App>::new().render();
}
