//! Argon2id password hashing.

use argon2::{Argon2, PasswordHasher, PasswordVerifier};

pub fn hash(password: &str) -> Result<String, String> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|hash| hash.to_string())
        .map_err(|err| err.to_string())
}

/// Constant-time check; a malformed stored hash simply does not match.
pub fn verify(password: &str, stored: &str) -> bool {
    Argon2::default()
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
    }
}
