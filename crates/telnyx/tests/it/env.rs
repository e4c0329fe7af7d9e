//! `Client::from_env`. Setting the environment of the running process is `unsafe` (and
//! forbidden here), so the test re-runs this test binary as a child with the variables
//! set, naming one test that acts only when a marker variable is present.

use std::process::Command;
use std::time::Duration;
use telnyx::{Client, Error};

const MARKER: &str = "TELNYX_SDK_TEST_FROM_ENV";
const CHILD: &str = "env::from_env_in_a_child_process";
/// The key the child signs a webhook with; the parent hands its public half over.
const SIGNING_SEED: [u8; 32] = [7; 32];

/// The child's side: checks what the parent's `MARKER` says it should see.
#[tokio::test]
async fn from_env_in_a_child_process() {
    let Ok(case) = std::env::var(MARKER) else { return };
    match case.as_str() {
        "full" => {
            let client = Client::from_env().expect("a client from the environment");
            let shown = format!("{client:?}");
            assert!(!shown.contains("KEYfromenv"), "the key shows in Debug: {shown}");
            // The key and the base URL: the parent's server checks the request it gets.
            client.messages().retrieve("m1").await.expect("the parent's server answers");
            // The public key: a webhook signed with its private half verifies.
            use base64::Engine as _;
            use ed25519_dalek::Signer as _;
            let signing = ed25519_dalek::SigningKey::from_bytes(&SIGNING_SEED);
            let body = br#"{"data":{"event_type":"call.hangup","id":"e1","payload":{}}}"#;
            let ts = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs().to_string();
            let signed = [ts.as_bytes(), b"|", body].concat();
            let sig = base64::engine::general_purpose::STANDARD.encode(signing.sign(&signed).to_bytes());
            client.webhooks().unwrap().verify(body, &sig, &ts).expect("verifies with TELNYX_PUBLIC_KEY");
        }
        "defaults" => {
            let client = Client::from_env().unwrap();
            assert_eq!(client.base_url(), telnyx::DEFAULT_BASE_URL);
            assert!(matches!(client.webhooks(), Err(Error::Config(_))), "no TELNYX_PUBLIC_KEY, no verifier");
        }
        "missing" => {
            let err = Client::from_env().unwrap_err();
            assert!(matches!(err, Error::Config(_)), "{err:?}");
            assert!(err.to_string().contains("TELNYX_API_KEY"), "{err}");
        }
        other => panic!("unknown case {other}"),
    }
    println!("from_env case {case} checked");
}

/// Runs the child test with `vars` set and every other `TELNYX_*` variable removed; answers
/// whether it passed and what it printed.
fn run_child(case: &str, vars: &[(&str, &str)]) -> (bool, String) {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args([CHILD, "--exact", "--nocapture", "--test-threads=1"]);
    for v in ["TELNYX_API_KEY", "TELNYX_BASE_URL", "TELNYX_PUBLIC_KEY"] {
        cmd.env_remove(v);
    }
    cmd.env(MARKER, case);
    for (k, v) in vars {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.success(), text)
}

#[tokio::test]
async fn from_env_reads_the_key_the_base_url_and_the_public_key() {
    use axum::http::HeaderMap;
    use std::sync::{Arc, Mutex};
    let seen: Arc<Mutex<Vec<(String, String)>>> = Arc::default();
    let keep = seen.clone();
    let app = axum::Router::new().fallback(move |uri: axum::http::Uri, h: HeaderMap| {
        let keep = keep.clone();
        async move {
            let auth = h.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
            keep.lock().unwrap().push((uri.path().to_owned(), auth));
            ([("content-type", "application/json")], r#"{"data":{"id":"m1"}}"#)
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}/v2", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let public = {
        use base64::Engine as _;
        let key = ed25519_dalek::SigningKey::from_bytes(&SIGNING_SEED).verifying_key();
        base64::engine::general_purpose::STANDARD.encode(key.to_bytes())
    };
    let child = move || {
        let vars =
            [("TELNYX_API_KEY", "KEYfromenv"), ("TELNYX_BASE_URL", base.as_str()), ("TELNYX_PUBLIC_KEY", &public)];
        run_child("full", &vars)
    };
    let (ok, out) =
        tokio::time::timeout(Duration::from_secs(120), tokio::task::spawn_blocking(child)).await.unwrap().unwrap();
    assert!(ok && out.contains("from_env case full checked"), "{out}");
    assert_eq!(*seen.lock().unwrap(), [("/v2/messages/m1".to_owned(), "Bearer KEYfromenv".to_owned())]);
}

#[test]
fn from_env_defaults_and_a_missing_key() {
    let (ok, out) = run_child("defaults", &[("TELNYX_API_KEY", "KEYfromenv")]);
    assert!(ok && out.contains("from_env case defaults checked"), "{out}");
    let (ok, out) = run_child("missing", &[]);
    assert!(ok && out.contains("from_env case missing checked"), "{out}");
    // An empty key is no key.
    let (ok, out) = run_child("missing", &[("TELNYX_API_KEY", "")]);
    assert!(ok && out.contains("from_env case missing checked"), "{out}");
}
