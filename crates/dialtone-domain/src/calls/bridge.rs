//! Joining calls: bridge (two live calls of the account), transfer (a new leg bridged to
//! this one when it answers) and refer (SIP REFER to the far end). A transition that
//! concerns another leg says so in [`Outcome::link`]; the engine applies
//! [`Call::on_link`] to that leg in the same commit.

use super::*;

/// How long the far end takes to report on a REFER.
pub const REFER_MS: u64 = 1_000;

/// What another leg must learn from a transition of this one.
#[derive(Clone, Debug, PartialEq)]
pub enum Link {
    /// It is now bridged with this leg.
    Bridge,
    /// This leg, bridged with it, ended: it hangs up too unless parked after unbridge.
    Unbridged,
    /// The leg its transfer dialled ended unanswered: it ends.
    TransferFailed,
}

/// A REFER in progress and what the far end will answer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Refer {
    pub seq: u32,
    pub sip_notify_response: u16,
}

impl Call {
    /// `actions/bridge` with the live, answered, unbridged call `other` (checked by the
    /// engine, which holds it).
    pub fn bridge(
        &mut self,
        cmd: &Command,
        other: &str,
        park_after_unbridge: bool,
        now: DateTime<Utc>,
    ) -> Result<Outcome> {
        self.require_answered()?;
        if other == self.call_control_id {
            return Err(ApiError::invalid("call_control_id", "A call cannot be bridged with itself."));
        }
        if matches!(self.state, State::Bridged { .. }) {
            return Err(ApiError::new(Code::CallStateConflict).detail("This call is already bridged."));
        }
        self.accept(cmd);
        self.park_after_unbridge = park_after_unbridge;
        Ok(self.bridged_with(other, now))
    }

    pub(super) fn bridged_with(&mut self, other: &str, now: DateTime<Utc>) -> Outcome {
        self.state = State::Bridged { with: other.to_owned() };
        let mut out = Outcome::default();
        self.dequeue(&mut out, "bridged", now);
        out.events.push(Emit { event_type: "call.bridged", payload: self.base_payload() });
        out.link = Some((other.to_owned(), Link::Bridge));
        out
    }

    /// Checks that this call can be the other side of a bridge.
    pub fn bridgeable(&self) -> Result<()> {
        let refuse =
            |why: &str| Err(ApiError::new(Code::CallStateConflict).detail(why.to_owned()).pointer("/call_control_id"));
        match self.state {
            State::Answered => Ok(()),
            State::Ended => refuse("The call to bridge with has ended."),
            State::Ringing => refuse("The call to bridge with has not been answered."),
            State::Bridged { .. } => refuse("The call to bridge with is already bridged."),
        }
    }

    /// `actions/transfer`: checks this leg can be transferred (the engine dials the new
    /// leg with [`Call::dial`] and marks it with [`Call::transfer_of`]).
    pub fn transfer(&mut self, cmd: &Command, park_after_unbridge: bool) -> Result<Outcome> {
        self.require_answered()?;
        if matches!(self.state, State::Bridged { .. }) {
            return Err(ApiError::new(Code::CallStateConflict).detail("This call is already bridged."));
        }
        self.accept(cmd);
        self.park_after_unbridge = park_after_unbridge;
        Ok(Outcome::default())
    }

    /// Another leg's transition concerns this one (see [`Link`]).
    pub fn on_link(&mut self, from: &str, link: &Link, now: DateTime<Utc>) -> Outcome {
        if !self.is_alive() {
            return Outcome::default();
        }
        match link {
            Link::Bridge if self.is_answered() => {
                let mut out = self.bridged_with(from, now);
                out.link = None;
                out
            }
            Link::Unbridged if self.state == (State::Bridged { with: from.to_owned() }) => {
                if self.park_after_unbridge {
                    self.state = State::Answered;
                    return Outcome::default();
                }
                let theirs = self.their_side();
                let mut out = self
                    .end(Hangup { cause: Cause::NormalClearing, source: theirs, sip_cause: "unspecified".into() }, now);
                out.link = None;
                out
            }
            Link::TransferFailed if self.state == State::Answered => {
                let ours = self.our_side();
                let mut out = self
                    .end(Hangup { cause: Cause::NormalClearing, source: ours, sip_cause: "unspecified".into() }, now);
                out.link = None;
                out
            }
            _ => Outcome::default(),
        }
    }

    /// `actions/refer` to `sip_address`: the far end there answers as its magic number
    /// says (`docs/simulation.md`); `call.refer.started` now, completed or failed later.
    pub fn refer(&mut self, cmd: &Command, sip_address: &str, now: DateTime<Utc>) -> Result<Outcome> {
        self.require_answered()?;
        if self.refer.is_some() {
            return Err(ApiError::new(Code::CallStateConflict).detail("A REFER is already in progress on this call."));
        }
        self.accept(cmd);
        let sip = match far_end::behaviour(sip_address) {
            Behaviour::Answer { .. } => 200,
            Behaviour::Busy { .. } => 486,
            Behaviour::Reject { .. } => 603,
            Behaviour::NoAnswer => 408,
            Behaviour::Unreachable { .. } => 404,
        };
        self.media_seq += 1;
        self.refer = Some(Refer { seq: self.media_seq, sip_notify_response: sip });
        let mut out = Outcome::default();
        let mut p = self.base_payload();
        p["sip_notify_response"] = json!(100);
        out.events.push(Emit { event_type: "call.refer.started", payload: p });
        out.timers.push((Timer::ReferEnd { seq: self.media_seq }, now + ms(REFER_MS)));
        Ok(out)
    }

    /// The far end reports on the REFER: completed (the far end has moved to the new
    /// destination and hangs up this leg) or failed (the call stays).
    pub(super) fn on_refer_timer(&mut self, seq: u32, now: DateTime<Utc>) -> Outcome {
        let Some(r) = self.refer.take_if(|r| r.seq == seq) else { return Outcome::default() };
        let mut p = self.base_payload();
        p["sip_notify_response"] = json!(r.sip_notify_response);
        if r.sip_notify_response == 200 {
            let ev = Emit { event_type: "call.refer.completed", payload: p };
            let theirs = self.their_side();
            let mut out =
                self.end(Hangup { cause: Cause::NormalClearing, source: theirs, sip_cause: "unspecified".into() }, now);
            out.events.insert(0, ev);
            out
        } else {
            Outcome { events: vec![Emit { event_type: "call.refer.failed", payload: p }], ..Outcome::default() }
        }
    }
}
