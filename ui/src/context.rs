//! What every page may use: the language, the session, the API client and notifications.

use yew::prelude::*;

use crate::api::Api;
use crate::i18n::Tr;
use crate::session::Session;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoticeKind {
    Success,
    Error,
}

/// A short message shown in the corner (toast).
#[derive(Debug, Clone, PartialEq)]
pub struct Notice {
    pub kind: NoticeKind,
    pub text: String,
}

#[derive(Clone, PartialEq, Default)]
pub struct AppCtx {
    pub tr: Tr,
    /// The server's zone: every time is shown in it, as its statistics, quotas and CSV
    /// count days (the browser's current offset until it is known).
    pub tz: crate::dates::Zone,
    /// The server's zone name (`Asia/Shanghai`); empty until known.
    pub tz_name: AttrValue,
    pub session: Option<Session>,
    pub api: Api,
    pub set_lang: Callback<crate::i18n::Lang>,
    pub login: Callback<Session>,
    pub logout: Callback<()>,
    pub notify: Callback<Notice>,
}

impl AppCtx {
    pub fn success(&self, text: impl Into<String>) {
        self.notify.emit(Notice {
            kind: NoticeKind::Success,
            text: text.into(),
        });
    }

    pub fn error(&self, text: impl Into<String>) {
        self.notify.emit(Notice {
            kind: NoticeKind::Error,
            text: text.into(),
        });
    }

    /// Shows a failed call's message, unless it ended the session (the login page says so).
    pub fn api_error(&self, err: &crate::api::ApiError) {
        if !err.is_unauthorized() {
            self.error(err.display(self.tr));
        }
    }

    /// Today's day number in the server's zone.
    pub fn today(&self) -> i64 {
        crate::dates::day_at(crate::platform::now_ms(), &self.tz)
    }

    /// A timestamp in the server's zone.
    pub fn datetime(&self, text: &str) -> String {
        crate::dates::datetime(text, &self.tz)
    }

    pub fn opt_datetime(&self, text: Option<&String>) -> String {
        match text {
            Some(text) if !text.is_empty() => self.datetime(text),
            _ => "-".into(),
        }
    }
}

#[hook]
pub fn use_app() -> AppCtx {
    use_context::<AppCtx>().unwrap_or_default()
}
