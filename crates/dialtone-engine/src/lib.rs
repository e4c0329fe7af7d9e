//! The engine: services that load documents, apply the domain's rules and persist the
//! resulting change set, plus the one scheduler that runs every timer.
//!
//! Handlers in `dialtone-api` call one service method per operation and render what comes
//! back; nothing here knows about HTTP.

pub mod accounts;
pub mod applications;
pub mod bootstrap;
pub mod calls;
pub mod events;
pub mod messages;
pub mod numbers;
pub mod orders;
pub mod profiles;
pub mod scheduler;
pub mod timers;
pub mod users;
pub mod video;

use dialtone_domain::clock::Clock;
use dialtone_domain::error::{ApiError, Code};
use dialtone_store::{ChangeSet, Store, StoreError};
use std::sync::Arc;
use tokio::sync::Notify;

pub use dialtone_domain::error::Result;

/// Shared handle to everything a service needs. Cheap to clone: one reference count (the
/// scheduler clones it for every job; as a struct of handles and the instance's id, the
/// clones and their drops took 4 % of the jobs' CPU under the messaging benchmark).
#[derive(Clone, Debug)]
pub struct Engine(Arc<Shared>);

/// What an [`Engine`] shares; its fields read through the engine (`engine.store`).
#[derive(Debug)]
pub struct Shared {
    pub store: Store,
    pub clock: Clock,
    /// Identifies this process among several on one database (jobs record who ran them).
    pub instance: String,
    /// Woken when a job is written or the clock moves, so workers look again at once.
    pub(crate) wake: Arc<Notify>,
    pub(crate) auth_cache: Arc<AuthCache>,
    /// This process's media-stream tasks.
    pub streams: Arc<calls::StreamHub>,
}

impl std::ops::Deref for Engine {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.0
    }
}

impl Engine {
    pub fn new(store: Store, clock: Clock) -> Engine {
        let cache = store.kind() == dialtone_store::BackendKind::Sqlite;
        Engine(Arc::new(Shared {
            store,
            clock,
            instance: uuid::Uuid::new_v4().to_string(),
            wake: Arc::new(Notify::new()),
            auth_cache: Arc::new(AuthCache::new(cache)),
            streams: Arc::new(calls::StreamHub::default()),
        }))
    }

    /// Wakes the scheduler (the manual clock moved, say).
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Persists a change set, waking the scheduler when it carries jobs.
    pub async fn commit(&self, cs: &ChangeSet) -> Result<()> {
        self.store.apply(cs).await.map_err(store_err)?;
        if !cs.jobs.is_empty() {
            self.wake.notify_one();
        }
        Ok(())
    }

    pub fn new_id() -> String {
        uuid::Uuid::new_v4().to_string()
    }

    /// A UUID that sorts after every one this process made before (v7), so that documents
    /// created at the same instant of a manual clock still list in creation order.
    pub fn new_ordered_id() -> String {
        uuid::Uuid::now_v7().to_string()
    }

    /// A numeric id (Telnyx's connection ids are int64 strings) that sorts, as a string,
    /// after every one this process made before: milliseconds of the real clock times
    /// 4096, or one more than the last id when that is larger (16 digits for centuries).
    pub fn new_ordered_numeric_id() -> String {
        use std::sync::atomic::{AtomicU64, Ordering};
        static LAST: AtomicU64 = AtomicU64::new(0);
        let ms = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64);
        let candidate = ms << 12;
        let mut last = LAST.load(Ordering::SeqCst);
        loop {
            let next = candidate.max(last + 1);
            match LAST.compare_exchange(last, next, Ordering::SeqCst, Ordering::SeqCst) {
                Ok(_) => return next.to_string(),
                Err(seen) => last = seen,
            }
        }
    }
}

/// Maps a store failure to the catalogue. Duplicates and conflicts are the caller's to
/// interpret where they mean something; reaching here they are unexpected.
pub fn store_err(e: StoreError) -> ApiError {
    match e {
        StoreError::Duplicate => ApiError::new(Code::Duplicate),
        StoreError::Conflict => ApiError::new(Code::Duplicate)
            .with_status(409)
            .detail("The resource was changed by another request; retry."),
        other => {
            tracing::error!(error = %other, "store failure");
            ApiError::new(Code::Unavailable)
        }
    }
}

/// Runs a read-modify-write until it commits without a version conflict (two processes
/// on one PostgreSQL database may race on the same document).
#[macro_export]
macro_rules! retry_on_conflict {
    ($body:expr) => {{
        let mut tries = 0;
        loop {
            tries += 1;
            match $body {
                Err(e) if e.status == Some(409) && tries < 8 => continue,
                other => break other,
            }
        }
    }};
}

/// Accounts by API key hash, for a short while, so that most requests authenticate without
/// a query. Every account change made through the engine forgets the account at once, so
/// within one process a disabled account is refused on its next request. Only used on
/// SQLite (one process per database); on PostgreSQL another process may change an account,
/// so every request reads it.
#[derive(Debug, Default)]
pub struct AuthCache {
    enabled: bool,
    entries:
        std::sync::Mutex<std::collections::HashMap<String, (dialtone_domain::accounts::Account, std::time::Instant)>>,
}

impl AuthCache {
    const TTL: std::time::Duration = std::time::Duration::from_secs(5);

    pub fn new(enabled: bool) -> AuthCache {
        AuthCache { enabled, entries: Default::default() }
    }

    pub fn get(&self, hash: &str) -> Option<dialtone_domain::accounts::Account> {
        if !self.enabled {
            return None;
        }
        let g = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        g.get(hash).filter(|(_, at)| at.elapsed() < Self::TTL).map(|(a, _)| a.clone())
    }

    pub fn put(&self, hash: String, acct: dialtone_domain::accounts::Account) {
        if !self.enabled {
            return;
        }
        let mut g = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if g.len() > 10_000 {
            g.clear();
        }
        g.insert(hash, (acct, std::time::Instant::now()));
    }

    pub fn forget(&self, account_id: &str) {
        let mut g = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        g.retain(|_, (a, _)| a.id != account_id);
    }
}
