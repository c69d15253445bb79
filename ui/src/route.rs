//! The pages, under the `/admin` base path the server serves the UI at.

use yew_router::Routable;

pub const BASENAME: &str = "/admin";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Routable)]
pub enum Route {
    #[at("/")]
    Home,
    #[at("/login")]
    Login,
    #[at("/llm-config")]
    Configs,
    #[at("/llm-logs")]
    Logs,
    #[at("/llm-stats")]
    Stats,
    #[at("/groups")]
    Groups,
    #[at("/activation-codes")]
    Codes,
    #[at("/api-keys")]
    ApiKeys,
    #[at("/users")]
    Users,
    #[at("/settings")]
    Settings,
    #[at("/alerts")]
    Alerts,
    #[not_found]
    #[at("/404")]
    NotFound,
}

impl Route {
    /// i18n key of the page title.
    pub fn title(self) -> &'static str {
        match self {
            Self::Home => "nav.dashboard",
            Self::Configs => "nav.configs",
            Self::Login => "login.title",
            Self::Logs => "nav.logs",
            Self::Stats => "nav.stats",
            Self::Groups => "nav.groups",
            Self::Codes => "nav.codes",
            Self::ApiKeys => "nav.api_keys",
            Self::Users => "nav.users",
            Self::Settings => "nav.settings",
            Self::Alerts => "nav.alerts",
            Self::NotFound => "notfound.title",
        }
    }
}
