//! HS256 tokens. Two kinds share one secret: a back-office login (admin, user,
//! sub-account) and a Windows client's token from an activation code.

use chrono::{DateTime, Duration, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, errors::ErrorKind};
use serde::{Deserialize, Serialize};

use crate::{error::AuthFailure, secret::Secret};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Admin,
    User,
    Subaccount,
    /// A Windows client holding an activation code.
    Client,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::User => "user",
            Self::Subaccount => "subaccount",
            Self::Client => "client",
        }
    }

    /// Parses a stored `users.role`; clients are not users.
    pub fn parse_user_role(value: &str) -> Option<Self> {
        match value {
            "admin" => Some(Self::Admin),
            "user" => Some(Self::User),
            "subaccount" => Some(Self::Subaccount),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// `user:<id>` or `code:<id>`.
    pub sub: String,
    pub role: Role,
    /// The client's group (client tokens).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gid: Option<i32>,
    /// The activation code itself (client tokens), recorded with each call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    pub iat: i64,
    pub exp: i64,
}

impl Claims {
    /// The numeric id after the `user:` / `code:` prefix.
    pub fn subject_id(&self) -> Option<i32> {
        self.sub.split_once(':')?.1.parse().ok()
    }
}

pub struct Tokens {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
}

impl std::fmt::Debug for Tokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Tokens(***)")
    }
}

pub struct Issued {
    pub token: String,
    pub expires_at: DateTime<Utc>,
}

impl Tokens {
    pub fn new(secret: &Secret) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 5;
        validation.set_required_spec_claims(&["exp", "sub"]);
        Self {
            encoding: EncodingKey::from_secret(secret.expose().as_bytes()),
            decoding: DecodingKey::from_secret(secret.expose().as_bytes()),
            validation,
        }
    }

    pub fn issue_user(
        &self,
        user_id: i32,
        role: Role,
        lifetime: Duration,
    ) -> Result<Issued, String> {
        self.issue(format!("user:{user_id}"), role, None, None, lifetime)
    }

    pub fn issue_client(
        &self,
        code_id: i32,
        code: &str,
        group_id: i32,
        lifetime: Duration,
    ) -> Result<Issued, String> {
        self.issue(
            format!("code:{code_id}"),
            Role::Client,
            Some(group_id),
            Some(code.to_string()),
            lifetime,
        )
    }

    fn issue(
        &self,
        sub: String,
        role: Role,
        gid: Option<i32>,
        code: Option<String>,
        lifetime: Duration,
    ) -> Result<Issued, String> {
        let now = Utc::now();
        let expires_at = now + lifetime;
        let claims = Claims {
            sub,
            role,
            gid,
            code,
            iat: now.timestamp(),
            exp: expires_at.timestamp(),
        };
        let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|err| err.to_string())?;
        Ok(Issued { token, expires_at })
    }

    /// Verifies signature, algorithm (HS256 only, so `alg: none` fails) and expiry.
    pub fn verify(&self, token: &str) -> Result<Claims, AuthFailure> {
        jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map(|data| data.claims)
            .map_err(|err| match err.kind() {
                ErrorKind::ExpiredSignature => AuthFailure::ExpiredToken,
                _ => AuthFailure::InvalidToken,
            })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};

    use super::*;

    fn tokens() -> Tokens {
        Tokens::new(&Secret::new("test-secret-test-secret-test-secret"))
    }

    #[test]
    fn issued_tokens_verify_with_their_claims() {
        let tokens = tokens();
        let issued = tokens
            .issue_client(7, "ABC123", 3, Duration::days(1))
            .unwrap();
        let claims = tokens.verify(&issued.token).unwrap();
        assert_eq!(claims.role, Role::Client);
        assert_eq!(claims.gid, Some(3));
        assert_eq!(claims.code.as_deref(), Some("ABC123"));
        assert_eq!(claims.subject_id(), Some(7));
    }

    #[test]
    fn expired_tampered_foreign_and_unsigned_tokens_fail() {
        let tokens = tokens();
        let expired = tokens
            .issue_user(1, Role::Admin, Duration::seconds(-120))
            .unwrap();
        assert_eq!(
            tokens.verify(&expired.token),
            Err(AuthFailure::ExpiredToken)
        );

        let good = tokens
            .issue_user(1, Role::User, Duration::hours(1))
            .unwrap()
            .token;
        let mut parts: Vec<String> = good.split('.').map(String::from).collect();
        let mut payload: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(&parts[1]).unwrap()).unwrap();
        payload["role"] = "admin".into();
        parts[1] = URL_SAFE_NO_PAD.encode(payload.to_string());
        assert_eq!(
            tokens.verify(&parts.join(".")),
            Err(AuthFailure::InvalidToken)
        );

        let unsigned = format!(
            "{}.{}.",
            URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#),
            parts[1]
        );
        assert_eq!(tokens.verify(&unsigned), Err(AuthFailure::InvalidToken));

        let other = Tokens::new(&Secret::new("another-secret-another-secret"));
        assert_eq!(other.verify(&good), Err(AuthFailure::InvalidToken));
    }
}
