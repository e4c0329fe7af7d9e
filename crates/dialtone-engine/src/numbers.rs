//! Phone numbers an account owns, their messaging settings, and bulk messaging updates.

use crate::scheduler::HandlerResult;
use crate::{Engine, Result, retry_on_conflict, store_err};
use dialtone_domain::accounts::Account;
use dialtone_domain::body::Body;
use dialtone_domain::error::{ApiError, Code};
use dialtone_domain::jobs;
use dialtone_domain::numbers::{self, BulkUpdate, ListFilter, MessagingFilter, PhoneNumber};
use dialtone_domain::profiles::{self, MessagingProfile};
use dialtone_store::{ChangeSet, Doc, Job, NewJob};
use serde_json::json;
use std::collections::HashMap;

/// Short codes live apart from the inventory's numbers (they are not listed as phone numbers).
pub const SHORT_CODE_KIND: &str = "short_code";

/// A number's document: unique on the E.164 number (one owner across all accounts), its
/// parent the messaging profile it is assigned to.
pub(crate) fn number_doc(n: &PhoneNumber, now: chrono::DateTime<chrono::Utc>) -> Doc {
    let doc = Doc::new(numbers::KIND, &n.id, &n.account_id, n.to_value(), now).unique(&n.phone_number);
    match &n.messaging_profile_id {
        Some(p) => doc.parent(p),
        None => doc,
    }
}

/// `doc` rewritten with `n`, keeping the parent in step with the profile.
pub(crate) fn rewrite(mut doc: Doc, n: &PhoneNumber) -> Doc {
    doc.data = n.to_value();
    doc.parent_id = n.messaging_profile_id.clone();
    doc
}

impl Engine {
    /// The number with this E.164 value, whoever owns it.
    /// A number (or a short code) on this server, whoever owns it.
    pub async fn number_by_e164(&self, e164: &str) -> Result<Option<PhoneNumber>> {
        let mut doc = self.store.get_unique(numbers::KIND, e164).await.map_err(store_err)?;
        if doc.is_none() && !e164.starts_with('+') {
            doc = self.store.get_unique(SHORT_CODE_KIND, e164).await.map_err(store_err)?;
        }
        Ok(doc.and_then(|d| PhoneNumber::from_value(&d.data)))
    }

    /// Gives the caller a short code under one of its messaging profiles (simulation API).
    pub async fn provision_short_code(&self, caller: &Account, code: &str, profile_id: &str) -> Result<PhoneNumber> {
        if !dialtone_domain::messaging::is_short_code(code) {
            return Err(ApiError::invalid("short_code", "A short code is 3 to 8 digits."));
        }
        self.messaging_profile(&caller.id, profile_id)
            .await
            .map_err(|_| ApiError::invalid("messaging_profile_id", format!("No messaging profile '{profile_id}'.")))?;
        let now = self.clock.now();
        let n = PhoneNumber::short_code(numbers::new_id(), caller.id.clone(), code, profile_id.to_owned(), now);
        let cs = ChangeSet::new().insert(Doc::new(SHORT_CODE_KIND, &n.id, &caller.id, n.to_value(), now).unique(code));
        match self.store.apply(&cs).await {
            Ok(()) => Ok(n),
            Err(dialtone_store::StoreError::Duplicate) => {
                Err(ApiError::new(Code::Duplicate).detail(format!("The short code {code} is taken.")))
            }
            Err(e) => Err(store_err(e)),
        }
    }

    async fn load_number(&self, account_id: &str, id: &str) -> Result<(Doc, PhoneNumber)> {
        match self.store.get(numbers::KIND, id).await.map_err(store_err)? {
            Some(d) if d.account_id == account_id => {
                let n = PhoneNumber::from_value(&d.data).ok_or_else(ApiError::unexpected)?;
                Ok((d, n))
            }
            _ => Err(ApiError::not_found()),
        }
    }

    /// One of the account's numbers; 404 for anyone else's.
    pub async fn phone_number(&self, account_id: &str, id: &str) -> Result<PhoneNumber> {
        Ok(self.load_number(account_id, id).await?.1)
    }

    /// Every number of the account, oldest first.
    pub async fn account_numbers(&self, account_id: &str) -> Result<Vec<PhoneNumber>> {
        let docs = self.store.list(numbers::KIND, Some(account_id), None).await.map_err(store_err)?;
        Ok(docs.iter().filter_map(|d| PhoneNumber::from_value(&d.data)).collect())
    }

    pub async fn list_phone_numbers(&self, account_id: &str, filter: &ListFilter) -> Result<Vec<PhoneNumber>> {
        let mut all: Vec<PhoneNumber> =
            self.account_numbers(account_id).await?.into_iter().filter(|n| filter.matches(n)).collect();
        filter.sort(&mut all);
        Ok(all)
    }

    /// Profile id → name for the account (numbers show their profile's name).
    pub async fn profile_names(&self, account_id: &str) -> Result<HashMap<String, String>> {
        let docs = self.store.list(profiles::KIND, Some(account_id), None).await.map_err(store_err)?;
        Ok(docs.iter().filter_map(|d| MessagingProfile::from_value(&d.data)).map(|p| (p.id, p.name)).collect())
    }

    /// `PATCH /phone_numbers/{id}`: a `connection_id` must name one of the account's
    /// call control applications (`""` or `null` unroutes the number).
    pub async fn update_phone_number(&self, account_id: &str, id: &str, body: &Body) -> Result<PhoneNumber> {
        if let Some(c) = body.opt_str("connection_id")?
            && !c.is_empty()
        {
            self.referenced_application(account_id, c, "connection_id").await?;
        }
        let now = self.clock.now();
        retry_on_conflict!({
            let (doc, mut n) = self.load_number(account_id, id).await?;
            n.update(body, now)?;
            self.commit(&ChangeSet::new().update(rewrite(doc, &n))).await.map(|_| n.clone())
        })
    }

    /// Releases a number: it leaves the account and returns to the inventory.
    pub async fn delete_phone_number(&self, account_id: &str, id: &str) -> Result<PhoneNumber> {
        let (_, n) = self.load_number(account_id, id).await?;
        self.commit(&ChangeSet::new().delete(numbers::KIND, id)).await?;
        Ok(n)
    }

    pub async fn list_messaging_numbers(&self, account_id: &str, filter: &MessagingFilter) -> Result<Vec<PhoneNumber>> {
        let mut all: Vec<PhoneNumber> =
            self.account_numbers(account_id).await?.into_iter().filter(|n| filter.matches(n)).collect();
        filter.sort(&mut all);
        Ok(all)
    }

    /// `PATCH /phone_numbers/{id}/messaging`: `messaging_profile_id` (a profile of the
    /// account, or `""` to unassign), `messaging_product`, `tags`; `null` keeps a value.
    pub async fn update_messaging_settings(&self, account_id: &str, id: &str, body: &Body) -> Result<PhoneNumber> {
        let now = self.clock.now();
        let profile = match body.opt_str("messaging_profile_id")? {
            None => None,
            Some("") => Some(None),
            Some(p) => Some(Some(self.referenced_profile(account_id, p, "messaging_profile_id").await?.id)),
        };
        retry_on_conflict!({
            let (doc, mut n) = self.load_number(account_id, id).await?;
            n.update_messaging(body, now)?;
            if let Some(p) = &profile {
                n.assign_profile(p.clone(), now);
            }
            self.commit(&ChangeSet::new().update(rewrite(doc, &n))).await.map(|_| n.clone())
        })
    }

    /// A mobile number of the account; 404 for other numbers too.
    pub async fn mobile_number(&self, account_id: &str, id: &str) -> Result<PhoneNumber> {
        let n = self.phone_number(account_id, id).await?;
        if n.is_mobile() { Ok(n) } else { Err(ApiError::not_found()) }
    }

    /// `POST /messaging_numbers_bulk_updates`: checks the profile and the numbers' format,
    /// then leaves the work to a job; the answer lists every number as pending.
    pub async fn create_bulk_update(&self, account_id: &str, body: &Body) -> Result<BulkUpdate> {
        let now = self.clock.now();
        let id = Engine::new_ordered_id();
        let update = BulkUpdate::parse(body, id.clone(), account_id.to_owned(), now)?;
        if let Some(p) = &update.messaging_profile_id {
            self.referenced_profile(account_id, p, "messaging_profile_id").await?;
        }
        let cs = ChangeSet::new().insert(Doc::new(numbers::BULK_KIND, &id, account_id, update.to_value(), now)).job(
            NewJob {
                id: format!("bulk:{id}"),
                kind: jobs::MESSAGING_BULK_UPDATE.into(),
                payload: json!({ "bulk_update_id": id }).into(),
                due_at: now,
                ordering_key: None,
            },
        );
        self.commit(&cs).await?;
        Ok(update)
    }

    pub async fn bulk_update(&self, account_id: &str, id: &str) -> Result<BulkUpdate> {
        match self.store.get(numbers::BULK_KIND, id).await.map_err(store_err)? {
            Some(d) if d.account_id == account_id => BulkUpdate::from_value(&d.data).ok_or_else(ApiError::unexpected),
            _ => Err(ApiError::not_found()),
        }
    }
}

/// The bulk update job: each pending number the account owns is assigned (success); a
/// number it does not own, or any number when the profile is gone, fails. One commit.
pub async fn run_bulk_update(engine: Engine, job: Job) -> HandlerResult {
    let id = job.payload.value()["bulk_update_id"].as_str().unwrap_or_default().to_owned();
    let Some(mut doc) = engine.store.get(numbers::BULK_KIND, &id).await.map_err(|e| e.to_string())? else {
        return Ok(ChangeSet::new());
    };
    let Some(mut update) = BulkUpdate::from_value(&doc.data) else {
        return Err(format!("bulk update {id} is unreadable"));
    };
    if update.pending.is_empty() {
        return Ok(ChangeSet::new());
    }
    let now = engine.clock.now();
    let profile_ok = match &update.messaging_profile_id {
        None => true,
        Some(p) => engine.messaging_profile(&update.account_id, p).await.is_ok(),
    };
    let mut cs = ChangeSet::new();
    for e164 in std::mem::take(&mut update.pending) {
        let found = engine.store.get_unique(numbers::KIND, &e164).await.map_err(|e| e.to_string())?;
        let owned = found
            .filter(|d| d.account_id == update.account_id)
            .and_then(|d| PhoneNumber::from_value(&d.data).map(|n| (d, n)));
        match owned {
            Some((d, mut n)) if profile_ok => {
                n.assign_profile(update.messaging_profile_id.clone(), now);
                cs = cs.update(rewrite(d, &n));
                update.success.push(e164);
            }
            _ => update.failed.push(e164),
        }
    }
    doc.data = update.to_value();
    Ok(cs.update(doc))
}
