//! First start and every start: the root account, its owner user, its API key and its
//! signing key.

use crate::{Engine, Result, store_err};
use dialtone_domain::accounts::{self, Account};
use dialtone_domain::keys::{self, Signer};
use dialtone_domain::users::{self, User};
use dialtone_store::{ChangeSet, Doc};

const ROOT_SETTING: &str = "root_account_id";

#[derive(Clone, Debug, Default)]
pub struct Options {
    /// `--api-key`: registered for the root account when given.
    pub api_key: Option<String>,
    /// `--signing-key`: base64 seed; replaces the stored one when given.
    pub signing_key: Option<String>,
    pub owner_email: Option<String>,
}

/// What `dialtone serve` prints at start.
#[derive(Clone, Debug)]
pub struct BootInfo {
    pub root_account_id: String,
    /// The key in clear when this start generated or was given it; `None` when the key
    /// was made at an earlier start (only its hash is stored, so it cannot be shown again).
    pub api_key: Option<String>,
    pub public_key: String,
}

pub async fn bootstrap(engine: &Engine, opts: &Options) -> Result<BootInfo> {
    if let Some(seed) = &opts.signing_key {
        Signer::from_seed_base64(seed)
            .map_err(|e| dialtone_domain::ApiError::new(dialtone_domain::Code::BadRequest).detail(e.to_string()))?;
    }
    let now = engine.clock.now();
    let existing = engine.store.setting(ROOT_SETTING).await.map_err(store_err)?;
    let (root, fresh_key) = match existing {
        Some(id) => {
            let doc = engine.store.get(accounts::KIND, &id).await.map_err(store_err)?;
            let doc = doc.ok_or_else(dialtone_domain::ApiError::unexpected)?;
            let mut root = Account::from_value(&doc.data).ok_or_else(dialtone_domain::ApiError::unexpected)?;
            if let Some(seed) = &opts.signing_key
                && *seed != root.signing_seed
            {
                root.signing_seed = seed.clone();
                let mut d = doc.clone();
                d.data = root.to_value();
                engine.commit(&ChangeSet::new().update(d)).await?;
            }
            (root, None)
        }
        None => {
            let id = Engine::new_id();
            let email = opts.owner_email.clone().unwrap_or_else(|| "owner@dialtone.local".into());
            let seed = opts.signing_key.clone().unwrap_or_else(|| Signer::generate().seed_base64());
            let root = Account::root(id.clone(), email.clone(), seed, now);
            let key = opts.api_key.clone().unwrap_or_else(keys::generate_api_key);
            let owner = User::new(Engine::new_id(), id.clone(), email.clone(), true, now);
            let cs = ChangeSet::new()
                .insert(Doc::new(accounts::KIND, &id, &id, root.to_value(), now).unique(accounts::email_key(&email)))
                .insert(
                    Doc::new(users::KIND, &owner.id, &id, owner.to_value(), now).unique(accounts::email_key(&email)),
                )
                .api_key(keys::hash_api_key(&key), id.clone(), key_prefix(&key))
                .setting(ROOT_SETTING, &id);
            engine.commit(&cs).await?;
            (root, Some(key))
        }
    };
    // A key given on the command line is always usable, even when the database predates it.
    let mut shown = fresh_key;
    if let Some(key) = &opts.api_key {
        let hash = keys::hash_api_key(key);
        if engine.store.account_for_key(&hash).await.map_err(store_err)?.is_none() {
            let cs = ChangeSet::new().api_key(hash, root.id.clone(), key_prefix(key));
            engine.commit(&cs).await?;
        }
        shown = Some(key.clone());
    }
    let public_key = Signer::from_seed_base64(&root.signing_seed).map(|s| s.public_key_base64()).unwrap_or_default();
    Ok(BootInfo { root_account_id: root.id, api_key: shown, public_key })
}

/// The part of a key shown after creation.
pub fn key_prefix(key: &str) -> String {
    key.chars().take(10).collect()
}
