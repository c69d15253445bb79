//! The root: language and session state, the API client, notifications and the router.
//! Without a session every address shows the login page (the address stays, so signing in
//! again lands where the admin was); a non-admin sees only the notice page.

use std::rc::Rc;

use gloo_timers::callback::Timeout;
use yew::platform::spawn_local;
use yew::prelude::*;
use yew_router::prelude::*;

use crate::api::Api;
use crate::api::models::Me;
use crate::components::layout::Layout;
use crate::components::toast::Toasts;
use crate::context::{AppCtx, Notice, NoticeKind};
use crate::i18n::{Lang, Tr};
use crate::pages::{
    alerts::AlertsPage, api_keys::ApiKeysPage, codes::CodesPage, configs::ConfigsPage,
    dashboard::DashboardPage, groups::GroupsPage, login::LoginPage, logs::LogsPage,
    notice::NoAccessPage, notice::NotFoundPage, settings::SettingsPage, stats::StatsPage,
    users::UsersPage,
};
use crate::platform;
use crate::route::{BASENAME, Route};
use crate::session::{LANG_KEY, SESSION_KEY, Session};

/// The toasts on screen, each with an id for closing it.
#[derive(Default, PartialEq)]
struct Toasted {
    items: Vec<(u32, Notice)>,
}

enum ToastAction {
    Add(u32, Notice),
    Remove(u32),
}

impl Reducible for Toasted {
    type Action = ToastAction;

    fn reduce(self: Rc<Self>, action: ToastAction) -> Rc<Self> {
        let mut items = self.items.clone();
        match action {
            ToastAction::Add(id, notice) => {
                // The same message twice in a row (a burst of failures) shows once.
                if items.last().map(|(_, n)| n) != Some(&notice) {
                    items.push((id, notice));
                    if items.len() > 5 {
                        items.remove(0);
                    }
                }
            }
            ToastAction::Remove(id) => items.retain(|(i, _)| *i != id),
        }
        Rc::new(Self { items })
    }
}

/// Chinese unless English was chosen before (remembered in localStorage).
fn initial_lang() -> Lang {
    platform::local_get(LANG_KEY)
        .as_deref()
        .and_then(Lang::parse)
        .unwrap_or(Lang::Zh)
}

#[component]
pub fn App() -> Html {
    let lang = use_state(initial_lang);
    let session = use_state(|| {
        platform::local_get(SESSION_KEY).and_then(|s| Session::restore(&s, platform::now_ms()))
    });
    // i18n key of the message the login page shows first.
    let flash = use_state(|| None::<&'static str>);
    let toasts = use_reducer(Toasted::default);
    // The server's zone, asked once per sign-in; the browser's offset stands in until then.
    let zone = use_state(|| {
        (
            crate::dates::Zone::fixed(platform::tz_offset_min()),
            AttrValue::default(),
        )
    });

    {
        let lang = *lang;
        use_effect_with(lang, move |lang| {
            platform::set_document_lang(lang.html_code());
            platform::set_title(Tr(*lang).t("app.title"));
            || ()
        });
    }

    // Another tab signed in, changed the password (a new token) or signed out.
    {
        let (session, flash) = (session.clone(), flash.clone());
        use_effect_with((), move |_| {
            let watch = platform::watch_local(SESSION_KEY, move |value| {
                let next = value.and_then(|s| Session::restore(&s, platform::now_ms()));
                if next.is_none() {
                    flash.set(Some("auth.logged_out"));
                }
                session.set(next);
            });
            move || drop(watch)
        });
    }

    let on_expired = {
        let (session, flash) = (session.clone(), flash.clone());
        use_callback((), move |_: (), _| {
            platform::local_remove(SESSION_KEY);
            session.set(None);
            flash.set(Some("auth.expired"));
        })
    };
    let login = {
        let (session, flash) = (session.clone(), flash.clone());
        use_callback((), move |new: Session, _| {
            platform::local_set(SESSION_KEY, &new.to_json());
            flash.set(None);
            session.set(Some(new));
        })
    };
    let logout = {
        let (session, flash) = (session.clone(), flash.clone());
        use_callback((), move |_: (), _| {
            platform::local_remove(SESSION_KEY);
            flash.set(Some("auth.logged_out"));
            session.set(None);
        })
    };
    let set_lang = {
        let lang = lang.clone();
        use_callback((), move |next: Lang, _| {
            platform::local_set(LANG_KEY, next.code());
            lang.set(next);
        })
    };
    let toast_ids = use_mut_ref(|| 0u32);
    let notify = {
        let dispatcher = toasts.dispatcher();
        use_callback((), move |notice: Notice, _| {
            let id = {
                let mut last = toast_ids.borrow_mut();
                *last = last.wrapping_add(1);
                *last
            };
            let delay = if notice.kind == NoticeKind::Error {
                8_000
            } else {
                3_500
            };
            dispatcher.dispatch(ToastAction::Add(id, notice));
            let dispatcher = dispatcher.clone();
            Timeout::new(delay, move || dispatcher.dispatch(ToastAction::Remove(id))).forget();
        })
    };
    let close_toast = {
        let dispatcher = toasts.dispatcher();
        use_callback((), move |id: u32, _| {
            dispatcher.dispatch(ToastAction::Remove(id))
        })
    };

    let token = (*session).as_ref().map(|s| s.token.clone());
    let api = {
        let on_expired = on_expired.clone();
        use_memo(token, move |token| Api::new(token.clone(), on_expired))
    };
    {
        let (api, zone) = ((*api).clone(), zone.clone());
        use_effect_with(api, move |api| {
            if api.has_token() {
                let api = api.clone();
                spawn_local(async move {
                    if let Ok(me) = api.get::<Me>("/api/auth/me").await {
                        let changes = me.utc_offsets.iter().map(|c| (c.from, c.minutes));
                        let tz = match me.utc_offsets.is_empty() {
                            true => crate::dates::Zone::fixed(me.utc_offset_minutes),
                            false => crate::dates::Zone::from_changes(changes.collect()),
                        };
                        zone.set((tz, me.time_zone.into()));
                    }
                });
            }
            || ()
        });
    }
    let ctx = AppCtx {
        tr: Tr(*lang),
        tz: zone.0.clone(),
        tz_name: zone.1.clone(),
        session: (*session).clone(),
        api: (*api).clone(),
        set_lang,
        login,
        logout,
        notify,
    };
    let flash_key = *flash;

    html! {
        <ContextProvider<AppCtx> context={ctx}>
            <BrowserRouter basename={BASENAME}>
                <Switch<Route> render={move |route| render(route, flash_key)} />
            </BrowserRouter>
            <Toasts items={toasts.items.clone()} on_close={close_toast} />
        </ContextProvider<AppCtx>>
    }
}

fn render(route: Route, flash: Option<&'static str>) -> Html {
    html! { <Page route={route} flash={flash} /> }
}

#[derive(Properties, PartialEq)]
struct PageProps {
    route: Route,
    flash: Option<&'static str>,
}

#[component]
fn Page(props: &PageProps) -> Html {
    let app = crate::context::use_app();
    let Some(session) = app.session.clone() else {
        return html! { <LoginPage flash={props.flash} /> };
    };
    if props.route == Route::Login {
        return html! { <Redirect<Route> to={Route::Home} /> };
    }
    if !session.is_admin() {
        return html! { <Layout route={props.route}><NoAccessPage /></Layout> };
    }
    let page = match props.route {
        Route::Home => html! { <DashboardPage /> },
        Route::Configs | Route::Login => html! { <ConfigsPage /> },
        Route::Logs => html! { <LogsPage /> },
        Route::Stats => html! { <StatsPage /> },
        Route::Groups => html! { <GroupsPage /> },
        Route::Codes => html! { <CodesPage /> },
        Route::ApiKeys => html! { <ApiKeysPage /> },
        Route::Users => html! { <UsersPage /> },
        Route::Settings => html! { <SettingsPage /> },
        Route::Alerts => html! { <AlertsPage /> },
        Route::NotFound => html! { <NotFoundPage /> },
    };
    html! { <Layout route={props.route}>{ page }</Layout> }
}
