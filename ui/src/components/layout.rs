//! The frame around every signed-in page: sidebar menu (LLM pages for admins only),
//! header with the page title, language switch and the account.

use yew::prelude::*;
use yew_router::prelude::*;

use super::icon::Icon;
use crate::context::use_app;
use crate::i18n::Lang;
use crate::pages::password::PasswordDialog;
use crate::route::Route;

struct MenuItem {
    route: Route,
    icon: &'static str,
    testid: &'static str,
}

const LLM_MENU: [MenuItem; 5] = [
    MenuItem {
        route: Route::Home,
        icon: "home",
        testid: "nav-dashboard",
    },
    MenuItem {
        route: Route::Configs,
        icon: "cpu",
        testid: "nav-configs",
    },
    MenuItem {
        route: Route::Logs,
        icon: "list",
        testid: "nav-logs",
    },
    MenuItem {
        route: Route::Stats,
        icon: "chart",
        testid: "nav-stats",
    },
    MenuItem {
        route: Route::Alerts,
        icon: "alert",
        testid: "nav-alerts",
    },
];

const ACCOUNT_MENU: [MenuItem; 4] = [
    MenuItem {
        route: Route::Groups,
        icon: "layers",
        testid: "nav-groups",
    },
    MenuItem {
        route: Route::Codes,
        icon: "key",
        testid: "nav-codes",
    },
    MenuItem {
        route: Route::ApiKeys,
        icon: "lock",
        testid: "nav-api-keys",
    },
    MenuItem {
        route: Route::Users,
        icon: "users",
        testid: "nav-users",
    },
];

const SYSTEM_MENU: [MenuItem; 1] = [MenuItem {
    route: Route::Settings,
    icon: "settings",
    testid: "nav-settings",
}];

#[derive(Properties, PartialEq)]
pub struct LayoutProps {
    pub route: Route,
    #[prop_or_default]
    pub children: Html,
}

#[component]
pub fn Layout(props: &LayoutProps) -> Html {
    let app = use_app();
    let tr = app.tr;
    let is_admin = app.session.as_ref().is_some_and(|s| s.is_admin());
    let current = props.route;
    let menu = |items: &[MenuItem]| {
        items
            .iter()
            .map(|item| {
                html! {
                    <Link<Route> to={item.route}
                        classes={classes!("nav-item", (item.route == current).then_some("active"))}>
                        <span data-testid={item.testid} class="nav-inner">
                            <Icon name={item.icon} />
                            <span>{ tr.t(item.route.title()) }</span>
                        </span>
                    </Link<Route>>
                }
            })
            .collect::<Html>()
    };
    let menu_open = use_state(|| false);
    let password_open = use_state(|| false);
    let toggle_menu = {
        let menu_open = menu_open.clone();
        Callback::from(move |_: MouseEvent| menu_open.set(!*menu_open))
    };
    let close_menu = {
        let menu_open = menu_open.clone();
        Callback::from(move |_: MouseEvent| menu_open.set(false))
    };
    let open_password = {
        let (menu_open, password_open) = (menu_open.clone(), password_open.clone());
        Callback::from(move |_: MouseEvent| {
            menu_open.set(false);
            password_open.set(true);
        })
    };
    let close_password = {
        let password_open = password_open.clone();
        Callback::from(move |_: ()| password_open.set(false))
    };
    let logout = {
        let cb = app.logout.clone();
        Callback::from(move |_: MouseEvent| cb.emit(()))
    };
    let switch_lang = {
        let cb = app.set_lang.clone();
        let next = match tr.0 {
            Lang::Zh => Lang::En,
            Lang::En => Lang::Zh,
        };
        Callback::from(move |_: MouseEvent| cb.emit(next))
    };
    let (username, role) = app
        .session
        .as_ref()
        .map(|s| (s.username.clone(), tr.t(s.role.label())))
        .unwrap_or_default();
    html! {
        <div class="shell">
            <aside class="sidebar" data-testid="sidebar">
                <div class="brand">
                    <span class="brand-logo"><Icon name="bot" /></span>
                    <span class="brand-text">{ "LLM Proxy" }<small>{ tr.t("app.subtitle") }</small></span>
                </div>
                <nav class="nav">
                    if is_admin {
                        <div class="nav-group">{ tr.t("nav.group.llm") }</div>
                        { menu(&LLM_MENU) }
                        <div class="nav-group">{ tr.t("nav.group.accounts") }</div>
                        { menu(&ACCOUNT_MENU) }
                        <div class="nav-group">{ tr.t("nav.group.system") }</div>
                        { menu(&SYSTEM_MENU) }
                    }
                </nav>
                <div class="sidebar-foot">
                    <a href="/swagger" target="_blank" rel="noopener" class="nav-link-muted">{ tr.t("nav.api_docs") }</a>
                </div>
            </aside>
            <div class="main">
                <header class="topbar">
                    <h1 class="page-title" data-testid="page-title">
                        { if is_admin { tr.t(current.title()) } else { tr.t("app.title") } }
                    </h1>
                    <div class="topbar-actions">
                        <button type="button" class="btn btn-ghost btn-sm" onclick={switch_lang} data-testid="lang-switch"
                            title={tr.t("lang.switch")}>
                            <Icon name="globe" />{ tr.t("lang.other") }
                        </button>
                        <div class="account-wrap">
                            <button type="button" class="account" data-testid="account" onclick={toggle_menu}
                                aria-haspopup="menu" aria-expanded={menu_open.to_string()} title={tr.t("account.menu")}>
                                <span class="avatar"><Icon name="user" /></span>
                                <span class="account-name">{ username }</span>
                                <span class="account-role">{ role }</span>
                            </button>
                            if *menu_open {
                                <div class="menu-backdrop" onclick={close_menu}></div>
                                <div class="account-menu" role="menu" data-testid="account-menu">
                                    <button type="button" role="menuitem" onclick={open_password} data-testid="change-password">
                                        <Icon name="lock" />{ tr.t("password.title") }
                                    </button>
                                    <button type="button" role="menuitem" onclick={logout} data-testid="logout">
                                        <Icon name="logout" />{ tr.t("auth.logout") }
                                    </button>
                                </div>
                            }
                        </div>
                    </div>
                </header>
                <main class="content">{ props.children.clone() }</main>
            </div>
            if *password_open { <PasswordDialog on_close={close_password} /> }
        </div>
    }
}
