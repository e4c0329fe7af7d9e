//! API keys and signing keys.
//!
//! API keys are 256-bit random strings, so a single SHA-256 is enough to store them: there
//! is nothing to brute-force, and a fast hash keeps authentication off the hot path (a slow
//! password hash would cap requests per second far below the benchmark targets).

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use ed25519_dalek::SigningKey;
use rand::RngCore;
use sha2::{Digest, Sha256};
use std::fmt;

/// A fresh API key, shaped like Telnyx's (`KEY` + base64url).
pub fn generate_api_key() -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    format!("KEY{}", URL_SAFE_NO_PAD.encode(bytes))
}

/// The only form in which a key is stored.
pub fn hash_api_key(key: &str) -> String {
    let digest = Sha256::digest(key.as_bytes());
    let mut out = String::with_capacity(64);
    for b in digest {
        out.push_str(&format!("{b:02x}"));
    }
    out
}

/// How a key is shown after creation: enough to recognise it, not enough to use it.
pub fn mask_api_key(key_prefix: &str) -> String {
    format!("{key_prefix}…")
}

/// An account's Ed25519 key pair for webhook signatures and join tokens. The seed never
/// appears in `Debug` output.
#[derive(Clone)]
pub struct Signer {
    key: SigningKey,
}

impl fmt::Debug for Signer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Signer").field("public_key", &self.public_key_base64()).finish()
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("the signing key must be base64 of a 32-byte Ed25519 seed")]
pub struct BadSeed;

impl Signer {
    pub fn generate() -> Self {
        let mut seed = [0u8; 32];
        rand::thread_rng().fill_bytes(&mut seed);
        Signer { key: SigningKey::from_bytes(&seed) }
    }

    pub fn from_seed_base64(b64: &str) -> Result<Self, BadSeed> {
        let bytes = STANDARD.decode(b64.trim()).map_err(|_| BadSeed)?;
        let seed: [u8; 32] = bytes.try_into().map_err(|_| BadSeed)?;
        Ok(Signer { key: SigningKey::from_bytes(&seed) })
    }

    pub fn seed_base64(&self) -> String {
        STANDARD.encode(self.key.to_bytes())
    }

    /// Base64 of the raw 32-byte public key: the form `TELNYX_PUBLIC_KEY` takes.
    pub fn public_key_base64(&self) -> String {
        STANDARD.encode(self.key.verifying_key().to_bytes())
    }

    pub fn sign(&self, msg: &[u8]) -> [u8; 64] {
        use ed25519_dalek::Signer as _;
        self.key.sign(msg).to_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_unique_and_hash_stably() {
        let a = generate_api_key();
        assert!(a.starts_with("KEY") && a.len() > 40);
        assert_ne!(a, generate_api_key());
        assert_eq!(hash_api_key(&a), hash_api_key(&a));
        assert_eq!(hash_api_key(&a).len(), 64);
    }

    #[test]
    fn signer_round_trips_its_seed_and_hides_it() {
        let s = Signer::generate();
        let t = Signer::from_seed_base64(&s.seed_base64()).unwrap();
        assert_eq!(s.public_key_base64(), t.public_key_base64());
        assert!(!format!("{s:?}").contains(&s.seed_base64()));
        assert!(Signer::from_seed_base64("c2hvcnQ=").is_err());
    }

    #[test]
    fn signatures_verify() {
        use ed25519_dalek::{Signature, Verifier, VerifyingKey};
        let s = Signer::generate();
        let sig = s.sign(b"123|{}");
        let pk: [u8; 32] = STANDARD.decode(s.public_key_base64()).unwrap().try_into().unwrap();
        let vk = VerifyingKey::from_bytes(&pk).unwrap();
        assert!(vk.verify(b"123|{}", &Signature::from_bytes(&sig)).is_ok());
        assert!(vk.verify(b"124|{}", &Signature::from_bytes(&sig)).is_err());
    }
}
