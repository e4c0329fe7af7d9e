//! Call control applications of an account (also listed as its connections).

use crate::numbers::rewrite;
use crate::{Engine, Result, retry_on_conflict, store_err};
use dialtone_domain::applications::{self, Application};
use dialtone_domain::body::Body;
use dialtone_domain::calls::{self, Call};
use dialtone_domain::error::{ApiError, Code};
use dialtone_domain::numbers::{self, PhoneNumber};
use dialtone_store::{ChangeSet, Doc, StoreError};

/// An application's document: unique on its SIP subdomain (one owner across all accounts).
fn app_doc(mut doc: Doc, a: &Application) -> Doc {
    doc.data = a.to_value();
    doc.unique_key = a.inbound.sip_subdomain.as_ref().map(|s| format!("sip:{s}"));
    doc
}

fn taken(e: StoreError) -> ApiError {
    match e {
        StoreError::Duplicate => {
            ApiError::invalid("inbound/sip_subdomain", "This SIP subdomain is taken; choose another.")
        }
        other => store_err(other),
    }
}

impl Engine {
    async fn load_application(&self, account_id: &str, id: &str) -> Result<(Doc, Application)> {
        match self.store.get(applications::KIND, id).await.map_err(store_err)? {
            Some(d) if d.account_id == account_id => {
                let a = Application::from_value(&d.data).ok_or_else(ApiError::unexpected)?;
                Ok((d, a))
            }
            _ => Err(ApiError::not_found()),
        }
    }

    /// The account's application (or connection); 404 for an unknown id or another
    /// account's application.
    pub async fn application(&self, account_id: &str, id: &str) -> Result<Application> {
        Ok(self.load_application(account_id, id).await?.1)
    }

    /// An application named in a request body (a number's `connection_id`): 422 (`10017`)
    /// pointing at `field` when the account has no such application.
    pub async fn referenced_application(&self, account_id: &str, id: &str, field: &str) -> Result<Application> {
        self.application(account_id, id).await.map_err(|e| {
            if e.code == Code::NotFound {
                ApiError::new(Code::MissingAssociation)
                    .detail(format!("No call control application (connection) '{id}' exists."))
                    .pointer(format!("/{field}"))
            } else {
                e
            }
        })
    }

    pub async fn create_application(&self, account_id: &str, body: &Body) -> Result<Application> {
        let now = self.clock.now();
        let id = Engine::new_ordered_numeric_id();
        let a = Application::create(body, id.clone(), account_id.to_owned(), now)?;
        let doc = app_doc(Doc::new(applications::KIND, &id, account_id, serde_json::Value::Null, now), &a);
        self.store.apply(&ChangeSet::new().insert(doc)).await.map_err(taken)?;
        Ok(a)
    }

    /// Every application of the account (unsorted; the caller filters and sorts).
    pub async fn applications(&self, account_id: &str) -> Result<Vec<Application>> {
        let docs = self.store.list(applications::KIND, Some(account_id), None).await.map_err(store_err)?;
        Ok(docs.iter().filter_map(|d| Application::from_value(&d.data)).collect())
    }

    pub async fn update_application(&self, account_id: &str, id: &str, body: &Body) -> Result<Application> {
        let now = self.clock.now();
        retry_on_conflict!({
            let (doc, mut a) = self.load_application(account_id, id).await?;
            a.update(body, now)?;
            self.store.apply(&ChangeSet::new().update(app_doc(doc, &a))).await.map_err(taken).map(|_| a.clone())
        })
    }

    /// Deletes an application. Its numbers stay the account's, routed nowhere; its live
    /// calls go on (they carry their own webhook routing).
    pub async fn delete_application(&self, account_id: &str, id: &str) -> Result<Application> {
        let now = self.clock.now();
        retry_on_conflict!({
            let (_, a) = self.load_application(account_id, id).await?;
            let mut cs = ChangeSet::new().delete(applications::KIND, id);
            for doc in self.store.list(numbers::KIND, Some(account_id), None).await.map_err(store_err)? {
                let Some(mut n) = PhoneNumber::from_value(&doc.data) else {
                    continue;
                };
                if n.connection_id.as_deref() == Some(id) {
                    n.connection_id = None;
                    n.updated_at = now;
                    cs = cs.update(rewrite(doc, &n));
                }
            }
            self.commit(&cs).await.map(|_| a.clone())
        })
    }

    /// The live calls of one of the account's connections, oldest first.
    pub async fn active_calls(&self, account_id: &str, connection_id: &str) -> Result<Vec<Call>> {
        self.load_application(account_id, connection_id).await?;
        let docs = self.store.list(calls::KIND, Some(account_id), Some(connection_id)).await.map_err(store_err)?;
        let mut out: Vec<Call> = docs.iter().filter_map(|d| Call::from_value(&d.data)).filter(Call::is_alive).collect();
        out.sort_by(|a, b| (a.start_time, &a.call_leg_id).cmp(&(b.start_time, &b.call_leg_id)));
        Ok(out)
    }
}
