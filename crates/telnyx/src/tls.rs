//! HTTPS: the rustls client configuration handed to reqwest, with the crypto provider chosen
//! here rather than by reqwest (whose own fallback is `ring`, which needs a C compiler).
//!
//! The provider, first match wins:
//! 1. a provider the program installed as rustls's process default
//!    (`CryptoProvider::install_default`);
//! 2. Graviola (feature `rustls-graviola`, default), on x86_64 and aarch64 CPUs that have the
//!    instructions it needs — checked here, so an older CPU gets an error or the next choice
//!    rather than Graviola's panic at the first handshake;
//! 3. `ring` (feature `rustls-ring`).
//!
//! With none of them, building a client fails with [`Error::Config`] saying what to enable.

use crate::error::{Error, Result};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use std::sync::Arc;

/// A root certificate to trust besides the web PKI's, as given to the builder.
#[derive(Clone)]
pub(crate) enum ExtraRoot {
    Der(Vec<u8>),
    Pem(Vec<u8>),
}

/// The crypto provider to use and a short name for it.
pub(crate) fn provider() -> Result<(Arc<CryptoProvider>, &'static str)> {
    if let Some(p) = CryptoProvider::get_default() {
        return Ok((p.clone(), "process default"));
    }
    #[cfg(all(feature = "rustls-graviola", any(target_arch = "x86_64", target_arch = "aarch64")))]
    if graviola::util::is_cpu_supported() {
        return Ok((Arc::new(rustls_graviola::default_provider()), "graviola"));
    }
    #[cfg(feature = "rustls-ring")]
    {
        Ok((Arc::new(rustls::crypto::ring::default_provider()), "ring"))
    }
    #[cfg(not(feature = "rustls-ring"))]
    {
        Err(Error::Config(format!(
            "no TLS crypto provider: {}; enable the telnyx feature `rustls-ring` (needs a C compiler), \
             install a rustls CryptoProvider as the process default, or pass your own client to \
             ClientBuilder::http_client (without default features the client speaks plain HTTP only)",
            why_no_graviola()
        )))
    }
}

#[cfg(not(feature = "rustls-ring"))]
fn why_no_graviola() -> &'static str {
    if cfg!(not(feature = "rustls-graviola")) {
        "the `rustls-graviola` feature is off"
    } else if cfg!(target_arch = "x86_64") {
        "Graviola needs an x86_64 CPU with aes, pclmulqdq, bmi1, adx, avx and avx2, and this one lacks some"
    } else if cfg!(target_arch = "aarch64") {
        "Graviola needs an aarch64 CPU with aes, sha2, pmull and neon, and this one lacks some"
    } else {
        "Graviola supports x86_64 and aarch64 only, not this target"
    }
}

/// The rustls client configuration: the web PKI roots plus `extra`, TLS 1.2 and 1.3, HTTP/1.1.
pub(crate) fn client_config(extra: &[ExtraRoot]) -> Result<rustls::ClientConfig> {
    let (provider, _) = provider()?;
    let mut roots = rustls::RootCertStore { roots: webpki_roots::TLS_SERVER_ROOTS.to_vec() };
    for root in extra {
        let certs: Vec<CertificateDer<'static>> = match root {
            ExtraRoot::Der(der) => vec![CertificateDer::from(der.clone())],
            ExtraRoot::Pem(pem) => {
                let certs = CertificateDer::pem_slice_iter(pem)
                    .collect::<std::result::Result<Vec<_>, _>>()
                    .map_err(|e| Error::Config(format!("root certificate PEM: {e}")))?;
                if certs.is_empty() {
                    return Err(Error::Config("root certificate PEM holds no CERTIFICATE block".into()));
                }
                certs
            }
        };
        for cert in certs {
            roots.add(cert).map_err(|e| Error::Config(format!("root certificate: {e}")))?;
        }
    }
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::Config(format!("TLS: {e}")))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The default features pick Graviola where it runs (x86_64 or aarch64 with the CPU
    /// features it needs), not `ring`.
    #[cfg(all(feature = "rustls-graviola", any(target_arch = "x86_64", target_arch = "aarch64")))]
    #[test]
    fn graviola_is_the_provider_where_it_runs() {
        if !graviola::util::is_cpu_supported() {
            eprintln!("this CPU lacks what Graviola needs; skipped");
            return;
        }
        let (_, name) = provider().unwrap();
        assert_eq!(name, "graviola");
    }

    #[test]
    fn bad_pem_is_a_config_error() {
        if provider().is_err() {
            return;
        }
        let err = client_config(&[ExtraRoot::Pem(b"not a certificate".to_vec())]).unwrap_err();
        assert!(matches!(err, Error::Config(ref m) if m.contains("PEM")), "{err:?}");
    }

    #[test]
    fn config_speaks_http1_with_web_roots() {
        if provider().is_err() {
            return;
        }
        let config = client_config(&[]).unwrap();
        assert_eq!(config.alpn_protocols, vec![b"http/1.1".to_vec()]);
    }
}
