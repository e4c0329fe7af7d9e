//! Messaging profiles of an account.

use crate::{Engine, Result, retry_on_conflict, store_err};
use dialtone_domain::body::Body;
use dialtone_domain::error::{ApiError, Code};
use dialtone_domain::numbers::{self, PhoneNumber};
use dialtone_domain::profiles::{self, ListFilter, MessagingProfile};
use dialtone_store::{ChangeSet, Doc};

impl Engine {
    async fn load_profile(&self, account_id: &str, id: &str) -> Result<(Doc, MessagingProfile)> {
        match self.store.get(profiles::KIND, id).await.map_err(store_err)? {
            Some(d) if d.account_id == account_id => {
                let p = MessagingProfile::from_value(&d.data).ok_or_else(ApiError::unexpected)?;
                Ok((d, p))
            }
            _ => Err(ApiError::not_found()),
        }
    }

    /// The account's profile; 404 for an unknown id or another account's profile.
    pub async fn messaging_profile(&self, account_id: &str, id: &str) -> Result<MessagingProfile> {
        Ok(self.load_profile(account_id, id).await?.1)
    }

    /// A profile named in a request body (`messaging_profile_id` of an order or a number):
    /// 422 (`10017`) pointing at `field` when the account has no such profile.
    pub async fn referenced_profile(&self, account_id: &str, id: &str, field: &str) -> Result<MessagingProfile> {
        self.messaging_profile(account_id, id).await.map_err(|e| {
            if e.code == Code::NotFound {
                ApiError::new(Code::MissingAssociation)
                    .detail(format!("No messaging profile '{id}' exists."))
                    .pointer(format!("/{field}"))
            } else {
                e
            }
        })
    }

    pub async fn create_messaging_profile(&self, account_id: &str, body: &Body) -> Result<MessagingProfile> {
        let now = self.clock.now();
        let id = Engine::new_ordered_id();
        let p = MessagingProfile::create(body, id.clone(), account_id.to_owned(), now)?;
        self.commit(&ChangeSet::new().insert(Doc::new(profiles::KIND, &id, account_id, p.to_value(), now))).await?;
        Ok(p)
    }

    /// The account's profiles matching `filter`, oldest first.
    pub async fn list_messaging_profiles(
        &self,
        account_id: &str,
        filter: &ListFilter,
    ) -> Result<Vec<MessagingProfile>> {
        let docs = self.store.list(profiles::KIND, Some(account_id), None).await.map_err(store_err)?;
        Ok(docs.iter().filter_map(|d| MessagingProfile::from_value(&d.data)).filter(|p| filter.matches(p)).collect())
    }

    pub async fn update_messaging_profile(&self, account_id: &str, id: &str, body: &Body) -> Result<MessagingProfile> {
        let now = self.clock.now();
        retry_on_conflict!({
            let (mut doc, mut p) = self.load_profile(account_id, id).await?;
            p.update(body, now)?;
            doc.data = p.to_value();
            self.commit(&ChangeSet::new().update(doc)).await.map(|_| p.clone())
        })
    }

    /// Deletes a profile; its numbers stay the account's, without a profile.
    pub async fn delete_messaging_profile(&self, account_id: &str, id: &str) -> Result<MessagingProfile> {
        let now = self.clock.now();
        retry_on_conflict!({
            let (_, p) = self.load_profile(account_id, id).await?;
            let mut cs = ChangeSet::new().delete(profiles::KIND, id);
            for mut doc in self.store.list(numbers::KIND, Some(account_id), Some(id)).await.map_err(store_err)? {
                let Some(mut n) = PhoneNumber::from_value(&doc.data) else {
                    continue;
                };
                n.assign_profile(None, now);
                doc.data = n.to_value();
                doc.parent_id = None;
                cs = cs.update(doc);
            }
            self.commit(&cs).await.map(|_| p.clone())
        })
    }

    /// The numbers assigned to one of the account's profiles (404 for another account's
    /// profile), ordered by number.
    pub async fn profile_numbers(&self, account_id: &str, profile_id: &str) -> Result<Vec<PhoneNumber>> {
        self.load_profile(account_id, profile_id).await?;
        let docs = self.store.list(numbers::KIND, Some(account_id), Some(profile_id)).await.map_err(store_err)?;
        let mut out: Vec<PhoneNumber> = docs.iter().filter_map(|d| PhoneNumber::from_value(&d.data)).collect();
        out.sort_by(|a, b| a.phone_number.cmp(&b.phone_number));
        Ok(out)
    }
}
