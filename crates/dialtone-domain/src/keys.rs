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

/// A fresh API key, shaped like Telnyx's: `KEY`, 32 upper-case hex digits that identify
/// the key, `_`, and a secret. Here the identifying part starts with the creation time in
/// milliseconds (then 80 random bits), and the secret is 128 random bits in base64url.
pub fn generate_api_key() -> String {
    let mut rng = rand::thread_rng();
    let ms = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis());
    let mut id = [0u8; 10];
    rng.fill_bytes(&mut id);
    let mut secret = [0u8; 16];
    rng.fill_bytes(&mut secret);
    let mut out = format!("KEY{:012X}", ms & 0xFFFF_FFFF_FFFF);
    for b in id {
        out.push_str(&format!("{b:02X}"));
    }
    out.push('_');
    out.push_str(&URL_SAFE_NO_PAD.encode(secret));
    out
}

/// The identifying part of a key of [`generate_api_key`]'s shape.
fn key_id(key: &str) -> Option<&str> {
    let id = key.strip_prefix("KEY")?.get(..32)?;
    (id.bytes().all(|b| b.is_ascii_digit() || (b'A'..=b'F').contains(&b)) && key.as_bytes().get(35) == Some(&b'_'))
        .then_some(id)
}

/// The only form in which a key is stored: SHA-256 in hex, after the key's identifying part
/// when it has one. Keys made at about the same time then sit next to each other in the
/// store's index, so creating accounts fast does not write a random index page each.
pub fn hash_api_key(key: &str) -> String {
    use std::fmt::Write;
    let digest = Sha256::digest(key.as_bytes());
    let mut out = String::with_capacity(97);
    if let Some(id) = key_id(key) {
        out.push_str(id);
        out.push(':');
    }
    for b in digest {
        let _ = write!(out, "{b:02x}");
    }
    out
}

/// A fresh Ed25519 seed in base64, as [`Signer::from_seed_base64`] takes it (without
/// deriving the public key, which costs a scalar multiplication).
pub fn generate_seed_base64() -> String {
    let mut seed = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut seed);
    STANDARD.encode(seed)
}

/// How a key is shown after creation: enough to recognise it, not enough to use it.
pub fn mask_api_key(key_prefix: &str) -> String {
    format!("{key_prefix}…")
}

/// An account's Ed25519 key pair for webhook signatures and join tokens. The seed never
/// appears in `Debug` output.
///
/// Signing runs on Graviola's assembly where the CPU has the instructions it needs (x86_64
/// with AES-NI, PCLMULQDQ, BMI1, ADX, AVX and AVX2; aarch64), else on ed25519-dalek.
/// Ed25519 signatures are deterministic (RFC 8032), so both give the same bytes for the
/// same key and message.
#[derive(Clone)]
pub struct Signer {
    key: SigningKey,
    #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
    fast: Option<std::sync::Arc<graviola::signing::eddsa::Ed25519SigningKey>>,
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
        Signer::from_seed(&seed)
    }

    fn from_seed(seed: &[u8; 32]) -> Self {
        Signer {
            key: SigningKey::from_bytes(seed),
            #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
            fast: graviola::util::is_cpu_supported()
                .then(|| graviola::signing::eddsa::Ed25519SigningKey::from_bytes(seed).ok())
                .flatten()
                .map(std::sync::Arc::new),
        }
    }

    /// Whether signing runs on the assembly implementation (see the type's documentation).
    pub fn is_accelerated(&self) -> bool {
        #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
        return self.fast.is_some();
        #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
        false
    }

    pub fn from_seed_base64(b64: &str) -> Result<Self, BadSeed> {
        let bytes = STANDARD.decode(b64.trim()).map_err(|_| BadSeed)?;
        let seed: [u8; 32] = bytes.try_into().map_err(|_| BadSeed)?;
        Ok(Signer::from_seed(&seed))
    }

    pub fn seed_base64(&self) -> String {
        STANDARD.encode(self.key.to_bytes())
    }

    /// Base64 of the raw 32-byte public key: the form `TELNYX_PUBLIC_KEY` takes.
    pub fn public_key_base64(&self) -> String {
        STANDARD.encode(self.key.verifying_key().to_bytes())
    }

    pub fn sign(&self, msg: &[u8]) -> [u8; 64] {
        #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
        if let Some(fast) = &self.fast {
            return fast.sign(msg);
        }
        self.portable_sign(msg)
    }

    fn portable_sign(&self, msg: &[u8]) -> [u8; 64] {
        use ed25519_dalek::Signer as _;
        self.key.sign(msg).to_bytes()
    }

    /// Whether `sig` is this key's signature of `msg` (join tokens coming back).
    pub fn verify(&self, msg: &[u8], sig: &[u8]) -> bool {
        let Ok(sig) = ed25519_dalek::Signature::from_slice(sig) else {
            return false;
        };
        self.key.verifying_key().verify_strict(msg, &sig).is_ok()
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
        // The identifying part, then the digest; keys of another shape: the digest alone.
        assert_eq!(key_id(&a), Some(&a[3..35]));
        assert!(hash_api_key(&a).starts_with(&format!("{}:", &a[3..35])));
        assert_eq!(hash_api_key(&a).len(), 97);
        assert_eq!(hash_api_key("my-own-key").len(), 64);
        assert_ne!(hash_api_key(&a), hash_api_key(&format!("{a}x")));
        // Made later, sorted later (the time comes first).
        std::thread::sleep(std::time::Duration::from_millis(2));
        assert!(generate_api_key()[3..15] > a[3..15]);
    }

    #[test]
    fn generated_seeds_make_signers() {
        let seed = generate_seed_base64();
        assert_eq!(Signer::from_seed_base64(&seed).unwrap().seed_base64(), seed);
        assert_ne!(seed, generate_seed_base64());
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
    fn both_implementations_sign_alike() {
        // Where the CPU allows it, signing runs on Graviola; its signatures must be the
        // portable implementation's, byte for byte, for any key and message.
        let mut rng = rand::thread_rng();
        for len in [0usize, 1, 63, 64, 65, 200, 4096] {
            let s = Signer::generate();
            let mut msg = vec![0u8; len];
            rng.fill_bytes(&mut msg);
            assert_eq!(s.sign(&msg), s.portable_sign(&msg), "message of {len} bytes");
            assert!(s.verify(&msg, &s.sign(&msg)));
        }
        #[cfg(target_arch = "x86_64")]
        if std::is_x86_feature_detected!("aes")
            && std::is_x86_feature_detected!("pclmulqdq")
            && std::is_x86_feature_detected!("bmi1")
            && std::is_x86_feature_detected!("adx")
            && std::is_x86_feature_detected!("avx")
            && std::is_x86_feature_detected!("avx2")
        {
            assert!(Signer::generate().is_accelerated(), "this CPU should sign on Graviola");
        }
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
