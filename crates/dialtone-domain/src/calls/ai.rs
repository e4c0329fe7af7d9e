//! AI assistant, AI gather and conversation relay sessions. Nothing speaks or listens:
//! a session is state on the call, one at a time, and its end is reported with
//! `call.conversation.ended`.

use super::*;

/// A session in progress.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Conversation {
    pub id: String,
    /// `assistant`, `ai_gather` or `relay`.
    pub kind: String,
    pub assistant_id: Option<String>,
    pub started_at: DateTime<Utc>,
}

/// A validated AI command: which action, and the assistant named (if any).
#[derive(Clone, Debug, PartialEq)]
pub struct AiRequest {
    pub action: String,
    pub assistant_id: Option<String>,
    /// ai_assistant_join: the conversation joined.
    pub conversation_id: Option<String>,
}

fn object(body: &Body, field: &str, required: bool) -> Result<Option<Body>> {
    match body.opt_object(field)? {
        None if required => Err(ApiError::missing(field)),
        other => Ok(other),
    }
}

impl AiRequest {
    pub fn parse(action: &str, body: &Body) -> Result<AiRequest> {
        let mut req = AiRequest { action: action.to_owned(), assistant_id: None, conversation_id: None };
        match action {
            "ai_assistant_start" | "gather_using_ai" => {
                if let Some(a) = object(body, "assistant", false)? {
                    req.assistant_id = a.opt_str("id").map_err(|e| e.within("/assistant"))?.map(str::to_owned);
                }
                body.opt_str("greeting")?;
                body.opt_str("voice")?;
                if action == "gather_using_ai" {
                    object(body, "parameters", true)?;
                    body.opt_int_in("user_response_timeout_ms", 1, 600_000)?;
                }
            }
            "conversation_relay_start" => {
                let field = if body.has("conversation_relay_url") { "conversation_relay_url" } else { "url" };
                let url = body.req_str(field)?;
                if !(url.starts_with("ws://") || url.starts_with("wss://")) {
                    return Err(ApiError::invalid(field, format!("'{field}' is a ws:// or wss:// URL.")));
                }
            }
            "ai_assistant_join" => {
                req.conversation_id = Some(body.req_str("conversation_id")?.to_owned());
                object(body, "participant", true)?;
            }
            "ai_assistant_add_messages" => {
                body.opt_array("messages")?;
            }
            _ => {}
        }
        Ok(req)
    }
}

fn one_at_a_time() -> ApiError {
    ApiError::new(Code::CallStateConflict)
        .detail("Only one AI Assistant or Conversation Relay session can be active on a call at a time.")
}

impl Call {
    /// An AI command; `new_id` names a session it starts. Answers the session's id for
    /// the commands that start or join one.
    pub fn ai(
        &mut self,
        cmd: &Command,
        req: &AiRequest,
        new_id: &str,
        now: DateTime<Utc>,
    ) -> Result<(Outcome, Option<String>)> {
        self.require_answered()?;
        // An error below leaves the call unsaved, so accepting first is safe.
        self.accept(cmd);
        let kind_of = |a: &str| match a {
            "gather_using_ai" => "ai_gather",
            "conversation_relay_start" | "conversation_relay_stop" => "relay",
            _ => "assistant",
        };
        let kind = kind_of(&req.action);
        let mut out = Outcome::default();
        let id = match req.action.as_str() {
            "ai_assistant_start" | "gather_using_ai" | "conversation_relay_start" | "ai_assistant_join" => {
                if self.conversation.is_some() {
                    return Err(one_at_a_time());
                }
                let id = req.conversation_id.clone().unwrap_or_else(|| new_id.to_owned());
                self.conversation = Some(Conversation {
                    id: id.clone(),
                    kind: kind.to_owned(),
                    assistant_id: req.assistant_id.clone(),
                    started_at: now,
                });
                Some(id)
            }
            "ai_assistant_add_messages" => {
                if self.conversation.as_ref().is_none_or(|c| c.kind == "relay") {
                    return Err(ApiError::new(Code::CallStateConflict).detail("No AI assistant runs on this call."));
                }
                None
            }
            _ => {
                // ai_assistant_stop (also ends an AI gather), conversation_relay_stop.
                let running = self.conversation.as_ref().is_some_and(|c| (c.kind == "relay") == (kind == "relay"));
                if !running {
                    return Err(ApiError::new(Code::CallStateConflict).detail(format!(
                        "No {} runs on this call.",
                        if kind == "relay" { "conversation relay" } else { "AI assistant" }
                    )));
                }
                self.end_conversation(&mut out, None, now);
                None
            }
        };
        Ok((out, id))
    }

    /// Ends the session, if any, with `call.conversation.ended`.
    pub(super) fn end_conversation(&mut self, out: &mut Outcome, reason: Option<&str>, now: DateTime<Utc>) {
        let Some(c) = self.conversation.take() else { return };
        let mut p = self.base_payload();
        p["conversation_id"] = json!(c.id);
        p["duration_sec"] = json!((now - c.started_at).num_seconds().max(0));
        p["calling_party_type"] =
            json!(if self.from.starts_with("sip") || self.to.starts_with("sip") { "sip" } else { "pstn" });
        p["reason"] = json!(reason);
        if let Some(a) = c.assistant_id {
            p["assistant_id"] = json!(a);
        }
        out.events.push(Emit { event_type: "call.conversation.ended", payload: p });
    }
}
