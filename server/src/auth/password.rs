//! Argon2id password hashing.
//!
//! Parameters: OWASP's m = 7 MiB, t = 5, p = 1 variant, equal in strength to the crate's
//! 19 MiB / t = 2 default but with a third of the working memory. A stored hash carries its
//! own parameters, so older hashes keep verifying.
//!
//! The working memory is reserved with room to spare past glibc's largest dynamic mmap
//! threshold (32 MiB), so it always gets a mapping of its own that goes back to the system
//! when the hash is done; only the part Argon2 uses is ever touched. Allocated the crate's
//! way, the first free raises that threshold to 7 MiB and every later hash leaves its 7 MiB
//! in the heap, resident for good: it matters for an appliance's idle footprint.

use argon2::{
    Algorithm, Argon2, Block, Params, Version,
    password_hash::phc::{Output, ParamsString, PasswordHash, Salt},
};

use crate::error::{AppError, AppResult};

/// Blocks are 1 KiB: this reservation is just over 32 MiB.
const OWN_MAPPING_BLOCKS: usize = 32 * 1024 + 1;

fn hasher() -> Argon2<'static> {
    let params = Params::new(7 * 1024, 5, 1, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Argon2's output for `password` and `salt`, in working memory of its own mapping.
fn compute(argon: &Argon2, password: &str, salt: &[u8], out: &mut [u8]) -> argon2::Result<()> {
    let used = argon.params().block_count();
    let mut memory: Vec<Block> = Vec::with_capacity(used.max(OWN_MAPPING_BLOCKS));
    memory.resize(used, Block::default());
    argon.hash_password_into_with_memory(password.as_bytes(), salt, out, &mut memory)
}

pub fn hash(password: &str) -> Result<String, String> {
    let argon = hasher();
    let salt = Salt::generate();
    let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
    compute(&argon, password, &salt, &mut out).map_err(|err| err.to_string())?;
    let phc = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(argon.params()).map_err(|err| err.to_string())?,
        salt: Some(salt),
        hash: Some(Output::new(&out).map_err(|err| err.to_string())?),
    };
    Ok(phc.to_string())
}

/// A new password checked against the rules (8 to 128 characters) and hashed; `field`
/// is the form field an error is shown at.
pub fn new_hash(field: &'static str, password: &str) -> AppResult<String> {
    if password.chars().count() < 8 {
        return Err(AppError::validation(field, "密码至少需要 8 个字符"));
    }
    if password.chars().count() > 128 {
        return Err(AppError::validation(field, "密码不能超过 128 个字符"));
    }
    hash(password).map_err(AppError::Internal)
}

/// The hash a login checks the typed password against: the account's, or for an unknown
/// user name a dummy with the same parameters, so both answers take the same Argon2 work
/// and the time of a refusal does not tell which names exist.
pub fn hash_to_check(stored: Option<&str>) -> &str {
    stored.unwrap_or_else(|| dummy_hash())
}

/// Made once, at the first login with an unknown name, with [`hash`]'s parameters.
fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| {
        // Only a broken hasher fails, and then every real login fails the same way; a
        // fixed valid hash keeps the unknown-name path doing comparable work regardless.
        hash("no account has this password").unwrap_or_else(|_| {
            "$argon2id$v=19$m=7168,t=5,p=1$c29tZXNhbHRzb21lc2FsdA$\
             AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
                .into()
        })
    })
}

/// Constant-time check (`Output`'s equality); a malformed stored hash simply does not
/// match.
pub fn verify(password: &str, stored: &str) -> bool {
    let Ok(phc) = PasswordHash::new(stored) else {
        return false;
    };
    let (Some(salt), Some(expected)) = (&phc.salt, &phc.hash) else {
        return false;
    };
    let algorithm = Algorithm::try_from(phc.algorithm.as_str());
    let version = phc
        .version
        .map_or(Ok(Version::default()), Version::try_from);
    let (Ok(algorithm), Ok(version), Ok(params)) = (algorithm, version, Params::try_from(&phc))
    else {
        return false;
    };
    let mut out = vec![0u8; expected.len()];
    compute(
        &Argon2::new(algorithm, version, params),
        password,
        salt,
        &mut out,
    )
    .is_ok()
        && Output::new(&out).is_ok_and(|computed| computed == *expected)
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
        let parsed = argon2::PasswordHash::new(&one).unwrap();
        assert!(
            argon2::PasswordVerifier::verify_password(
                &Argon2::default(),
                "密码 pass".as_bytes(),
                &parsed
            )
            .is_ok(),
            "the crate's own verifier agrees with these hashes"
        );
        let default_params = argon2::PasswordHasher::hash_password(&Argon2::default(), b"old")
            .unwrap()
            .to_string();
        assert!(
            verify("old", &default_params),
            "hashes made with other parameters still verify"
        );
    }

    #[test]
    fn unknown_users_are_checked_against_a_dummy_hash_of_equal_cost() {
        let real = hash("secret-1").unwrap();
        assert_eq!(hash_to_check(Some(&real)), real);
        let dummy = hash_to_check(None);
        assert_eq!(dummy, hash_to_check(None), "made once");
        // Same algorithm and parameters as a real hash, so verifying costs the same.
        let params = |h: &str| h.rsplitn(3, '$').nth(2).unwrap().to_string();
        assert_eq!(params(dummy), params(&real), "{dummy}");
        assert!(
            argon2::PasswordHash::new(dummy).is_ok(),
            "a well-formed hash"
        );
        assert!(!verify("secret-1", dummy));
    }
}
