//! Sending and receiving messages over the simulated carrier.

use crate::events::{emit, event};
use crate::scheduler::HandlerResult;
use crate::{Engine, Result, store_err};
use chrono::{DateTime, Utc};
use dialtone_domain::accounts::Account;
use dialtone_domain::body::Body;
use dialtone_domain::error::{ApiError, Code};
use dialtone_domain::messaging::{
    self, Channel, Message, MessageType, Party, SendRequest, Status, carrier, codes, keywords,
};
use dialtone_domain::numbers::PhoneNumber;
use dialtone_domain::profiles::{MessagingProfile, NumberPoolSettings};
use dialtone_domain::time;
use dialtone_domain::webhooks::Routing;
use dialtone_store::{ChangeSet, Doc, Job, NewJob, Payload};
use serde_json::{Value, json};

/// Per-number carrier behaviour set through the simulation API.
pub const SIM_NUMBER_KIND: &str = "sim_number";
/// The sender a number pool last used for a recipient (sticky sender).
const STICKY_KIND: &str = "sticky_sender";

/// The country of an E.164 number, by calling code (the codes Dialtone's inventory and
/// tests use; others answer `"ZZ"`, which only a `*` whitelist allows).
pub fn country_of(e164: &str) -> &'static str {
    let d = e164.trim_start_matches('+');
    const CODES: &[(&str, &str)] = &[
        ("1", "US"),
        ("44", "GB"),
        ("49", "DE"),
        ("33", "FR"),
        ("34", "ES"),
        ("39", "IT"),
        ("31", "NL"),
        ("61", "AU"),
        ("81", "JP"),
        ("55", "BR"),
        ("52", "MX"),
        ("91", "IN"),
        ("353", "IE"),
    ];
    let mut best: Option<(&str, &str)> = None;
    for (code, country) in CODES {
        if d.starts_with(code) && best.is_none_or(|(b, _)| code.len() > b.len()) {
            best = Some((code, country));
        }
    }
    best.map(|(_, c)| c).unwrap_or("ZZ")
}

/// The job of a message's carrier step `n`. Each step's job replaces the one before
/// ([`ChangeSet::replace_job`]), so a message has one step job at a time and needs no
/// ordering key.
fn step_job(message_id: &str, n: u32, due: DateTime<Utc>) -> NewJob {
    NewJob {
        id: format!("msg:{message_id}:{n}"),
        kind: messaging::STEP_JOB.into(),
        payload: Payload::of(&StepArgs { message_id, step: n, webhook: None, at: None, next_at: None }),
        due_at: due,
        ordering_key: None,
    }
}

/// The job, in place of a step's, that emits the webhook of the step the message took at
/// `at`, then gives way to step `n` due at `next` (`None`: the message is final). The step
/// of a scheduled message at its `send_at` hands its webhook on to this job: the send
/// commits only the message and this job, so a burst of scheduled messages due at once is
/// all sent before their webhooks' records and first attempts are written (which were
/// about half of each send's work), and the webhooks follow in emission order.
fn webhook_job(message_id: &str, n: u32, event_type: &str, at: DateTime<Utc>, next: Option<DateTime<Utc>>) -> NewJob {
    NewJob {
        id: format!("msg:{message_id}:{n}:{event_type}"),
        kind: messaging::STEP_JOB.into(),
        payload: Payload::of(&StepArgs { message_id, step: n, webhook: Some(event_type), at: Some(at), next_at: next }),
        due_at: at,
        ordering_key: None,
    }
}

/// A message's document (`group`: a group MMS's id, its parent).
fn message_doc(msg: &Message, group: Option<&str>, now: DateTime<Utc>) -> Doc {
    let doc = Doc::of(messaging::KIND, &msg.id, &msg.account_id, msg, now);
    match group {
        Some(g) => doc.parent(g),
        None => doc,
    }
}

/// Adds a queued message that goes to the carrier at once, with its first carrier step
/// already taken: the step's message (`sent`, or `sending_failed` when the carrier refuses
/// it), its webhook and the next step's job, all as the first step's job would have
/// written them a moment later. The sender's answer still shows `msg` queued, as
/// Telnyx's does. Taking the step in the commit that creates the message spares each
/// message a job, a read and a rewrite of its document.
fn to_carrier(
    mut cs: ChangeSet,
    msg: &Message,
    group: Option<&str>,
    profile: Option<&MessagingProfile>,
    now: DateTime<Utc>,
) -> ChangeSet {
    let mut taken = msg.clone();
    let (event_type, next) = taken.step(now);
    cs = cs.insert(message_doc(&taken, group, now));
    if let Some(event_type) = event_type
        && let Some(dest) = routing(&taken, profile).destination(event_type)
    {
        cs = emit(cs, &taken.account_id, event(event_type, taken.payload(), now), dest, Some(&taken.id), now).0;
    }
    match next {
        Some(after) => cs.job(step_job(&taken.id, 2, now + after)),
        None => cs,
    }
}

/// The payload of a [`messaging::STEP_JOB`], written by [`step_job`] and [`webhook_job`].
#[derive(serde::Serialize, serde::Deserialize)]
struct StepArgs<S> {
    message_id: S,
    #[serde(default = "first_step")]
    step: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    webhook: Option<S>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "time::auto_opt")]
    at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "time::auto_opt")]
    next_at: Option<DateTime<Utc>>,
}

fn first_step() -> u32 {
    1
}

/// What a [`messaging::STEP_JOB`] asks for: step `n` of a message, or first the webhook a
/// step before it handed on ([`webhook_job`]).
struct StepOf {
    message_id: String,
    n: u32,
    webhook: Option<Handed>,
}

/// A webhook handed on by a step: its event type, when the step was taken, and when the
/// next step is due.
struct Handed {
    event_type: String,
    at: DateTime<Utc>,
    next: Option<DateTime<Utc>>,
}

fn step_of(job: &Job) -> StepOf {
    let Some(args) = job.payload.to::<StepArgs<String>>() else {
        // Not a step's payload: the message id is unknown, so the step finds nothing.
        return StepOf { message_id: String::new(), n: 1, webhook: None };
    };
    StepOf {
        message_id: args.message_id,
        n: args.step,
        webhook: args.webhook.map(|event_type| Handed {
            event_type,
            at: args.at.unwrap_or(job.due_at),
            next: args.next_at,
        }),
    }
}

/// Where a message's webhooks go: the message's own URLs first, then the profile's.
fn routing(msg: &Message, profile: Option<&MessagingProfile>) -> Routing {
    let profile_url = profile.filter(|_| msg.use_profile_webhooks).and_then(|p| p.webhook_url.clone());
    let profile_failover = profile.filter(|_| msg.use_profile_webhooks).and_then(|p| p.webhook_failover_url.clone());
    match &msg.webhook_url {
        Some(url) => Routing {
            url: Some(url.clone()),
            failover_url: msg.webhook_failover_url.clone().or(profile_url),
            ..Routing::default()
        },
        None => Routing {
            url: profile_url,
            failover_url: msg.webhook_failover_url.clone().or(profile_failover),
            ..Routing::default()
        },
    }
}

impl Engine {
    async fn owned_number(&self, caller: &Account, address: &str) -> Result<PhoneNumber> {
        match self.number_by_e164(address).await? {
            Some(n) if n.account_id == caller.id => Ok(n),
            _ => Err(messaging::error(
                400,
                codes::INVALID_FROM,
                "Invalid 'from' address",
                format!("'{address}' is not a number of this account."),
                Some("/from"),
            )),
        }
    }

    async fn enabled_profile(&self, caller: &Account, id: &str, pointer: &str) -> Result<MessagingProfile> {
        let p = self.messaging_profile(&caller.id, id).await.map_err(|e| {
            if e.status() == 404 {
                ApiError::invalid(pointer, format!("Messaging profile '{id}' was not found.")).with_status(400)
            } else {
                e
            }
        })?;
        if !p.enabled {
            return Err(messaging::error(
                400,
                codes::INVALID_FROM,
                "Messaging profile disabled",
                "The messaging profile is disabled.",
                Some(pointer),
            ));
        }
        Ok(p)
    }

    /// A number of the profile's pool for `to`: the sticky sender when set and still in
    /// the pool, else a geomatch (same area code) when set, else a pick weighted between
    /// long codes and toll-free numbers, stable for a recipient.
    async fn pick_from_pool(&self, profile: &MessagingProfile, to: &str, mms: bool) -> Result<PhoneNumber> {
        let pool: Vec<PhoneNumber> = self
            .profile_numbers(&profile.account_id, &profile.id)
            .await?
            .into_iter()
            .filter(|n| n.is_active() && n.sms() && (!mms || n.mms()))
            .collect();
        if pool.is_empty() {
            return Err(messaging::error(
                400,
                codes::INVALID_FROM,
                "No number in the pool",
                "The messaging profile has no number able to send this message.",
                Some("/messaging_profile_id"),
            ));
        }
        let settings = profile.number_pool_settings.clone().unwrap_or(NumberPoolSettings {
            long_code_weight: 1.0,
            toll_free_weight: 1.0,
            skip_unhealthy: false,
            sticky_sender: false,
            geomatch: false,
        });
        if settings.sticky_sender
            && let Some(d) =
                self.store.get_unique(STICKY_KIND, &format!("{}:{to}", profile.id)).await.map_err(store_err)?
            && let Some(n) = pool.iter().find(|n| Some(n.phone_number.as_str()) == d.data["from"].as_str())
        {
            return Ok(n.clone());
        }
        if settings.geomatch && to.starts_with("+1") && to.len() == 12 {
            let area = &to[2..5];
            if let Some(n) = pool.iter().find(|n| n.national_destination_code == area) {
                return Ok(n.clone());
            }
        }
        let hash = to.bytes().fold(0u64, |h, b| h.wrapping_mul(31).wrapping_add(u64::from(b)));
        let (long, toll): (Vec<&PhoneNumber>, Vec<&PhoneNumber>) = pool.iter().partition(|n| !n.is_toll_free());
        let (lw, tw) = (settings.long_code_weight.max(0.0), settings.toll_free_weight.max(0.0));
        let roll = (hash % 1000) as f64 / 1000.0 * (lw + tw).max(f64::MIN_POSITIVE);
        let group = if (roll < lw && !long.is_empty()) || toll.is_empty() { long } else { toll };
        Ok(group[(hash as usize / 7) % group.len()].clone())
    }

    /// The carrier behaviour for a destination: a number on this server delivers to it,
    /// then the account's simulation setting, then the magic numbers, then delivery.
    async fn behaviour(&self, account_id: &str, to: &str) -> Result<(carrier::Behaviour, bool)> {
        if self.number_by_e164(to).await?.is_some() {
            return Ok((carrier::Behaviour::Deliver { after_ms: 200 }, true));
        }
        if let Some(d) =
            self.store.get_unique(SIM_NUMBER_KIND, &format!("{account_id}:{to}")).await.map_err(store_err)?
            && let Ok(b) = serde_json::from_value::<carrier::Behaviour>(d.data["behaviour"].clone())
        {
            return Ok((b, false));
        }
        Ok((carrier::magic(to).unwrap_or(carrier::Behaviour::Deliver { after_ms: carrier::DEFAULT_DELAY_MS }), false))
    }

    async fn opted_out(&self, from: &str, to: &str) -> Result<bool> {
        Ok(self.store.get_unique(messaging::OPTOUT_KIND, &format!("{from}:{to}")).await.map_err(store_err)?.is_some())
    }

    /// `POST /messages` and its variants: one message per recipient (a group MMS makes one
    /// per recipient, sharing a group id).
    pub async fn send_message(&self, caller: &Account, body: &Body, channel: Channel) -> Result<Vec<Message>> {
        let now = self.clock.now();
        let req = SendRequest::parse(body, channel, now)?;
        let mms = req.kind == MessageType::Mms;
        // The sender and the profile it sends under.
        let (from_number, profile) = match &req.from {
            Some(f) if messaging::is_alphanumeric_sender(f) && !f.chars().all(|c| c.is_ascii_digit()) => {
                let Some(pid) = &req.messaging_profile_id else {
                    return Err(ApiError::missing("messaging_profile_id")
                        .detail("An alphanumeric sender needs a messaging_profile_id."));
                };
                let p = self.enabled_profile(caller, pid, "/messaging_profile_id").await?;
                if req.to.iter().any(|t| country_of(t) == "US") {
                    return Err(messaging::error(
                        400,
                        codes::INVALID_FROM,
                        "Invalid 'from' address",
                        "Alphanumeric sender IDs cannot send to US numbers.",
                        Some("/from"),
                    ));
                }
                (None, p)
            }
            Some(f) => {
                let n = self.owned_number(caller, f).await?;
                let Some(pid) = n.messaging_profile_id.clone() else {
                    return Err(messaging::error(
                        400,
                        codes::INVALID_FROM,
                        "Invalid 'from' address",
                        format!("'{f}' is not enabled for messaging: assign it a messaging profile."),
                        Some("/from"),
                    ));
                };
                if !n.sms() {
                    return Err(messaging::error(
                        400,
                        codes::INVALID_FROM,
                        "Invalid 'from' address",
                        format!("'{f}' cannot send messages."),
                        Some("/from"),
                    ));
                }
                if mms && !n.mms() {
                    return Err(messaging::error(
                        400,
                        codes::INVALID_FROM,
                        "Number not MMS capable",
                        format!("'{f}' cannot send MMS."),
                        Some("/from"),
                    ));
                }
                let p = self.enabled_profile(caller, &pid, "/from").await?;
                (Some(n), p)
            }
            None => {
                let pid = req.messaging_profile_id.clone().unwrap_or_default();
                let p = self.enabled_profile(caller, &pid, "/messaging_profile_id").await?;
                (None, p)
            }
        };
        let analysis = req.analyze(profile.smart_encoding)?;
        let group_id = (channel == Channel::GroupMms).then(Engine::new_id);
        let mut cs = ChangeSet::new();
        let mut out = Vec::new();
        for (i, to) in req.to.iter().enumerate() {
            let field = if req.to.len() > 1 { format!("/to/{i}") } else { "/to".into() };
            if !profile.allows_destination(country_of(to)) {
                return Err(messaging::error(
                    400,
                    codes::INVALID_TO,
                    "Destination not allowed",
                    format!("The messaging profile's whitelisted_destinations do not include {}.", country_of(to)),
                    Some(&field),
                ));
            }
            let from: String = match (&from_number, &req.from) {
                (Some(n), _) => n.phone_number.clone(),
                (None, Some(alpha)) => alpha.clone(),
                (None, None) => {
                    let n = self.pick_from_pool(&profile, to, mms).await?;
                    if profile.number_pool_settings.as_ref().is_some_and(|s| s.sticky_sender) {
                        let key = format!("{}:{to}", profile.id);
                        let data = json!({"from": n.phone_number});
                        cs = match self.store.get_unique(STICKY_KIND, &key).await.map_err(store_err)? {
                            Some(mut d) => {
                                d.data = data;
                                cs.update(d)
                            }
                            None => {
                                cs.insert(Doc::new(STICKY_KIND, Engine::new_id(), &caller.id, data, now).unique(key))
                            }
                        };
                    }
                    n.phone_number
                }
            };
            if self.opted_out(&from, to).await? {
                return Err(messaging::error(
                    400,
                    codes::BLOCKED_STOP,
                    "Blocked due to STOP message",
                    format!("{to} has opted out of messages from {from}."),
                    Some(&field),
                ));
            }
            let (outcome, to_ours) = self.behaviour(&caller.id, to).await?;
            let msg = Message {
                id: Engine::new_ordered_id(),
                account_id: caller.id.clone(),
                direction: "outbound".into(),
                kind: req.kind,
                from: Party::new(&from, true),
                to: Party::new(to, to_ours),
                status: if req.send_at.is_some() { Status::Scheduled } else { Status::Queued },
                text: req.text.clone(),
                subject: req.subject.clone(),
                media: req.media_urls.clone(),
                encoding: analysis.encoding.as_str().to_owned(),
                parts: analysis.parts,
                num_chars: analysis.num_chars,
                smart_encoding_applied: analysis.smart_encoding_applied,
                messaging_profile_id: Some(profile.id.clone()),
                webhook_url: req.webhook_url.clone(),
                webhook_failover_url: req.webhook_failover_url.clone(),
                use_profile_webhooks: req.use_profile_webhooks,
                errors: vec![],
                group_message_id: group_id.clone(),
                received_at: now,
                send_at: req.send_at,
                sent_at: None,
                completed_at: None,
                outcome: Some(outcome),
            };
            cs = match req.send_at {
                Some(at) => cs.insert(message_doc(&msg, group_id.as_deref(), now)).job(step_job(&msg.id, 1, at)),
                None => to_carrier(cs, &msg, group_id.as_deref(), Some(&profile), now),
            };
            out.push(msg);
        }
        self.commit(&cs).await?;
        Ok(out)
    }

    pub async fn message(&self, caller: &Account, id: &str) -> Result<Message> {
        match self.store.get(messaging::KIND, id).await.map_err(store_err)? {
            Some(d) if d.account_id == caller.id => Message::from_value(&d.data).ok_or_else(ApiError::unexpected),
            _ => Err(ApiError::not_found()),
        }
    }

    pub async fn group_messages(&self, caller: &Account, group_id: &str) -> Result<Vec<Message>> {
        let docs = self.store.list(messaging::KIND, Some(&caller.id), Some(group_id)).await.map_err(store_err)?;
        if docs.is_empty() {
            return Err(ApiError::not_found());
        }
        Ok(docs.iter().filter_map(|d| Message::from_value(&d.data)).collect())
    }

    /// `DELETE /messages/{id}`: cancels a scheduled message; anything else is refused.
    pub async fn cancel_message(&self, caller: &Account, id: &str) -> Result<Message> {
        crate::retry_on_conflict!({
            let mut doc = match self.store.get(messaging::KIND, id).await.map_err(store_err)? {
                Some(d) if d.account_id == caller.id => d,
                _ => return Err(ApiError::not_found()),
            };
            let mut msg = Message::from_value(&doc.data).ok_or_else(ApiError::unexpected)?;
            if msg.status != Status::Scheduled {
                return Err(ApiError::new(Code::InvalidValue).detail(format!(
                    "Only a scheduled message can be cancelled; this one is {}.",
                    msg.status.as_str()
                )));
            }
            msg.status = Status::Cancelled;
            msg.completed_at = Some(self.clock.now());
            doc.set(&msg);
            // The pending step job finds the message cancelled and does nothing.
            self.commit(&ChangeSet::new().update(doc)).await.map(|_| msg)
        })
    }

    /// Sets how the carrier treats a destination for this account (simulation API).
    pub async fn set_number_behaviour(
        &self,
        caller: &Account,
        number: &str,
        behaviour: Option<carrier::Behaviour>,
    ) -> Result<()> {
        let key = format!("{}:{number}", caller.id);
        let existing = self.store.get_unique(SIM_NUMBER_KIND, &key).await.map_err(store_err)?;
        let now = self.clock.now();
        let cs = match (existing, behaviour) {
            (Some(d), None) => ChangeSet::new().delete(SIM_NUMBER_KIND, &d.id),
            (None, None) => return Ok(()),
            (Some(mut d), Some(b)) => {
                d.data = json!({"number": number, "behaviour": b});
                ChangeSet::new().update(d)
            }
            (None, Some(b)) => ChangeSet::new().insert(
                Doc::new(SIM_NUMBER_KIND, Engine::new_id(), &caller.id, json!({"number": number, "behaviour": b}), now)
                    .unique(key),
            ),
        };
        self.commit(&cs).await
    }

    /// A message from an outside number arrives at a number on this server (simulation API,
    /// and messages between two numbers of this server). Keywords are handled as Telnyx
    /// does: STOP and its synonyms opt the sender out and answer; START/UNSTOP opt back
    /// in; HELP answers.
    pub async fn receive_message(
        &self,
        from: &str,
        to: &str,
        text: Option<String>,
        media: Vec<String>,
    ) -> Result<Message> {
        let now = self.clock.now();
        let cs = self.inbound_changes(ChangeSet::new(), from, to, text, media, now).await?;
        let (cs, msg) = cs;
        self.commit(&cs).await?;
        Ok(msg)
    }

    async fn inbound_changes(
        &self,
        mut cs: ChangeSet,
        from: &str,
        to: &str,
        text: Option<String>,
        media: Vec<String>,
        now: DateTime<Utc>,
    ) -> Result<(ChangeSet, Message)> {
        let Some(number) = self.number_by_e164(to).await? else {
            return Err(ApiError::invalid("to", format!("{to} is not a number on this server.")));
        };
        let profile = match &number.messaging_profile_id {
            Some(pid) => Some(self.messaging_profile(&number.account_id, pid).await?),
            None => None,
        };
        let body = text.clone().unwrap_or_default();
        let a = dialtone_domain::encoding::analyze(&body, dialtone_domain::encoding::Requested::Auto, false)
            .unwrap_or_else(|_| {
                dialtone_domain::encoding::analyze("", dialtone_domain::encoding::Requested::Ucs2, false).expect("ucs2")
            });
        let msg = Message {
            id: Engine::new_ordered_id(),
            account_id: number.account_id.clone(),
            direction: "inbound".into(),
            kind: if media.is_empty() { MessageType::Sms } else { MessageType::Mms },
            from: Party::new(from, self.number_by_e164(from).await?.is_some()),
            to: Party::new(to, true),
            status: Status::Received,
            text,
            subject: None,
            media,
            encoding: a.encoding.as_str().to_owned(),
            parts: a.parts,
            num_chars: a.num_chars,
            smart_encoding_applied: false,
            messaging_profile_id: number.messaging_profile_id.clone(),
            webhook_url: profile.as_ref().and_then(|p| p.webhook_url.clone()),
            webhook_failover_url: profile.as_ref().and_then(|p| p.webhook_failover_url.clone()),
            use_profile_webhooks: true,
            errors: vec![],
            group_message_id: None,
            received_at: now,
            send_at: None,
            sent_at: Some(now),
            completed_at: Some(now),
            outcome: None,
        };
        cs = cs.insert(Doc::of(messaging::KIND, &msg.id, &number.account_id, &msg, now));
        if let Some(dest) = profile.as_ref().map(|p| p.routing()).and_then(|r| r.destination("message.received")) {
            cs =
                emit(cs, &number.account_id, event("message.received", msg.payload(), now), dest, Some(&msg.id), now).0;
        }
        // Keywords.
        let key = format!("{to}:{from}");
        let reply = match keywords::classify(&body) {
            Some(keywords::Keyword::OptOut) => {
                if self.store.get_unique(messaging::OPTOUT_KIND, &key).await.map_err(store_err)?.is_none() {
                    let data = json!({
                        "from": to,
                        "to": from,
                        "messaging_profile_id": number.messaging_profile_id,
                        "keyword": body.trim().to_ascii_uppercase(),
                        "created_at": dialtone_domain::fmt_time(now),
                    });
                    cs = cs.insert(
                        Doc::new(messaging::OPTOUT_KIND, Engine::new_id(), &number.account_id, data, now).unique(key),
                    );
                }
                Some(keywords::OPT_OUT_REPLY)
            }
            Some(keywords::Keyword::OptIn) => {
                if let Some(d) = self.store.get_unique(messaging::OPTOUT_KIND, &key).await.map_err(store_err)? {
                    cs = cs.delete(messaging::OPTOUT_KIND, &d.id);
                }
                Some(keywords::OPT_IN_REPLY)
            }
            Some(keywords::Keyword::Help) => Some(keywords::HELP_REPLY),
            None => None,
        };
        if let Some(reply) = reply {
            let a = dialtone_domain::encoding::analyze(reply, dialtone_domain::encoding::Requested::Auto, false)
                .map_err(|_| ApiError::unexpected())?;
            let (outcome, to_ours) = self.behaviour(&number.account_id, from).await?;
            let auto = Message {
                id: Engine::new_ordered_id(),
                direction: "outbound".into(),
                kind: MessageType::Sms,
                from: Party::new(to, true),
                to: Party::new(from, to_ours),
                status: Status::Queued,
                text: Some(reply.to_owned()),
                media: vec![],
                encoding: a.encoding.as_str().to_owned(),
                parts: a.parts,
                num_chars: a.num_chars,
                sent_at: None,
                completed_at: None,
                outcome: Some(outcome),
                ..msg.clone()
            };
            cs = to_carrier(cs, &auto, None, profile.as_ref(), now);
        }
        Ok((cs, msg))
    }

    pub async fn list_optouts(
        &self,
        caller: &Account,
        profile_id: Option<&str>,
        from: Option<&str>,
    ) -> Result<Vec<Value>> {
        let docs = self.store.list(messaging::OPTOUT_KIND, Some(&caller.id), None).await.map_err(store_err)?;
        Ok(docs
            .into_iter()
            .map(|d| d.data)
            .filter(|d| profile_id.is_none_or(|p| d["messaging_profile_id"].as_str() == Some(p)))
            .filter(|d| from.is_none_or(|f| d["from"].as_str() == Some(f)))
            .collect())
    }
}

/// The messaging profiles a handler has read, by id (a batch of steps reads each once).
type Profiles = std::collections::HashMap<(String, String), Option<MessagingProfile>>;

/// The scheduler's handler for [`messaging::STEP_JOB`]: one carrier step of a message,
/// with its webhook and the next step's job in the same commit.
pub async fn step(engine: Engine, job: Job) -> HandlerResult {
    let step = step_of(&job);
    let Some((doc, msg)) =
        engine.store.get_as::<Message>(messaging::KIND, &step.message_id).await.map_err(|e| e.to_string())?
    else {
        return Ok(ChangeSet::new());
    };
    step_changes(&engine, ChangeSet::new(), doc, msg, step, job.seq, &mut Profiles::new()).await
}

/// The batch handler for [`messaging::STEP_JOB`]: the steps of many messages (a burst of
/// scheduled messages due at once), their documents read in one read, their changes in
/// one change set. Each message's changes are those [`step`] makes.
pub async fn step_batch(engine: Engine, jobs: std::sync::Arc<[Job]>) -> HandlerResult {
    let steps: Vec<StepOf> = jobs.iter().map(step_of).collect();
    let ids: Vec<String> = steps.iter().map(|s| s.message_id.clone()).collect();
    let found = engine.store.get_many_as::<Message>(messaging::KIND, &ids).await.map_err(|e| e.to_string())?;
    let mut profiles = Profiles::new();
    let mut cs = ChangeSet::new();
    for ((step, found), job) in steps.into_iter().zip(found).zip(jobs.iter()) {
        if let Some((doc, msg)) = found {
            cs = step_changes(&engine, cs, doc, msg, step, job.seq, &mut profiles).await?;
        }
    }
    Ok(cs)
}

/// The messaging profile of a message, read once per handler.
async fn profile_of<'p>(engine: &Engine, msg: &Message, profiles: &'p mut Profiles) -> Option<&'p MessagingProfile> {
    let pid = msg.messaging_profile_id.as_ref()?;
    let key = (msg.account_id.clone(), pid.clone());
    if !profiles.contains_key(&key) {
        let p = Box::pin(engine.messaging_profile(&msg.account_id, pid)).await.ok();
        profiles.insert(key.clone(), p);
    }
    profiles[&key].as_ref()
}

/// Adds what a step job asks to `cs`. For step `n`: the message's new state, its webhook,
/// the next step's job in place of this one (`seq`) when there is one, and, once delivered
/// to a number on this server, the inbound message there. A scheduled message's first step
/// hands its webhook on to a [`webhook_job`] instead; that job adds the webhook, as of the
/// step's time, and the next step's job.
async fn step_changes(
    engine: &Engine,
    mut cs: ChangeSet,
    mut doc: Doc,
    mut msg: Message,
    step: StepOf,
    seq: i64,
    profiles: &mut Profiles,
) -> HandlerResult {
    let now = engine.clock.now();
    if let Some(handed) = step.webhook {
        // Nothing changes the message between the step and this job (only a scheduled
        // message can be cancelled), so its payload is the one the step left.
        if let Some(dest) = routing(&msg, profile_of(engine, &msg, profiles).await).destination(&handed.event_type) {
            let event = event(&handed.event_type, msg.payload(), handed.at);
            cs = emit(cs, &msg.account_id, event, dest, Some(&msg.id), now).0;
        }
        if let Some(due) = handed.next {
            cs = cs.replace_job(seq, step_job(&msg.id, step.n, due));
        }
        return Ok(cs);
    }
    if msg.status.is_final() {
        return Ok(cs);
    }
    let n = step.n;
    let scheduled = msg.status == Status::Scheduled;
    let (event_type, next) = msg.step(now);
    let next = next.map(|after| now + after);
    doc.set(&msg);
    cs = cs.update(doc);
    if let Some(event_type) = event_type
        && let Some(dest) = routing(&msg, profile_of(engine, &msg, profiles).await).destination(event_type)
    {
        if scheduled {
            return Ok(cs.replace_job(seq, webhook_job(&msg.id, n + 1, event_type, now, next)));
        }
        cs = emit(cs, &msg.account_id, event(event_type, msg.payload(), now), dest, Some(&msg.id), now).0;
    }
    if let Some(due) = next {
        cs = cs.replace_job(seq, step_job(&msg.id, n + 1, due));
    }
    if msg.status == Status::Delivered {
        // Boxed: this branch's futures are large, and every step's future, built for each
        // message of a batch, would be as large (and copied as a whole) without it.
        cs = Box::pin(arrive_if_local(engine, cs, &msg, now)).await?;
    }
    Ok(cs)
}

/// A message delivered to a number on this server arrives there as an inbound message.
async fn arrive_if_local(engine: &Engine, cs: ChangeSet, msg: &Message, now: DateTime<Utc>) -> HandlerResult {
    if engine.number_by_e164(&msg.to.phone_number).await.map_err(|e| e.detail)?.is_none() {
        return Ok(cs);
    }
    let (with_inbound, _) = engine
        .inbound_changes(cs, &msg.from.phone_number, &msg.to.phone_number, msg.text.clone(), msg.media.clone(), now)
        .await
        .map_err(|e| e.detail)?;
    Ok(with_inbound)
}

impl Engine {
    /// What the carrier will do with messages from this account to `number`.
    pub async fn number_behaviour(&self, caller: &Account, number: &str) -> Result<carrier::Behaviour> {
        Ok(self.behaviour(&caller.id, number).await?.0)
    }
}

/// WhatsApp content types Telnyx accepts.
const WHATSAPP_TYPES: &[&str] = &[
    "audio",
    "document",
    "image",
    "sticker",
    "video",
    "interactive",
    "location",
    "template",
    "reaction",
    "contacts",
    "text",
];

impl Engine {
    /// `POST /messages/whatsapp`: validated and recorded, and its `message.sent` /
    /// `message.finalized` webhooks sent as for SMS. The WhatsApp business API itself is not
    /// simulated (no templates or sessions are checked).
    pub async fn send_whatsapp(&self, caller: &Account, body: &Body) -> Result<Value> {
        let from = body.req_str("from")?.to_owned();
        let to = body.req_str("to")?.to_owned();
        for (field, v) in [("from", &from), ("to", &to)] {
            if !messaging::is_e164(v) {
                return Err(ApiError::new(Code::NotE164).pointer(format!("/{field}")));
            }
        }
        if let Some(t) = body.opt_str("type")?
            && t != "WHATSAPP"
        {
            return Err(ApiError::invalid("type", "'type' must be WHATSAPP."));
        }
        let content = match body.raw("whatsapp_message") {
            Some(v) if v.is_object() => v.clone(),
            Some(_) => return Err(ApiError::invalid("whatsapp_message", "whatsapp_message must be an object.")),
            None => return Err(ApiError::missing("whatsapp_message")),
        };
        let kind = content["type"].as_str().unwrap_or("text");
        if !WHATSAPP_TYPES.contains(&kind) {
            return Err(ApiError::invalid(
                "whatsapp_message/type",
                format!("'{kind}' is not a WhatsApp message type."),
            ));
        }
        if content.get(kind).is_none() {
            return Err(ApiError::missing(&format!("whatsapp_message/{kind}"))
                .detail(format!("A '{kind}' message needs its '{kind}' object.")));
        }
        let number = self.owned_number(caller, &from).await?;
        let profile_id = match (body.opt_str("messaging_profile_id")?, &number.messaging_profile_id) {
            (Some(p), _) => p.to_owned(),
            (None, Some(p)) => p.clone(),
            (None, None) => return Err(ApiError::missing("messaging_profile_id")),
        };
        let profile = self.enabled_profile(caller, &profile_id, "/messaging_profile_id").await?;
        let webhook_url =
            body.opt_str("webhook_url")?.map(|u| dialtone_domain::webhooks::check_url("webhook_url", u)).transpose()?;
        let now = self.clock.now();
        let id = Engine::new_ordered_id();
        let record = json!({
            "record_type": "message",
            "id": id,
            "type": "WHATSAPP",
            "direction": "outbound",
            "encoding": "utf-8",
            "from": {"phone_number": from, "carrier": "TELNYX LLC", "line_type": "VoIP", "status": "delivered"},
            "to": [{"phone_number": to, "carrier": "WHATSAPP", "line_type": "Wireless", "status": "sent"}],
            "body": content,
            "messaging_profile_id": profile.id,
            "organization_id": caller.id,
            "received_at": dialtone_domain::fmt_time(now),
            "wait_seconds": 0.0,
        });
        let mut cs = ChangeSet::new().insert(Doc::new("whatsapp_message", &id, &caller.id, record.clone(), now));
        let routing = match webhook_url {
            Some(u) => Routing { url: Some(u), ..Routing::default() },
            None => profile.routing(),
        };
        for event_type in ["message.sent", "message.finalized"] {
            if let Some(dest) = routing.destination(event_type) {
                let mut payload = record.clone();
                payload["to"][0]["status"] = json!(if event_type == "message.sent" { "sent" } else { "delivered" });
                cs = emit(cs, &caller.id, event(event_type, payload, now), dest, Some(&id), now).0;
            }
        }
        self.commit(&cs).await?;
        Ok(record)
    }
}
