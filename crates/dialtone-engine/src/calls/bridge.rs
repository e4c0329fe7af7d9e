//! Joining calls: bridge, transfer and refer. The legs involved change in one commit
//! (see `transition`, which carries a leg's [`dialtone_domain::calls::Link`] to the other).

use super::*;
use serde_json::Value;

/// `park_after_unbridge`: only `"self"` is documented.
fn park_after_unbridge(body: &Body) -> Result<bool> {
    Ok(body.opt_enum("park_after_unbridge", &["self"])?.is_some())
}

impl Engine {
    /// `actions/bridge`: this call with `call_control_id`, another live, answered call of
    /// the account; `call.bridged` on both.
    pub async fn bridge(&self, caller: &Account, id: &str, body: &Body) -> Result<()> {
        let cmd = Command::parse(body)?;
        let other_id = body.req_str("call_control_id")?.to_owned();
        let park = park_after_unbridge(body)?;
        body.opt_enum("mute_dtmf", &["none", "both", "self", "opposite"])?;
        body.opt_bool("play_ringtone")?;
        retry_on_conflict!({
            let (doc, mut call) = self.load_call(&caller.id, id).await?;
            let now = self.clock.now();
            if call.is_repeat(&cmd, now) {
                return Ok(());
            }
            call.require_answered()?;
            if other_id != call.call_control_id {
                let (_, other) = self.load_call(&caller.id, &other_id).await?;
                other.bridgeable()?;
            }
            let out = call.bridge(&cmd, &other_id, park, now)?;
            let cs = self.transition(ChangeSet::new(), doc, call, out, now).await?;
            self.commit(&cs).await
        })
    }

    /// `actions/transfer`: dials `to` as a new leg of this call's session (the simulated
    /// far end, or a number of this server, where it arrives as an incoming call); it is
    /// bridged with this one when it answers, and this one ends if it does not.
    pub async fn transfer(&self, caller: &Account, id: &str, body: &Body) -> Result<()> {
        let cmd = Command::parse(body)?;
        body.req_str("to")?;
        let park = park_after_unbridge(body)?;
        retry_on_conflict!({
            let (doc, mut call) = self.load_call(&caller.id, id).await?;
            let now = self.clock.now();
            if call.is_repeat(&cmd, now) {
                return Ok(());
            }
            call.require_answered()?;
            // The new leg is dialled as POST /calls would be, from this call's application,
            // showing this call's `from` unless told otherwise.
            let mut dial = body.0.clone();
            dial.insert("connection_id".into(), Value::String(call.connection_id.clone()));
            if !body.has("from") {
                dial.insert("from".into(), Value::String(call.from.clone()));
            }
            dial.remove("command_id");
            match dial.remove("target_leg_client_state") {
                Some(cs) => dial.insert("client_state".into(), cs),
                None => dial.remove("client_state"),
            };
            let req = DialRequest::parse(&Body(dial))?;
            let dest = self.destination(&call.account_id, &req.to).await?;
            let routing = call.routing.clone().with_overrides(body)?;
            let out = call.transfer(&cmd, park)?;
            // A number of this server: the new leg rings it as an incoming call there.
            let peer_ids = matches!(dest, Destination::OnNet(..)).then(|| Ids::new(None));
            let setup = Setup {
                ids: Ids::new(Some(&call.call_session_id)),
                account_id: call.account_id.clone(),
                connection_id: call.connection_id.clone(),
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
            let (mut leg, leg_out) = Call::dial(setup, &req, far, now);
            leg.transfer_of = Some(call.call_control_id.clone());
            leg.follow_script(script.as_ref());
            let mut cs = schedule(ChangeSet::new(), &mut leg, &leg_out, now);
            cs = cs.insert(call_doc(&leg, now));
            if let (Destination::OnNet(on_net), Some(peer_ids)) = (dest, peer_ids) {
                cs = arrive(cs, *on_net, peer_ids, &req, &leg, now);
            }
            let cs = self.transition(cs, doc, call, out, now).await?;
            self.commit(&cs).await
        })
    }

    /// `actions/refer`: `call.refer.started`, then completed (and the far end leaves) or
    /// failed, as `sip_address`'s magic number says.
    pub async fn refer(&self, caller: &Account, id: &str, body: &Body) -> Result<()> {
        let cmd = Command::parse(body)?;
        let address = body.req_str("sip_address")?.to_owned();
        if !(address.starts_with("sip:") || address.starts_with("sips:")) || !calls::is_destination(&address) {
            return Err(ApiError::invalid("sip_address", "'sip_address' must be a SIP URI (sip:user@host)."));
        }
        retry_on_conflict!({
            let (doc, mut call) = self.load_call(&caller.id, id).await?;
            let now = self.clock.now();
            if call.is_repeat(&cmd, now) {
                return Ok(());
            }
            let out = call.refer(&cmd, &address, now)?;
            let cs = self.transition(ChangeSet::new(), doc, call, out, now).await?;
            self.commit(&cs).await
        })
    }
}
