//! Searching the inventory and buying numbers: number orders and the job completing them.

use crate::events;
use crate::numbers::{number_doc, rewrite};
use crate::scheduler::HandlerResult;
use crate::{Engine, Result, retry_on_conflict, store_err};
use dialtone_domain::body::Body;
use dialtone_domain::error::ApiError;
use dialtone_domain::inventory::{Candidate, Search};
use dialtone_domain::jobs;
use dialtone_domain::numbers::{self, PhoneNumber};
use dialtone_domain::orders::{self, ListFilter, NewOrder, NumberOrder};
use dialtone_domain::profiles::{self, MessagingProfile};
use dialtone_store::{ChangeSet, Doc, Job, NewJob, StoreError};
use serde_json::json;

impl Engine {
    /// Whether anyone owns the number.
    async fn is_owned(&self, e164: &str) -> Result<bool> {
        Ok(self.store.get_unique(numbers::KIND, e164).await.map_err(store_err)?.is_some())
    }

    /// `GET /available_phone_numbers`: up to `limit` unowned numbers matching the search,
    /// then (with `best_effort`) close matches. Answers the numbers and how many are best effort.
    pub async fn available_numbers(&self, search: &Search) -> Result<(Vec<Candidate>, usize)> {
        let mut out = Vec::new();
        for c in search.exact() {
            if out.len() >= search.limit {
                return Ok((out, 0));
            }
            if !self.is_owned(&c.phone_number).await? {
                out.push(c);
            }
        }
        let mut best = 0;
        for c in search.best_effort() {
            if out.len() >= search.limit {
                break;
            }
            if !self.is_owned(&c.phone_number).await? {
                out.push(c);
                best += 1;
            }
        }
        Ok((out, best))
    }

    /// `POST /number_orders`: the numbers become the account's at once (`purchase-pending`,
    /// so no one else can buy them) and a job completes the order a second later.
    pub async fn create_number_order(&self, account_id: &str, body: &Body) -> Result<NumberOrder> {
        let new = NewOrder::parse(body)?;
        if let Some(p) = &new.messaging_profile_id {
            self.referenced_profile(account_id, p, "messaging_profile_id").await?;
        }
        if let Some(c) = &new.connection_id {
            self.referenced_application(account_id, c, "connection_id").await?;
        }
        let now = self.clock.now();
        let id = Engine::new_ordered_id();
        let ids: Vec<String> = new.numbers.iter().map(|_| numbers::new_id()).collect();
        let order = NumberOrder::build(&new, id.clone(), account_id.to_owned(), &ids, now);
        let mut cs = ChangeSet::new().insert(Doc::new(orders::KIND, &id, account_id, order.to_value(), now));
        for ((c, _, _), nid) in new.numbers.iter().zip(&ids) {
            let mut n = PhoneNumber::purchased(nid.clone(), account_id.to_owned(), c, &id, now);
            n.messaging_profile_id = new.messaging_profile_id.clone();
            n.connection_id = new.connection_id.clone();
            n.billing_group_id = new.billing_group_id.clone();
            cs = cs.insert(number_doc(&n, now));
        }
        cs = cs.job(NewJob {
            id: format!("order:{id}"),
            kind: jobs::NUMBER_ORDER_COMPLETE.into(),
            payload: json!({ "order_id": id }).into(),
            due_at: now + orders::completion_delay(),
            ordering_key: None,
        });
        match self.store.apply(&cs).await {
            Ok(()) => {
                self.wake();
                Ok(order)
            }
            Err(StoreError::Duplicate) => {
                // Someone owns one of the numbers: name the first such.
                for (i, (c, _, _)) in new.numbers.iter().enumerate() {
                    if self.is_owned(&c.phone_number).await? {
                        return Err(orders::unavailable(i, &c.phone_number));
                    }
                }
                Err(orders::unavailable(0, &new.numbers[0].0.phone_number))
            }
            Err(e) => Err(store_err(e)),
        }
    }

    async fn load_order(&self, account_id: &str, id: &str) -> Result<(Doc, NumberOrder)> {
        match self.store.get(orders::KIND, id).await.map_err(store_err)? {
            Some(d) if d.account_id == account_id => {
                let o = NumberOrder::from_value(&d.data).ok_or_else(ApiError::unexpected)?;
                Ok((d, o))
            }
            _ => Err(ApiError::not_found()),
        }
    }

    pub async fn number_order(&self, account_id: &str, id: &str) -> Result<NumberOrder> {
        Ok(self.load_order(account_id, id).await?.1)
    }

    /// The account's orders matching `filter`, newest first.
    pub async fn number_orders(&self, account_id: &str, filter: &ListFilter) -> Result<Vec<NumberOrder>> {
        let docs = self.store.list(orders::KIND, Some(account_id), None).await.map_err(store_err)?;
        let mut out: Vec<NumberOrder> =
            docs.iter().filter_map(|d| NumberOrder::from_value(&d.data)).filter(|o| filter.matches(o)).collect();
        out.reverse();
        Ok(out)
    }

    pub async fn update_number_order(&self, account_id: &str, id: &str, body: &Body) -> Result<NumberOrder> {
        let now = self.clock.now();
        retry_on_conflict!({
            let (mut doc, mut o) = self.load_order(account_id, id).await?;
            o.update(body, now)?;
            doc.data = o.to_value();
            self.commit(&ChangeSet::new().update(doc)).await.map(|_| o.clone())
        })
    }
}

/// The job completing an order: its numbers still held become `active`, the order `success`
/// (or `failure` when none is left), and `number_order.complete` goes to the webhook URL of
/// the order's messaging profile, if it has one. One commit; a completed order is left alone.
pub async fn complete_order(engine: Engine, job: Job) -> HandlerResult {
    let id = job.payload.value()["order_id"].as_str().unwrap_or_default().to_owned();
    let Some(mut doc) = engine.store.get(orders::KIND, &id).await.map_err(|e| e.to_string())? else {
        return Ok(ChangeSet::new());
    };
    let Some(mut order) = NumberOrder::from_value(&doc.data) else {
        return Err(format!("number order {id} is unreadable"));
    };
    if !order.is_pending() {
        return Ok(ChangeSet::new());
    }
    let now = engine.clock.now();
    let mut cs = ChangeSet::new();
    let mut bought = Vec::new();
    for item in &order.items {
        let found = engine.store.get(numbers::KIND, &item.phone_number_id).await.map_err(|e| e.to_string())?;
        if let Some(d) = found.filter(|d| d.account_id == order.account_id)
            && let Some(mut n) = PhoneNumber::from_value(&d.data)
        {
            n.activate(now);
            cs = cs.update(rewrite(d, &n));
            bought.push(item.phone_number.clone());
        }
    }
    order.complete(|e164| bought.iter().any(|b| b == e164), now);
    doc.data = order.to_value();
    cs = cs.update(doc);
    let profile = match &order.messaging_profile_id {
        Some(p) => engine.store.get(profiles::KIND, p).await.map_err(|e| e.to_string())?,
        None => None,
    };
    let destination = profile
        .filter(|d| d.account_id == order.account_id)
        .and_then(|d| MessagingProfile::from_value(&d.data))
        .and_then(|p| p.routing().destination(orders::EVENT_COMPLETE));
    if let Some(dest) = destination {
        let event = events::event(orders::EVENT_COMPLETE, order.to_json(), now);
        cs = events::emit(cs, &order.account_id, event, dest, Some(&order.id), now).0;
    }
    Ok(cs)
}
