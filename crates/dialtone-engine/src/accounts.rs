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
        let now = self.clock.now();
        // Time-ordered: the store's indexes grow at their end instead of at random pages.
        let id = Engine::new_ordered_id();
        let seed = keys::generate_seed_base64();
        let key = keys::generate_api_key();
        let key_hash = keys::hash_api_key(&key);
        let counter = accounts::allocated_channels_key(&caller.id);
        // The channels granted come out of the manager's pool; the pool's counter moves in the
        // same commit and refuses to go past the pool, so two creations racing for the last
        // channels cannot both get them: the loser reads the counter again.
        let mut tries = 0;
        loop {
            tries += 1;
            let allocated = self.allocated_channels(caller).await?;
            let mut acct = req.clone().build(caller, allocated, id.clone(), seed.clone(), now);
            acct.api_key_prefix = crate::bootstrap::key_prefix(&key);
            let owner = User::new(Engine::new_ordered_id(), id.clone(), acct.email.clone(), true, now);
            let email_key = accounts::email_key(&acct.email);
            let cs = ChangeSet::new()
                .insert(Doc::new(accounts::KIND, &id, &id, acct.to_value(), now).parent(&caller.id).unique(&email_key))
                .insert(Doc::new(users::KIND, &owner.id, &id, owner.to_value(), now).unique(&email_key))
                .api_key(key_hash.clone(), id.clone(), acct.api_key_prefix.clone())
                .count(&counter, acct.channel_limit, Some(caller.allocatable_global_outbound_channels));
            match self.store.apply(&cs).await {
                Ok(()) => return Ok((acct, key)),
                Err(StoreError::Duplicate) => {
                    return Err(ApiError::new(Code::InvalidValue)
                        .detail(format!("The email '{}' has already been taken.", acct.email))
                        .pointer("/email"));
                }
                Err(StoreError::Conflict) if tries < 8 => continue,
                Err(e) => return Err(store_err(e)),
            }
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

    /// Channels the manager has handed out to its managed accounts (a counter in the store).
    async fn allocated_channels(&self, manager: &Account) -> Result<i64> {
        self.store.counter(&accounts::allocated_channels_key(&manager.id)).await.map_err(store_err)
    }

    pub async fn list_managed_accounts(&self, caller: &Account, filter: &ListFilter) -> Result<Vec<Account>> {
        accounts::require_manager(caller)?;
        let mut all: Vec<Account> = self.managed_of(caller).await?.into_iter().filter(|a| filter.matches(a)).collect();
        filter.sort(&mut all);
        Ok(all)
    }

    /// Applies `change` to a managed account and saves it, retrying on a concurrent write.
    /// `change` also gets the channels allocated to the manager's other managed accounts
    /// (read only when `with_allocation`; 0 otherwise); a change of the account's
    /// channel limit moves the manager's counter in the same commit.
    async fn modify_managed(
        &self,
        caller: &Account,
        id: &str,
        with_allocation: bool,
        change: impl Fn(&mut Account, i64) -> Result<()>,
    ) -> Result<Account> {
        accounts::require_manager(caller)?;
        let counter = accounts::allocated_channels_key(&caller.id);
        let acct = retry_on_conflict!({
            let mut l = self.load_managed(caller, id).await?;
            let before = l.acct.channel_limit;
            let to_others = if with_allocation { self.allocated_channels(caller).await? - before } else { 0 };
            change(&mut l.acct, to_others)?;
            let mut cs = ChangeSet::new().update(l.updated());
            if l.acct.channel_limit != before {
                cs = cs.count(
                    &counter,
                    l.acct.channel_limit - before,
                    Some(caller.allocatable_global_outbound_channels),
                );
            }
            self.commit(&cs).await.map(|_| l.acct)
        })?;
        self.auth_cache.forget(&acct.id);
        Ok(acct)
    }

    pub async fn update_managed_account(&self, caller: &Account, id: &str, body: &Body) -> Result<Account> {
        let now = self.clock.now();
        self.modify_managed(caller, id, false, |a, _| accounts::apply_update(a, body, now)).await
    }

    pub async fn disable_managed_account(&self, caller: &Account, id: &str) -> Result<Account> {
        let now = self.clock.now();
        self.modify_managed(caller, id, false, |a, _| {
            accounts::disable(a, now);
            Ok(())
        })
        .await
    }

    pub async fn enable_managed_account(&self, caller: &Account, id: &str, body: &Body) -> Result<Account> {
        let now = self.clock.now();
        self.modify_managed(caller, id, false, |a, _| accounts::enable(a, body, now)).await
    }

    pub async fn set_channel_limit(&self, caller: &Account, id: &str, body: &Body) -> Result<Account> {
        let now = self.clock.now();
        self.modify_managed(caller, id, true, |a, to_others| {
            accounts::set_channel_limit(caller, a, to_others, body, now)
        })
        .await
    }

    pub async fn channels_report(&self, caller: &Account) -> Result<serde_json::Value> {
        accounts::require_manager(caller)?;
        Ok(accounts::channels_report(caller, self.allocated_channels(caller).await?))
    }
}
