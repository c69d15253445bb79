//! Argon2id password hashing.
//!
//! Parameters: OWASP's m = 7 MiB, t = 5, p = 1 variant, equal in strength to the crate's
//! 19 MiB / t = 2 default but with a third of the working memory, which the allocator keeps
//! after the first login (it matters for an appliance's idle footprint). A stored hash carries
//! its own parameters, so older hashes keep verifying.

use argon2::{Algorithm, Argon2, Params, PasswordHasher, PasswordVerifier, Version};

fn hasher() -> Argon2<'static> {
    let params = Params::new(7 * 1024, 5, 1, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

pub fn hash(password: &str) -> Result<String, String> {
    hasher()
        .hash_password(password.as_bytes())
        .map(|hash| hash.to_string())
        .map_err(|err| err.to_string())
}

/// Constant-time check; a malformed stored hash simply does not match.
pub fn verify(password: &str, stored: &str) -> bool {
    hasher()
        .verify_password(password.as_bytes(), stored)
        .is_ok()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn hashes_verify_and_differ_per_call() {
        let one = hash("密码 pass").unwrap();
        let two = hash("密码 pass").unwrap();
        assert_ne!(one, two, "salted");
        assert!(verify("密码 pass", &one));
        assert!(!verify("wrong", &one));
        assert!(!verify("密码 pass", "not-a-hash"));
        assert!(one.starts_with("$argon2id$v=19$m=7168,t=5,p=1$"), "{one}");
        let default_params = Argon2::default().hash_password(b"old").unwrap().to_string();
        assert!(
            verify("old", &default_params),
            "hashes made with other parameters still verify"
        );
    }
}
