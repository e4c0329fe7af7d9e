//! Calls over the simulated network: dialling, commands, inbound calls, and the timers
//! that move them (the far end's ring and answer, timeouts, time limits).
//!
//! Each operation loads the call, lets the domain's state machine decide
//! ([`dialtone_domain::calls::Call`]), and commits in one change set the call's new state,
//! its webhooks (through the outbox) and its timers (durable jobs). A call between two
//! numbers of this server has two legs that learn each other's changes in that same commit.

use crate::events::{emit, event};
use crate::scheduler::HandlerResult;
use crate::{Engine, Result, retry_on_conflict, store_err};
use chrono::{DateTime, Utc};
use dialtone_domain::accounts::{self, Account};
use dialtone_domain::applications::Application;
use dialtone_domain::body::Body;
use dialtone_domain::calls::{self, Call, Command, DialRequest, Ids, Outcome, Setup, Timer};
use dialtone_domain::error::{ApiError, Code};
use dialtone_domain::far_end::{self, Behaviour};
use dialtone_domain::numbers::PhoneNumber;
use dialtone_domain::webhooks::Routing;
use dialtone_store::{ChangeSet, Doc, Job, NewJob, StoreError};
use serde_json::json;

/// The commands built so far (the rest of `/calls/{id}/actions/*` answer 501 until built).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    Answer,
    Reject,
    Hangup,
}

/// Where a dial lands.
enum Destination {
    /// Outside this server: the simulated far end (and the script it follows, if any).
    Far(Behaviour, Option<far_end::Script>),
    /// A number of this server routed to an application: an incoming leg there.
    OnNet(Box<(PhoneNumber, Application)>),
}

fn call_doc(call: &Call, now: DateTime<Utc>) -> Doc {
    Doc::of(calls::KIND, &call.call_control_id, &call.account_id, call, now).parent(&call.connection_id)
}

/// The start of the ids of a call's timer jobs (`call:{call_control_id}:{n}`).
pub fn timer_job_prefix(call_control_id: &str) -> String {
    format!("call:{call_control_id}:")
}

/// Adds an outcome's webhooks and timers to `cs`, numbering the timers on the call (so
/// its document must be written after this).
fn schedule(mut cs: ChangeSet, call: &mut Call, out: &Outcome, now: DateTime<Utc>) -> ChangeSet {
    if call.release_channel() {
        cs = cs.count(accounts::outbound_calls_key(&call.account_id), -1, None);
    }
    cs = recording::keep(cs, call, out, now);
    cs = streams::jobs(cs, call, out, now);
    for e in &out.events {
        if let Some(dest) = call.routing.destination(e.event_type) {
            let ev = event(e.event_type, e.payload.clone(), now);
            cs = emit(cs, &call.account_id, ev, dest, Some(&call.call_control_id), now).0;
        }
    }
    if out.cancel_timers {
        cs = cs.cancel_jobs(timer_job_prefix(&call.call_control_id));
    }
    for (timer, due) in &out.timers {
        call.timers_set += 1;
        // No ordering key: a call's timers are due at unrelated times, and a key would hold
        // each behind the oldest (a 4-hour time limit ahead of a 3-second ring).
        cs = cs.job(NewJob {
            id: format!("{}{}", timer_job_prefix(&call.call_control_id), call.timers_set),
            kind: calls::TIMER_JOB.into(),
            payload: json!({ "call_control_id": call.call_control_id, "timer": timer }).into(),
            due_at: *due,
            ordering_key: None,
        });
    }
    cs
}

/// The incoming leg (`ids`) at a number of this server (`on_net`) that the outgoing leg
/// `caller` rings, dialled as `req` says: `call.initiated` to the number's application, and
/// the digits `caller` sends once it answers.
fn arrive(
    mut cs: ChangeSet,
    on_net: (PhoneNumber, Application),
    ids: Ids,
    req: &DialRequest,
    caller: &Call,
    now: DateTime<Utc>,
) -> ChangeSet {
    let (number, target) = on_net;
    let setup = Setup {
        ids,
        account_id: number.account_id.clone(),
        connection_id: target.id.clone(),
        from: req.from.clone(),
        to: number.phone_number.clone(),
        caller_id_name: req.from_display_name.clone(),
        routing: target.routing(),
        tags: number.tags.clone(),
        shaken_stir: target.inbound.shaken_stir_enabled,
        peer: Some(caller.call_control_id.clone()),
    };
    let first_command = target.first_command_timeout.then_some(target.first_command_timeout_secs);
    // The caller is the outgoing leg: its own timeout ends both legs.
    let (mut leg, out) = Call::incoming(setup, None, first_command, now);
    leg.caller_digits = req.send_digits.clone();
    cs = schedule(cs, &mut leg, &out, now);
    cs.insert(call_doc(&leg, now))
}

impl Engine {
    async fn load_call(&self, account_id: &str, id: &str) -> Result<(Doc, Call)> {
        match self.store.get(calls::KIND, id).await.map_err(store_err)? {
            Some(d) if d.account_id == account_id => {
                let c = Call::from_value(&d.data).ok_or_else(ApiError::unexpected)?;
                Ok((d, c))
            }
            _ => Err(ApiError::new(Code::InvalidCallControlId).pointer("/call_control_id")),
        }
    }

    /// `GET /calls/{call_control_id}`: the account's call, alive or ended within the last
    /// 10 minutes; 422 `90015` otherwise.
    pub async fn call(&self, account_id: &str, id: &str) -> Result<Call> {
        Ok(self.load_call(account_id, id).await?.1)
    }

    /// Adds a transition of `call` (stored as `doc`) to `cs`: its webhooks, timers, new
    /// state, and the reactions of the legs it concerns, followed from leg to leg: the
    /// linked leg of a call between two numbers of this server ([`Outcome::peer`]), a
    /// bridged or transferring leg ([`Outcome::link`]). A transfer to a number of this
    /// server chains three legs: the original, the leg the transfer dialled, and the
    /// incoming leg at the number; an answer or a hang-up at either end crosses all three.
    /// Each leg is written once, with every change it took.
    async fn transition(
        &self,
        cs: ChangeSet,
        doc: Doc,
        mut call: Call,
        out: Outcome,
        now: DateTime<Utc>,
    ) -> Result<ChangeSet> {
        /// What a leg must learn: a signal from its linked leg, or a link from `from`.
        enum Effect {
            Peer(calls::PeerSignal),
            Link(String, calls::Link),
        }
        fn effects(call: &Call, out: &Outcome, work: &mut std::collections::VecDeque<(String, Effect)>) {
            if let (Some(signal), Some(peer)) = (&out.peer, &call.peer) {
                work.push_back((peer.clone(), Effect::Peer(signal.clone())));
            }
            if let Some((to, l)) = &out.link {
                work.push_back((to.clone(), Effect::Link(call.call_control_id.clone(), l.clone())));
            }
        }
        let mut cs = schedule(cs, &mut call, &out, now);
        let mut work = std::collections::VecDeque::new();
        effects(&call, &out, &mut work);
        // Each leg touched, and whether it changed.
        let mut legs = vec![(doc, call, true)];
        // Every effect ends or answers a live leg, so the chain is short; the bound is a
        // guard against a cycle.
        let mut hops = 0;
        while let Some((to, effect)) = work.pop_front()
            && hops < 8
        {
            hops += 1;
            let i = match legs.iter().position(|(d, _, _)| d.id == to) {
                Some(i) => i,
                None => {
                    let (d, c) = match self.store.get_as::<Call>(calls::KIND, &to).await {
                        Ok(Some(leg)) => leg,
                        Ok(None) | Err(StoreError::Unreadable { .. }) => continue,
                        Err(e) => return Err(store_err(e)),
                    };
                    legs.push((d, c, false));
                    legs.len() - 1
                }
            };
            let (_, leg, changed) = &mut legs[i];
            let leg_out = match &effect {
                Effect::Peer(signal) => leg.on_peer(signal, now),
                Effect::Link(from, l) => leg.on_link(from, l, now),
            };
            if leg_out == Outcome::default() {
                continue;
            }
            *changed = true;
            cs = schedule(cs, leg, &leg_out, now);
            effects(leg, &leg_out, &mut work);
        }
        for (mut d, c, _) in legs.into_iter().filter(|l| l.2) {
            d.set(&c);
            cs = cs.update(d);
        }
        Ok(cs)
    }

    /// Where `to` leads: a number of this server with an active application takes the
    /// call as an incoming one; a number of this server without one is unreachable; any
    /// other destination is the simulated far end.
    async fn destination(&self, account_id: &str, to: &str) -> Result<Destination> {
        let number = far_end::number_of(to);
        let Some(n) = self.number_by_e164(number).await? else {
            if let Some(script) = self.far_script(account_id, to).await? {
                return Ok(Destination::Far(script.behaviour(), Some(script)));
            }
            return Ok(Destination::Far(far_end::behaviour(to), None));
        };
        let unreachable = Destination::Far(Behaviour::Unreachable { after_ms: far_end::UNREACHABLE_MS }, None);
        let Some(cid) = n.connection_id.clone() else {
            return Ok(unreachable);
        };
        match self.application(&n.account_id, &cid).await {
            Ok(app) if app.active && n.is_active() => Ok(Destination::OnNet(Box::new((n, app)))),
            _ => Ok(unreachable),
        }
    }

    /// `POST /calls`. Answers the call and, with `record`, the id its recording will have
    /// (served from `base_url`, where the caller reached this server).
    ///
    /// The call takes one of the account's outbound channels in the commit that creates it
    /// (a bounded counter, so racing dials cannot pass a managed account's channel limit)
    /// and gives it back in the commit that ends it.
    pub async fn dial(&self, caller: &Account, body: &Body, base_url: &str) -> Result<(Call, Option<String>)> {
        let req = DialRequest::parse(body)?;
        let live_key = accounts::outbound_calls_key(&caller.id);
        caller.check_can_dial(self.store.counter(&live_key).await.map_err(store_err)?)?;
        let app = match self.application(&caller.id, &req.connection_id).await {
            Ok(a) if a.active => a,
            Ok(_) => {
                return Err(ApiError::new(Code::InvalidConnectionId)
                    .detail("The call control application is not active.")
                    .pointer("/connection_id"));
            }
            Err(e) if e.code == Code::NotFound => {
                return Err(ApiError::new(Code::InvalidConnectionId).pointer("/connection_id"));
            }
            Err(e) => return Err(e),
        };
        let routing = app.routing().with_overrides(body)?;
        let now = self.clock.now();
        let recording_id = req.record.is_some().then(Engine::new_id);
        // A repeated dial (same command_id within a minute) answers the first call.
        let mut cs = ChangeSet::new();
        let mut earlier_dial = None;
        if let Some(cmd_id) = &req.command.command_id {
            let key = format!("{}:{cmd_id}", caller.id);
            if let Some(d) = self.store.get_unique(calls::DIAL_COMMAND_KIND, &key).await.map_err(store_err)? {
                let at = d.data["at"].as_str().and_then(dialtone_domain::query::parse_time);
                if at.is_some_and(|at| now - at < calls::COMMAND_WINDOW)
                    && let Some(id) = d.data["call_control_id"].as_str()
                    && let Ok(call) = self.call(&caller.id, id).await
                {
                    return Ok((call, recording_id));
                }
                earlier_dial = Some(d);
            }
        }
        let ids = Ids::new(None);
        let dest = self.destination(&caller.id, &req.to).await?;
        let peer_ids = matches!(dest, Destination::OnNet(..)).then(|| Ids::new(None));
        let setup = Setup {
            ids,
            account_id: caller.id.clone(),
            connection_id: app.id.clone(),
            from: req.from.clone(),
            to: req.to.clone(),
            caller_id_name: req.from_display_name.clone(),
            routing,
            tags: vec![],
            shaken_stir: false,
            peer: peer_ids.as_ref().map(|p| p.call_control_id.clone()),
        };
        let (far, script) = match &dest {
            Destination::Far(b, s) => (Some(b.clone()), s.clone()),
            Destination::OnNet(..) => (None, None),
        };
        let (mut call, out) = Call::dial(setup, &req, far, now);
        call.holds_channel = true;
        call.follow_script(script.as_ref());
        cs = cs.count(&live_key, 1, caller.outbound_channel_cap());
        if let (Some(rq), Some(rid)) = (&req.record, &recording_id) {
            call.pending_recording = Some(calls::Recording::new(rid, rq, base_url, now));
        }
        cs = schedule(cs, &mut call, &out, now);
        cs = cs.insert(call_doc(&call, now));
        if let Some(cmd_id) = &req.command.command_id {
            let data = json!({"call_control_id": call.call_control_id, "at": dialtone_domain::fmt_time(now)});
            cs = match earlier_dial {
                Some(mut d) => {
                    d.data = data;
                    cs.update(d)
                }
                None => cs.insert(
                    Doc::new(calls::DIAL_COMMAND_KIND, Engine::new_id(), &caller.id, data, now)
                        .unique(format!("{}:{cmd_id}", caller.id)),
                ),
            };
        }
        if let (Destination::OnNet(on_net), Some(peer_ids)) = (dest, peer_ids) {
            cs = arrive(cs, *on_net, peer_ids, &req, &call, now);
        }
        if let Err(e) = self.store.apply(&cs).await {
            // A racing dial took the last channel: the bound refused the whole commit.
            if let (dialtone_store::StoreError::Conflict, Some(cap)) = (&e, caller.outbound_channel_cap())
                && self.store.counter(&live_key).await.map_err(store_err)? >= cap
            {
                return Err(accounts::channel_limit_error(cap));
            }
            return Err(store_err(e));
        }
        self.wake.notify_one();
        Ok((call, recording_id))
    }

    /// `actions/answer`, `actions/reject`, `actions/hangup`. A repeated `command_id` within
    /// a minute is accepted and ignored.
    pub async fn call_action(&self, caller: &Account, id: &str, action: Action, body: &Body) -> Result<()> {
        let cmd = Command::parse(body)?;
        let cause = match action {
            Action::Reject => Some(
                body.opt_enum("cause", &["CALL_REJECTED", "USER_BUSY"])?
                    .ok_or_else(|| ApiError::missing("cause"))?
                    .to_owned(),
            ),
            _ => None,
        };
        let mut stream = None;
        if action == Action::Answer {
            // Checked before the call is touched: a bad override refuses the command.
            Routing::default().with_overrides(body)?;
            // `stream_url` on answer streams from the answer.
            stream = dialtone_domain::media::stream::StreamSpec::parse(body, false)?;
        }
        retry_on_conflict!({
            let (doc, mut call) = self.load_call(&caller.id, id).await?;
            let now = self.clock.now();
            if call.is_repeat(&cmd, now) {
                return Ok(());
            }
            let out = match action {
                Action::Answer => {
                    call.routing = call.routing.clone().with_overrides(body)?;
                    call.pending_stream = stream.clone();
                    call.answer(&cmd, now)?
                }
                Action::Reject => call.reject(&cmd, cause.as_deref().unwrap_or_default(), now)?,
                Action::Hangup => call.hangup(&cmd, now)?,
            };
            let cs = self.transition(ChangeSet::new(), doc, call, out, now).await?;
            self.commit(&cs).await
        })
    }

    /// A call from `from` (anywhere) to `to`, a number of this server routed to an active
    /// application (simulation API). Unanswered, the caller gives up after `give_up_secs`.
    pub async fn place_inbound_call(
        &self,
        caller: &Account,
        from: &str,
        to: &str,
        caller_id_name: Option<String>,
        give_up_secs: i64,
    ) -> Result<Call> {
        let number = match self.number_by_e164(to).await? {
            Some(n) if n.account_id == caller.id || caller.is_manager() => n,
            _ => return Err(ApiError::invalid("to", format!("{to} is not a number of this account."))),
        };
        if !number.is_active() {
            return Err(ApiError::invalid("to", format!("{to} is not active yet (its order is pending).")));
        }
        let Some(cid) = number.connection_id.clone() else {
            return Err(ApiError::invalid(
                "to",
                format!("{to} is not routed to an application: set its connection_id first."),
            ));
        };
        let app = match self.application(&number.account_id, &cid).await {
            Ok(a) if a.active => a,
            _ => {
                return Err(ApiError::invalid(
                    "to",
                    format!("{to} is routed to connection {cid}, which is not an active application."),
                ));
            }
        };
        let now = self.clock.now();
        let setup = Setup {
            ids: Ids::new(None),
            account_id: number.account_id.clone(),
            connection_id: app.id.clone(),
            from: from.to_owned(),
            to: number.phone_number.clone(),
            caller_id_name,
            routing: app.routing(),
            tags: number.tags.clone(),
            shaken_stir: app.inbound.shaken_stir_enabled,
            peer: None,
        };
        let first_command = app.first_command_timeout.then_some(app.first_command_timeout_secs);
        let (mut call, out) = Call::incoming(setup, Some(give_up_secs), first_command, now);
        let cs = schedule(ChangeSet::new(), &mut call, &out, now);
        self.commit(&cs.insert(call_doc(&call, now))).await?;
        Ok(call)
    }

    /// The account's script for `to` (as given, else its number), if one is set.
    async fn far_script(&self, account_id: &str, to: &str) -> Result<Option<far_end::Script>> {
        for key in [to, far_end::number_of(to)] {
            let unique = format!("{account_id}:{key}");
            if let Some(d) = self.store.get_unique(far_end::SCRIPT_KIND, &unique).await.map_err(store_err)?
                && let Ok(s) = serde_json::from_value::<far_end::Script>(d.data["script"].clone())
            {
                return Ok(Some(s));
            }
        }
        Ok(None)
    }

    /// `GET /_dialtone/sim/destinations/{number}` (simulation API): the account's script.
    pub async fn destination_script(&self, caller: &Account, number: &str) -> Result<far_end::Script> {
        let unique = format!("{}:{number}", caller.id);
        let doc = self.store.get_unique(far_end::SCRIPT_KIND, &unique).await.map_err(store_err)?;
        doc.and_then(|d| serde_json::from_value(d.data["script"].clone()).ok()).ok_or_else(ApiError::not_found)
    }

    /// `PUT` (a script) and `DELETE` (`None`) of `/_dialtone/sim/destinations/{number}`:
    /// what `number` (E.164 or SIP URI) does when the account's calls ring it. A script
    /// whose audio is a WAV has it fetched and decoded now (422 at `/audio/wav_url` when it
    /// cannot be), so a call never waits on the network; answers the script as kept.
    pub async fn set_destination_script(
        &self,
        caller: &Account,
        number: &str,
        mut script: Option<far_end::Script>,
    ) -> Result<Option<far_end::Script>> {
        if !calls::is_destination(number) {
            return Err(ApiError::invalid("number", "The destination must be an E.164 number or a SIP URI."));
        }
        if let Some(audio) = script.as_mut().and_then(|s| s.audio.as_mut())
            && let Some(url) = audio.wav_url.clone()
        {
            let bytes = media::fetch_bytes(&url).await.map_err(|(_, why)| ApiError::invalid("audio/wav_url", why))?;
            let clip =
                dialtone_domain::audio::decode_wav(&bytes).map_err(|why| ApiError::invalid("audio/wav_url", why))?;
            if clip.is_empty() {
                return Err(ApiError::invalid("audio/wav_url", "The WAV file has no audio."));
            }
            audio.duration_ms = (clip.len() as u64 * 1000).div_ceil(u64::from(dialtone_domain::audio::CALL_RATE));
            audio.clip = Some(self.keep_clip(&caller.id, &clip).await?);
        }
        self.store_destination_script(caller, number, script.clone()).await?;
        Ok(script)
    }

    /// Keeps a clip (once per content: its id is its hash) and answers its id.
    async fn keep_clip(&self, account_id: &str, samples: &[i16]) -> Result<String> {
        use dialtone_domain::audio;
        let id = audio::clip_id(samples);
        if self.store.get(far_end::CLIP_KIND, &id).await.map_err(store_err)?.is_none() {
            let data = json!({"samples": audio::clip_to_base64(samples), "rate": audio::CALL_RATE});
            let doc = Doc::new(far_end::CLIP_KIND, &id, account_id, data, self.clock.now());
            // Another request may have kept the same audio meanwhile: that is as good.
            if let Err(e) = self.commit(&ChangeSet::new().insert(doc)).await
                && self.store.get(far_end::CLIP_KIND, &id).await.map_err(store_err)?.is_none()
            {
                return Err(e);
            }
        }
        Ok(id)
    }

    /// The clips `ids` (those missing are left out: their sounds are silence).
    pub async fn clips(&self, ids: &[String]) -> Result<dialtone_domain::audio::Clips> {
        let mut clips = dialtone_domain::audio::Clips::new();
        for id in ids {
            if clips.contains_key(id) {
                continue;
            }
            if let Some(d) = self.store.get(far_end::CLIP_KIND, id).await.map_err(store_err)?
                && let Some(samples) = d.data["samples"].as_str().and_then(dialtone_domain::audio::clip_from_base64)
            {
                clips.insert(id.clone(), samples.into());
            }
        }
        Ok(clips)
    }

    async fn store_destination_script(
        &self,
        caller: &Account,
        number: &str,
        script: Option<far_end::Script>,
    ) -> Result<()> {
        let unique = format!("{}:{number}", caller.id);
        let existing = self.store.get_unique(far_end::SCRIPT_KIND, &unique).await.map_err(store_err)?;
        let now = self.clock.now();
        let cs = match (existing, script) {
            (Some(d), None) => ChangeSet::new().delete(far_end::SCRIPT_KIND, &d.id),
            (None, None) => return Err(ApiError::not_found()),
            (Some(mut d), Some(s)) => {
                d.data = json!({"number": number, "script": s});
                ChangeSet::new().update(d)
            }
            (None, Some(s)) => ChangeSet::new().insert(
                Doc::new(
                    far_end::SCRIPT_KIND,
                    Engine::new_id(),
                    &caller.id,
                    json!({"number": number, "script": s}),
                    now,
                )
                .unique(unique),
            ),
        };
        self.commit(&cs).await
    }

    /// The far end of one of the account's calls hangs up now (simulation API).
    pub async fn far_end_hangup(&self, caller: &Account, id: &str) -> Result<Call> {
        retry_on_conflict!({
            let (doc, mut call) = self.load_call(&caller.id, id).await?;
            let now = self.clock.now();
            let out = call.far_hangup(now)?;
            let cs = self.transition(ChangeSet::new(), doc, call.clone(), out, now).await?;
            self.commit(&cs).await.map(|_| call.clone())
        })
    }
}

/// The scheduler's handler for [`calls::TIMER_JOB`]: one timer of a call, with its
/// webhooks and the linked leg's reaction in the same commit. A timer that no longer
/// applies (a ring timeout after the answer) changes nothing.
pub async fn fire_timer(engine: Engine, job: Job) -> HandlerResult {
    let p = job.payload.value();
    let id = p["call_control_id"].as_str().unwrap_or_default().to_owned();
    let Ok(timer) = serde_json::from_value::<Timer>(p["timer"].clone()) else {
        return Err(format!("call timer {} has no known timer", job.id));
    };
    if timer == Timer::Expire {
        return Ok(ChangeSet::new().delete(calls::KIND, &id));
    }
    let Some((doc, mut call)) = engine.store.get_as::<Call>(calls::KIND, &id).await.map_err(|e| e.to_string())? else {
        return Ok(ChangeSet::new());
    };
    let now = engine.clock.now();
    let out = call.on_timer(timer, now);
    if out == Outcome::default() {
        return Ok(ChangeSet::new());
    }
    engine.transition(ChangeSet::new(), doc, call, out, now).await.map_err(|e| e.detail)
}

mod bridge;
mod media;
mod recording;
mod services;
mod streams;
pub use media::{FETCH_TIMEOUT, MAX_AUDIO_BYTES};
pub use recording::RecordAction;
pub use streams::{CONNECT_TIMEOUT, StreamHub, run_stream_op};
