//! Authentication and the managed-account operations.

use crate::{Engine, Result, retry_on_conflict, store_err};
use dialtone_domain::accounts::{self, Account, ListFilter, NewManagedAccount};
use dialtone_domain::body::Body;
use dialtone_domain::error::{ApiError, Code};
use dialtone_domain::keys::{self, Signer};
use dialtone_domain::users::{self, User};
use dialtone_store::{ChangeSet, Doc, StoreError};

/// A loaded account with the version it was read at.
struct Loaded {
    doc: Doc,
    acct: Account,
}

impl Loaded {
    fn from_doc(doc: Doc) -> Result<Loaded> {
        let acct = Account::from_value(&doc.data).ok_or_else(ApiError::unexpected)?;
        Ok(Loaded { doc, acct })
    }

    fn updated(&self) -> Doc {
        let mut d = self.doc.clone();
        d.data = self.acct.to_value();
        d
    }
}

impl Engine {
    /// The account an API key belongs to, or `None` for an unknown key.
    pub async fn authenticate(&self, api_key: &str) -> Result<Option<Account>> {
        let hash = keys::hash_api_key(api_key);
        if let Some(acct) = self.auth_cache.get(&hash) {
            return Ok(Some(acct));
        }
        let doc = self.store.account_for_key(&hash).await.map_err(store_err)?;
        let acct = doc.and_then(|d| Account::from_value(&d.data));
        if let Some(a) = &acct {
            self.auth_cache.put(hash, a.clone());
        }
        Ok(acct)
    }

    pub async fn account(&self, id: &str) -> Result<Option<Account>> {
        let doc = self.store.get(accounts::KIND, id).await.map_err(store_err)?;
        Ok(doc.and_then(|d| Account::from_value(&d.data)))
    }

    /// The account's webhook/token signer.
    pub fn signer(acct: &Account) -> Result<Signer> {
        Signer::from_seed_base64(&acct.signing_seed).map_err(|_| ApiError::unexpected())
    }

    async fn load_managed(&self, manager: &Account, id: &str) -> Result<Loaded> {
        let doc = self.store.get(accounts::KIND, id).await.map_err(store_err)?;
        let loaded = doc.map(Loaded::from_doc).transpose()?;
        match loaded {
            Some(l) if l.acct.manager_account_id.as_deref() == Some(manager.id.as_str()) => Ok(l),
            // Another manager's account, the manager itself, or nothing: all look the same.
            _ => Err(ApiError::not_found()),
        }
    }

    async fn managed_of(&self, manager: &Account) -> Result<Vec<Account>> {
        let docs = self.store.list(accounts::KIND, None, Some(&manager.id)).await.map_err(store_err)?;
        Ok(docs.iter().filter_map(|d| Account::from_value(&d.data)).collect())
    }

    /// `POST /managed_accounts`: the account and its API key in clear (shown this once).
    pub async fn create_managed_account(&self, caller: &Account, body: &Body) -> Result<(Account, String)> {
        accounts::require_manager(caller)?;
        let req = NewManagedAccount::parse(body)?;
        let allocated = self.allocated_channels(caller).await?;
        let now = self.clock.now();
        let id = Engine::new_id();
        let mut acct = req.build(caller, allocated, id.clone(), Signer::generate().seed_base64(), now);
        let key = keys::generate_api_key();
        acct.api_key_prefix = crate::bootstrap::key_prefix(&key);
        let owner = User::new(Engine::new_id(), id.clone(), acct.email.clone(), true, now);
        let email_key = accounts::email_key(&acct.email);
        let cs = ChangeSet::new()
            .insert(Doc::new(accounts::KIND, &id, &id, acct.to_value(), now).parent(&caller.id).unique(&email_key))
            .insert(Doc::new(users::KIND, &owner.id, &id, owner.to_value(), now).unique(&email_key))
            .api_key(keys::hash_api_key(&key), id.clone(), acct.api_key_prefix.clone());
        match self.store.apply(&cs).await {
            Ok(()) => Ok((acct, key)),
            Err(StoreError::Duplicate) => Err(ApiError::new(Code::InvalidValue)
                .detail(format!("The email '{}' has already been taken.", acct.email))
                .pointer("/email")),
            Err(e) => Err(store_err(e)),
        }
    }

    pub async fn managed_account(&self, caller: &Account, id: &str) -> Result<Account> {
        accounts::require_manager(caller)?;
        Ok(self.load_managed(caller, id).await?.acct)
    }

    /// The masked key shown on reads after creation.
    pub fn shown_key(acct: &Account) -> String {
        keys::mask_api_key(&acct.api_key_prefix)
    }

    /// Channels the manager has handed out, summed in the store.
    async fn allocated_channels(&self, manager: &Account) -> Result<i64> {
        self.store.sum_field(accounts::KIND, &manager.id, "channel_limit").await.map_err(store_err)
    }

    pub async fn list_managed_accounts(&self, caller: &Account, filter: &ListFilter) -> Result<Vec<Account>> {
        accounts::require_manager(caller)?;
        let mut all: Vec<Account> = self.managed_of(caller).await?.into_iter().filter(|a| filter.matches(a)).collect();
        filter.sort(&mut all);
        Ok(all)
    }

    /// Applies `change` to a managed account and saves it, retrying on a concurrent write.
    async fn modify_managed(
        &self,
        caller: &Account,
        id: &str,
        change: impl Fn(&mut Account) -> Result<()>,
    ) -> Result<Account> {
        accounts::require_manager(caller)?;
        let acct = retry_on_conflict!({
            let mut l = self.load_managed(caller, id).await?;
            change(&mut l.acct)?;
            self.commit(&ChangeSet::new().update(l.updated())).await.map(|_| l.acct)
        })?;
        self.auth_cache.forget(&acct.id);
        Ok(acct)
    }

    pub async fn update_managed_account(&self, caller: &Account, id: &str, body: &Body) -> Result<Account> {
        let now = self.clock.now();
        self.modify_managed(caller, id, |a| accounts::apply_update(a, body, now)).await
    }

    pub async fn disable_managed_account(&self, caller: &Account, id: &str) -> Result<Account> {
        let now = self.clock.now();
        self.modify_managed(caller, id, |a| {
            accounts::disable(a, now);
            Ok(())
        })
        .await
    }

    pub async fn enable_managed_account(&self, caller: &Account, id: &str, body: &Body) -> Result<Account> {
        let now = self.clock.now();
        self.modify_managed(caller, id, |a| accounts::enable(a, body, now)).await
    }

    pub async fn set_channel_limit(&self, caller: &Account, id: &str, body: &Body) -> Result<Account> {
        let now = self.clock.now();
        let allocated = self.allocated_channels(caller).await?;
        self.modify_managed(caller, id, |a| {
            let to_others = allocated - a.channel_limit;
            accounts::set_channel_limit(caller, a, to_others, body, now)
        })
        .await
    }

    pub async fn channels_report(&self, caller: &Account) -> Result<serde_json::Value> {
        accounts::require_manager(caller)?;
        Ok(accounts::channels_report(caller, self.allocated_channels(caller).await?))
    }
}
