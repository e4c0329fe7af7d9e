//! Services an answered call runs until stopped: fork, SIPREC, media streaming,
//! transcription and noise suppression (start/stop with their webhooks), the supervisor
//! role, and queues (enqueue / leave_queue).
//!
//! Only media streaming leaves Dialtone (a WebSocket the engine opens, see
//! `streaming.rs`): no RTP is forked, no SIPREC session is opened, no speech is
//! transcribed. For those the state and the webhooks are what Telnyx reports.

use super::*;

/// A service in progress.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Service {
    /// `fork`, `siprec`, `streaming`, `transcription` or `suppression`.
    pub name: String,
    /// Fields its webhooks echo (`stream_url`, `stream_type`).
    pub detail: Value,
    /// A media stream's parameters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream: Option<StreamSpec>,
}

/// A parsed service command.
#[derive(Clone, Debug, PartialEq)]
pub struct ServiceRequest {
    pub name: &'static str,
    pub start: bool,
    pub detail: Value,
    /// `streaming_start`'s stream.
    pub stream: Option<StreamSpec>,
}

/// The queue a call waits in.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Queued {
    pub name: String,
    pub position: u32,
    pub at: DateTime<Utc>,
    pub seq: u32,
}

fn udp_target(body: &Body, field: &str) -> Result<bool> {
    match body.opt_str(field)? {
        None => Ok(false),
        Some(t) => {
            let ok = t
                .strip_prefix("udp:")
                .and_then(|r| r.rsplit_once(':'))
                .is_some_and(|(host, port)| !host.is_empty() && port.parse::<u16>().is_ok_and(|p| p > 0));
            if ok { Ok(true) } else { Err(ApiError::invalid(field, format!("'{field}' is udp:host:port."))) }
        }
    }
}

impl ServiceRequest {
    /// Reads `actions/{action}` for the service actions.
    pub fn parse(action: &str, body: &Body) -> Result<ServiceRequest> {
        let (name, start) = action.rsplit_once('_').map(|(n, s)| (n, s == "start")).unwrap_or((action, false));
        let mut detail = json!({});
        let mut stream = None;
        let name: &'static str = match name {
            "fork" => {
                if start {
                    let rx = udp_target(body, "rx")?;
                    let tx = udp_target(body, "tx")?;
                    if !rx && !tx {
                        return Err(ApiError::missing("rx").detail("Give 'rx', 'tx' or both (udp:host:port)."));
                    }
                    detail["stream_type"] = json!(body.opt_enum("stream_type", &["decrypted"])?.unwrap_or("decrypted"));
                } else {
                    body.opt_enum("stream_type", &["raw", "decrypted"])?;
                }
                "fork"
            }
            "siprec" => {
                if start {
                    body.req_str("connector_name")?;
                    body.opt_int_in("session_timeout_secs", 1, 14_400)?;
                    body.opt_enum("sip_transport", &["udp", "tcp", "tls"])?;
                    body.opt_enum("siprec_track", &["inbound_track", "outbound_track", "both_tracks"])?;
                    body.opt_bool("secure")?;
                }
                "siprec"
            }
            "streaming" => {
                if start {
                    stream = StreamSpec::parse(body, true)?;
                    detail["stream_url"] = json!(stream.as_ref().map(|s| s.url.clone()));
                }
                "streaming"
            }
            "transcription" => {
                if start {
                    body.opt_str("transcription_engine")?;
                    body.opt_str("transcription_tracks")?;
                }
                "transcription"
            }
            _ => {
                if start {
                    body.opt_enum("direction", &["inbound", "outbound", "both"])?;
                    body.opt_str("noise_suppression_engine")?;
                }
                "suppression"
            }
        };
        Ok(ServiceRequest { name, start, detail, stream })
    }
}

/// The event types (the spec names SIPREC and streaming events without `call.`, as
/// Telnyx sends them).
fn service_events(name: &str, start: bool) -> Option<&'static str> {
    Some(match (name, start) {
        ("fork", true) => "call.fork.started",
        ("fork", false) => "call.fork.stopped",
        ("siprec", true) => "siprec.started",
        ("siprec", false) => "siprec.stopped",
        ("streaming", true) => "streaming.started",
        ("streaming", false) => "streaming.stopped",
        _ => return None,
    })
}

impl Call {
    /// `actions/{service}_start` / `_stop`. Starting one already running, or stopping one
    /// that is not, answers `90423`.
    pub fn service(&mut self, cmd: &Command, req: &ServiceRequest) -> Result<Outcome> {
        self.require_answered()?;
        let running = self.services.iter().position(|s| s.name == req.name);
        let mut out = Outcome::default();
        match (req.start, running) {
            (true, Some(_)) => {
                return Err(ApiError::new(Code::CallStateConflict)
                    .detail(format!("This call's {} is already running.", req.name)));
            }
            (false, None) => {
                return Err(
                    ApiError::new(Code::CallStateConflict).detail(format!("This call's {} is not running.", req.name))
                );
            }
            (true, None) => {
                self.accept(cmd);
                match &req.stream {
                    Some(spec) => self.start_stream(&mut out, spec.clone()),
                    None => {
                        let s = Service { name: req.name.to_owned(), detail: req.detail.clone(), stream: None };
                        self.emit_service(&mut out, &s, true, None);
                        self.services.push(s);
                    }
                }
            }
            (false, Some(i)) => {
                self.accept(cmd);
                let s = self.services.remove(i);
                self.emit_service(&mut out, &s, false, Some("normal_clearing"));
                if let Some(spec) = &s.stream {
                    out.streams.push(StreamOp::Close { stream_id: spec.stream_id.clone() });
                }
            }
        }
        Ok(out)
    }

    pub(super) fn emit_service(&self, out: &mut Outcome, s: &Service, start: bool, cause: Option<&str>) {
        let Some(event_type) = service_events(&s.name, start) else { return };
        let mut p = self.base_payload();
        if let Some(o) = p.as_object_mut() {
            o.remove("from");
            o.remove("to");
        }
        if let Some(d) = s.detail.as_object() {
            for (k, v) in d {
                p[k] = v.clone();
            }
        }
        if s.name == "siprec" && !start {
            p["hangup_cause"] = json!(cause.unwrap_or("normal_clearing"));
        }
        out.events.push(Emit { event_type, payload: p });
    }

    /// The call ends: its services stop (their stop webhooks), its queue is left.
    pub(super) fn end_services(&mut self, out: &mut Outcome, cause: &str, now: DateTime<Utc>) {
        for s in std::mem::take(&mut self.services) {
            self.emit_service(out, &s, false, Some(cause));
            if let Some(spec) = &s.stream {
                out.streams.push(StreamOp::Close { stream_id: spec.stream_id.clone() });
            }
        }
        self.dequeue(out, "hangup", now);
    }

    /// `actions/switch_supervisor_role`.
    pub fn switch_supervisor_role(&mut self, cmd: &Command, role: &str) -> Result<Outcome> {
        self.require_answered()?;
        self.accept(cmd);
        self.supervisor_role = Some(role.to_owned());
        Ok(Outcome::default())
    }

    /// `actions/enqueue` into `queue` at `position` (the engine counts the account's calls
    /// waiting there); `max_wait_secs` dequeues it with `timeout`.
    pub fn enqueue(
        &mut self,
        cmd: &Command,
        queue: &str,
        position: u32,
        max_wait_secs: Option<i64>,
        now: DateTime<Utc>,
    ) -> Result<Outcome> {
        self.require_answered()?;
        if self.queue.is_some() {
            return Err(ApiError::new(Code::CallStateConflict).detail("This call is already in a queue."));
        }
        if matches!(self.state, State::Bridged { .. }) {
            return Err(ApiError::new(Code::CallStateConflict).detail("A bridged call cannot be enqueued."));
        }
        self.accept(cmd);
        self.media_seq += 1;
        self.queue = Some(Queued { name: queue.to_owned(), position, at: now, seq: self.media_seq });
        let mut p = self.base_payload();
        p["queue"] = json!(queue);
        p["current_position"] = json!(position);
        p["queue_avg_wait_time_secs"] = json!(0);
        let mut out = Outcome { events: vec![Emit { event_type: "call.enqueued", payload: p }], ..Outcome::default() };
        if let Some(s) = max_wait_secs {
            out.timers.push((Timer::QueueTimeout { seq: self.media_seq }, now + Duration::seconds(s)));
        }
        Ok(out)
    }

    /// `actions/leave_queue`.
    pub fn leave_queue(&mut self, cmd: &Command, now: DateTime<Utc>) -> Result<Outcome> {
        self.require_answered()?;
        if self.queue.is_none() {
            return Err(ApiError::new(Code::CallStateConflict).detail("This call is not in a queue."));
        }
        self.accept(cmd);
        let mut out = Outcome::default();
        self.dequeue(&mut out, "leave", now);
        Ok(out)
    }

    pub(super) fn on_queue_timer(&mut self, seq: u32, now: DateTime<Utc>) -> Outcome {
        let mut out = Outcome::default();
        if self.queue.as_ref().is_some_and(|q| q.seq == seq) {
            self.dequeue(&mut out, "timeout", now);
        }
        out
    }

    /// Leaves the queue, if in one, with `call.dequeued` for `reason`.
    pub(super) fn dequeue(&mut self, out: &mut Outcome, reason: &str, now: DateTime<Utc>) {
        let Some(q) = self.queue.take() else { return };
        let mut p = self.base_payload();
        p["queue"] = json!(q.name);
        p["queue_position"] = json!(q.position);
        p["reason"] = json!(reason);
        p["wait_time_secs"] = json!((now - q.at).num_seconds().max(0));
        out.events.push(Emit { event_type: "call.dequeued", payload: p });
    }
}
