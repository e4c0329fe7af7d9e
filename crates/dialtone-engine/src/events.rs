//! Emitting webhook events, and reading their deliveries.
//!
//! A product service that changes state calls [`emit`] on the change set it is about to
//! commit: the job that makes the event's first attempt, carrying the delivery, goes in the
//! same transaction as the state change, so an acknowledged change never loses its event.
//! The delivery's record is written with that first attempt; until then the job is the
//! record, and the deliveries API reads pending deliveries from it.

use crate::{Engine, Result, store_err};
use chrono::{DateTime, Utc};
use dialtone_domain::error::ApiError;
use dialtone_domain::webhooks::{self, AttemptArgs, Delivery, Destination, Event, ListFilter};
use dialtone_store::{ChangeSet, Job, NewJob, Payload};
use std::collections::HashSet;

/// Adds an event for `account_id` going to `destination` to a change set. Events sharing an
/// `ordering_key` (a call, a message) get their first attempts in the order they were
/// emitted. Answers the delivery's id.
pub fn emit(
    cs: ChangeSet,
    account_id: &str,
    event: Event,
    destination: Destination,
    ordering_key: Option<&str>,
    now: DateTime<Utc>,
) -> (ChangeSet, String) {
    // Time-ordered, so the delivery's and its job's index entries append.
    let id = Engine::new_ordered_id();
    let delivery = Delivery::new(id.clone(), account_id.to_owned(), event, destination, now);
    let cs = cs.job(NewJob {
        id: webhooks::attempt_job_id(&id, 1),
        kind: webhooks::ATTEMPT_JOB.into(),
        payload: Payload::of(&AttemptArgs { delivery_id: id.clone(), delivery: Some(delivery) }),
        due_at: now,
        ordering_key: ordering_key.map(|k| format!("wh:{k}")),
    });
    (cs, id)
}

/// The delivery a first attempt's job carries (`None` for a retry's job, or any other).
pub fn pending_delivery(job: &Job) -> Option<Delivery> {
    if job.kind != webhooks::ATTEMPT_JOB {
        return None;
    }
    job.payload.to::<AttemptArgs>()?.delivery
}

/// A new event of this type now, with a fresh id.
pub fn event<T: serde::Serialize>(event_type: &str, payload: T, now: DateTime<Utc>) -> Event {
    Event::new(Engine::new_id(), event_type, now, &payload)
}

impl Engine {
    /// The account's deliveries, newest first: those recorded, and those whose first
    /// attempt is still to come.
    pub async fn list_deliveries(&self, account_id: &str, filter: &ListFilter) -> Result<Vec<Delivery>> {
        // The pending ones first: a first attempt that commits between the two reads is
        // then seen twice (and kept once, as recorded), never missed.
        let jobs = self.store.jobs_with_prefix("wh:").await.map_err(store_err)?;
        let docs = self.store.list(webhooks::KIND, Some(account_id), None).await.map_err(store_err)?;
        let mut out: Vec<Delivery> = docs.iter().filter_map(|d| Delivery::from_value(&d.data)).collect();
        let recorded: HashSet<String> = out.iter().map(|d| d.id.clone()).collect();
        out.extend(
            jobs.iter()
                .filter_map(pending_delivery)
                .filter(|d| d.account_id == account_id && !recorded.contains(&d.id)),
        );
        out.retain(|d| filter.matches(d));
        // Newest first.
        out.sort_by(|a, b| (b.created_at, &b.id).cmp(&(a.created_at, &a.id)));
        Ok(out)
    }

    pub async fn delivery(&self, account_id: &str, id: &str) -> Result<Delivery> {
        let recorded = || async {
            match self.store.get(webhooks::KIND, id).await.map_err(store_err)? {
                Some(d) => Delivery::from_value(&d.data).map(Some).ok_or_else(ApiError::unexpected),
                None => Ok(None),
            }
        };
        let mut found = recorded().await?;
        if found.is_none() {
            let job = self.store.job(&webhooks::attempt_job_id(id, 1)).await.map_err(store_err)?;
            found = match job.as_ref().and_then(pending_delivery) {
                Some(d) => Some(d),
                // Its first attempt may have committed between the two reads.
                None => recorded().await?,
            };
        }
        match found {
            Some(d) if d.account_id == account_id => Ok(d),
            _ => Err(ApiError::not_found()),
        }
    }
}
