//! Who is signed in: the token (kept in localStorage, so a bookmark, a new tab or a browser
//! restart stays signed in until the token expires; signing out in one tab signs out all),
//! the role from the login answer and the name typed at login.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Admin,
    User,
    Subaccount,
}

impl Role {
    pub fn parse(text: &str) -> Option<Self> {
        match text.trim() {
            "admin" => Some(Self::Admin),
            "user" => Some(Self::User),
            "subaccount" => Some(Self::Subaccount),
            _ => None,
        }
    }

    /// i18n key of the role's name.
    pub fn label(self) -> &'static str {
        match self {
            Self::Admin => "role.admin",
            Self::User => "role.user",
            Self::Subaccount => "role.subaccount",
        }
    }
}

/// i18n key for a role text from the server; None when unknown.
pub fn role_label(text: &str) -> Option<&'static str> {
    Role::parse(text).map(Role::label)
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    pub token: String,
    pub role: Role,
    pub username: String,
    pub expires_at: String,
}

impl Session {
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// A stored session, or None when it is missing or unreadable.
    pub fn from_json(text: &str) -> Option<Self> {
        serde_json::from_str::<Self>(text)
            .ok()
            .filter(|s| !s.token.is_empty())
    }

    /// A stored session still valid at `now_ms`: an expired one is not offered, so the
    /// login page shows at once instead of after a refused request.
    pub fn restore(text: &str, now_ms: f64) -> Option<Self> {
        Self::from_json(text).filter(|s| !crate::dates::is_past(&s.expires_at, now_ms))
    }
}

pub const SESSION_KEY: &str = "llm-proxy.session";
pub const LANG_KEY: &str = "llm-proxy.lang";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_roles() {
        assert_eq!(Role::parse("admin"), Some(Role::Admin));
        assert_eq!(Role::parse(" subaccount "), Some(Role::Subaccount));
        assert_eq!(Role::parse("root"), None);
        assert_eq!(role_label("user"), Some("role.user"));
    }

    #[test]
    fn stores_and_restores() {
        let session = Session {
            token: "t".into(),
            role: Role::User,
            username: "张三".into(),
            expires_at: "2026-11-26T10:00:00Z".into(),
        };
        assert_eq!(
            Session::from_json(&session.to_json()),
            Some(session.clone())
        );
        assert!(session.to_json().contains("\"role\":\"user\""));
        assert_eq!(Session::from_json("garbage"), None);
        assert_eq!(
            Session::from_json(r#"{"token":"","role":"admin","username":"a","expires_at":""}"#),
            None
        );
        assert!(!session.is_admin());
    }

    #[test]
    fn an_expired_session_is_not_restored() {
        let session = Session {
            token: "t".into(),
            role: Role::Admin,
            username: "admin".into(),
            expires_at: "2026-11-26T10:00:00Z".into(),
        };
        let json = session.to_json();
        let before = 1_795_000_000_000.0; // 2026-11-18
        let after = 1_796_000_000_000.0; // 2026-11-29
        assert_eq!(Session::restore(&json, before), Some(session));
        assert_eq!(Session::restore(&json, after), None);
    }
}
