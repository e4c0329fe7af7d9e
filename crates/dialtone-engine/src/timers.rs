//! Simulation timers (`/_dialtone/sim/timers`): a user-visible job that fires once at its
//! due time and records when and by which process it fired. They let a user (and the
//! tests) watch the scheduler and the clock before the products put their own timers on it.

use crate::scheduler::HandlerResult;
use crate::{Engine, Result, store_err};
use chrono::{DateTime, Utc};
use dialtone_domain::error::ApiError;
use dialtone_domain::{fmt_time, jobs};
use dialtone_store::{ChangeSet, Doc, Job, NewJob};
use serde_json::{Value, json};

pub const KIND: &str = "sim_timer";

impl Engine {
    pub async fn create_timer(&self, account_id: &str, due_at: DateTime<Utc>) -> Result<Value> {
        let now = self.clock.now();
        let id = Engine::new_id();
        let data = json!({
            "id": id,
            "record_type": "sim_timer",
            "due_at": fmt_time(due_at),
            "created_at": fmt_time(now),
            "fired_count": 0,
            "fired_at": null,
            "fired_by": null,
        });
        let cs = ChangeSet::new().insert(Doc::new(KIND, &id, account_id, data.clone(), now)).job(NewJob {
            id: format!("timer:{id}"),
            kind: jobs::SIM_TIMER.into(),
            payload: json!({ "timer_id": id }).into(),
            due_at,
            ordering_key: None,
        });
        self.commit(&cs).await?;
        Ok(data)
    }

    pub async fn timer(&self, account_id: &str, id: &str) -> Result<Value> {
        match self.store.get(KIND, id).await.map_err(store_err)? {
            Some(d) if d.account_id == account_id => Ok(d.data),
            _ => Err(ApiError::not_found()),
        }
    }
}

/// The job handler: marks the timer fired. Its change set commits with the job's removal,
/// so a timer fires once even with several processes on one database.
pub async fn fire(engine: Engine, job: Job) -> HandlerResult {
    let id = job.payload.value()["timer_id"].as_str().unwrap_or_default().to_owned();
    let doc: Option<Doc> = engine.store.get(KIND, &id).await.map_err(|e| e.to_string())?;
    let Some(mut doc) = doc else {
        return Ok(ChangeSet::new());
    };
    let count = doc.data["fired_count"].as_i64().unwrap_or(0) + 1;
    doc.data["fired_count"] = json!(count);
    doc.data["fired_at"] = json!(fmt_time(engine.clock.now()));
    doc.data["fired_by"] = json!(engine.instance);
    Ok(ChangeSet::new().update(doc))
}
