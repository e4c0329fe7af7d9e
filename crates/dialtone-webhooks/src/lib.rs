//! The webhook delivery worker.
//!
//! Runs as the scheduler's handler for [`webhooks::ATTEMPT_JOB`]: one job, one attempt.
//! The attempt is signed anew (`telnyx-signature-ed25519` over `"{timestamp}|{body}"`,
//! `telnyx-timestamp` in Unix seconds of the real clock, since verifiers compare it with
//! theirs), posted with the destination's timeout, and recorded on the delivery; the
//! delivery's state machine decides whether another attempt is scheduled. Only a 2xx
//! answer counts as delivered.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use chrono::Utc;
use dialtone_domain::keys::Signer;
use dialtone_domain::webhooks::{self, Attempt, AttemptArgs, Delivery, Next, Outcome, errors};
use dialtone_engine::Engine;
use dialtone_engine::scheduler::{Builder, HandlerResult};
use dialtone_store::{ChangeSet, Doc, Job, NewJob, Payload};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Signs `"{timestamp}|{body}"`; answers the base64 signature header value.
pub fn sign(signer: &Signer, timestamp: i64, body: &[u8]) -> String {
    let mut msg = Vec::with_capacity(body.len() + 12);
    msg.extend_from_slice(timestamp.to_string().as_bytes());
    msg.push(b'|');
    msg.extend_from_slice(body);
    STANDARD.encode(signer.sign(&msg))
}

mod http;

/// Shared by every attempt: the HTTP clients and the accounts' signers.
pub struct Worker {
    /// Plain `http://` URLs.
    plain: http::Client,
    /// The rest: `https://`, and URLs the plain client does not take as they are.
    http: reqwest::Client,
    signers: Mutex<HashMap<String, Signer>>,
}

impl Worker {
    pub fn new() -> Arc<Worker> {
        // As many idle connections per host as attempts can be in flight: with fewer, a
        // burst of attempts to one application opened connections that the pool then
        // closed, and the next burst opened them again.
        let http = reqwest::Client::builder()
            .user_agent("telnyx-webhooks")
            // Only a 2xx counts as delivered; a redirect is an answer like any other.
            .redirect(reqwest::redirect::Policy::none())
            .pool_max_idle_per_host(dialtone_engine::scheduler::MAX_IN_FLIGHT)
            .connect_timeout(Duration::from_secs(5))
            .build()
            .expect("HTTP client");
        Arc::new(Worker { plain: http::Client::default(), http, signers: Mutex::new(HashMap::new()) })
    }

    /// Registers the delivery handler on a scheduler builder.
    pub fn register(self: &Arc<Self>, builder: Builder) -> Builder {
        let worker = self.clone();
        builder.handler(webhooks::ATTEMPT_JOB, move |engine, job| {
            let worker = worker.clone();
            async move { worker.attempt(engine, job).await }
        })
    }

    async fn signer(&self, engine: &Engine, account_id: &str) -> Result<Signer, String> {
        if let Some(s) = self.signers.lock().unwrap_or_else(|e| e.into_inner()).get(account_id) {
            return Ok(s.clone());
        }
        let acct = engine.account(account_id).await.map_err(|e| e.detail)?.ok_or("account is gone")?;
        let signer = Engine::signer(&acct).map_err(|e| e.detail)?;
        self.signers.lock().unwrap_or_else(|e| e.into_inner()).insert(account_id.to_owned(), signer.clone());
        Ok(signer)
    }

    /// Makes one attempt of the delivery named by the job. Idempotent: a delivery that is
    /// no longer pending is left alone.
    async fn attempt(&self, engine: Engine, job: Job) -> HandlerResult {
        let Some(args) = job.payload.to::<AttemptArgs>() else {
            return Err(format!("webhook job {} names no delivery", job.id));
        };
        let id = args.delivery_id;
        // The first attempt's job carries the delivery, recorded by this attempt; a retry
        // reads the record the attempts before it wrote.
        let (doc, mut delivery) = match args.delivery {
            Some(delivery) => (None, delivery),
            None => match engine.store.get_as::<Delivery>(webhooks::KIND, &id).await.map_err(|e| e.to_string())? {
                Some((doc, delivery)) => (Some(doc), delivery),
                None => return Ok(ChangeSet::new()),
            },
        };
        if delivery.status != webhooks::Status::Pending {
            return Ok(ChangeSet::new());
        }
        let signer = self.signer(&engine, &delivery.account_id).await?;
        let number = delivery.next_attempt_number();
        let url = delivery.current_url().to_owned();
        let body = delivery.event.envelope(number, &url);
        let timestamp = Utc::now().timestamp();
        let request_headers = vec![
            ("Accept".to_owned(), "*/*".to_owned()),
            ("Content-Type".to_owned(), "application/json".to_owned()),
            ("User-Agent".to_owned(), "telnyx-webhooks".to_owned()),
            ("telnyx-signature-ed25519".to_owned(), sign(&signer, timestamp, body.as_bytes())),
            ("telnyx-timestamp".to_owned(), timestamp.to_string()),
        ];
        let started_at = engine.clock.now();
        let outcome = self
            .send(&delivery.destination.method, &url, &request_headers, body, delivery.destination.timeout_ms)
            .await;
        let finished_at = engine.clock.now().max(started_at);
        let attempt = to_attempt(number, url, request_headers, outcome, started_at, finished_at);
        let next = delivery.record(attempt, rand::random::<f64>());
        let mut cs = match doc {
            Some(mut doc) => {
                doc.set(&delivery);
                ChangeSet::new().update(doc)
            }
            None => ChangeSet::new().insert(Doc::of(
                webhooks::KIND,
                &id,
                &delivery.account_id,
                &delivery,
                delivery.created_at,
            )),
        };
        if let Next::RetryIn(after) = next {
            cs = cs.job(NewJob {
                id: webhooks::attempt_job_id(&id, number + 1),
                kind: webhooks::ATTEMPT_JOB.into(),
                payload: Payload::of(&AttemptArgs { delivery_id: id.clone(), delivery: None }),
                due_at: engine.clock.now() + after,
                ordering_key: None,
            });
        }
        Ok(cs)
    }

    async fn send(
        &self,
        method: &str,
        url: &str,
        headers: &[(String, String)],
        body: String,
        timeout_ms: u64,
    ) -> Outcome {
        if let Some(target) = http::Target::parse(url) {
            let timeout = Duration::from_millis(timeout_ms);
            return self.plain.send(method, &target, headers, body.into(), timeout).await;
        }
        let Ok(parsed) = reqwest::Url::parse(url) else {
            return Outcome::Failed { code: errors::BAD_URL, detail: format!("'{url}' is not a valid URL") };
        };
        let mut req = if method == "GET" { self.http.get(parsed) } else { self.http.post(parsed) };
        for (k, v) in headers {
            req = req.header(k, v);
        }
        let req = req.body(body).timeout(Duration::from_millis(timeout_ms));
        match req.send().await {
            Ok(mut resp) => {
                let status = resp.status().as_u16();
                let headers = header_excerpt(resp.headers());
                let mut excerpt = Vec::new();
                let deadline = tokio::time::Instant::now() + Duration::from_millis(timeout_ms);
                while excerpt.len() < webhooks::BODY_EXCERPT {
                    match tokio::time::timeout_at(deadline, resp.chunk()).await.ok() {
                        Some(Ok(Some(chunk))) => excerpt.extend_from_slice(&chunk),
                        _ => break,
                    }
                }
                excerpt.truncate(webhooks::BODY_EXCERPT);
                Outcome::Response { status, headers, body: String::from_utf8_lossy(&excerpt).into_owned() }
            }
            Err(e) => {
                let text = error_chain(&e);
                let code = if e.is_timeout() {
                    errors::TIMEOUT
                } else if text.contains("dns error") || text.contains("failed to lookup") {
                    errors::UNRESOLVED
                } else {
                    errors::CONNECTION
                };
                Outcome::Failed { code, detail: text }
            }
        }
    }
}

/// An answer's headers as the attempt's record keeps them: in order, as text, up to
/// [`webhooks::BODY_EXCERPT`] bytes of names and values.
fn header_excerpt(map: &hyper::HeaderMap) -> Vec<(String, String)> {
    let mut headers = Vec::new();
    let mut size = 0;
    for (k, v) in map {
        let v = String::from_utf8_lossy(v.as_bytes()).into_owned();
        size += k.as_str().len() + v.len();
        if size > webhooks::BODY_EXCERPT {
            break;
        }
        headers.push((k.as_str().to_owned(), v));
    }
    headers
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut src = e.source();
    while let Some(s) = src {
        out.push_str(": ");
        out.push_str(&s.to_string());
        src = s.source();
    }
    out
}

fn to_attempt(
    number: u32,
    url: String,
    request_headers: Vec<(String, String)>,
    outcome: Outcome,
    started_at: chrono::DateTime<Utc>,
    finished_at: chrono::DateTime<Utc>,
) -> Attempt {
    // The signature is not kept in the record: it is only good for this one body.
    let request_headers: Vec<(String, String)> =
        request_headers.into_iter().filter(|(k, _)| k != "telnyx-signature-ed25519").collect();
    match outcome {
        Outcome::Response { status, headers, body } => {
            let delivered = (200..300).contains(&status);
            Attempt {
                number,
                url,
                request_headers,
                started_at,
                finished_at,
                delivered,
                status: Some(status),
                response_headers: headers,
                response_body: Some(body),
                errors: if delivered { vec![] } else { vec![errors::NON_2XX] },
                error_detail: None,
            }
        }
        Outcome::Failed { code, detail } => Attempt {
            number,
            url,
            request_headers,
            started_at,
            finished_at,
            delivered: false,
            status: None,
            response_headers: vec![],
            response_body: None,
            errors: vec![code],
            error_detail: Some(detail),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_covers_timestamp_and_body() {
        use ed25519_verify::verify;
        let s = Signer::generate();
        let sig = sign(&s, 1700000000, b"{\"a\":1}");
        assert!(verify(&s.public_key_base64(), "1700000000|{\"a\":1}", &sig));
        assert!(!verify(&s.public_key_base64(), "1700000001|{\"a\":1}", &sig));
    }

    /// A verifier written against the documented scheme, independent of the signing code.
    mod ed25519_verify {
        use base64::Engine as _;
        pub fn verify(public_b64: &str, msg: &str, sig_b64: &str) -> bool {
            let e = base64::engine::general_purpose::STANDARD;
            let pk: [u8; 32] = e.decode(public_b64).unwrap().try_into().unwrap();
            let sig: [u8; 64] = e.decode(sig_b64).unwrap().try_into().unwrap();
            let vk = ed25519_dalek::VerifyingKey::from_bytes(&pk).unwrap();
            vk.verify_strict(msg.as_bytes(), &ed25519_dalek::Signature::from_bytes(&sig)).is_ok()
        }
    }
}
