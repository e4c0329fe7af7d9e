//! The SQLite backend, on `rusqlite` with threads of its own.
//!
//! SQLite is a library: a statement costs a few microseconds of CPU in the calling thread.
//! What costs is getting the work to a thread that may block. So the backend owns:
//!
//! - **one writer thread** with the one read-write connection. Every write is a closure sent
//!   to it over a channel and answered over a oneshot: a whole change set
//!   (`BEGIN IMMEDIATE` … `COMMIT`) is one closure, so one thread hop per transaction, not
//!   per statement. Change sets queued while it works are committed together (group commit)
//!   in one transaction; when one of them fails (duplicate, conflict), the group is applied
//!   again with a savepoint per change set, so that it alone rolls back and gets its error.
//! - **a few reader threads**, each with its own connection, taking reads from one shared
//!   queue; WAL lets them read while the writer writes, and each sees every committed write.
//!
//! - **a cache of documents read by id** (`DocCache`), so a document read again and again
//!   (a room for its join tokens, an account, a messaging profile) is a hash lookup
//!   instead of a read transaction and a JSON parse. The writer drops the documents a commit
//!   updates or deletes before it answers, so a read never sees an older version than the
//!   last acknowledged write. It relies on this process being the only one that updates or
//!   deletes documents in the file, as the jobs' leases held in memory do (`Leases`). A
//!   server makes sure of it with a lock file (`Sqlite::own`); `dialtone users add`, which
//!   only inserts, runs beside it.
//!
//! An in-memory database exists once per connection, so `sqlite::memory:` has the writer's
//! connection only and runs reads there too. Statements are prepared once per connection
//! (`prepare_cached`).

use crate::{Doc, Job, Payload, Result, StoreError, from_ms};
use rusqlite::config::DbConfig;
use rusqlite::{Connection, OpenFlags, OptionalExtension, Row, ffi, params};
use serde_json::Value;
use std::collections::HashMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;
use tokio::sync::oneshot;

/// Change sets committed together at most, when that many are queued.
const GROUP_MAX: usize = 64;
const STATEMENT_CACHE: usize = 64;
const CHECKPOINT_EVERY: Duration = Duration::from_millis(200);
/// WAL frames (pages) past which the WAL is started over (see `checkpoint_loop`): ~32 MB
/// of [`PAGE_SIZE`] pages (the count was tuned with 2 kB pages, ~16 MB, and measured again
/// with 4 kB), at most every [`WAL_RESTART_EVERY`] unless it reaches [`WAL_MAX_FRAMES`]
/// (~512 MB), which bounds the WAL file under any load. The writer's checkpoint stalls
/// commits: nearly all of it was its two fsyncs (WAL, then database), which flushed
/// everything the checkpoint thread had copied since the last full checkpoint; the
/// checkpoint thread now syncs as it goes and catches up first (`catch_up`). Restarting every 30 s instead let the WAL grow to ~1 GB under a full
/// write load, where each commit and the restart itself cost more. Under a light load the
/// WAL starts over by itself.
const WAL_RESTART_FRAMES: i64 = if cfg!(test) { 256 } else { 8 * 1024 };
const WAL_RESTART_EVERY: Duration = Duration::from_secs(1);
const WAL_MAX_FRAMES: i64 = 128 * 1024;
/// Frames the writer's checkpoint is left to copy, at most, and the copies the checkpoint
/// thread makes to get there (see `catch_up`). With 256 instead of 1,024, and one more copy
/// after the catch-up's syncs, the writer's restart took 5.7-7.6 ms at the median instead
/// of 8.9-10.6 ms in the messaging benchmark, and 50-59 ms at most instead of 128-138 ms.
const CATCH_UP_FRAMES: i64 = 256;
const CATCH_UP_ROUNDS: usize = 20;
/// The WAL file keeps its size when the WAL starts over (it is written again from its
/// start); once the database has been idle for a checkpoint period, a WAL file bigger than
/// this is truncated. Truncating it at each restart instead, as `journal_size_limit` does,
/// made the next commits allocate and write the file's blocks anew: with the WAL at
/// 250 MB a second, POST p99 was 65 ms at 5,700/s, and 6.5 ms without the truncation.
const WAL_IDLE_SIZE: u64 = if cfg!(test) { 1024 * 1024 } else { 64 * 1024 * 1024 };

/// The page size of a new database file (SQLite's default). A commit writes every page it
/// touched, whole, to the WAL, and under load most commits touch a few rows in each of many
/// pages, which smaller pages keep cheaper: 2 kB pages were chosen for that, when they gave
/// the messaging benchmark's paced POST a lower p99. Rows grew since: a message document is
/// about 770 bytes (two to a 2 kB page, a quarter of it unused) and a webhook delivery's
/// about 2 kB (over a 2 kB page's limit, so each took an overflow page). On 2026-12-07, in
/// alternating runs, 4 kB pages took 9 % less process CPU over the scheduled messages'
/// phase (the writer 11 %, the checkpoint 27 %) and the burst 0.81-0.88 s against
/// 0.98-0.99 s, with the HTTP load's CPU a message and paced p99 unchanged (7 pairs), and
/// the other benchmarks unchanged. A file keeps the page size it was created with.
const PAGE_SIZE: i64 = 4096;

/// Documents kept in the cache of documents read by id (a few kB each).
const DOC_CACHE_MAX: usize = 1024;

/// The writer connection's page cache, in KiB.
const WRITER_CACHE_KIB: i64 = 8 * 1024;

type Task = Box<dyn FnOnce(&mut Connection) + Send>;

enum WriteMsg {
    Run(Task),
    Apply(Box<Apply>),
    Stop(oneshot::Sender<()>),
}

enum ReadMsg {
    Run(Task),
    Stop(oneshot::Sender<()>),
}

/// A change set made ready for the writer: owned, with its JSON already serialized.
pub(crate) struct Prepared {
    pub now: i64,
    /// `(kind, id, account_id, parent_id, unique_key, data, version, created_at)`.
    pub inserts: Vec<DocRow>,
    pub updates: Vec<DocRow>,
    pub deletes: Vec<(String, String)>,
    pub jobs: Vec<JobRow>,
    /// Claimed jobs (by `seq`) overwritten by the job that follows them
    /// (`ChangeSet::replace_job`).
    pub replacing: Vec<(i64, JobRow)>,
    /// Id ranges `[from, to)` of jobs to remove unless claimed (`ChangeSet::cancel_jobs`).
    pub cancelled_jobs: Vec<(String, String)>,
    pub api_keys: Vec<(String, String, String)>,
    pub settings: Vec<(String, String)>,
    pub counters: Vec<crate::CounterAdd>,
    pub done_job_seqs: Vec<i64>,
}

/// `(id, kind, payload, due_at, ordering_key)`.
pub(crate) type JobRow = (String, String, String, i64, Option<String>);

pub(crate) struct DocRow {
    pub kind: String,
    pub id: String,
    pub account_id: String,
    pub parent_id: Option<String>,
    pub unique_key: Option<String>,
    pub data: String,
    pub version: i64,
    pub created_at: i64,
}

struct Apply {
    changes: Prepared,
    /// The outcome, and the change set back: its strings are freed by the caller, not by
    /// the one writer thread.
    reply: oneshot::Sender<(Result<()>, Prepared)>,
}

pub(crate) struct Sqlite {
    writer: mpsc::Sender<WriteMsg>,
    /// `None` for an in-memory database: reads go to the writer.
    readers: Option<(mpsc::Sender<ReadMsg>, usize)>,
    /// Stops the checkpoint thread (`None` in memory).
    checkpointer: Mutex<Option<mpsc::Sender<oneshot::Sender<()>>>>,
    closed: Arc<AtomicBool>,
    /// The file, for the point-read connections (`None` in memory).
    path: Option<String>,
    /// Tells this store's point-read connections apart from other stores' on a thread.
    id: u64,
    cache: Arc<Mutex<DocCache>>,
    leases: Arc<Leases>,
    /// The lock file held while this process owns the file (`Sqlite::own`).
    owner: Mutex<Option<std::fs::File>>,
    /// One claim at a time: a claim reads the jobs no one holds, then holds them.
    claiming: tokio::sync::Mutex<()>,
}

/// The jobs this process's workers hold, by `seq`, with the real time (ms) each lease runs
/// out. A SQLite file belongs to one process, so leases are not written to it: a claim is a
/// read, on a reader thread and not the one writer, and a process that was killed left no
/// lease behind. Every row of `jobs` is a job no other process holds.
///
/// A lease ends when the commit that finishes its job (done, replaced, put back to retry)
/// has landed, in the writer, before anyone hears of it; or when it runs out.
#[derive(Debug, Default)]
pub(crate) struct Leases {
    held: Mutex<HashMap<i64, i64>>,
}

impl Leases {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<i64, i64>> {
        self.held.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The jobs held at `real_now`.
    fn held_set(&self, real_now: i64) -> std::collections::HashSet<i64> {
        self.lock().iter().filter(|(_, until)| **until >= real_now).map(|(seq, _)| *seq).collect()
    }

    /// The jobs held at `real_now`, as a JSON array (bound for `json_each`).
    fn held_json(&self, real_now: i64) -> String {
        let held = self.lock();
        let mut out = String::with_capacity(2 + held.len() * 8);
        out.push('[');
        for (seq, _) in held.iter().filter(|(_, until)| **until >= real_now) {
            if out.len() > 1 {
                out.push(',');
            }
            out.push_str(&seq.to_string());
        }
        out.push(']');
        out
    }

    fn release(&self, seqs: impl IntoIterator<Item = i64>) {
        let mut held = self.lock();
        for seq in seqs {
            held.remove(&seq);
        }
    }
}

/// The jobs due at `?1`, first due first: `seq` only, from the index `jobs_due` alone (its
/// entries end with the rowid, `seq`, so the order is the index's).
const DUE_SEQS: &str = "SELECT seq FROM jobs WHERE due_at <= ?1 ORDER BY due_at, seq";
/// Job `?1`, unless another job with its ordering key comes before it (see
/// [`crate::FIRST_OF_KEY`]); `attempts` counts this claim.
const CLAIM_ONE: &str = "SELECT seq, id, kind, payload, due_at, attempts + 1 FROM jobs j WHERE j.seq = ?1 AND {first}";
/// The earliest due time of a job no one holds (`?1`).
const NEXT_DUE: &str =
    "SELECT due_at FROM jobs WHERE seq NOT IN (SELECT value FROM json_each(?1)) ORDER BY due_at LIMIT 1";
/// A failed job put back to run at `?1`, its attempt counted.
const RETRY_JOB: &str = "UPDATE jobs SET due_at = ?1, attempts = attempts + 1, last_error = ?2 WHERE seq = ?3";
/// The jobs with an id in `[?1, ?2)` (see [`crate::id_range`]) that no one holds (`?3`).
const CANCEL_JOBS: &str =
    "DELETE FROM jobs WHERE id >= ?1 AND id < ?2 AND seq NOT IN (SELECT value FROM json_each(?3))";

/// Documents read by `(kind, id)`, and what reads by `(kind, unique key)` found (a
/// document, or that there is none: a sender's number, an opt-out that does not exist), at
/// most [`DOC_CACHE_MAX`] of each.
///
/// A read that misses records the epoch, reads the database, and fills the cache only if
/// the epoch has not moved: the writer moves it, under the same lock, each time it drops
/// entries after a commit. So a read that began before a commit can never put back the
/// version that commit replaced, nor an absence it ended.
///
/// A commit that inserts a document with a unique key, or updates or deletes any
/// document, drops every unique-key entry of that document's kind: kinds read by unique
/// key (numbers, opt-outs, simulation settings) are seldom written.
#[derive(Default)]
pub(crate) struct DocCache {
    docs: HashMap<(String, String), Doc>,
    unique: HashMap<String, HashMap<String, Option<Doc>>>,
    unique_len: usize,
    epoch: u64,
}

impl DocCache {
    fn get(&self, kind: &str, id: &str) -> Option<Doc> {
        self.docs.get(&(kind.to_owned(), id.to_owned())).cloned()
    }

    fn fill(&mut self, doc: &Doc, epoch: u64) {
        if epoch != self.epoch {
            return;
        }
        if self.docs.len() >= DOC_CACHE_MAX
            && let Some(k) = self.docs.keys().next().cloned()
        {
            self.docs.remove(&k);
        }
        self.docs.insert((doc.kind.clone(), doc.id.clone()), doc.clone());
    }

    /// What a read by unique key found, if it is known: `Some(None)` when no document has
    /// the key.
    fn get_unique(&self, kind: &str, key: &str) -> Option<Option<Doc>> {
        self.unique.get(kind)?.get(key).cloned()
    }

    fn fill_unique(&mut self, kind: &str, key: &str, found: Option<&Doc>, epoch: u64) {
        if epoch != self.epoch {
            return;
        }
        if self.unique_len >= DOC_CACHE_MAX {
            self.unique.clear();
            self.unique_len = 0;
        }
        let previous = self.unique.entry(kind.to_owned()).or_default().insert(key.to_owned(), found.cloned());
        if previous.is_none() {
            self.unique_len += 1;
        }
    }

    fn forget_kind(&mut self, kind: &str) {
        if let Some(entries) = self.unique.remove(kind) {
            self.unique_len -= entries.len();
        }
    }

    /// Drops the documents the committed change sets updated or deleted, and the unique-key
    /// entries of the kinds they touched.
    fn forget(&mut self, group: &[&Prepared]) {
        let mut any = false;
        for p in group {
            for d in &p.inserts {
                if d.unique_key.is_some() {
                    any = true;
                    self.forget_kind(&d.kind);
                }
            }
            for d in &p.updates {
                any = true;
                self.docs.remove(&(d.kind.clone(), d.id.clone()));
                self.forget_kind(&d.kind);
            }
            for (kind, id) in &p.deletes {
                any = true;
                self.docs.remove(&(kind.clone(), id.clone()));
                self.forget_kind(kind);
            }
        }
        if any {
            self.epoch += 1;
        }
    }
}

/// Each thread's connections for point reads, one per open store: `(store id, the store's
/// closed flag, connection)`. Connections of closed stores are dropped on the next read.
type PointReaders = Vec<(u64, Arc<AtomicBool>, Connection)>;

thread_local! {
    static POINT_READERS: std::cell::RefCell<PointReaders> = const { std::cell::RefCell::new(Vec::new()) };
}

static NEXT_STORE_ID: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

impl std::fmt::Debug for Sqlite {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sqlite").field("readers", &self.readers.as_ref().map(|r| r.1)).finish()
    }
}

fn closed() -> StoreError {
    StoreError::Db(sqlx::Error::PoolClosed)
}

impl Sqlite {
    /// The error for an answer that never came: the store closed before the work ran, or
    /// the work panicked.
    fn lost(&self) -> StoreError {
        if self.closed.load(Ordering::Acquire) { closed() } else { crashed() }
    }
}

fn crashed() -> StoreError {
    StoreError::Db(sqlx::Error::WorkerCrashed)
}

fn map_write_err(e: rusqlite::Error) -> StoreError {
    match &e {
        rusqlite::Error::SqliteFailure(f, _)
            if f.extended_code == ffi::SQLITE_CONSTRAINT_UNIQUE
                || f.extended_code == ffi::SQLITE_CONSTRAINT_PRIMARYKEY =>
        {
            StoreError::Duplicate
        }
        _ => StoreError::Sqlite(e),
    }
}

fn open(path: Option<&str>) -> rusqlite::Result<Connection> {
    let c = match path {
        None => Connection::open_in_memory()?,
        Some(p) => {
            let flags =
                OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
            if crate::walbuf::register() {
                Connection::open_with_flags_and_vfs(p, flags, crate::walbuf::NAME)?
            } else {
                Connection::open_with_flags(p, flags)?
            }
        }
    };
    c.busy_timeout(Duration::from_secs(10))?;
    // NORMAL in WAL mode: a commit survives a crash of the process (it is in the WAL before
    // the call returns); only an OS crash or power cut can lose the last transactions. FULL
    // would fsync every commit and cost most of the write rate.
    c.pragma_update(None, "synchronous", "NORMAL")?;
    c.pragma_update(None, "foreign_keys", "OFF")?;
    // Statement journals (a savepoint's record of the pages it changes) and temporary
    // tables in memory: on disk, each group commit with savepoints created a temporary
    // file and wrote every journaled page to it, five writes for every one to the WAL,
    // and those writes stalled commits for milliseconds.
    c.pragma_update(None, "temp_store", "MEMORY")?;
    c.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    // Without the query planner stability guarantee, a statement whose plan may depend on a
    // bound value (a `LIMIT ?`, as in the scheduler's claim) is parsed and planned again
    // every time that value is bound: it was 70 % of the claim's cost. No statement here
    // needs a plan chosen per value.
    c.set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)?;
    Ok(c)
}

/// Runs a task, surviving its panic: an open transaction is rolled back, and the caller's
/// oneshot, dropped with the task, tells it the worker crashed.
fn run_task(task: Task, conn: &mut Connection) {
    if catch_unwind(AssertUnwindSafe(|| task(conn))).is_err() && !conn.is_autocommit() {
        let _ = conn.execute_batch("ROLLBACK");
    }
}

impl Sqlite {
    /// Opens `path` (`None`: in memory), applies the pragmas and migrations, and starts the
    /// threads.
    pub(crate) fn open(path: Option<&str>) -> Result<Sqlite> {
        let mut writer = open(path)?;
        if path.is_some() {
            // Before the first table is created; ignored for a file that has one.
            writer.pragma_update(None, "page_size", PAGE_SIZE)?;
            let _: String = writer.pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))?;
            // The writer walks the indexes of every insert: with SQLite's default 2 MB cache it
            // reads most of their pages back from the OS on each commit once the file grows.
            writer.pragma_update(None, "cache_size", -WRITER_CACHE_KIB)?;
            // Checkpoints run on a thread of their own (below): done by the writer at the
            // end of a commit, each one's fsyncs stalled every commit queued behind it.
            writer.pragma_update(None, "wal_autocheckpoint", 0)?;
        }
        crate::migrate::sqlite(&mut writer)?;
        let readers = match path {
            None => None,
            Some(p) => {
                let n = std::thread::available_parallelism().map_or(2, |n| n.get()).clamp(2, 4);
                let (tx, rx) = mpsc::channel::<ReadMsg>();
                let rx = Arc::new(Mutex::new(rx));
                for i in 0..n {
                    let mut conn = open(Some(p))?;
                    let rx = rx.clone();
                    std::thread::Builder::new()
                        .name(format!("sqlite-read-{i}"))
                        .spawn(move || {
                            loop {
                                // The lock is held only while waiting for the next message.
                                let msg = rx.lock().unwrap_or_else(|e| e.into_inner()).recv();
                                match msg {
                                    Ok(ReadMsg::Run(task)) => run_task(task, &mut conn),
                                    Ok(ReadMsg::Stop(ack)) => {
                                        drop(conn);
                                        let _ = ack.send(());
                                        return;
                                    }
                                    Err(_) => return,
                                }
                            }
                        })
                        .map_err(|e| StoreError::BadUrl(format!("cannot start a thread: {e}")))?;
                }
                Some((tx, n))
            }
        };
        let (writer_tx, writer_rx) = mpsc::channel::<WriteMsg>();
        let cache = Arc::new(Mutex::new(DocCache::default()));
        let leases = Arc::new(Leases::default());
        let checkpointer = match path {
            None => None,
            Some(p) => {
                let conn = open(Some(p))?;
                let (tx, rx) = mpsc::channel::<oneshot::Sender<()>>();
                let writer = writer_tx.clone();
                std::thread::Builder::new()
                    .name("sqlite-checkpoint".into())
                    .spawn({
                        let wal = format!("{p}-wal");
                        move || checkpoint_loop(conn, &wal, rx, writer)
                    })
                    .map_err(|e| StoreError::BadUrl(format!("cannot start a thread: {e}")))?;
                Some(tx)
            }
        };
        std::thread::Builder::new()
            .name("sqlite-write".into())
            .spawn({
                let (cache, leases) = (cache.clone(), leases.clone());
                move || write_loop(writer, writer_rx, cache, leases)
            })
            .map_err(|e| StoreError::BadUrl(format!("cannot start a thread: {e}")))?;
        Ok(Sqlite {
            writer: writer_tx,
            readers,
            checkpointer: Mutex::new(checkpointer),
            closed: Arc::new(AtomicBool::new(false)),
            path: path.map(str::to_owned),
            id: NEXT_STORE_ID.fetch_add(1, Ordering::Relaxed),
            cache,
            leases,
            owner: Mutex::new(None),
            claiming: tokio::sync::Mutex::new(()),
        })
    }

    /// Runs `f` on the writer's connection.
    pub(crate) async fn write<R, F>(&self, f: F) -> Result<R>
    where
        R: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<R> + Send + 'static,
    {
        if self.closed.load(Ordering::Acquire) {
            return Err(closed());
        }
        let (tx, rx) = oneshot::channel();
        let task: Task = Box::new(move |c| {
            let _ = tx.send(f(c));
        });
        self.writer.send(WriteMsg::Run(task)).map_err(|_| closed())?;
        rx.await.map_err(|_| self.lost())?
    }

    /// Runs `f` on a reader's connection (the writer's, in memory).
    pub(crate) async fn read<R, F>(&self, f: F) -> Result<R>
    where
        R: Send + 'static,
        F: FnOnce(&Connection) -> Result<R> + Send + 'static,
    {
        let Some((readers, _)) = &self.readers else {
            return self.write(move |c| f(c)).await;
        };
        if self.closed.load(Ordering::Acquire) {
            return Err(closed());
        }
        let (tx, rx) = oneshot::channel();
        let task: Task = Box::new(move |c| {
            let _ = tx.send(f(c));
        });
        readers.send(ReadMsg::Run(task)).map_err(|_| closed())?;
        rx.await.map_err(|_| self.lost())?
    }

    /// Runs a read that touches a few rows (by key) in the calling thread, on a connection
    /// of that thread's own: a point read takes a few µs of SQLite, and handing it to a reader
    /// thread and waiting for the answer cost more than that (two thread wake-ups). Reads
    /// that may return many rows go through [`Sqlite::read`]. In WAL mode a reader never
    /// waits for the writer.
    pub(crate) async fn read_point<R, F>(&self, f: F) -> Result<R>
    where
        R: Send + 'static,
        F: FnOnce(&Connection) -> Result<R> + Send + 'static,
    {
        let Some(path) = &self.path else {
            return self.read(f).await;
        };
        if self.closed.load(Ordering::Acquire) {
            return Err(closed());
        }
        POINT_READERS.with(|cell| {
            let mut conns = cell.borrow_mut();
            conns.retain(|(_, closed, _)| !closed.load(Ordering::Acquire));
            let at = match conns.iter().position(|(id, _, _)| *id == self.id) {
                Some(at) => at,
                None => {
                    conns.push((self.id, self.closed.clone(), open(Some(path))?));
                    conns.len() - 1
                }
            };
            f(&conns[at].2)
        })
    }

    /// A document of the cache of documents read by id.
    pub(crate) fn cached(&self, kind: &str, id: &str) -> Option<Doc> {
        self.cache.lock().unwrap_or_else(|e| e.into_inner()).get(kind, id)
    }

    /// What the cache knows of the document with this unique key (`Some(None)`: none has it).
    pub(crate) fn cached_unique(&self, kind: &str, key: &str) -> Option<Option<Doc>> {
        self.cache.lock().unwrap_or_else(|e| e.into_inner()).get_unique(kind, key)
    }

    /// Keeps what a read by unique key found, unless a commit dropped entries since `epoch`
    /// was taken.
    pub(crate) fn cache_fill_unique(&self, kind: &str, key: &str, found: Option<&Doc>, epoch: u64) {
        self.cache.lock().unwrap_or_else(|e| e.into_inner()).fill_unique(kind, key, found, epoch);
    }

    /// The cache's epoch, to take before reading a document it missed.
    pub(crate) fn cache_epoch(&self) -> u64 {
        self.cache.lock().unwrap_or_else(|e| e.into_inner()).epoch
    }

    /// Keeps a document read from the database, unless a commit dropped documents since
    /// `epoch` was taken.
    pub(crate) fn cache_fill(&self, doc: &Doc, epoch: u64) {
        self.cache.lock().unwrap_or_else(|e| e.into_inner()).fill(doc, epoch);
    }

    /// Takes the lock file beside the database (`PATH-lock`), held until [`Sqlite::close`]
    /// or the process ends (the system lets go of it then, even after a kill).
    pub(crate) fn own(&self) -> Result<()> {
        let Some(path) = &self.path else { return Ok(()) };
        let mut owner = self.owner.lock().unwrap_or_else(|e| e.into_inner());
        if owner.is_some() {
            return Ok(());
        }
        let lock_path = format!("{path}-lock");
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|e| StoreError::BadUrl(format!("cannot open {lock_path}: {e}")))?;
        match file.try_lock() {
            Ok(()) => {
                *owner = Some(file);
                Ok(())
            }
            Err(std::fs::TryLockError::WouldBlock) => Err(StoreError::InUse(path.clone())),
            Err(std::fs::TryLockError::Error(e)) => Err(StoreError::BadUrl(format!("cannot lock {lock_path}: {e}"))),
        }
    }

    /// Claims up to `limit` jobs due at `due` (ms of the domain clock) until `lease_until`
    /// (ms of real time); each answered with the attempt it is (`attempts` counts the failed
    /// ones).
    pub(crate) async fn claim(&self, due: i64, limit: i64, lease_until: i64, real_now: i64) -> Result<Vec<Job>> {
        let _one_at_a_time = self.claiming.lock().await;
        // Taken before the read begins: a job released after this was finished by a commit
        // the read may not see yet, so it stays out of this claim.
        let held = self.leases.held_set(real_now);
        let one = CLAIM_ONE.replace("{first}", crate::FIRST_OF_KEY);
        // The due jobs are walked in order in the index and the held ones skipped here, and
        // only those taken are read whole. The held ones (up to the jobs in flight, 1,024)
        // are at the head of that order; excluding them in SQL (`NOT IN json_each(?)`) built
        // a temporary index of them at every claim, most of the claim's cost in a burst.
        let jobs = self
            .read(move |c| {
                let _snapshot = c.unchecked_transaction()?;
                let mut due_seqs = c.prepare_cached(DUE_SEQS)?;
                let mut seqs = due_seqs.query([due])?;
                let mut claim_one = c.prepare_cached(&one)?;
                let mut out = Vec::new();
                while (out.len() as i64) < limit {
                    let Some(row) = seqs.next()? else { break };
                    let seq: i64 = row.get(0)?;
                    if held.contains(&seq) {
                        continue;
                    }
                    if let Some(job) = claim_one.query_row([seq], job_from_row).optional()? {
                        out.push(job);
                    }
                }
                Ok(out)
            })
            .await?;
        let mut leases = self.leases.lock();
        for j in &jobs {
            leases.insert(j.seq, lease_until);
        }
        Ok(jobs)
    }

    /// The earliest due time of a job no one holds.
    pub(crate) async fn next_due(&self, real_now: i64) -> Result<Option<i64>> {
        let held = self.leases.held_json(real_now);
        self.read(move |c| query_opt(c, NEXT_DUE, [held], |r| r.get(0))).await
    }

    /// Puts a claimed job back to run again at `due_at`, and ends its lease.
    pub(crate) async fn retry_job(&self, seq: i64, due_at: i64, error: String) -> Result<()> {
        let leases = self.leases.clone();
        self.write(move |c| {
            c.prepare_cached(RETRY_JOB)?.execute(params![due_at, error, seq])?;
            leases.release([seq]);
            Ok(())
        })
        .await
    }

    /// Applies a change set in a transaction of its own or one shared with others queued.
    pub(crate) async fn apply(&self, changes: Prepared) -> Result<()> {
        if self.closed.load(Ordering::Acquire) {
            return Err(closed());
        }
        let (reply, rx) = oneshot::channel();
        self.writer.send(WriteMsg::Apply(Box::new(Apply { changes, reply }))).map_err(|_| closed())?;
        rx.await.map_err(|_| self.lost())?.0
    }

    /// Stops the threads once the work queued before finishes; the readers first, so the
    /// writer's connection is the last to close (and checkpoints the WAL).
    pub(crate) async fn close(&self) {
        if self.closed.swap(true, Ordering::AcqRel) {
            return;
        }
        if let Some((readers, n)) = &self.readers {
            let mut acks = Vec::with_capacity(*n);
            for _ in 0..*n {
                let (tx, rx) = oneshot::channel();
                if readers.send(ReadMsg::Stop(tx)).is_ok() {
                    acks.push(rx);
                }
            }
            for a in acks {
                let _ = a.await;
            }
        }
        let stop = self.checkpointer.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(stop) = stop {
            let (tx, rx) = oneshot::channel();
            if stop.send(tx).is_ok() {
                let _ = rx.await;
            }
        }
        let (tx, rx) = oneshot::channel();
        if self.writer.send(WriteMsg::Stop(tx)).is_ok() {
            let _ = rx.await;
        }
        self.owner.lock().unwrap_or_else(|e| e.into_inner()).take();
    }
}

/// Copies committed WAL frames into the database file every [`CHECKPOINT_EVERY`], without
/// waiting for readers or the writer (`PASSIVE`), so commits never wait for a checkpoint's
/// copying and fsyncs. The last connection to close checkpoints what is left.
///
/// SQLite reuses the WAL from its start only when a write transaction begins with every
/// frame copied, which under a steady stream of commits never happens by chance. So when
/// the WAL has grown past [`WAL_RESTART_FRAMES`], right after a checkpoint this thread asks
/// the writer, in its queue, to checkpoint the frames committed since, after which the
/// writer's next commit starts the WAL over.
///
/// This thread waits for the writer's checkpoint before it checkpoints again: SQLite runs
/// one checkpoint at a time and answers `SQLITE_BUSY` to a second one at once, whatever
/// its mode. Without the wait, once the WAL was large this thread's own checkpoints took
/// longer than their period, the writer's always found one running, and the WAL never
/// started over.
///
/// After a checkpoint period without commits it has the writer truncate a WAL file grown
/// past [`WAL_IDLE_SIZE`].
fn checkpoint_loop(
    conn: Connection,
    wal_path: &str,
    stop: mpsc::Receiver<oneshot::Sender<()>>,
    writer: mpsc::Sender<WriteMsg>,
) {
    let files = Files::open(wal_path);
    let mut last_restart = std::time::Instant::now();
    // The frames in the WAL at the last checkpoint, and whether the WAL was truncated since
    // it last grew.
    let mut last_frames = -1;
    let mut shrunk = false;
    loop {
        match stop.recv_timeout(CHECKPOINT_EVERY) {
            Err(mpsc::RecvTimeoutError::Timeout) => {
                let c = checkpoint(&conn);
                let frames = c.map_or(0, |c| c.log);
                // SQLite syncs the database file only when a checkpoint copies the whole
                // WAL, which under a stream of commits only the writer's does: until then
                // every page copied stays to be written back, and the writer's checkpoint
                // waited for all of them. Synced here, after each copy.
                if c.is_some_and(|c| c.copied < c.log) {
                    files.sync_db();
                }
                let due = last_restart.elapsed() >= WAL_RESTART_EVERY;
                if (frames > WAL_RESTART_FRAMES && due) || frames > WAL_MAX_FRAMES {
                    last_restart = std::time::Instant::now();
                    shrunk = false;
                    catch_up(&conn, &files);
                    run_on_writer(&writer, |c| {
                        let started = std::time::Instant::now();
                        // A reader that began before the last commit keeps the frames it
                        // may read from being copied; it is gone within microseconds.
                        let mut last = None;
                        for _ in 0..3 {
                            last = checkpoint(c);
                            if last.is_some_and(|c| !c.busy && c.copied == c.log) {
                                break;
                            }
                        }
                        tracing::debug!(?last, elapsed = ?started.elapsed(), "WAL checkpointed by the writer");
                    });
                } else if c.is_some_and(|c| c.log == last_frames && c.copied == c.log && !c.busy) && !shrunk {
                    // Nothing committed for a whole period: a good time to give the disk back.
                    let size = std::fs::metadata(wal_path).map_or(0, |m| m.len());
                    if size > WAL_IDLE_SIZE {
                        shrunk = run_on_writer(&writer, |c| {
                            c.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
                                .inspect_err(
                                    |e| tracing::warn!(error = %e, "could not truncate the WAL; retrying later"),
                                )
                                .is_ok()
                        })
                        .unwrap_or(true);
                    }
                }
                last_frames = frames;
            }
            Ok(ack) => {
                drop(conn);
                let _ = ack.send(());
                return;
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => return,
        }
    }
}

/// Runs `f` on the writer's connection, in its queue, and waits for its answer (`None`:
/// the writer is gone).
fn run_on_writer<R: Send + 'static>(
    writer: &mpsc::Sender<WriteMsg>,
    f: impl FnOnce(&mut Connection) -> R + Send + 'static,
) -> Option<R> {
    let (done, wait) = mpsc::sync_channel(1);
    let task: Task = Box::new(move |c| {
        let _ = done.send(f(c));
    });
    writer.send(WriteMsg::Run(task)).ok()?;
    wait.recv().ok()
}

/// Before the writer's checkpoint that starts the WAL over: copies until at most
/// [`CATCH_UP_FRAMES`] are left (or [`CATCH_UP_ROUNDS`] copies), and syncs the database
/// file and the WAL. The writer then copies and syncs only what was committed since: its
/// checkpoint, during which nothing commits, went from 70-180 ms to 2-10 ms under a burst
/// of scheduled messages. Copying alone did not shorten it, nor syncing alone: the writer
/// copied a whole period's frames, then synced them.
fn catch_up(conn: &Connection, files: &Files) {
    for _ in 0..CATCH_UP_ROUNDS {
        match checkpoint(conn) {
            Some(c) if c.log - c.copied > CATCH_UP_FRAMES => files.sync_db(),
            _ => break,
        }
    }
    files.sync_db();
    files.sync_wal();
    // And what was committed during the syncs, which the writer would copy otherwise.
    let _ = checkpoint(conn);
}

/// The database file and its WAL, opened by the checkpoint thread to sync them.
///
/// Never closed: closing a descriptor of a file drops every POSIX lock this process holds
/// on that file, SQLite's included (SQLite guards only against its own descriptors). So
/// they stay open until the process ends, two per store opened.
struct Files {
    db: Option<std::mem::ManuallyDrop<std::fs::File>>,
    wal: Option<std::mem::ManuallyDrop<std::fs::File>>,
}

impl Files {
    fn open(wal_path: &str) -> Files {
        let open = |p: &str| std::fs::File::open(p).ok().map(std::mem::ManuallyDrop::new);
        Files { db: open(wal_path.trim_end_matches("-wal")), wal: open(wal_path) }
    }

    fn sync_db(&self) {
        sync(self.db.as_deref());
    }

    fn sync_wal(&self) {
        sync(self.wal.as_deref());
    }
}

fn sync(file: Option<&std::fs::File>) {
    if let Some(Err(e)) = file.map(std::fs::File::sync_data) {
        tracing::warn!(error = %e, "could not sync a database file; the next checkpoint will");
    }
}

/// What `PRAGMA wal_checkpoint` answered.
#[derive(Debug, Clone, Copy)]
struct Checkpoint {
    /// Another checkpoint was running, or a writer or reader kept this one from finishing.
    busy: bool,
    /// Frames in the WAL.
    log: i64,
    /// Frames copied into the database file (by this checkpoint or earlier ones).
    copied: i64,
}

/// Copies committed WAL frames into the database file without waiting for readers or the
/// writer (`PASSIVE`).
fn checkpoint(c: &Connection) -> Option<Checkpoint> {
    match c.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| {
        Ok(Checkpoint { busy: r.get::<_, i64>(0)? != 0, log: r.get(1)?, copied: r.get(2)? })
    }) {
        Ok(c) => Some(c),
        Err(e) => {
            tracing::warn!(error = %e, "WAL checkpoint failed; retrying later");
            None
        }
    }
}

fn write_loop(mut conn: Connection, rx: mpsc::Receiver<WriteMsg>, cache: Arc<Mutex<DocCache>>, leases: Arc<Leases>) {
    let mut next: Option<WriteMsg> = None;
    loop {
        let msg = match next.take() {
            Some(m) => m,
            None => match rx.recv() {
                Ok(m) => m,
                Err(_) => return,
            },
        };
        match msg {
            WriteMsg::Run(task) => run_task(task, &mut conn),
            WriteMsg::Stop(ack) => {
                drop(conn);
                let _ = ack.send(());
                return;
            }
            WriteMsg::Apply(first) => {
                let mut group = vec![first];
                while group.len() < GROUP_MAX {
                    match rx.try_recv() {
                        Ok(WriteMsg::Apply(a)) => group.push(a),
                        Ok(other) => {
                            next = Some(other);
                            break;
                        }
                        Err(_) => break,
                    }
                }
                let group: Vec<Apply> = group.into_iter().map(|a| *a).collect();
                let changes: Vec<&Prepared> = group.iter().map(|a| &a.changes).collect();
                let results = catch_unwind(AssertUnwindSafe(|| commit_group(&mut conn, &changes, &leases)));
                // Before anyone hears of the commit (committed or not: forgetting is harmless).
                cache.lock().unwrap_or_else(|e| e.into_inner()).forget(&changes);
                drop(changes);
                let results: Vec<Result<()>> = match results {
                    Ok(r) => r,
                    Err(_) => {
                        if !conn.is_autocommit() {
                            let _ = conn.execute_batch("ROLLBACK");
                        }
                        group.iter().map(|_| Err(crashed())).collect()
                    }
                };
                // The jobs the committed change sets finished are free to be claimed again
                // (replaced ones: by their successor).
                leases.release(group.iter().zip(&results).filter(|(_, r)| r.is_ok()).flat_map(|(a, _)| {
                    a.changes.done_job_seqs.iter().copied().chain(a.changes.replacing.iter().map(|(seq, _)| *seq))
                }));
                for (a, r) in group.into_iter().zip(results) {
                    let _ = a.reply.send((r, a.changes));
                }
            }
        }
    }
}

fn exec(c: &Connection, sql: &str) -> rusqlite::Result<()> {
    c.prepare_cached(sql)?.execute([])?;
    Ok(())
}

/// Commits change sets in one transaction; answers one result per change set. A failed
/// commit fails every change set.
///
/// Change sets almost always apply, so the group is first applied without savepoints. Only
/// when one fails is the transaction rolled back and the group applied again with a
/// savepoint per change set, so that the failing one rolls back alone and gets its own
/// error. A savepoint journals every page its change set touches (in memory, as
/// `temp_store` is `MEMORY`); with a savepoint per change set the writer spent more time on
/// that journal than on the WAL.
fn commit_group(c: &mut Connection, group: &[&Prepared], leases: &Leases) -> Vec<Result<()>> {
    if let Err(e) = exec(c, "BEGIN IMMEDIATE") {
        return fail_all(group.len(), &e);
    }
    let mut failed = None;
    for p in group {
        if let Err(e) = apply_changes(c, p, leases) {
            failed = Some(e);
            break;
        }
    }
    let results = match failed {
        None => group.iter().map(|_| Ok(())).collect(),
        Some(e) => {
            let _ = exec(c, "ROLLBACK");
            if let [_] = group {
                return vec![Err(e)];
            }
            if let Err(e) = exec(c, "BEGIN IMMEDIATE") {
                return fail_all(group.len(), &e);
            }
            match apply_each_in_a_savepoint(c, group, leases) {
                Ok(results) => results,
                Err(e) => return fail_all(group.len(), &e),
            }
        }
    };
    if let Err(e) = exec(c, "COMMIT") {
        if !c.is_autocommit() {
            let _ = exec(c, "ROLLBACK");
        }
        return fail_all(group.len(), &e);
    }
    results
}

/// Applies each change set in a savepoint of its own, inside the caller's transaction. An
/// error of the savepoints themselves leaves the transaction in an unknown state: it is
/// rolled back, and the error answered.
fn apply_each_in_a_savepoint(
    c: &Connection,
    group: &[&Prepared],
    leases: &Leases,
) -> rusqlite::Result<Vec<Result<()>>> {
    let mut results = Vec::with_capacity(group.len());
    for p in group {
        let step = exec(c, "SAVEPOINT cs").map(|()| apply_changes(c, p, leases)).and_then(|r| {
            let undo = if r.is_err() { exec(c, "ROLLBACK TO cs") } else { Ok(()) };
            undo.and(exec(c, "RELEASE cs")).map(|()| r)
        });
        match step {
            Ok(r) => results.push(r),
            Err(e) => {
                if !c.is_autocommit() {
                    let _ = exec(c, "ROLLBACK");
                }
                return Err(e);
            }
        }
    }
    Ok(results)
}

/// The same error for each of `n` change sets (`rusqlite::Error` is not `Clone`).
fn fail_all(n: usize, e: &rusqlite::Error) -> Vec<Result<()>> {
    (0..n)
        .map(|_| {
            Err(StoreError::Sqlite(match e {
                rusqlite::Error::SqliteFailure(f, m) => rusqlite::Error::SqliteFailure(*f, m.clone()),
                other => rusqlite::Error::SqliteFailure(ffi::Error::new(ffi::SQLITE_ERROR), Some(other.to_string())),
            }))
        })
        .collect()
}

const INSERT_DOC: &str = "INSERT INTO docs (kind, id, account_id, parent_id, unique_key, data, version, created_at, updated_at) \
                          VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)";
const UPDATE_DOC: &str = "UPDATE docs SET data = ?1, version = version + 1, parent_id = ?2, unique_key = ?3, updated_at = ?4 \
                          WHERE kind = ?5 AND id = ?6 AND version = ?7";
const INSERT_JOB: &str = "INSERT INTO jobs (id, kind, payload, due_at, attempts, ordering_key, created_at) \
                          VALUES (?1, ?2, ?3, ?4, 0, ?5, ?6)";
/// A claimed job overwritten by the one that follows it (`ChangeSet::replace_job`): as
/// [`INSERT_JOB`] into the row `?7`, unclaimed and with no attempts.
const REPLACE_JOB: &str = "UPDATE jobs SET id = ?1, kind = ?2, payload = ?3, due_at = ?4, attempts = 0, \
                           ordering_key = ?5, created_at = ?6, lease_until = NULL, lease_owner = NULL, \
                           last_error = NULL WHERE seq = ?7";
const UPSERT_SETTING: &str =
    "INSERT INTO settings (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value";

/// The statements of one change set, inside a transaction the caller owns.
fn apply_changes(c: &Connection, p: &Prepared, leases: &Leases) -> Result<()> {
    let now = p.now;
    for d in &p.inserts {
        c.prepare_cached(INSERT_DOC)?
            .execute(params![
                d.kind,
                d.id,
                d.account_id,
                d.parent_id,
                d.unique_key,
                d.data,
                d.version,
                d.created_at,
                now
            ])
            .map_err(map_write_err)?;
    }
    for d in &p.updates {
        let n = c
            .prepare_cached(UPDATE_DOC)?
            .execute(params![d.data, d.parent_id, d.unique_key, now, d.kind, d.id, d.version])
            .map_err(map_write_err)?;
        if n != 1 {
            return Err(StoreError::Conflict);
        }
    }
    for (kind, id) in &p.deletes {
        c.prepare_cached("DELETE FROM docs WHERE kind = ?1 AND id = ?2")?.execute(params![kind, id])?;
    }
    for (from, to) in &p.cancelled_jobs {
        c.prepare_cached(CANCEL_JOBS)?.execute(params![from, to, leases.held_json(i64::MIN)])?;
    }
    for (id, kind, payload, due_at, ordering_key) in &p.jobs {
        c.prepare_cached(INSERT_JOB)?
            .execute(params![id, kind, payload, due_at, ordering_key, now])
            .map_err(map_write_err)?;
    }
    for (hash, account, prefix) in &p.api_keys {
        c.prepare_cached("INSERT INTO api_keys (key_hash, account_id, prefix, created_at) VALUES (?1, ?2, ?3, ?4)")?
            .execute(params![hash, account, prefix, now])
            .map_err(map_write_err)?;
    }
    for (k, v) in &p.settings {
        c.prepare_cached(UPSERT_SETTING)?.execute(params![k, v])?;
    }
    for add in &p.counters {
        let value: i64 = c
            .prepare_cached(&crate::ADD_COUNTER.replace('$', "?"))?
            .query_row(params![add.key, add.delta], |r| r.get(0))?;
        if add.exceeded(value) {
            return Err(StoreError::Conflict);
        }
    }
    for (seq, (id, kind, payload, due_at, ordering_key)) in &p.replacing {
        let n = c
            .prepare_cached(REPLACE_JOB)?
            .execute(params![id, kind, payload, due_at, ordering_key, now, seq])
            .map_err(map_write_err)?;
        if n != 1 {
            return Err(StoreError::Conflict);
        }
    }
    for seq in &p.done_job_seqs {
        c.prepare_cached("DELETE FROM jobs WHERE seq = ?1")?.execute([seq])?;
    }
    Ok(())
}

/// A document from the columns `kind, id, account_id, parent_id, unique_key, data, version,
/// created_at`, in that order.
pub(crate) fn doc_from_row(r: &Row<'_>) -> rusqlite::Result<Doc> {
    let (doc, text) = doc_text_from_row(r)?;
    Ok(Doc { data: serde_json::from_str(&text).unwrap_or(Value::Null), ..doc })
}

/// A document without its content, and the content's JSON text, from the same columns as
/// [`doc_from_row`].
pub(crate) fn doc_text_from_row(r: &Row<'_>) -> rusqlite::Result<(Doc, String)> {
    let doc = Doc {
        kind: r.get(0)?,
        id: r.get(1)?,
        account_id: r.get(2)?,
        parent_id: r.get(3)?,
        unique_key: r.get(4)?,
        data: Value::Null,
        json: None,
        version: r.get(6)?,
        created_at: from_ms(r.get(7)?),
    };
    Ok((doc, r.get(5)?))
}

/// A job from the columns `seq, id, kind, payload, due_at, attempts`, in that order.
pub(crate) fn job_from_row(r: &Row<'_>) -> rusqlite::Result<Job> {
    Ok(Job {
        seq: r.get(0)?,
        id: r.get(1)?,
        kind: r.get(2)?,
        payload: Payload::from_stored(r.get(3)?),
        due_at: from_ms(r.get(4)?),
        attempts: r.get(5)?,
    })
}

/// One optional row through a cached statement.
pub(crate) fn query_opt<T, P: rusqlite::Params>(
    c: &Connection,
    sql: &str,
    params: P,
    f: impl FnOnce(&Row<'_>) -> rusqlite::Result<T>,
) -> Result<Option<T>> {
    Ok(c.prepare_cached(sql)?.query_row(params, f).optional()?)
}

/// Every row through a cached statement.
pub(crate) fn query_all<T, P: rusqlite::Params>(
    c: &Connection,
    sql: &str,
    params: P,
    f: impl FnMut(&Row<'_>) -> rusqlite::Result<T>,
) -> Result<Vec<T>> {
    let mut st = c.prepare_cached(sql)?;
    let rows = st.query_map(params, f)?;
    Ok(rows.collect::<rusqlite::Result<Vec<T>>>()?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rusqlite::StatementStatus;

    fn row(kind: &str, id: &str) -> DocRow {
        DocRow {
            kind: kind.into(),
            id: id.into(),
            account_id: "a".into(),
            parent_id: None,
            unique_key: None,
            data: "{}".into(),
            version: 0,
            created_at: 0,
        }
    }

    fn changes(updates: Vec<DocRow>, deletes: Vec<(String, String)>) -> Prepared {
        Prepared {
            now: 0,
            inserts: vec![],
            updates,
            deletes,
            jobs: vec![],
            cancelled_jobs: vec![],
            api_keys: vec![],
            settings: vec![],
            counters: vec![],
            replacing: vec![],
            done_job_seqs: vec![],
        }
    }

    /// A read that missed the cache and raced a commit must not put back what the commit
    /// replaced.
    #[test]
    fn a_read_older_than_a_commit_is_not_cached() {
        let mut cache = DocCache::default();
        let old = Doc::new("t", "1", "a", serde_json::json!({"v": 1}), chrono::Utc::now());
        let epoch = cache.epoch;
        // The commit of version 2 lands while the read of version 1 is under way.
        cache.forget(&[&changes(vec![row("t", "1")], vec![])]);
        cache.fill(&old, epoch);
        assert!(cache.get("t", "1").is_none());
        // A read begun after it is kept, until the next commit touching any document.
        cache.fill(&old, cache.epoch);
        assert_eq!(cache.get("t", "1"), Some(old.clone()));
        cache.forget(&[&changes(vec![], vec![("t".into(), "1".into())])]);
        assert!(cache.get("t", "1").is_none());
        // A commit of inserts only leaves the cache and its epoch alone.
        let epoch = cache.epoch;
        cache.forget(&[&changes(vec![], vec![])]);
        assert_eq!(cache.epoch, epoch);
    }

    #[test]
    fn the_cache_keeps_at_most_its_size() {
        let mut cache = DocCache::default();
        for i in 0..DOC_CACHE_MAX + 10 {
            let d = Doc::new("t", i.to_string(), "a", serde_json::json!({}), chrono::Utc::now());
            cache.fill(&d, cache.epoch);
        }
        assert_eq!(cache.docs.len(), DOC_CACHE_MAX);
    }

    /// A store on a fresh file in a directory of its own (removed by the caller), so reads
    /// go through the point-read connections and the cache as in a server.
    async fn file_store() -> (crate::Store, std::path::PathBuf) {
        let dir = std::env::temp_dir().join(format!("dialtone-cache-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let store = crate::Store::connect(&format!("sqlite://{}", dir.join("t.db").display())).await.unwrap();
        (store, dir)
    }

    /// One process at a time owns a file; the next may once the first has closed it.
    #[tokio::test]
    async fn a_file_is_owned_by_one_store_at_a_time() {
        let (a, dir) = file_store().await;
        let url = format!("sqlite://{}", dir.join("t.db").display());
        let b = crate::Store::connect(&url).await.unwrap();
        a.own().unwrap();
        a.own().unwrap();
        let refused = b.own().unwrap_err();
        assert!(matches!(refused, StoreError::InUse(_)));
        assert!(refused.to_string().contains("is in use by another `dialtone serve`"), "{refused}");
        a.close().await;
        b.own().unwrap();
        b.close().await;
        let _ = std::fs::remove_dir_all(dir);
    }

    /// Through the store: a document read (and cached) then updated or deleted reads back
    /// as written.
    #[tokio::test]
    async fn reads_through_the_cache_see_every_acknowledged_write() {
        use crate::ChangeSet;
        let (store, dir) = file_store().await;
        let now = chrono::Utc::now();
        let d = Doc::new("t", "1", "a", serde_json::json!({"v": 1}), now);
        store.apply(&ChangeSet::new().insert(d)).await.unwrap();
        for v in 2..20 {
            let mut got = store.get("t", "1").await.unwrap().unwrap();
            assert_eq!(got.data["v"], v - 1);
            assert_eq!(store.get("t", "1").await.unwrap().unwrap(), got, "a second read differs");
            got.data = serde_json::json!({"v": v});
            store.apply(&ChangeSet::new().update(got)).await.unwrap();
        }
        let last = store.get("t", "1").await.unwrap().unwrap();
        assert_eq!((last.data["v"].as_i64(), last.version), (Some(19), 18));
        store.apply(&ChangeSet::new().delete("t", "1")).await.unwrap();
        assert!(store.get("t", "1").await.unwrap().is_none());
        store.close().await;
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// Reads by unique key are cached too, absences included: an insert with the key, an
    /// update or a delete of a document of the kind is seen at once.
    #[tokio::test]
    async fn reads_by_unique_key_see_every_acknowledged_write() {
        use crate::ChangeSet;
        let (store, dir) = file_store().await;
        let now = chrono::Utc::now();
        let v = |d: Option<Doc>| d.map(|d| d.data["v"].as_i64().unwrap());
        for _ in 0..2 {
            assert_eq!(v(store.get_unique("n", "+1555").await.unwrap()), None);
        }
        let other = Doc::new("other", "9", "a", serde_json::json!({"v": 0}), now).unique("+1555");
        store.apply(&ChangeSet::new().insert(other)).await.unwrap();
        assert_eq!(v(store.get_unique("n", "+1555").await.unwrap()), None, "another kind's key");
        let d = Doc::new("n", "1", "a", serde_json::json!({"v": 1}), now).unique("+1555");
        store.apply(&ChangeSet::new().insert(d)).await.unwrap();
        assert_eq!(v(store.get_unique("n", "+1555").await.unwrap()), Some(1), "an insert ends an absence");
        let mut got = store.get_unique("n", "+1555").await.unwrap().unwrap();
        got.data = serde_json::json!({"v": 2});
        store.apply(&ChangeSet::new().update(got)).await.unwrap();
        assert_eq!(v(store.get_unique("n", "+1555").await.unwrap()), Some(2));
        // An update can move the key.
        let mut got = store.get_unique("n", "+1555").await.unwrap().unwrap();
        got.unique_key = Some("+1666".into());
        store.apply(&ChangeSet::new().update(got)).await.unwrap();
        assert_eq!(v(store.get_unique("n", "+1555").await.unwrap()), None);
        assert_eq!(v(store.get_unique("n", "+1666").await.unwrap()), Some(2));
        store.apply(&ChangeSet::new().delete("n", "1")).await.unwrap();
        assert_eq!(v(store.get_unique("n", "+1666").await.unwrap()), None);
        store.close().await;
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn the_unique_key_cache_keeps_at_most_its_size() {
        let mut cache = DocCache::default();
        for i in 0..(DOC_CACHE_MAX + 10) {
            cache.fill_unique("k", &i.to_string(), None, 0);
        }
        assert!(cache.unique_len <= DOC_CACHE_MAX);
        assert_eq!(cache.unique_len, cache.unique.values().map(HashMap::len).sum::<usize>());
        // A fill that raced a commit is not kept.
        cache.forget(&[&changes(vec![row("k", "x")], vec![])]);
        cache.fill_unique("k", "late", None, 0);
        assert_eq!(cache.get_unique("k", "late"), None);
    }

    /// A claim must reuse its prepared statements, not parse and plan them again.
    #[test]
    fn claims_do_not_prepare_their_statements_again() {
        let mut c = open(None).unwrap();
        crate::migrate::sqlite(&mut c).unwrap();
        let one = CLAIM_ONE.replace("{first}", crate::FIRST_OF_KEY);
        for seq in [1_i64, 2, 3, 1] {
            let _ = query_all(&c, DUE_SEQS, [seq], |r| r.get::<_, i64>(0)).unwrap();
            let _ = query_opt(&c, &one, [seq], job_from_row).unwrap();
        }
        for sql in [DUE_SEQS, one.as_str()] {
            let st = c.prepare_cached(sql).unwrap();
            assert_eq!(st.get_status(StatementStatus::RePrepare), 0, "{sql} was prepared again");
        }
    }

    fn inserts(rows: Vec<DocRow>) -> Prepared {
        Prepared { inserts: rows, ..changes(vec![], vec![]) }
    }

    fn ids(c: &Connection) -> Vec<String> {
        query_all(c, "SELECT id FROM docs ORDER BY id", [], |r| r.get(0)).unwrap()
    }

    /// A group commits whole when every change set applies; when one fails, only it is
    /// left out, with its own error, and the others commit, each whole.
    #[test]
    fn a_failing_change_set_in_a_group_fails_alone() {
        let mut c = open(None).unwrap();
        crate::migrate::sqlite(&mut c).unwrap();
        let ok =
            commit_group(&mut c, &[&inserts(vec![row("t", "1")]), &inserts(vec![row("t", "2")])], &Leases::default());
        assert!(ok.iter().all(Result::is_ok), "{ok:?}");
        assert_eq!(ids(&c), ["1", "2"]);

        // The second inserts a new row and then one that exists: none of it may stay.
        let dup = inserts(vec![row("t", "4"), row("t", "1")]);
        let stale = changes(vec![DocRow { version: 7, ..row("t", "2") }], vec![]);
        let group = [&inserts(vec![row("t", "3")]), &dup, &stale, &inserts(vec![row("t", "5"), row("t", "6")])];
        let results = commit_group(&mut c, &group, &Leases::default());
        assert!(results[0].is_ok() && results[3].is_ok(), "{results:?}");
        assert!(matches!(results[1], Err(StoreError::Duplicate)), "{results:?}");
        assert!(matches!(results[2], Err(StoreError::Conflict)), "{results:?}");
        assert_eq!(ids(&c), ["1", "2", "3", "5", "6"]);
        assert!(c.is_autocommit(), "the transaction was left open");

        // A change set failing alone leaves nothing behind either.
        let r = commit_group(&mut c, &[&inserts(vec![row("t", "7"), row("t", "2")])], &Leases::default());
        assert!(matches!(r[..], [Err(StoreError::Duplicate)]), "{r:?}");
        assert_eq!(ids(&c), ["1", "2", "3", "5", "6"]);
    }

    /// Savepoint journals stay in memory: on disk, each group commit with savepoints wrote
    /// a temporary file, and those writes stalled commits.
    #[test]
    fn statement_journals_are_kept_in_memory() {
        let c = open(None).unwrap();
        let mode: i64 = c.query_row("PRAGMA temp_store", [], |r| r.get(0)).unwrap();
        assert_eq!(mode, 2, "temp_store should be MEMORY");
    }

    /// A backend on a fresh file in a directory of its own (removed by the caller): the
    /// backend, the directory and the file's path.
    fn fresh_file() -> (Sqlite, std::path::PathBuf, String) {
        let dir = std::env::temp_dir().join(format!("dialtone-wal-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("t.db").to_string_lossy().into_owned();
        (Sqlite::open(Some(&path)).unwrap(), dir, path)
    }

    async fn page_size(db: &Sqlite) -> i64 {
        db.read(|c| Ok(c.query_row("PRAGMA page_size", [], |r| r.get(0))?)).await.unwrap()
    }

    #[tokio::test]
    async fn a_new_file_has_the_chosen_pages_and_an_older_file_keeps_its_own() {
        let (db, dir, _) = fresh_file();
        assert_eq!(page_size(&db).await, PAGE_SIZE);
        db.close().await;
        // A file created with other pages (2 kB, as files made before 2026-12-07 have)
        // opens and keeps them.
        let old = dir.join("old.db").to_string_lossy().into_owned();
        let c = Connection::open(&old).unwrap();
        c.execute_batch("PRAGMA page_size = 2048; PRAGMA journal_mode = WAL; CREATE TABLE t (x INTEGER);").unwrap();
        drop(c);
        let db = Sqlite::open(Some(&old)).unwrap();
        assert_eq!(page_size(&db).await, 2048);
        put_setting(&db, "k".into(), "v".into()).await;
        db.close().await;
        let _ = std::fs::remove_dir_all(&dir);
    }

    async fn put_setting(db: &Sqlite, key: String, value: String) {
        db.write(move |c| {
            c.execute("INSERT INTO settings (key, value) VALUES (?1, ?2)", params![key, value])?;
            Ok(())
        })
        .await
        .unwrap();
    }

    /// Under commits that never stop, the checkpoint thread catches up and the writer starts
    /// the WAL over about every [`WAL_RESTART_EVERY`], and nothing written is lost.
    #[tokio::test]
    async fn the_wal_starts_over_under_a_stream_of_commits() {
        let (db, dir, _) = fresh_file();
        let value = "y".repeat(6_000);
        let mut n = 0_i64;
        // The WAL's frames as a reader sees them, and how often they went down.
        let (mut last_frames, mut restarts) = (0, 0);
        let start = std::time::Instant::now();
        while start.elapsed() < Duration::from_millis(3_500) {
            if n % 200 == 0
                && let Some(frames) = db.read(|c| Ok(checkpoint(c).map(|c| c.log))).await.unwrap()
                && frames >= 0
            {
                restarts += usize::from(frames < last_frames);
                last_frames = frames;
            }
            put_setting(&db, format!("s{n}"), value.clone()).await;
            n += 1;
        }
        assert!(restarts >= 2, "the WAL started over {restarts} times in 3.5 s");
        let rows: i64 = db
            .read(|c| Ok(c.query_row("SELECT COUNT(*) FROM settings WHERE key LIKE 's%'", [], |r| r.get(0))?))
            .await
            .unwrap();
        assert_eq!(rows, n);
        db.close().await;
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[tokio::test]
    async fn an_idle_database_gives_back_its_wal_file() {
        let (db, dir, path) = fresh_file();
        let big = "x".repeat(20_000);
        for i in 0..150 {
            put_setting(&db, format!("k{i}"), big.clone()).await;
        }
        let wal = format!("{path}-wal");
        let grown = std::fs::metadata(&wal).unwrap().len();
        assert!(grown > WAL_IDLE_SIZE, "the WAL should have grown past the idle size: {grown} bytes");
        // Idle now: within a few checkpoint periods the WAL file is truncated.
        let mut size = grown;
        for _ in 0..100 {
            tokio::time::sleep(Duration::from_millis(50)).await;
            size = std::fs::metadata(&wal).map_or(0, |m| m.len());
            if size == 0 {
                break;
            }
        }
        assert_eq!(size, 0, "the idle WAL file was not truncated");
        // Nothing was lost, and writing goes on.
        let n: i64 = db
            .read(|c| Ok(c.query_row("SELECT COUNT(*) FROM settings WHERE key LIKE 'k%'", [], |r| r.get(0))?))
            .await
            .unwrap();
        assert_eq!(n, 150);
        db.write(|c| {
            c.execute("INSERT INTO settings (key, value) VALUES ('after', 'yes')", [])?;
            Ok(())
        })
        .await
        .unwrap();
        db.close().await;
        let _ = std::fs::remove_dir_all(&dir);
    }
}
