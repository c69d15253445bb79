//! AES-256-GCM for provider API keys, and the key fingerprint stored beside them.
//!
//! Stored form: base64(nonce ‖ ciphertext ‖ tag), with a fresh random 96-bit nonce per
//! encryption, so the same key encrypted twice never gives the same text.

use aes_gcm::{Aes256Gcm, Key, KeyInit, Nonce, aead::Aead};
use base64::{Engine, engine::general_purpose::STANDARD};
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;

use crate::secret::Secret;

const NONCE_LEN: usize = 12;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CryptoError {
    #[error(
        "the encryption key must be 32 characters, 64 hex digits or base64 of 32 bytes (got {0} characters)"
    )]
    BadKeyLength(usize),
    #[error("stored ciphertext is damaged or was made with another encryption key")]
    Undecryptable,
}

/// The AES-256 key, parsed once at start-up.
#[derive(Clone)]
pub struct Cipher {
    cipher: Aes256Gcm,
    fingerprint: String,
}

impl std::fmt::Debug for Cipher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cipher")
            .field("fingerprint", &self.fingerprint)
            .finish()
    }
}

impl Cipher {
    /// Accepts the requirements' raw 32-character key, 64 hex digits, or base64 of 32 bytes.
    pub fn from_secret(secret: &Secret) -> Result<Self, CryptoError> {
        let text = secret.expose().trim();
        let bytes = decode_key(text).ok_or(CryptoError::BadKeyLength(text.chars().count()))?;
        let key = Key::<Aes256Gcm>::from(bytes);
        Ok(Self {
            cipher: Aes256Gcm::new(&key),
            fingerprint: fingerprint(&bytes),
        })
    }

    /// A fresh random key, base64-encoded, for first start and `rotate-key`.
    pub fn generate_key() -> Secret {
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        Secret::new(STANDARD.encode(bytes))
    }

    /// A short, non-reversible identifier of the key: it lets a restart notice a changed
    /// key before any stored provider key turns unreadable.
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    pub fn encrypt(&self, plaintext: &str) -> String {
        let mut nonce_bytes = [0u8; NONCE_LEN];
        rand::rng().fill_bytes(&mut nonce_bytes);
        let nonce = Nonce::from(nonce_bytes);
        // Encryption with a valid key and in-memory buffers cannot fail; an empty
        // ciphertext would only make the later decrypt fail loudly.
        let sealed = self
            .cipher
            .encrypt(&nonce, plaintext.as_bytes())
            .unwrap_or_default();
        let mut out = Vec::with_capacity(NONCE_LEN + sealed.len());
        out.extend_from_slice(&nonce_bytes);
        out.extend_from_slice(&sealed);
        STANDARD.encode(out)
    }

    pub fn decrypt(&self, stored: &str) -> Result<Secret, CryptoError> {
        let raw = STANDARD
            .decode(stored.trim())
            .map_err(|_| CryptoError::Undecryptable)?;
        if raw.len() <= NONCE_LEN {
            return Err(CryptoError::Undecryptable);
        }
        let (nonce_bytes, sealed) = raw.split_at(NONCE_LEN);
        let nonce_array: [u8; NONCE_LEN] = nonce_bytes
            .try_into()
            .map_err(|_| CryptoError::Undecryptable)?;
        let plain = self
            .cipher
            .decrypt(&Nonce::from(nonce_array), sealed)
            .map_err(|_| CryptoError::Undecryptable)?;
        String::from_utf8(plain)
            .map(Secret::new)
            .map_err(|_| CryptoError::Undecryptable)
    }

    /// Several secrets in one stored value (a config's provider keys): each encrypted on
    /// its own, one per line (base64 has no line breaks). One line is one key, as stored
    /// before configs had several.
    pub fn encrypt_all<S: AsRef<str>>(&self, plaintexts: &[S]) -> String {
        plaintexts
            .iter()
            .map(|plain| self.encrypt(plain.as_ref()))
            .collect::<Vec<_>>()
            .join("\n")
    }

    pub fn decrypt_all(&self, stored: &str) -> Result<Vec<Secret>, CryptoError> {
        stored
            .lines()
            .filter(|line| !line.trim().is_empty())
            .map(|line| self.decrypt(line))
            .collect()
    }
}

/// A stable, non-reversible name of a provider key, to keep its state (set aside, cooling)
/// without storing or showing the key.
pub fn key_id(plain: &str) -> String {
    let digest = <Sha256 as sha2::Digest>::digest(plain.as_bytes());
    // One string, not a `format!` per byte: `key_id` runs on every call.
    hex::encode(&digest[..16])
}

fn decode_key(text: &str) -> Option<[u8; 32]> {
    if text.len() == 32 {
        return text.as_bytes().try_into().ok();
    }
    if text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit()) {
        let mut out = [0u8; 32];
        for (i, chunk) in text.as_bytes().chunks(2).enumerate() {
            let pair = std::str::from_utf8(chunk).ok()?;
            out[i] = u8::from_str_radix(pair, 16).ok()?;
        }
        return Some(out);
    }
    STANDARD.decode(text).ok()?.try_into().ok()
}

fn fingerprint(key: &[u8; 32]) -> String {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(key) else {
        return String::new();
    };
    mac.update(b"llm-proxy encryption key fingerprint v1");
    hex::encode(&mac.finalize().into_bytes()[..8])
}

/// How a stored key is shown to an admin: enough to recognise it, never enough to use it.
pub fn mask_key(plain: &str) -> String {
    let chars: Vec<char> = plain.chars().collect();
    if chars.len() <= 8 {
        return "****".into();
    }
    let head: String = chars.iter().take(3).collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}…{tail}")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn several_keys_each_encrypted_on_its_own_and_one_line_is_one_key() {
        let cipher = Cipher::from_secret(&Cipher::generate_key()).unwrap();
        let stored = cipher.encrypt_all(&["sk-one", "sk-two"]);
        assert_eq!(stored.lines().count(), 2);
        let keys = cipher.decrypt_all(&stored).unwrap();
        let plain: Vec<&str> = keys.iter().map(Secret::expose).collect();
        assert_eq!(plain, ["sk-one", "sk-two"]);
        let single = cipher.encrypt("sk-old");
        assert_eq!(cipher.decrypt_all(&single).unwrap().len(), 1);
        assert_eq!(key_id("sk-one").len(), 32);
        assert_ne!(key_id("sk-one"), key_id("sk-two"));
    }

    #[test]
    fn round_trip_with_fresh_nonce_each_time() {
        let cipher = Cipher::from_secret(&Cipher::generate_key()).unwrap();
        let a = cipher.encrypt("sk-test-123456");
        let b = cipher.encrypt("sk-test-123456");
        assert_ne!(a, b, "nonce must differ per encryption");
        assert!(!a.contains("sk-test"));
        assert_eq!(cipher.decrypt(&a).unwrap().expose(), "sk-test-123456");
    }

    #[test]
    fn other_key_cannot_decrypt_and_has_other_fingerprint() {
        let one = Cipher::from_secret(&Cipher::generate_key()).unwrap();
        let two = Cipher::from_secret(&Cipher::generate_key()).unwrap();
        assert_ne!(one.fingerprint(), two.fingerprint());
        let sealed = one.encrypt("secret");
        assert_eq!(two.decrypt(&sealed), Err(CryptoError::Undecryptable));
        assert_eq!(one.decrypt("garbage!"), Err(CryptoError::Undecryptable));
    }

    #[test]
    fn accepts_raw_hex_and_base64_keys() {
        let raw = Cipher::from_secret(&Secret::new("0123456789abcdef0123456789abcdef")).unwrap();
        let hex = Cipher::from_secret(&Secret::new(
            "3031323334353637383961626364656630313233343536373839616263646566",
        ))
        .unwrap();
        assert_eq!(raw.fingerprint(), hex.fingerprint());
        let err = Cipher::from_secret(&Secret::new("short")).unwrap_err();
        assert_eq!(err, CryptoError::BadKeyLength(5));
        assert!(!err.to_string().contains("short"));
    }

    #[test]
    fn mask_shows_only_the_ends() {
        assert_eq!(mask_key("sk-abcdefghijklmnop1234"), "sk-…1234");
        assert_eq!(mask_key("short"), "****");
    }
}
