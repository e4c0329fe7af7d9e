//! The client commands of `dialtone`: everyday use of a Dialtone server (or real Telnyx)
//! through the `telnyx` SDK, printing readable tables or, with `--json`, the API's objects.

use anyhow::{Context, anyhow};
use clap::{Args, Subcommand};
use serde::Serialize;
use serde_json::{Value, json};
use std::io::Write;

/// Where and as whom the client commands talk.
#[derive(Args, Clone)]
pub struct Conn {
    /// The API's base URL, `/v2` included.
    #[arg(long, env = "TELNYX_BASE_URL", default_value = "http://127.0.0.1:4010/v2", global = true)]
    base_url: String,
    /// The API key.
    #[arg(long, env = "TELNYX_API_KEY", hide_env_values = true, global = true)]
    api_key: Option<String>,
    /// Print the API's JSON instead of a table.
    #[arg(long, global = true)]
    json: bool,
}

impl Conn {
    fn client(&self) -> anyhow::Result<telnyx::Client> {
        let key = self.api_key.clone().ok_or_else(|| anyhow!("no API key: pass --api-key or set TELNYX_API_KEY"))?;
        Ok(telnyx::Client::builder().api_key(key).base_url(self.base_url.clone()).build()?)
    }

    /// The server's root, for Dialtone's own `/_dialtone` endpoints.
    fn root(&self) -> String {
        let b = self.base_url.trim_end_matches('/');
        b.strip_suffix("/v2").unwrap_or(b).to_owned()
    }
}

#[derive(Subcommand)]
pub enum Messages {
    /// Send an SMS or MMS.
    Send {
        /// The sending number (of your account) or alphanumeric sender.
        #[arg(long)]
        from: Option<String>,
        /// The destination, +E.164.
        #[arg(long)]
        to: String,
        /// The text.
        #[arg(long)]
        text: Option<String>,
        /// A media URL (repeatable): makes it an MMS.
        #[arg(long = "media-url")]
        media_urls: Vec<String>,
        /// Send from this messaging profile's number pool.
        #[arg(long)]
        messaging_profile_id: Option<String>,
    },
    /// Show a message.
    Get { id: String },
}

#[derive(Subcommand)]
pub enum Calls {
    /// Dial a number or SIP URI from a call control application.
    Dial {
        /// The call control application (connection) id.
        #[arg(long)]
        connection_id: String,
        #[arg(long)]
        from: String,
        #[arg(long)]
        to: String,
    },
    /// Show a call.
    Get { call_control_id: String },
    /// Speak text on an answered call.
    Speak {
        call_control_id: String,
        #[arg(long)]
        text: String,
        #[arg(long, default_value = "female")]
        voice: String,
    },
    /// Hang up.
    Hangup { call_control_id: String },
}

#[derive(Subcommand)]
pub enum Rooms {
    /// Create a video room.
    Create {
        #[arg(long)]
        unique_name: Option<String>,
        #[arg(long)]
        max_participants: Option<i64>,
    },
    /// List rooms.
    List,
}

#[derive(Subcommand)]
pub enum Sim {
    /// Move the manual clock (and run what becomes due).
    Advance {
        #[arg(long)]
        seconds: u64,
    },
    /// An outside number texts one of yours.
    Message {
        #[arg(long)]
        from: String,
        #[arg(long)]
        to: String,
        #[arg(long)]
        text: String,
    },
    /// An outside number calls one of yours.
    Call {
        #[arg(long)]
        from: String,
        #[arg(long)]
        to: String,
    },
    /// The far end of a call presses digits.
    Dtmf {
        call_control_id: String,
        #[arg(long)]
        digits: String,
    },
    /// The far end of a call hangs up.
    Hangup { call_control_id: String },
    /// Emit any event to a URL, signed as every webhook.
    Webhook {
        #[arg(long)]
        event_type: String,
        #[arg(long)]
        url: String,
        /// The payload, a JSON object.
        #[arg(long, default_value = "{}")]
        payload: String,
    },
    /// How the carrier treats messages to a number: deliver, fail, unconfirmed, reject.
    Number {
        number: String,
        #[arg(long)]
        outcome: String,
        #[arg(long)]
        code: Option<String>,
    },
}

#[derive(Subcommand)]
pub enum Webhooks {
    /// Receive webhooks, verify each signature and print the events as they arrive.
    Listen {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8000")]
        listen: String,
        /// The account's public key (base64); `GET /_dialtone/webhooks/public_key` when absent.
        #[arg(long, env = "TELNYX_PUBLIC_KEY")]
        public_key: Option<String>,
    },
}

/// Prints an object as JSON or as a two-column table of its scalar fields.
fn show(conn: &Conn, value: &impl Serialize) -> anyhow::Result<()> {
    let v = serde_json::to_value(value)?;
    let mut out = std::io::stdout().lock();
    if conn.json {
        writeln!(out, "{}", serde_json::to_string_pretty(&v)?)?;
        return Ok(());
    }
    match &v {
        Value::Array(items) => table(&mut out, items)?,
        Value::Object(o) => {
            let width = o.keys().map(String::len).max().unwrap_or(0);
            for (k, val) in o {
                if let Some(s) = cell(val) {
                    writeln!(out, "{k:width$}  {s}")?;
                }
            }
        }
        other => writeln!(out, "{other}")?,
    }
    Ok(())
}

/// A value as one table cell; nested objects are left out of tables.
fn cell(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        Value::Array(a) if a.iter().all(|x| !x.is_object()) => {
            Some(a.iter().filter_map(cell).collect::<Vec<_>>().join(","))
        }
        Value::Array(a) => Some(
            a.iter()
                .map(|x| x.get("phone_number").and_then(cell).unwrap_or_else(|| "…".into()))
                .collect::<Vec<_>>()
                .join(","),
        ),
        Value::Object(o) => o.get("phone_number").and_then(cell),
        other => Some(other.to_string()),
    }
}

fn table(out: &mut impl Write, items: &[Value]) -> anyhow::Result<()> {
    let cols: Vec<String> = match items.first() {
        Some(Value::Object(o)) => o.keys().filter(|k| cell(&o[*k]).is_some()).take(6).cloned().collect(),
        _ => return Ok(writeln!(out, "(none)")?),
    };
    let rows: Vec<Vec<String>> =
        items.iter().map(|i| cols.iter().map(|c| i.get(c).and_then(cell).unwrap_or_default()).collect()).collect();
    let widths: Vec<usize> =
        (0..cols.len()).map(|i| rows.iter().map(|r| r[i].len()).chain([cols[i].len()]).max().unwrap_or(0)).collect();
    let line = |cells: &[String]| {
        cells.iter().zip(&widths).map(|(c, w)| format!("{c:w$}")).collect::<Vec<_>>().join("  ").trim_end().to_owned()
    };
    writeln!(out, "{}", line(&cols.iter().map(|c| c.to_uppercase()).collect::<Vec<_>>()))?;
    for r in &rows {
        writeln!(out, "{}", line(r))?;
    }
    Ok(())
}

pub async fn messages(conn: Conn, cmd: Messages) -> anyhow::Result<()> {
    use telnyx::messaging::SendMessage;
    let client = conn.client()?;
    match cmd {
        Messages::Send { from, to, text, media_urls, messaging_profile_id } => {
            let mut req = SendMessage::new(to);
            if let Some(f) = from {
                req = req.from(f);
            }
            if let Some(t) = text {
                req = req.text(t);
            }
            if !media_urls.is_empty() {
                req = req.media_urls(media_urls);
            }
            if let Some(p) = messaging_profile_id {
                req = req.messaging_profile_id(p);
            }
            show(&conn, &client.messages().send(req).await?)
        }
        Messages::Get { id } => show(&conn, &client.messages().retrieve(&id).await?),
    }
}

pub async fn calls(conn: Conn, cmd: Calls) -> anyhow::Result<()> {
    use telnyx::voice::{Dial, Hangup, Speak};
    let client = conn.client()?;
    match cmd {
        Calls::Dial { connection_id, from, to } => {
            show(&conn, &client.calls().dial(Dial::new(connection_id, to, from)).await?)
        }
        Calls::Get { call_control_id } => show(&conn, &client.calls().retrieve(&call_control_id).await?),
        Calls::Speak { call_control_id, text, voice } => {
            show(&conn, &client.calls().speak(&call_control_id, Speak::new(text, voice)).await?)
        }
        Calls::Hangup { call_control_id } => {
            show(&conn, &client.calls().hangup(&call_control_id, Hangup::new()).await?)
        }
    }
}

pub async fn rooms(conn: Conn, cmd: Rooms) -> anyhow::Result<()> {
    use telnyx::video::{CreateRoom, ListRooms};
    let client = conn.client()?;
    match cmd {
        Rooms::Create { unique_name, max_participants } => {
            let mut req = CreateRoom::new();
            if let Some(n) = unique_name {
                req = req.unique_name(n);
            }
            if let Some(m) = max_participants {
                req = req.max_participants(m);
            }
            show(&conn, &client.rooms().create(req).await?)
        }
        Rooms::List => show(&conn, &client.rooms().list_all(&ListRooms::new()).collect_all().await?),
    }
}

/// Calls one of Dialtone's own endpoints (they are not Telnyx's, so not in the SDK).
async fn dialtone_call(conn: &Conn, method: reqwest::Method, path: &str, body: Option<Value>) -> anyhow::Result<Value> {
    let key = conn.api_key.clone().ok_or_else(|| anyhow!("no API key: pass --api-key or set TELNYX_API_KEY"))?;
    let mut req = reqwest::Client::new().request(method, format!("{}{path}", conn.root())).bearer_auth(key);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let resp = req.send().await.with_context(|| format!("cannot reach {}", conn.root()))?;
    let status = resp.status();
    let text = resp.text().await?;
    let v: Value = serde_json::from_str(&text).unwrap_or(Value::String(text));
    if !status.is_success() {
        return Err(anyhow!("{path} answered {status}: {v}"));
    }
    Ok(v.get("data").cloned().unwrap_or(v))
}

pub async fn sim(conn: Conn, cmd: Sim) -> anyhow::Result<()> {
    use reqwest::Method;
    let v = match cmd {
        Sim::Advance { seconds } => {
            dialtone_call(&conn, Method::POST, "/_dialtone/sim/clock/advance", Some(json!({"seconds": seconds})))
                .await?
        }
        Sim::Message { from, to, text } => {
            let body = json!({"from": from, "to": to, "text": text});
            dialtone_call(&conn, Method::POST, "/_dialtone/sim/messages", Some(body)).await?
        }
        Sim::Call { from, to } => {
            dialtone_call(&conn, Method::POST, "/_dialtone/sim/calls", Some(json!({"from": from, "to": to}))).await?
        }
        Sim::Dtmf { call_control_id, digits } => {
            let path = format!("/_dialtone/sim/calls/{call_control_id}/dtmf");
            dialtone_call(&conn, Method::POST, &path, Some(json!({"digits": digits}))).await?
        }
        Sim::Hangup { call_control_id } => {
            let path = format!("/_dialtone/sim/calls/{call_control_id}/hangup");
            dialtone_call(&conn, Method::POST, &path, None).await?
        }
        Sim::Webhook { event_type, url, payload } => {
            let payload: Value = serde_json::from_str(&payload).context("--payload must be a JSON object")?;
            let body = json!({"event_type": event_type, "url": url, "payload": payload});
            dialtone_call(&conn, Method::POST, "/_dialtone/sim/webhooks", Some(body)).await?
        }
        Sim::Number { number, outcome, code } => {
            let mut body = json!({"outcome": outcome});
            if let Some(c) = code {
                body["code"] = json!(c);
            }
            dialtone_call(&conn, Method::PUT, &format!("/_dialtone/sim/numbers/{number}"), Some(body)).await?
        }
    };
    show(&conn, &v)
}

pub async fn webhooks(conn: Conn, cmd: Webhooks) -> anyhow::Result<()> {
    let Webhooks::Listen { listen, public_key } = cmd;
    let key = match public_key {
        Some(k) => k,
        None => dialtone_call(&conn, reqwest::Method::GET, "/_dialtone/webhooks/public_key", None)
            .await?
            .get("public_key")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| anyhow!("no public key: pass --public-key or set TELNYX_PUBLIC_KEY"))?,
    };
    let verifier = telnyx::WebhookVerifier::new(&key)?;
    let listener = tokio::net::TcpListener::bind(&listen).await?;
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "Listening for webhooks on http://{}/", listener.local_addr()?)?;
        out.flush()?;
    }
    let json_out = conn.json;
    let app = axum::Router::new().fallback(move |headers: axum::http::HeaderMap, body: axum::body::Bytes| {
        let verifier = verifier.clone();
        async move { receive(&verifier, json_out, &headers, &body) }
    });
    axum::serve(listener, app).await?;
    Ok(())
}

/// What an event is about, for its one-line summary: the call, message, room or order.
fn subject(ev: &telnyx::Event) -> String {
    use telnyx::EventKind;
    let id = match &ev.kind {
        // A link click has no payload: its data is the click.
        EventKind::LinkClicked(c) => c.message_id.clone(),
        EventKind::MessageSent(m) | EventKind::MessageFinalized(m) | EventKind::MessageReceived(m) => m.id.clone(),
        EventKind::NumberOrderComplete(o) => o.id.clone(),
        _ => {
            let payload = ev.raw["data"]["payload"].as_object();
            payload
                .and_then(|p| ["call_control_id", "room_id", "id"].iter().find_map(|k| p.get(*k)))
                .and_then(Value::as_str)
                .map(str::to_owned)
        }
    };
    id.unwrap_or_else(|| "-".to_owned())
}

/// Verifies and prints one webhook; answers 200, or 400 when it does not verify.
fn receive(
    verifier: &telnyx::WebhookVerifier,
    json_out: bool,
    headers: &axum::http::HeaderMap,
    body: &[u8],
) -> axum::http::StatusCode {
    let get = |n: &str| headers.get(n).and_then(|v| v.to_str().ok()).unwrap_or_default();
    let checked = verifier
        .verify(body, get(telnyx::webhooks::SIGNATURE_HEADER), get(telnyx::webhooks::TIMESTAMP_HEADER))
        .map_err(telnyx::Error::from)
        .and_then(|()| telnyx::Event::parse(body).map_err(telnyx::Error::from));
    let mut out = std::io::stdout().lock();
    let status = match checked {
        Ok(ev) => {
            let _ = if json_out {
                writeln!(out, "{}", serde_json::to_string(&ev.raw).unwrap_or_default())
            } else {
                let id = subject(&ev);
                writeln!(
                    out,
                    "{}  {}  {}  attempt {}  event {}",
                    ev.occurred_at.as_deref().unwrap_or("-"),
                    ev.event_type(),
                    id,
                    ev.attempt.unwrap_or(1),
                    ev.id
                )
            };
            axum::http::StatusCode::OK
        }
        Err(e) => {
            let _ = writeln!(std::io::stderr(), "refused a webhook: {e}");
            axum::http::StatusCode::BAD_REQUEST
        }
    };
    let _ = out.flush();
    status
}
