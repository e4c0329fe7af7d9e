//! HTTPS with the default TLS stack (rustls on Graviola): a client built with the default
//! features handshakes with a local TLS server whose self-signed certificate it is told to
//! trust, and refuses the same server when it is not.

use std::sync::Arc;
use telnyx::{Client, Error};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::mpsc;

/// A TLS server on 127.0.0.1 answering every request with one JSON message; it sends each
/// request's head down the channel. Returns its base URL, its certificate (PEM) and the channel.
async fn https_server() -> (String, String, mpsc::UnboundedReceiver<String>) {
    let certified = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned()]).unwrap();
    let cert = certified.cert.der().clone();
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(certified.signing_key.serialize_der().into());
    // The server side on Graviola too: no other provider is needed in this test.
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(rustls_graviola::default_provider()))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert], key)
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else { return };
            let acceptor = acceptor.clone();
            let tx = tx.clone();
            tokio::spawn(async move {
                // A failed handshake (the client refusing the certificate) just ends here.
                let Ok(mut tls) = acceptor.accept(tcp).await else { return };
                let mut head = Vec::new();
                let mut buf = [0u8; 1024];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match tls.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
                let _ = tx.send(String::from_utf8_lossy(&head).into_owned());
                let body = r#"{"data":{"id":"msg-tls","record_type":"message","text":"over TLS"}}"#;
                let resp = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = tls.write_all(resp.as_bytes()).await;
                let _ = tls.shutdown().await;
            });
        }
    });
    (format!("https://{addr}/v2"), certified.cert.pem(), rx)
}

#[tokio::test]
async fn default_tls_handshakes_with_a_trusted_server() {
    if !graviola::util::is_cpu_supported() {
        eprintln!("this CPU lacks what Graviola needs; skipped");
        return;
    }
    let (base, pem, mut requests) = https_server().await;
    let client = Client::builder()
        .api_key("KEYsecret")
        .base_url(&base)
        .add_root_certificates_pem(&pem)
        .max_retries(0)
        .build()
        .unwrap();
    let msg = client.messages().retrieve("msg-tls").await.unwrap();
    assert_eq!(msg.id.as_deref(), Some("msg-tls"));
    assert_eq!(msg.text.as_deref(), Some("over TLS"));
    let head = requests.recv().await.unwrap();
    assert!(head.starts_with("GET /v2/messages/msg-tls HTTP/1.1\r\n"), "{head}");
    assert!(head.to_ascii_lowercase().contains("authorization: bearer keysecret"), "{head}");
}

#[tokio::test]
async fn an_untrusted_certificate_is_refused() {
    if !graviola::util::is_cpu_supported() {
        eprintln!("this CPU lacks what Graviola needs; skipped");
        return;
    }
    let (base, _pem, mut requests) = https_server().await;
    let client = Client::builder().api_key("KEYsecret").base_url(&base).max_retries(0).build().unwrap();
    let err = client.messages().retrieve("msg-tls").await.unwrap_err();
    assert!(matches!(err, Error::Connection(_)), "{err:?}");
    // The server never saw a request: the handshake failed first.
    assert!(requests.try_recv().is_err());
}

#[test]
fn a_pem_without_certificates_fails_the_build() {
    if !graviola::util::is_cpu_supported() {
        return;
    }
    let err = Client::builder().api_key("k").add_root_certificates_pem("nothing here").build().unwrap_err();
    assert!(matches!(err, Error::Config(ref m) if m.contains("PEM")), "{err:?}");
}
