//! Emitting webhook events, and reading their deliveries.
//!
//! A product service that changes state calls [`emit`] on the change set it is about to
//! commit: the delivery record and the job that makes its first attempt go in the same
//! transaction as the state change, so an acknowledged change never loses its event.

use crate::{Engine, Result, store_err};
use chrono::{DateTime, Utc};
use dialtone_domain::error::ApiError;
use dialtone_domain::webhooks::{self, Delivery, Destination, Event, ListFilter};
use dialtone_store::{ChangeSet, Doc, NewJob};
use serde_json::json;

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
    let due = now;
    let delivery = Delivery::new(id.clone(), account_id.to_owned(), event, destination, now);
    let cs = cs.insert(Doc::of(webhooks::KIND, &id, account_id, &delivery, now)).job(NewJob {
        id: format!("wh:{id}:1"),
        kind: webhooks::ATTEMPT_JOB.into(),
        payload: json!({ "delivery_id": id }).into(),
        due_at: due,
        ordering_key: ordering_key.map(|k| format!("wh:{k}")),
    });
    (cs, id)
}

/// A new event of this type now, with a fresh id.
pub fn event<T: serde::Serialize>(event_type: &str, payload: T, now: DateTime<Utc>) -> Event {
    Event::new(Engine::new_id(), event_type, now, &payload)
}

impl Engine {
    pub async fn list_deliveries(&self, account_id: &str, filter: &ListFilter) -> Result<Vec<Delivery>> {
        let docs = self.store.list(webhooks::KIND, Some(account_id), None).await.map_err(store_err)?;
        let mut out: Vec<Delivery> =
            docs.iter().filter_map(|d| Delivery::from_value(&d.data)).filter(|d| filter.matches(d)).collect();
        // Newest first.
        out.reverse();
        Ok(out)
    }

    pub async fn delivery(&self, account_id: &str, id: &str) -> Result<Delivery> {
        match self.store.get(webhooks::KIND, id).await.map_err(store_err)? {
            Some(d) if d.account_id == account_id => Delivery::from_value(&d.data).ok_or_else(ApiError::unexpected),
            _ => Err(ApiError::not_found()),
        }
    }
}
