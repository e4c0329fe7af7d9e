//! Service commands (fork, siprec, streaming, transcription, suppression), the supervisor
//! role and queues.

use super::*;
use dialtone_domain::calls::ServiceRequest;

impl Engine {
    /// `actions/{fork,siprec,streaming,transcription,suppression}_{start,stop}`.
    pub async fn service_action(&self, caller: &Account, id: &str, action: &str, body: &Body) -> Result<()> {
        let cmd = Command::parse(body)?;
        let req = ServiceRequest::parse(action, body)?;
        self.simple_command(caller, id, &cmd, |call, _now| call.service(&cmd, &req)).await
    }

    /// `actions/switch_supervisor_role`.
    pub async fn switch_supervisor_role(&self, caller: &Account, id: &str, body: &Body) -> Result<()> {
        let cmd = Command::parse(body)?;
        let role = body.opt_enum("role", &["barge", "whisper", "monitor"])?.ok_or_else(|| ApiError::missing("role"))?;
        self.simple_command(caller, id, &cmd, |call, _now| call.switch_supervisor_role(&cmd, role)).await
    }

    /// `actions/enqueue`: `call.enqueued` with the call's position among the account's
    /// calls waiting in `queue_name`.
    pub async fn enqueue(&self, caller: &Account, id: &str, body: &Body) -> Result<()> {
        let cmd = Command::parse(body)?;
        let queue = body.req_str("queue_name")?.to_owned();
        if queue.chars().count() > 255 {
            return Err(ApiError::invalid("queue_name", "'queue_name' is at most 255 characters."));
        }
        let max_wait = body.opt_int_in("max_wait_time_secs", 1, 14_400)?;
        let max_size = body.opt_int_in("max_size", 1, 5_000)?.unwrap_or(100);
        body.opt_bool("keep_after_hangup")?;
        let docs = self.store.list(calls::KIND, Some(&caller.id), None).await.map_err(store_err)?;
        let waiting = docs
            .iter()
            .filter_map(|d| Call::from_value(&d.data))
            .filter(|c| c.is_alive() && c.call_control_id != id && c.queue.as_ref().is_some_and(|q| q.name == queue))
            .count() as i64;
        if waiting >= max_size {
            return Err(ApiError::new(Code::CallStateConflict)
                .detail(format!("The queue '{queue}' is full ({max_size} calls)."))
                .pointer("/queue_name"));
        }
        let position = (waiting + 1) as u32;
        self.simple_command(caller, id, &cmd, |call, now| call.enqueue(&cmd, &queue, position, max_wait, now)).await
    }

    /// `actions/leave_queue`: `call.dequeued` (`leave`).
    pub async fn leave_queue(&self, caller: &Account, id: &str, body: &Body) -> Result<()> {
        let cmd = Command::parse(body)?;
        self.simple_command(caller, id, &cmd, |call, now| call.leave_queue(&cmd, now)).await
    }

    /// Loads the call, ignores a repeated command, applies `f` and commits its outcome.
    async fn simple_command(
        &self,
        caller: &Account,
        id: &str,
        cmd: &Command,
        f: impl Fn(&mut Call, DateTime<Utc>) -> Result<Outcome>,
    ) -> Result<()> {
        retry_on_conflict!({
            let (doc, mut call) = self.load_call(&caller.id, id).await?;
            let now = self.clock.now();
            if call.is_repeat(cmd, now) {
                return Ok(());
            }
            let out = f(&mut call, now)?;
            let cs = self.transition(ChangeSet::new(), doc, call, out, now).await?;
            self.commit(&cs).await
        })
    }
}

impl Engine {
    /// The AI and conversation relay actions. Answers the id of the session started or
    /// joined (`conversation_id`, or `conversation_relay_id` for a relay).
    pub async fn ai_action(&self, caller: &Account, id: &str, action: &str, body: &Body) -> Result<Option<String>> {
        use dialtone_domain::calls::AiRequest;
        let cmd = Command::parse(body)?;
        let req = AiRequest::parse(action, body)?;
        let new_id = uuid::Uuid::new_v4().to_string();
        retry_on_conflict!({
            let (doc, mut call) = self.load_call(&caller.id, id).await?;
            let now = self.clock.now();
            if call.is_repeat(&cmd, now) {
                return Ok(call.conversation.as_ref().map(|c| c.id.clone()));
            }
            let (out, session) = call.ai(&cmd, &req, &new_id, now)?;
            let cs = self.transition(ChangeSet::new(), doc, call, out, now).await?;
            self.commit(&cs).await.map(|_| session.clone())
        })
    }
}
