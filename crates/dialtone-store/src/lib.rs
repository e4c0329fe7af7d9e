//! Durable state for Dialtone.
//!
//! Resources are stored as JSON documents keyed by `(kind, id)` with the columns the
//! product looks things up by (owning account, parent, a unique key) and a version for
//! optimistic concurrency. The domain decides what a document contains; this crate only
//! keeps documents, API key hashes and scheduler jobs, and applies a [`ChangeSet`]
//! atomically, so a state change and the jobs (timers, webhook events) it causes are
//! committed together or not at all.
//!
//! Two backends share this interface: SQLite (WAL; the embedded default) and PostgreSQL
//! (the scale-out store, where several `dialtone serve` processes share one database and
//! claim jobs with `FOR UPDATE SKIP LOCKED`). Each owns its migrations (`migrate.rs`); the
//! query text is shared where the dialects agree.
//!
//! PostgreSQL is reached with `sqlx`. SQLite is on `rusqlite` with threads of its own
//! ([`sqlite`]): `sqlx`'s SQLite driver hands every statement, `BEGIN` and `COMMIT` included,
//! to a worker thread per connection and waits for the answer, and those thread hops cost
//! about 100 µs of CPU per statement (SQLite's own work was ~2 % of the profile). Here a
//! whole transaction is one hop to the writer thread and a read one hop to a reader.

mod migrate;
mod sqlite;
mod walbuf;

use chrono::{DateTime, TimeZone, Utc};
use serde_json::Value;
use sqlx::Row;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use std::collections::HashMap;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A document with the same `(kind, id)` or unique key exists.
    #[error("duplicate")]
    Duplicate,
    /// The document changed since it was read (optimistic concurrency); re-read and retry.
    #[error("conflict")]
    Conflict,
    #[error("bad database url: {0}")]
    BadUrl(String),
    /// From PostgreSQL (through `sqlx`), or a closed store.
    #[error(transparent)]
    Db(#[from] sqlx::Error),
    /// From SQLite.
    #[error(transparent)]
    Sqlite(#[from] rusqlite::Error),
    /// Another process runs the scheduler on this SQLite file (see [`Store::own`]).
    #[error("{0} is in use by another `dialtone serve`: a SQLite file belongs to one server at a time")]
    InUse(String),
    /// A stored document is not what its kind says (see [`Store::get_as`]).
    #[error("document {kind} {id} is unreadable: {reason}")]
    Unreadable { kind: String, id: String, reason: String },
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// One stored resource.
#[derive(Clone, Debug, PartialEq)]
pub struct Doc {
    pub kind: String,
    pub id: String,
    pub account_id: String,
    pub parent_id: Option<String>,
    /// Unique across the kind when set (the domain scopes it, e.g. `"{account}:{name}"`).
    pub unique_key: Option<String>,
    /// The document as read. A document built to be written from a typed value
    /// ([`Doc::of`], [`Doc::set`]) has its JSON text in `json` instead, and `Null` here.
    pub data: Value,
    /// The JSON text to write, serialized straight from a typed value: on the hot paths
    /// (messages, webhook deliveries, calls), building a `Value` tree only to turn it into
    /// text and drop it cost more than the serialization itself.
    pub json: Option<String>,
    pub version: i64,
    pub created_at: DateTime<Utc>,
}

impl Doc {
    pub fn new(
        kind: &str,
        id: impl Into<String>,
        account_id: impl Into<String>,
        data: Value,
        created_at: DateTime<Utc>,
    ) -> Doc {
        Doc {
            kind: kind.to_owned(),
            id: id.into(),
            account_id: account_id.into(),
            parent_id: None,
            unique_key: None,
            data,
            json: None,
            version: 0,
            created_at,
        }
    }

    /// A new document to write, serialized from `value` (see [`Doc::json`]).
    pub fn of<T: serde::Serialize>(
        kind: &str,
        id: impl Into<String>,
        account_id: impl Into<String>,
        value: &T,
        created_at: DateTime<Utc>,
    ) -> Doc {
        let mut doc = Doc::new(kind, id, account_id, Value::Null, created_at);
        doc.set(value);
        doc
    }

    /// Replaces the content with `value`'s JSON, to be written (an update keeps the version
    /// it was read at). `data` becomes `Null`: read the document again to see it.
    pub fn set<T: serde::Serialize>(&mut self, value: &T) {
        self.data = Value::Null;
        // Serializing a plain struct cannot fail; if a type ever made it, `null` is stored
        // and reading it back fails loudly rather than half a document being kept.
        self.json = Some(serde_json::to_string(value).unwrap_or_else(|_| "null".into()));
    }

    /// The JSON text to store.
    pub fn text(&self) -> std::borrow::Cow<'_, str> {
        match &self.json {
            Some(j) => j.as_str().into(),
            None => self.data.to_string().into(),
        }
    }

    pub fn parent(mut self, parent: impl Into<String>) -> Doc {
        self.parent_id = Some(parent.into());
        self
    }

    pub fn unique(mut self, key: impl Into<String>) -> Doc {
        self.unique_key = Some(key.into());
        self
    }
}

/// A job's arguments: JSON text, stored as it is and read as it was written. A handler
/// that runs often reads its own type ([`Payload::to`]), one that runs rarely a `Value`.
/// Kept as text, a claimed job is not parsed into a `Value` tree only to be read into a
/// type and dropped, nor a new one printed through one.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Payload(String);

impl Payload {
    /// The arguments `value` serializes to (`null` if it cannot: plain structs and maps
    /// always can).
    pub fn of<T: serde::Serialize + ?Sized>(value: &T) -> Payload {
        Payload(serde_json::to_string(value).unwrap_or_else(|_| "null".into()))
    }

    /// Read into `T`, or `None` if the text is not one.
    pub fn to<T: serde::de::DeserializeOwned>(&self) -> Option<T> {
        serde_json::from_str(&self.0).ok()
    }

    /// Parsed into a `Value` (`Null` if it is not JSON).
    pub fn value(&self) -> Value {
        serde_json::from_str(&self.0).unwrap_or(Value::Null)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Text as the store keeps it: written only by [`Payload::of`] and `From<Value>`.
    fn from_stored(text: String) -> Payload {
        Payload(text)
    }
}

impl From<Value> for Payload {
    fn from(v: Value) -> Payload {
        Payload::of(&v)
    }
}

/// A job for the scheduler: a row with a due time, claimed by one worker at a time.
#[derive(Clone, Debug, PartialEq)]
pub struct NewJob {
    pub id: String,
    pub kind: String,
    pub payload: Payload,
    pub due_at: DateTime<Utc>,
    /// Jobs sharing an ordering key run one at a time, oldest first (events of one call).
    pub ordering_key: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Job {
    pub seq: i64,
    pub id: String,
    pub kind: String,
    pub payload: Payload,
    pub due_at: DateTime<Utc>,
    /// How many times the job has been claimed, this claim included.
    pub attempts: i64,
}

/// One document by kind and id, in the columns `sqlite::doc_from_row` reads.
const SQLITE_GET_DOC: &str = "SELECT kind, id, account_id, parent_id, unique_key, data, version, created_at FROM docs WHERE kind = ?1 AND id = ?2";

/// A new job as the SQLite writer binds it: `(id, kind, payload, due_at, ordering_key)`.
fn job_row(j: NewJob) -> sqlite::JobRow {
    (j.id, j.kind, j.payload.0, to_ms(j.due_at), j.ordering_key)
}

/// Removes the unclaimed jobs with an id in `[$1, $2)` (see [`id_range`]), on PostgreSQL
/// (SQLite holds its leases in memory: `sqlite::CANCEL_JOBS`).
const CANCEL_JOBS: &str = "DELETE FROM jobs WHERE id >= $1 AND id < $2 AND lease_until IS NULL";

/// The ids starting with `prefix`, as a half-open range `[from, to)` that the unique index
/// on job ids answers without a scan: `to` is `prefix` with its last character moved one
/// up. An empty prefix (every job) or one whose last character has no successor gives the
/// empty range: cancelling is only ever a saving, so nothing is removed then.
pub(crate) fn id_range(prefix: &str) -> (String, String) {
    let mut to = prefix.to_owned();
    match to.pop().and_then(|c| char::from_u32(c as u32 + 1)) {
        Some(next) => {
            to.push(next);
            (prefix.to_owned(), to)
        }
        None => (String::new(), String::new()),
    }
}

/// Everything one domain operation changes, applied in one transaction.
#[derive(Clone, Debug, Default)]
pub struct ChangeSet {
    pub inserts: Vec<Doc>,
    /// Documents to overwrite; each must still have the version it was read at.
    pub updates: Vec<Doc>,
    pub deletes: Vec<(String, String)>,
    pub jobs: Vec<NewJob>,
    /// Claimed jobs (by `seq`), done, each followed by a new job (see
    /// [`ChangeSet::replace_job`]).
    pub replacing: Vec<(i64, NewJob)>,
    /// Job id prefixes: the jobs whose id starts with one, and that no worker holds, are
    /// removed before this change set's own jobs are added (see [`ChangeSet::cancel_jobs`]).
    pub cancelled_jobs: Vec<String>,
    /// `(key_hash, account_id, shown_prefix)`.
    pub api_keys: Vec<(String, String, String)>,
    pub settings: Vec<(String, String)>,
    /// Counters to move, each by its own delta, atomically with the rest.
    pub counters: Vec<CounterAdd>,
}

/// Adds `delta` to the integer counter `key` (a missing counter is 0). With `max`, a
/// positive delta that would take the counter above it fails the whole change set with
/// [`StoreError::Conflict`]: read the counter again and decide anew.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CounterAdd {
    pub key: String,
    pub delta: i64,
    pub max: Option<i64>,
}

impl ChangeSet {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn insert(mut self, d: Doc) -> Self {
        self.inserts.push(d);
        self
    }
    pub fn update(mut self, d: Doc) -> Self {
        self.updates.push(d);
        self
    }
    pub fn delete(mut self, kind: &str, id: &str) -> Self {
        self.deletes.push((kind.to_owned(), id.to_owned()));
        self
    }
    pub fn job(mut self, j: NewJob) -> Self {
        self.jobs.push(j);
        self
    }
    /// The claimed job `seq` is done and `job` follows it (a message's next carrier step):
    /// the same as [`ChangeSet::job`] with `seq` among the jobs done, but on SQLite the
    /// row is updated in place, one row written instead of one deleted and one inserted
    /// with their index entries. PostgreSQL deletes and inserts, as for any other job. `seq`
    /// must still be there: if it is gone (another process ran it), the change set fails
    /// with [`StoreError::Conflict`].
    pub fn replace_job(mut self, seq: i64, job: NewJob) -> Self {
        self.replacing.push((seq, job));
        self
    }
    /// Removes the pending jobs whose id starts with `prefix` (a timer that no longer
    /// applies), unless a worker has claimed one: that one runs and finds nothing to do.
    /// Jobs added by this same change set are kept.
    pub fn cancel_jobs(mut self, prefix: impl Into<String>) -> Self {
        self.cancelled_jobs.push(prefix.into());
        self
    }
    pub fn api_key(mut self, hash: String, account_id: String, prefix: String) -> Self {
        self.api_keys.push((hash, account_id, prefix));
        self
    }
    pub fn setting(mut self, k: &str, v: &str) -> Self {
        self.settings.push((k.to_owned(), v.to_owned()));
        self
    }
    pub fn count(mut self, key: impl Into<String>, delta: i64, max: Option<i64>) -> Self {
        self.counters.push(CounterAdd { key: key.into(), delta, max });
        self
    }
    pub fn is_empty(&self) -> bool {
        self.counters.is_empty()
            && self.inserts.is_empty()
            && self.updates.is_empty()
            && self.deletes.is_empty()
            && self.jobs.is_empty()
            && self.replacing.is_empty()
            && self.cancelled_jobs.is_empty()
            && self.api_keys.is_empty()
            && self.settings.is_empty()
    }
}

#[derive(Clone, Debug)]
enum Backend {
    /// SQLite on threads of its own (see [`sqlite`]): one writer, a few readers.
    Sqlite(Arc<sqlite::Sqlite>),
    Postgres(PgPool),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BackendKind {
    Sqlite,
    Postgres,
}

/// The store. Cheap to clone (connections and threads are shared).
#[derive(Clone, Debug)]
pub struct Store {
    backend: Backend,
    /// Real time (ms) of the last claim of jobs with a void lease.
    last_stale_claim: Arc<std::sync::atomic::AtomicI64>,
    stale_check_every_ms: i64,
}

/// A document without its content, and the content's JSON text, from a PostgreSQL row.
macro_rules! doc_text_from_row {
    ($row:expr) => {{
        let r = &$row;
        let text: String = r.try_get("data")?;
        let doc = Doc {
            kind: r.try_get("kind")?,
            id: r.try_get("id")?,
            account_id: r.try_get("account_id")?,
            parent_id: r.try_get("parent_id")?,
            unique_key: r.try_get("unique_key")?,
            data: Value::Null,
            json: None,
            version: r.try_get("version")?,
            created_at: from_ms(r.try_get("created_at")?),
        };
        (doc, text)
    }};
}

macro_rules! doc_from_row {
    ($row:expr) => {{
        let (doc, text) = doc_text_from_row!($row);
        Doc { data: serde_json::from_str(&text).unwrap_or(Value::Null), ..doc }
    }};
}

macro_rules! job_from_row {
    ($row:expr) => {{
        let r = &$row;
        Job {
            seq: r.try_get("seq")?,
            id: r.try_get("id")?,
            kind: r.try_get("kind")?,
            payload: Payload::from_stored(r.try_get("payload")?),
            due_at: from_ms(r.try_get("due_at")?),
            attempts: r.try_get("attempts")?,
        }
    }};
}

pub fn to_ms(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

pub fn from_ms(ms: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(ms).single().unwrap_or_default()
}

fn map_write_err(e: sqlx::Error) -> StoreError {
    match &e {
        sqlx::Error::Database(d) if d.is_unique_violation() => StoreError::Duplicate,
        _ => StoreError::Db(e),
    }
}

/// Moves a counter and answers its new value (`$1` key, `$2` delta; `?n` on SQLite).
pub(crate) const ADD_COUNTER: &str = "INSERT INTO counters (key, value) VALUES ($1, $2) \
    ON CONFLICT (key) DO UPDATE SET value = counters.value + excluded.value RETURNING value";

impl CounterAdd {
    /// Whether the counter's new value breaks this change's bound.
    pub(crate) fn exceeded(&self, value: i64) -> bool {
        self.delta > 0 && self.max.is_some_and(|m| value > m)
    }
}

const DOC_COLS: &str = "kind, id, account_id, parent_id, unique_key, data, version, created_at";
const JOB_COLS: &str = "seq, id, kind, payload, due_at, attempts";

/// Of jobs sharing an ordering key only the oldest may run.
pub(crate) const FIRST_OF_KEY: &str = "(j.ordering_key IS NULL OR NOT EXISTS \
    (SELECT 1 FROM jobs o WHERE o.ordering_key = j.ordering_key AND o.seq < j.seq))";

/// PostgreSQL's claim of the jobs no one holds (index `jobs_free`): `$1` due, `$2` limit,
/// `$3` lease until, `$4` the claiming worker.
fn claim_free_sql() -> String {
    format!(
        "UPDATE jobs SET lease_until = $3, lease_owner = $4, attempts = attempts + 1 WHERE seq IN \
         (SELECT j.seq FROM jobs j WHERE j.lease_until IS NULL AND j.due_at <= $1 AND {FIRST_OF_KEY} \
          ORDER BY j.due_at, j.seq LIMIT $2 FOR UPDATE SKIP LOCKED) RETURNING {JOB_COLS}"
    )
}

/// The claim of jobs whose lease is void: run out, or held by another process that has not
/// beaten for 10 s (it was killed). A process never takes back its own jobs that way, so a
/// late heartbeat of a busy process cannot make it run a job twice. As [`claim_free_sql`],
/// plus `$5` the real time now.
fn claim_stale_sql() -> String {
    format!(
        "UPDATE jobs SET lease_until = $3, lease_owner = $4, attempts = attempts + 1 WHERE seq IN \
         (SELECT j.seq FROM jobs j WHERE j.lease_until IS NOT NULL AND j.due_at <= $1 \
          AND (j.lease_until < $5 OR (j.lease_owner <> $4 AND NOT EXISTS \
              (SELECT 1 FROM instances i WHERE i.id = j.lease_owner AND i.heartbeat_at > $5 - 10000))) \
          AND {FIRST_OF_KEY} ORDER BY j.due_at, j.seq LIMIT $2 FOR UPDATE SKIP LOCKED) RETURNING {JOB_COLS}"
    )
}

/// How often a worker also looks for jobs with a void lease. Those are rare (a process was
/// killed, or ran out its lease), and the query walks every leased job, so the usual claim
/// only takes jobs no one holds.
const STALE_CHECK_EVERY_MS: i64 = 1000;

impl Store {
    /// Opens (creating if needed) and migrates the store named by `url`:
    /// `sqlite://PATH`, `sqlite:PATH`, `sqlite::memory:`, a bare path, or `postgres://...`.
    pub async fn connect(url: &str) -> Result<Store> {
        let backend = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let opts = PgConnectOptions::from_str(url).map_err(|e| StoreError::BadUrl(e.to_string()))?;
            let pool = PgPoolOptions::new()
                .max_connections(16)
                .acquire_timeout(Duration::from_secs(10))
                .connect_with(opts)
                .await?;
            migrate::postgres(&pool).await?;
            Backend::Postgres(pool)
        } else {
            let memory = url == "sqlite::memory:" || url == ":memory:";
            let path = if memory {
                None
            } else {
                let path = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")).unwrap_or(url);
                if path.is_empty() {
                    return Err(StoreError::BadUrl(format!("no database file in '{url}'")));
                }
                Some(path.to_owned())
            };
            // Opening and migrating block: off the async threads.
            let lite = tokio::task::spawn_blocking(move || sqlite::Sqlite::open(path.as_deref()))
                .await
                .map_err(|_| StoreError::Db(sqlx::Error::WorkerCrashed))??;
            Backend::Sqlite(Arc::new(lite))
        };
        Ok(Store { backend, last_stale_claim: Default::default(), stale_check_every_ms: STALE_CHECK_EVERY_MS })
    }

    /// Creates a fresh, empty schema on a PostgreSQL server and answers a URL whose
    /// connections use it, so tests and benchmarks get an isolated database each.
    pub async fn fresh_postgres_schema(base_url: &str, name: &str) -> Result<String> {
        let pool = PgPoolOptions::new().max_connections(1).connect(base_url).await?;
        sqlx::query(&format!("CREATE SCHEMA IF NOT EXISTS \"{name}\"")).execute(&pool).await?;
        pool.close().await;
        let sep = if base_url.contains('?') { '&' } else { '?' };
        Ok(format!("{base_url}{sep}options=-c%20search_path%3D{name}"))
    }

    pub fn kind(&self) -> BackendKind {
        match self.backend {
            Backend::Sqlite(_) => BackendKind::Sqlite,
            Backend::Postgres(_) => BackendKind::Postgres,
        }
    }

    /// Closes the store once the work already asked of it is done; later calls fail.
    pub async fn close(&self) {
        match &self.backend {
            Backend::Sqlite(s) => s.close().await,
            Backend::Postgres(p) => p.close().await,
        }
    }

    pub async fn get(&self, kind: &str, id: &str) -> Result<Option<Doc>> {
        match &self.backend {
            Backend::Sqlite(s) => {
                if let Some(doc) = s.cached(kind, id) {
                    return Ok(Some(doc));
                }
                let epoch = s.cache_epoch();
                let (kind, id) = (kind.to_owned(), id.to_owned());
                let doc = s
                    .read_point(move |c| sqlite::query_opt(c, SQLITE_GET_DOC, (kind, id), sqlite::doc_from_row))
                    .await?;
                if let Some(d) = &doc {
                    s.cache_fill(d, epoch);
                }
                Ok(doc)
            }
            Backend::Postgres(p) => {
                let sql = format!("SELECT {DOC_COLS} FROM docs WHERE kind = $1 AND id = $2");
                let row = sqlx::query(&sql).bind(kind).bind(id).fetch_optional(p).await?;
                Ok(match row {
                    Some(r) => Some(doc_from_row!(r)),
                    None => None,
                })
            }
        }
    }

    /// A document read straight into its type: `data` is left `Null` (the value is the
    /// second half), ready for [`Doc::set`] and an update. For the hot paths (a message's
    /// carrier step, a webhook attempt, a call's timer), where parsing into a `Value` tree
    /// and then into the type cost twice. A document read this way is not kept in the
    /// cache, which holds `Value` trees; a cached one is used.
    pub async fn get_as<T>(&self, kind: &str, id: &str) -> Result<Option<(Doc, T)>>
    where
        T: serde::de::DeserializeOwned + Send + 'static,
    {
        Ok(self.get_many_as(kind, &[id.to_owned()]).await?.pop().flatten())
    }

    /// Documents of one kind by id, read as [`Store::get_as`] does, in one read: the answer
    /// has one entry per id, in the same order, `None` for an id with no document. For the
    /// scheduler's batches (the carrier steps of a burst of messages).
    pub async fn get_many_as<T>(&self, kind: &str, ids: &[String]) -> Result<Vec<Option<(Doc, T)>>>
    where
        T: serde::de::DeserializeOwned + Send + 'static,
    {
        let unreadable = |id: &str, e: serde_json::Error| StoreError::Unreadable {
            kind: kind.to_owned(),
            id: id.to_owned(),
            reason: e.to_string(),
        };
        let mut out: Vec<Option<(Doc, T)>> = Vec::with_capacity(ids.len());
        let rows: Vec<Option<(Doc, String)>> = match &self.backend {
            Backend::Sqlite(s) => {
                // Cached documents are used as they are; the others are read in one go.
                let mut missing = Vec::new();
                for id in ids {
                    match s.cached(kind, id) {
                        Some(doc) => {
                            let value = T::deserialize(&doc.data).map_err(|e| unreadable(id, e))?;
                            out.push(Some((Doc { data: Value::Null, ..doc }, value)));
                        }
                        None => {
                            missing.push((out.len(), id.clone()));
                            out.push(None);
                        }
                    }
                }
                if missing.is_empty() {
                    return Ok(out);
                }
                let k = kind.to_owned();
                let read = s
                    .read_point(move |c| {
                        // One read transaction for them all, not one per document: each
                        // transaction took and dropped the file's read lock (two `fcntl`s),
                        // and when the writer had committed since the last one, started
                        // with an empty page cache, read again with `pread`. Rolled back
                        // when dropped.
                        let _snapshot = (missing.len() > 1).then(|| c.unchecked_transaction()).transpose()?;
                        use rusqlite::OptionalExtension;
                        let mut get = c.prepare_cached(SQLITE_GET_DOC)?;
                        missing
                            .into_iter()
                            .map(|(at, id)| Ok((at, get.query_row((&k, &id), sqlite::doc_text_from_row).optional()?)))
                            .collect::<Result<Vec<_>>>()
                    })
                    .await?;
                for (at, row) in read {
                    if let Some((doc, text)) = row {
                        let value = serde_json::from_str(&text).map_err(|e| unreadable(&doc.id, e))?;
                        out[at] = Some((doc, value));
                    }
                }
                return Ok(out);
            }
            Backend::Postgres(p) => {
                let sql = format!("SELECT {DOC_COLS} FROM docs WHERE kind = $1 AND id = ANY($2)");
                let found = sqlx::query(&sql).bind(kind).bind(ids).fetch_all(p).await?;
                let mut by_id = HashMap::with_capacity(found.len());
                for r in found {
                    let (doc, text) = doc_text_from_row!(r);
                    by_id.insert(doc.id.clone(), (doc, text));
                }
                ids.iter().map(|id| by_id.remove(id)).collect()
            }
        };
        for row in rows {
            out.push(match row {
                Some((doc, text)) => {
                    let value = serde_json::from_str(&text).map_err(|e| unreadable(&doc.id, e))?;
                    Some((doc, value))
                }
                None => None,
            });
        }
        Ok(out)
    }

    pub async fn get_unique(&self, kind: &str, key: &str) -> Result<Option<Doc>> {
        match &self.backend {
            Backend::Sqlite(s) => {
                if let Some(known) = s.cached_unique(kind, key) {
                    return Ok(known);
                }
                let epoch = s.cache_epoch();
                let (k, u) = (kind.to_owned(), key.to_owned());
                let doc = s
                    .read_point(move |c| {
                        sqlite::query_opt(
                            c,
                            "SELECT kind, id, account_id, parent_id, unique_key, data, version, created_at \
                             FROM docs WHERE kind = ?1 AND unique_key = ?2",
                            (k, u),
                            sqlite::doc_from_row,
                        )
                    })
                    .await?;
                s.cache_fill_unique(kind, key, doc.as_ref(), epoch);
                Ok(doc)
            }
            Backend::Postgres(p) => {
                let sql = format!("SELECT {DOC_COLS} FROM docs WHERE kind = $1 AND unique_key = $2");
                let row = sqlx::query(&sql).bind(kind).bind(key).fetch_optional(p).await?;
                Ok(match row {
                    Some(r) => Some(doc_from_row!(r)),
                    None => None,
                })
            }
        }
    }

    /// Documents of a kind, optionally of one account and/or one parent, oldest first.
    pub async fn list(&self, kind: &str, account_id: Option<&str>, parent_id: Option<&str>) -> Result<Vec<Doc>> {
        // Only the filters given appear in the SQL, so the matching index is used.
        let mut sql = format!("SELECT {DOC_COLS} FROM docs WHERE kind = $1");
        let mut binds = Vec::new();
        if let Some(a) = account_id {
            binds.push(a);
            sql.push_str(&format!(" AND account_id = ${}", binds.len() + 1));
        }
        if let Some(p) = parent_id {
            binds.push(p);
            sql.push_str(&format!(" AND parent_id = ${}", binds.len() + 1));
        }
        sql.push_str(" ORDER BY created_at, id");
        match &self.backend {
            Backend::Sqlite(s) => {
                // No `$` but the placeholders' in this text.
                let sql = sql.replace('$', "?");
                let mut args = vec![kind.to_owned()];
                args.extend(binds.iter().map(|b| (*b).to_owned()));
                s.read(move |c| sqlite::query_all(c, &sql, rusqlite::params_from_iter(args), sqlite::doc_from_row))
                    .await
            }
            Backend::Postgres(p) => {
                let mut q = sqlx::query(&sql).bind(kind);
                for b in &binds {
                    q = q.bind(*b);
                }
                let rows = q.fetch_all(p).await?;
                let mut out = Vec::with_capacity(rows.len());
                for r in rows {
                    out.push(doc_from_row!(r));
                }
                Ok(out)
            }
        }
    }

    /// Makes this process the one that runs jobs on a SQLite file, until the store closes
    /// or the process ends: its leases live in memory, and its cache of documents assumes
    /// that no other process changes them. A second server on the same file gets
    /// [`StoreError::InUse`]. Nothing to do in memory or on PostgreSQL, which processes share.
    pub fn own(&self) -> Result<()> {
        match &self.backend {
            Backend::Sqlite(s) => s.own(),
            Backend::Postgres(_) => Ok(()),
        }
    }

    /// The account document a key hash belongs to.
    pub async fn account_for_key(&self, key_hash: &str) -> Result<Option<Doc>> {
        let sql = "SELECT d.kind, d.id, d.account_id, d.parent_id, d.unique_key, d.data, d.version, d.created_at \
                   FROM api_keys k JOIN docs d ON d.kind = 'account' AND d.id = k.account_id \
                   WHERE k.key_hash = $1";
        match &self.backend {
            Backend::Sqlite(s) => {
                let key_hash = key_hash.to_owned();
                s.read_point(move |c| sqlite::query_opt(c, &sql.replace('$', "?"), [key_hash], sqlite::doc_from_row))
                    .await
            }
            Backend::Postgres(p) => {
                let row = sqlx::query(sql).bind(key_hash).fetch_optional(p).await?;
                Ok(match row {
                    Some(r) => Some(doc_from_row!(r)),
                    None => None,
                })
            }
        }
    }

    /// The shown prefix of an account's first key.
    pub async fn key_prefix(&self, account_id: &str) -> Result<Option<String>> {
        match &self.backend {
            Backend::Sqlite(s) => {
                let account_id = account_id.to_owned();
                s.read_point(move |c| {
                    sqlite::query_opt(
                        c,
                        "SELECT prefix FROM api_keys WHERE account_id = ?1 ORDER BY created_at LIMIT 1",
                        [account_id],
                        |r| r.get(0),
                    )
                })
                .await
            }
            Backend::Postgres(p) => {
                let sql = "SELECT prefix FROM api_keys WHERE account_id = $1 ORDER BY created_at LIMIT 1";
                let row = sqlx::query(sql).bind(account_id).fetch_optional(p).await?;
                Ok(match row {
                    Some(r) => Some(r.try_get("prefix")?),
                    None => None,
                })
            }
        }
    }

    /// A counter's value (0 when it was never moved).
    pub async fn counter(&self, key: &str) -> Result<i64> {
        let v: Option<i64> = match &self.backend {
            Backend::Sqlite(s) => {
                let key = key.to_owned();
                s.read_point(move |c| {
                    sqlite::query_opt(c, "SELECT value FROM counters WHERE key = ?1", [key], |r| r.get(0))
                })
                .await?
            }
            Backend::Postgres(p) => {
                sqlx::query_scalar("SELECT value FROM counters WHERE key = $1").bind(key).fetch_optional(p).await?
            }
        };
        Ok(v.unwrap_or(0))
    }

    pub async fn setting(&self, key: &str) -> Result<Option<String>> {
        match &self.backend {
            Backend::Sqlite(s) => {
                let key = key.to_owned();
                s.read_point(move |c| {
                    sqlite::query_opt(c, "SELECT value FROM settings WHERE key = ?1", [key], |r| r.get(0))
                })
                .await
            }
            Backend::Postgres(p) => {
                let row = sqlx::query("SELECT value FROM settings WHERE key = $1").bind(key).fetch_optional(p).await?;
                Ok(match row {
                    Some(r) => Some(r.try_get("value")?),
                    None => None,
                })
            }
        }
    }

    /// Applies a change set atomically. [`StoreError::Duplicate`] and
    /// [`StoreError::Conflict`] leave nothing applied.
    pub async fn apply(&self, cs: &ChangeSet) -> Result<()> {
        self.apply_with_jobs_done(cs, &[]).await
    }

    /// Applies a change set and, in the same transaction, removes finished jobs (by `seq`):
    /// the effect of a job and its completion are one commit, so a job's effect happens
    /// once. A batch of jobs run together (see the scheduler) is done in one commit.
    pub async fn apply_with_jobs_done(&self, cs: &ChangeSet, done_job_seqs: &[i64]) -> Result<()> {
        match &self.backend {
            Backend::Sqlite(_) => self.commit_jobs_done(cs.clone(), done_job_seqs).await,
            Backend::Postgres(p) => Self::apply_postgres(p, cs, done_job_seqs).await,
        }
    }

    /// [`Store::apply_with_jobs_done`] for a change set the caller is done with: on SQLite
    /// its strings move to the writer thread instead of being copied (the scheduler's
    /// commits, a few hundred documents and jobs at a time in a burst).
    pub async fn commit_jobs_done(&self, cs: ChangeSet, done_job_seqs: &[i64]) -> Result<()> {
        let s = match &self.backend {
            Backend::Sqlite(s) => s,
            Backend::Postgres(p) => return Self::apply_postgres(p, &cs, done_job_seqs).await,
        };
        if cs.is_empty() && done_job_seqs.is_empty() {
            return Ok(());
        }
        let replaced: Vec<i64> = cs.replacing.iter().map(|(seq, _)| *seq).collect();
        // The replaced jobs are overwritten, not removed.
        let done: Vec<i64> = done_job_seqs.iter().copied().filter(|s| !replaced.contains(s)).collect();
        let row = |d: Doc| sqlite::DocRow {
            data: d.json.unwrap_or_else(|| d.data.to_string()),
            kind: d.kind,
            id: d.id,
            account_id: d.account_id,
            parent_id: d.parent_id,
            unique_key: d.unique_key,
            version: d.version,
            created_at: to_ms(d.created_at),
        };
        let changes = sqlite::Prepared {
            now: to_ms(Utc::now()),
            inserts: cs.inserts.into_iter().map(row).collect(),
            updates: cs.updates.into_iter().map(row).collect(),
            deletes: cs.deletes,
            jobs: cs.jobs.into_iter().map(job_row).collect(),
            replacing: cs.replacing.into_iter().map(|(seq, j)| (seq, job_row(j))).collect(),
            cancelled_jobs: cs.cancelled_jobs.iter().map(|p| id_range(p)).collect(),
            api_keys: cs.api_keys,
            settings: cs.settings,
            counters: cs.counters,
            done_job_seqs: done,
        };
        s.apply(changes).await
    }

    async fn apply_postgres(p: &PgPool, cs: &ChangeSet, done_job_seqs: &[i64]) -> Result<()> {
        if cs.is_empty() && done_job_seqs.is_empty() {
            return Ok(());
        }
        let now = to_ms(Utc::now());
        let replaced: Vec<i64> = cs.replacing.iter().map(|(seq, _)| *seq).collect();
        // The replaced jobs are removed on their own (see below).
        let done: Vec<i64> = done_job_seqs.iter().copied().filter(|s| !replaced.contains(s)).collect();
        let insert_doc =
            format!("INSERT INTO docs ({DOC_COLS}, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)");
        let update_doc = "UPDATE docs SET data = $1, version = version + 1, parent_id = $2, unique_key = $3, updated_at = $4 \
                          WHERE kind = $5 AND id = $6 AND version = $7";
        let insert_job = "INSERT INTO jobs (id, kind, payload, due_at, attempts, ordering_key, created_at) \
                          VALUES ($1, $2, $3, $4, 0, $5, $6)";
        let upsert_setting = "INSERT INTO settings (key, value) VALUES ($1, $2) \
                              ON CONFLICT (key) DO UPDATE SET value = excluded.value";
        let mut tx = p.begin().await?;
        for d in &cs.inserts {
            sqlx::query(&insert_doc)
                .bind(&d.kind)
                .bind(&d.id)
                .bind(&d.account_id)
                .bind(&d.parent_id)
                .bind(&d.unique_key)
                .bind(d.text().into_owned())
                .bind(d.version)
                .bind(to_ms(d.created_at))
                .bind(now)
                .execute(&mut *tx)
                .await
                .map_err(map_write_err)?;
        }
        for d in &cs.updates {
            let n = sqlx::query(update_doc)
                .bind(d.text().into_owned())
                .bind(&d.parent_id)
                .bind(&d.unique_key)
                .bind(now)
                .bind(&d.kind)
                .bind(&d.id)
                .bind(d.version)
                .execute(&mut *tx)
                .await
                .map_err(map_write_err)?
                .rows_affected();
            if n != 1 {
                return Err(StoreError::Conflict);
            }
        }
        for (kind, id) in &cs.deletes {
            sqlx::query("DELETE FROM docs WHERE kind = $1 AND id = $2").bind(kind).bind(id).execute(&mut *tx).await?;
        }
        for prefix in &cs.cancelled_jobs {
            let (from, to) = id_range(prefix);
            sqlx::query(CANCEL_JOBS).bind(from).bind(to).execute(&mut *tx).await?;
        }
        for j in cs.jobs.iter().chain(cs.replacing.iter().map(|(_, j)| j)) {
            sqlx::query(insert_job)
                .bind(&j.id)
                .bind(&j.kind)
                .bind(j.payload.as_str())
                .bind(to_ms(j.due_at))
                .bind(&j.ordering_key)
                .bind(now)
                .execute(&mut *tx)
                .await
                .map_err(map_write_err)?;
        }
        for (hash, account, prefix) in &cs.api_keys {
            sqlx::query("INSERT INTO api_keys (key_hash, account_id, prefix, created_at) VALUES ($1, $2, $3, $4)")
                .bind(hash)
                .bind(account)
                .bind(prefix)
                .bind(now)
                .execute(&mut *tx)
                .await
                .map_err(map_write_err)?;
        }
        for (k, v) in &cs.settings {
            sqlx::query(upsert_setting).bind(k).bind(v).execute(&mut *tx).await?;
        }
        for c in &cs.counters {
            let value: i64 = sqlx::query_scalar(ADD_COUNTER).bind(&c.key).bind(c.delta).fetch_one(&mut *tx).await?;
            if c.exceeded(value) {
                return Err(StoreError::Conflict);
            }
        }
        if !replaced.is_empty() {
            let n = sqlx::query("DELETE FROM jobs WHERE seq = ANY($1)")
                .bind(&replaced)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if n != replaced.len() as u64 {
                return Err(StoreError::Conflict);
            }
        }
        if !done.is_empty() {
            sqlx::query("DELETE FROM jobs WHERE seq = ANY($1)").bind(&done).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Looks for jobs with a void lease at every claim that has room for them, instead of
    /// every [`STALE_CHECK_EVERY_MS`] (tests).
    pub fn check_stale_leases_always(mut self) -> Store {
        self.stale_check_every_ms = 0;
        self
    }

    /// Claims up to `limit` jobs due at `now` (the domain clock) for `lease` of real time.
    /// A job whose lease is void (it ran out, or its worker died) is claimable again; on
    /// PostgreSQL, where leases are rows shared by processes, those are looked for at most
    /// every [`STALE_CHECK_EVERY_MS`]. On SQLite leases live in this process's memory (one
    /// process owns the file, see `sqlite::Leases`), so a claim writes nothing. Of jobs
    /// sharing an ordering key only the oldest is claimable. A claimed job's `attempts` is
    /// the attempt it is.
    pub async fn claim_jobs(&self, now: DateTime<Utc>, worker: &str, lease: Duration, limit: i64) -> Result<Vec<Job>> {
        use std::sync::atomic::Ordering;
        let real_now = to_ms(Utc::now());
        let lease_until = real_now + lease.as_millis() as i64;
        let due = to_ms(now);
        let p = match &self.backend {
            Backend::Sqlite(s) => return s.claim(due, limit, lease_until, real_now).await,
            Backend::Postgres(p) => p,
        };
        let claim = |stale, limit| Self::claim_postgres(p, stale, due, limit, lease_until, worker, real_now);
        let mut out = claim(false, limit).await?;
        let last = self.last_stale_claim.load(Ordering::Relaxed);
        if (out.len() as i64) < limit
            && real_now - last >= self.stale_check_every_ms
            && self.last_stale_claim.compare_exchange(last, real_now, Ordering::Relaxed, Ordering::Relaxed).is_ok()
        {
            let more = claim(true, limit - out.len() as i64).await?;
            out.extend(more);
        }
        out.sort_by_key(|j| (j.due_at, j.seq));
        Ok(out)
    }

    async fn claim_postgres(
        p: &PgPool,
        stale: bool,
        due: i64,
        limit: i64,
        lease_until: i64,
        worker: &str,
        real_now: i64,
    ) -> Result<Vec<Job>> {
        let sql = if stale { claim_stale_sql() } else { claim_free_sql() };
        let mut q = sqlx::query(&sql).bind(due).bind(limit).bind(lease_until).bind(worker);
        if stale {
            q = q.bind(real_now);
        }
        let rows = q.fetch_all(p).await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            out.push(job_from_row!(r));
        }
        Ok(out)
    }

    /// Records that process `instance` is alive; its job leases hold while it beats. Only
    /// PostgreSQL's leases are rows that other processes read; a SQLite file's are in its
    /// one server's memory, so there is nothing to record.
    pub async fn heartbeat(&self, instance: &str) -> Result<()> {
        let Backend::Postgres(p) = &self.backend else { return Ok(()) };
        sqlx::query(
            "INSERT INTO instances (id, heartbeat_at) VALUES ($1, $2) \
             ON CONFLICT (id) DO UPDATE SET heartbeat_at = excluded.heartbeat_at",
        )
        .bind(instance)
        .bind(to_ms(Utc::now()))
        .execute(p)
        .await?;
        sqlx::query("DELETE FROM instances WHERE heartbeat_at < $1")
            .bind(to_ms(Utc::now()) - 3_600_000)
            .execute(p)
            .await?;
        Ok(())
    }

    /// Removes a process's heartbeat as it stops: the leases it still holds are void at
    /// once (PostgreSQL; see [`Store::heartbeat`]).
    pub async fn forget_instance(&self, instance: &str) -> Result<()> {
        let Backend::Postgres(p) = &self.backend else { return Ok(()) };
        sqlx::query("DELETE FROM instances WHERE id = $1").bind(instance).execute(p).await?;
        Ok(())
    }

    /// Puts a claimed job back to run again at `due_at` (a retry), releasing its lease.
    pub async fn retry_job(&self, seq: i64, due_at: DateTime<Utc>, error: &str) -> Result<()> {
        let sql = "UPDATE jobs SET due_at = $1, lease_until = NULL, lease_owner = NULL, last_error = $2 WHERE seq = $3";
        match &self.backend {
            Backend::Sqlite(s) => s.retry_job(seq, to_ms(due_at), error.to_owned()).await,
            Backend::Postgres(p) => {
                sqlx::query(sql).bind(to_ms(due_at)).bind(error).bind(seq).execute(p).await?;
                Ok(())
            }
        }
    }

    /// The earliest due time of any job not currently leased.
    pub async fn next_due(&self) -> Result<Option<DateTime<Utc>>> {
        let sql = "SELECT MIN(due_at) AS due FROM jobs WHERE lease_until IS NULL OR lease_until < $1";
        let real_now = to_ms(Utc::now());
        let due: Option<i64> = match &self.backend {
            Backend::Sqlite(s) => s.next_due(real_now).await?,
            Backend::Postgres(p) => sqlx::query(sql).bind(real_now).fetch_one(p).await?.try_get("due")?,
        };
        Ok(due.map(from_ms))
    }

    /// How many jobs are due at `now`, leased or not.
    pub async fn due_count(&self, now: DateTime<Utc>) -> Result<i64> {
        let sql = "SELECT COUNT(*) AS n FROM jobs WHERE due_at <= $1";
        let now = to_ms(now);
        match &self.backend {
            Backend::Sqlite(s) => {
                s.read(move |c| Ok(c.prepare_cached(&sql.replace('$', "?"))?.query_row([now], |r| r.get(0))?)).await
            }
            Backend::Postgres(p) => Ok(sqlx::query(sql).bind(now).fetch_one(p).await?.try_get("n")?),
        }
    }

    pub async fn job(&self, id: &str) -> Result<Option<Job>> {
        let sql = format!("SELECT {JOB_COLS} FROM jobs WHERE id = $1");
        match &self.backend {
            Backend::Sqlite(s) => {
                let id = id.to_owned();
                s.read(move |c| sqlite::query_opt(c, &sql.replace('$', "?"), [id], sqlite::job_from_row)).await
            }
            Backend::Postgres(p) => {
                let row = sqlx::query(&sql).bind(id).fetch_optional(p).await?;
                Ok(match row {
                    Some(r) => Some(job_from_row!(r)),
                    None => None,
                })
            }
        }
    }

    /// The jobs whose id starts with `prefix` (a call's timers, say), in id order.
    pub async fn jobs_with_prefix(&self, prefix: &str) -> Result<Vec<Job>> {
        let sql = format!("SELECT {JOB_COLS} FROM jobs WHERE id >= $1 AND id < $2 ORDER BY id");
        let (from, to) = id_range(prefix);
        match &self.backend {
            Backend::Sqlite(s) => {
                s.read(move |c| sqlite::query_all(c, &sql.replace('$', "?"), [from, to], sqlite::job_from_row)).await
            }
            Backend::Postgres(p) => {
                let rows = sqlx::query(&sql).bind(from).bind(to).fetch_all(p).await?;
                let mut out = Vec::with_capacity(rows.len());
                for r in rows {
                    out.push(job_from_row!(r));
                }
                Ok(out)
            }
        }
    }

    pub async fn ping(&self) -> Result<()> {
        match &self.backend {
            Backend::Sqlite(s) => {
                s.read(|c| {
                    c.prepare_cached("SELECT 1")?.query_row([], |_| Ok(()))?;
                    Ok(())
                })
                .await
            }
            Backend::Postgres(p) => {
                sqlx::query("SELECT 1").execute(p).await?;
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    async fn mem() -> Store {
        Store::connect("sqlite::memory:").await.unwrap()
    }

    #[tokio::test]
    async fn insert_get_update_with_versions() {
        let s = mem().await;
        let now = Utc::now();
        let d = Doc::new("thing", "1", "acct", json!({"a": 1}), now).unique("acct:x");
        s.apply(&ChangeSet::new().insert(d.clone())).await.unwrap();
        let got = s.get("thing", "1").await.unwrap().unwrap();
        assert_eq!(got.data, json!({"a": 1}));
        assert_eq!(s.get_unique("thing", "acct:x").await.unwrap().unwrap().id, "1");
        assert!(matches!(s.apply(&ChangeSet::new().insert(d)).await, Err(StoreError::Duplicate)));

        let mut upd = got.clone();
        upd.data = json!({"a": 2});
        s.apply(&ChangeSet::new().update(upd.clone())).await.unwrap();
        // The same stale version a second time loses.
        assert!(matches!(s.apply(&ChangeSet::new().update(upd)).await, Err(StoreError::Conflict)));
        assert_eq!(s.get("thing", "1").await.unwrap().unwrap().version, 1);
        assert_eq!(s.list("thing", Some("acct"), None).await.unwrap().len(), 1);
        assert_eq!(s.list("thing", Some("other"), None).await.unwrap().len(), 0);
        assert_eq!(s.list("thing", None, None).await.unwrap().len(), 1);
        let kid = Doc::new("kid", "k1", "acct", json!({"n": 4}), now).parent("1");
        let kid2 = Doc::new("kid", "k2", "acct", json!({"n": 5}), now).parent("1");
        s.apply(&ChangeSet::new().insert(kid).insert(kid2)).await.unwrap();
        assert_eq!(s.list("kid", None, Some("1")).await.unwrap().len(), 2);
    }

    /// A document written from a typed value reads back as that value's JSON, on insert
    /// and on a versioned update.
    #[tokio::test]
    async fn typed_documents_are_written_as_their_json() {
        #[derive(serde::Serialize)]
        struct Thing {
            name: String,
            n: i64,
            tags: Vec<&'static str>,
        }
        let s = mem().await;
        let now = Utc::now();
        let thing = Thing { name: "a \"quoted\" é".into(), n: 1, tags: vec!["x"] };
        let doc = Doc::of("thing", "1", "acct", &thing, now);
        assert_eq!((doc.data.clone(), doc.text().into_owned()), (Value::Null, serde_json::to_string(&thing).unwrap()));
        s.apply(&ChangeSet::new().insert(doc)).await.unwrap();
        let mut got = s.get("thing", "1").await.unwrap().unwrap();
        assert_eq!(got.data, json!({"name": "a \"quoted\" é", "n": 1, "tags": ["x"]}));
        assert_eq!(got.json, None);

        got.set(&Thing { name: "b".into(), n: 2, tags: vec![] });
        let stale = got.clone();
        s.apply(&ChangeSet::new().update(got)).await.unwrap();
        let again = s.get("thing", "1").await.unwrap().unwrap();
        assert_eq!((again.data, again.version), (json!({"name": "b", "n": 2, "tags": []}), 1));
        assert!(matches!(s.apply(&ChangeSet::new().update(stale)).await, Err(StoreError::Conflict)));
    }

    /// A document read straight into its type, from the database or from the cache; one
    /// that is not of that type is an error, not a default.
    #[tokio::test]
    async fn documents_are_read_straight_into_their_type() {
        #[derive(Debug, PartialEq, serde::Deserialize)]
        struct Thing {
            name: String,
            n: i64,
        }
        let s = mem().await;
        let now = Utc::now();
        let cs = ChangeSet::new()
            .insert(Doc::new("thing", "1", "acct", json!({"name": "a", "n": 1}), now).parent("p"))
            .insert(Doc::new("thing", "2", "acct", json!({"name": 3}), now));
        s.apply(&cs).await.unwrap();
        let want = Thing { name: "a".into(), n: 1 };
        let (doc, thing) = s.get_as::<Thing>("thing", "1").await.unwrap().unwrap();
        assert_eq!(thing, want);
        assert_eq!(
            (doc.id.as_str(), doc.parent_id.as_deref(), doc.version, doc.data),
            ("1", Some("p"), 0, Value::Null)
        );
        // Through the cache, filled by a plain read.
        s.get("thing", "1").await.unwrap().unwrap();
        assert_eq!(s.get_as::<Thing>("thing", "1").await.unwrap().unwrap().1, want);
        assert!(s.get_as::<Thing>("thing", "9").await.unwrap().is_none());
        let e = s.get_as::<Thing>("thing", "2").await.unwrap_err();
        assert!(matches!(&e, StoreError::Unreadable { id, .. } if id == "2"), "{e}");

        // Many at once: one entry per id, in order, from the cache or the database.
        s.apply(&ChangeSet::new().insert(Doc::new("thing", "3", "acct", json!({"name": "c", "n": 3}), now)))
            .await
            .unwrap();
        let ids = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let many = s.get_many_as::<Thing>("thing", &ids(&["3", "9", "1"])).await.unwrap();
        let got: Vec<Option<(String, i64)>> = many.into_iter().map(|o| o.map(|(d, t)| (d.id, t.n))).collect();
        assert_eq!(got, vec![Some(("3".into(), 3)), None, Some(("1".into(), 1))]);
        assert!(s.get_many_as::<Thing>("thing", &[]).await.unwrap().is_empty());
        let e = s.get_many_as::<Thing>("thing", &ids(&["1", "2"])).await.unwrap_err();
        assert!(matches!(&e, StoreError::Unreadable { id, .. } if id == "2"), "{e}");
    }

    #[tokio::test]
    async fn counters_move_with_their_change_set_and_respect_a_bound() {
        let s = mem().await;
        let now = Utc::now();
        assert_eq!(s.counter("c").await.unwrap(), 0);
        s.apply(&ChangeSet::new().count("c", 7, Some(10))).await.unwrap();
        s.apply(&ChangeSet::new().count("c", 3, Some(10))).await.unwrap();
        assert_eq!(s.counter("c").await.unwrap(), 10);
        // Over the bound: nothing of the change set is applied.
        let over = ChangeSet::new().insert(Doc::new("t", "1", "a", json!({}), now)).count("c", 1, Some(10));
        assert!(matches!(s.apply(&over).await, Err(StoreError::Conflict)));
        assert_eq!(s.counter("c").await.unwrap(), 10);
        assert!(s.get("t", "1").await.unwrap().is_none());
        // Going down is always allowed, and a bound only limits increases.
        s.apply(&ChangeSet::new().count("c", -4, Some(1))).await.unwrap();
        assert_eq!(s.counter("c").await.unwrap(), 6);
        s.apply(&ChangeSet::new().count("c", 2, None)).await.unwrap();
        assert_eq!(s.counter("c").await.unwrap(), 8);
    }

    #[tokio::test]
    async fn a_failed_change_set_applies_nothing() {
        let s = mem().await;
        let now = Utc::now();
        s.apply(&ChangeSet::new().insert(Doc::new("t", "1", "a", json!({}), now))).await.unwrap();
        let cs = ChangeSet::new().insert(Doc::new("t", "2", "a", json!({}), now)).insert(Doc::new(
            "t",
            "1",
            "a",
            json!({}),
            now,
        ));
        assert!(s.apply(&cs).await.is_err());
        assert!(s.get("t", "2").await.unwrap().is_none());
    }

    #[tokio::test]
    async fn jobs_are_claimed_once_and_in_order_per_key() {
        let s = mem().await;
        let now = Utc::now();
        let job = |id: &str, key: Option<&str>, due| NewJob {
            id: id.into(),
            kind: "k".into(),
            payload: json!({}).into(),
            due_at: due,
            ordering_key: key.map(Into::into),
        };
        let cs = ChangeSet::new().job(job("a", Some("call"), now)).job(job("b", Some("call"), now)).job(job(
            "c",
            None,
            now + chrono::Duration::seconds(10),
        ));
        s.apply(&cs).await.unwrap();
        let lease = Duration::from_secs(30);
        let claimed = s.claim_jobs(now, "w1", lease, 10).await.unwrap();
        assert_eq!(claimed.iter().map(|j| j.id.as_str()).collect::<Vec<_>>(), vec!["a"]);
        assert!(s.claim_jobs(now, "w2", lease, 10).await.unwrap().is_empty());
        s.apply_with_jobs_done(&ChangeSet::new(), &[claimed[0].seq]).await.unwrap();
        let next = s.claim_jobs(now, "w1", lease, 10).await.unwrap();
        assert_eq!(next[0].id, "b");
        s.retry_job(next[0].seq, now + chrono::Duration::seconds(5), "boom").await.unwrap();
        assert!(s.claim_jobs(now, "w1", lease, 10).await.unwrap().is_empty());
        assert_eq!(s.next_due().await.unwrap(), Some(from_ms(to_ms(now + chrono::Duration::seconds(5)))));
        let later = s.claim_jobs(now + chrono::Duration::seconds(10), "w1", lease, 10).await.unwrap();
        assert_eq!(later.len(), 2);
        assert_eq!(later[0].attempts, 2);
        assert!(s.claim_jobs(now + chrono::Duration::seconds(10), "w2", lease, 10).await.unwrap().is_empty());
        // A lease that ran out is void: its job is claimed again, as the same attempt.
        s.apply_with_jobs_done(&ChangeSet::new(), &[later[0].seq, later[1].seq]).await.unwrap();
        s.apply(&ChangeSet::new().job(job("d", None, now))).await.unwrap();
        let d = s.claim_jobs(now, "w1", Duration::from_millis(1), 10).await.unwrap();
        tokio::time::sleep(Duration::from_millis(5)).await;
        let retaken = s.claim_jobs(now, "w2", lease, 10).await.unwrap();
        assert_eq!((retaken[0].seq, retaken[0].attempts), (d[0].seq, 1));
    }

    #[tokio::test]
    async fn a_replaced_job_is_overwritten_by_the_next_in_its_row() {
        let s = mem().await;
        let now = Utc::now();
        let job = |id: &str, step: u32, due| NewJob {
            id: id.into(),
            kind: "k".into(),
            payload: json!({ "step": step }).into(),
            due_at: due,
            ordering_key: None,
        };
        s.apply(&ChangeSet::new().job(job("step:1", 1, now))).await.unwrap();
        let lease = Duration::from_secs(30);
        let claimed = s.claim_jobs(now, "w1", lease, 10).await.unwrap();
        let seq = claimed[0].seq;
        let later = now + chrono::Duration::seconds(2);
        s.apply_with_jobs_done(&ChangeSet::new().replace_job(seq, job("step:2", 2, later)), &[seq]).await.unwrap();
        // The first is gone; the next is not due yet, then due, unclaimed, in the same row.
        assert!(s.job("step:1").await.unwrap().is_none());
        assert!(s.claim_jobs(now, "w1", lease, 10).await.unwrap().is_empty());
        assert_eq!(s.next_due().await.unwrap(), Some(from_ms(to_ms(later))));
        let next = s.claim_jobs(later, "w1", lease, 10).await.unwrap();
        assert_eq!((next[0].seq, next[0].id.as_str(), next[0].attempts), (seq, "step:2", 1));
        assert_eq!(next[0].payload.value(), json!({"step": 2}));
        // Replacing a job that is gone is a conflict, and applies nothing.
        s.apply_with_jobs_done(&ChangeSet::new(), &[seq]).await.unwrap();
        let gone = ChangeSet::new().replace_job(seq, job("step:3", 3, later));
        assert!(matches!(s.apply_with_jobs_done(&gone, &[seq]).await, Err(StoreError::Conflict)));
        assert!(s.job("step:3").await.unwrap().is_none());
    }
}
