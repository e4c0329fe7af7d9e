//! The one scheduler. Every timer in Dialtone is a job row with a due time on the domain
//! clock; workers claim due jobs (several processes may share a PostgreSQL database: a job
//! is leased to one of them), run the handler for its kind, and commit the handler's
//! change set together with the job's removal. A handler that fails is retried with
//! backoff. On the manual clock nothing is due until the clock is advanced, and
//! [`Scheduler::run_due`] then runs everything that became due before it returns.
//!
//! A kind may also have a batch handler: the jobs of that kind claimed together run as
//! one call and one commit (a burst of scheduled messages firing at once reads their
//! documents in one read and writes them in one transaction). A batch whose handler or
//! commit fails is run again job by job with the kind's own handler, so a batch never
//! changes what happens, only what it costs.

use crate::{Engine, store_err};
use chrono::Utc;
use dialtone_domain::error::Result;
use dialtone_domain::jobs;
use dialtone_store::{ChangeSet, Job};
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

/// What a handler returns: the changes its job makes, or why it failed (retried).
pub type HandlerResult = std::result::Result<ChangeSet, String>;
type BoxFut = Pin<Box<dyn Future<Output = HandlerResult> + Send>>;
type HandlerFn = Arc<dyn Fn(Engine, Job) -> BoxFut + Send + Sync>;
/// A batch handler's jobs are shared with the scheduler, which runs them one by one if the
/// batch fails (a copy of them for each batch cost the claimed payloads' allocations again).
type BatchFn = Arc<dyn Fn(Engine, Arc<[Job]>) -> BoxFut + Send + Sync>;

/// How long a claimed job is reserved for its worker before another may take it; longer
/// than any job runs (the longest webhook timeout is 30 s).
const LEASE: Duration = Duration::from_secs(45);
/// Jobs one worker runs at once.
pub const MAX_IN_FLIGHT: usize = 1024;
/// How often an idle worker looks for jobs written by other processes.
const POLL: Duration = Duration::from_millis(200);
/// The least time between two claims of a worker when the first did not fill its batch
/// (kept short: it adds up to this much to a webhook's time from event to delivery).
/// Every commit that adds a job and every finished job wakes the worker: under load it
/// claimed after each, a few jobs at a time, each claim a write transaction (and, when it
/// found nothing, a read of the next due time). Waiting this long lets due jobs gather into
/// larger claims and batches; a job waits at most this much longer.
const CLAIM_PACE: Duration = Duration::from_millis(1);
/// Jobs claimed at once, at most.
const BATCH: i64 = 256;

#[derive(Clone)]
pub struct Scheduler {
    engine: Engine,
    handlers: Arc<HashMap<&'static str, HandlerFn>>,
    batches: Arc<HashMap<&'static str, BatchFn>>,
}

impl std::fmt::Debug for Scheduler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scheduler").field("kinds", &self.handlers.keys().collect::<Vec<_>>()).finish()
    }
}

#[derive(Default)]
pub struct Builder {
    handlers: HashMap<&'static str, HandlerFn>,
    batches: HashMap<&'static str, BatchFn>,
}

impl Builder {
    /// A builder with the engine's own job kinds; the composition root adds the rest
    /// (the webhook worker lives in its own crate).
    pub fn standard() -> Builder {
        Builder::default()
            .handler(jobs::SIM_TIMER, crate::timers::fire)
            .handler(dialtone_domain::messaging::STEP_JOB, crate::messages::step)
            .batch_handler(dialtone_domain::messaging::STEP_JOB, crate::messages::step_batch)
            .handler(dialtone_domain::calls::TIMER_JOB, crate::calls::fire_timer)
            .handler(dialtone_domain::calls::STREAM_JOB, crate::calls::run_stream_op)
            .handler(jobs::NUMBER_ORDER_COMPLETE, crate::orders::complete_order)
            .handler(jobs::MESSAGING_BULK_UPDATE, crate::numbers::run_bulk_update)
            .handler(dialtone_domain::video::sessions::END_JOB, crate::video::end_session)
            .handler(dialtone_domain::video::recordings::COMPLETE_JOB, crate::video::complete_recording)
            .handler(dialtone_domain::video::compositions::STEP_JOB, crate::video::step_composition)
    }

    pub fn handler<F, Fut>(mut self, kind: &'static str, f: F) -> Self
    where
        F: Fn(Engine, Job) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = HandlerResult> + Send + 'static,
    {
        self.handlers.insert(kind, Arc::new(move |e, j| Box::pin(f(e, j))));
        self
    }

    /// Runs the jobs of `kind` claimed together as one call, whose changes are committed
    /// with all of them done. The kind needs its own [`Builder::handler`] too: a batch
    /// that fails is run again job by job with it.
    pub fn batch_handler<F, Fut>(mut self, kind: &'static str, f: F) -> Self
    where
        F: Fn(Engine, Arc<[Job]>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = HandlerResult> + Send + 'static,
    {
        self.batches.insert(kind, Arc::new(move |e, j| Box::pin(f(e, j))));
        self
    }

    pub fn build(self, engine: Engine) -> Scheduler {
        Scheduler { engine, handlers: Arc::new(self.handlers), batches: Arc::new(self.batches) }
    }
}

/// Whether a change set leaves jobs that the worker should look at (it may be waiting
/// for a later due time).
fn adds_jobs(cs: &ChangeSet) -> bool {
    !cs.jobs.is_empty() || !cs.replacing.is_empty()
}

/// Claimed jobs as they will run: alone, or in a batch of one kind.
enum Work {
    One(Job),
    Batch(BatchFn, Vec<Job>),
}

impl Work {
    fn len(&self) -> usize {
        match self {
            Work::One(_) => 1,
            Work::Batch(_, jobs) => jobs.len(),
        }
    }
}

impl Scheduler {
    /// Claims and runs one batch; answers how many jobs it ran.
    pub async fn run_once(&self) -> Result<usize> {
        let now = self.engine.clock.now();
        let claimed =
            self.engine.store.claim_jobs(now, &self.engine.instance, LEASE, BATCH).await.map_err(store_err)?;
        let n = claimed.len();
        let mut set = tokio::task::JoinSet::new();
        for work in self.plan(claimed) {
            let this = self.clone();
            set.spawn(async move { this.run_work(work).await });
        }
        while set.join_next().await.is_some() {}
        Ok(n)
    }

    /// Groups claimed jobs: those of a kind with a batch handler run together (when there
    /// are several), the others alone.
    fn plan(&self, claimed: Vec<Job>) -> Vec<Work> {
        let mut out = Vec::new();
        let mut groups: HashMap<&'static str, (BatchFn, Vec<Job>)> = HashMap::new();
        for job in claimed {
            match self.batches.get_key_value(job.kind.as_str()) {
                Some((kind, f)) => groups.entry(*kind).or_insert_with(|| (f.clone(), Vec::new())).1.push(job),
                None => out.push(Work::One(job)),
            }
        }
        for (_, (f, mut jobs)) in groups {
            if jobs.len() == 1 {
                out.extend(jobs.pop().map(Work::One));
            } else {
                out.push(Work::Batch(f, jobs));
            }
        }
        out
    }

    async fn run_work(&self, work: Work) {
        match work {
            Work::One(job) => self.run_job(job).await,
            Work::Batch(f, jobs) => self.run_batch(f, jobs).await,
        }
    }

    async fn run_batch(&self, f: BatchFn, jobs: Vec<Job>) {
        let seqs: Vec<i64> = jobs.iter().map(|j| j.seq).collect();
        let jobs: Arc<[Job]> = jobs.into();
        let result = match f(self.engine.clone(), jobs.clone()).await {
            Ok(cs) => {
                let had_jobs = adds_jobs(&cs);
                let r = self.engine.store.commit_jobs_done(cs, &seqs).await;
                if r.is_ok() && had_jobs {
                    self.engine.wake.notify_one();
                }
                r.map_err(|e| e.to_string())
            }
            Err(e) => Err(e),
        };
        if let Err(error) = result {
            // One job of the batch may be the cause (a document changed meanwhile): each
            // runs again on its own, with its own retries.
            tracing::debug!(%error, jobs = jobs.len(), "batch failed; running its jobs one by one");
            for job in jobs.iter() {
                self.run_job(job.clone()).await;
            }
        }
    }

    async fn run_job(&self, job: Job) {
        let Some(handler) = self.handlers.get(job.kind.as_str()).cloned() else {
            tracing::error!(kind = %job.kind, id = %job.id, "no handler for job kind; dropping it");
            let _ = self.engine.store.apply_with_jobs_done(&ChangeSet::new(), &[job.seq]).await;
            return;
        };
        let outcome = handler(self.engine.clone(), job.clone()).await;
        let result = match outcome {
            Ok(cs) => {
                let had_jobs = adds_jobs(&cs);
                let r = self.engine.store.commit_jobs_done(cs, &[job.seq]).await;
                if had_jobs {
                    self.engine.wake.notify_one();
                }
                r.map_err(|e| e.to_string())
            }
            Err(e) => Err(e),
        };
        if let Err(error) = result {
            if job.attempts >= jobs::MAX_ATTEMPTS {
                tracing::error!(kind = %job.kind, id = %job.id, %error, "job failed for the last time");
                let _ = self.engine.store.apply_with_jobs_done(&ChangeSet::new(), &[job.seq]).await;
                return;
            }
            let jitter = chrono::Duration::milliseconds(rand::random::<u64>() as i64 % 250);
            let due = self.engine.clock.now() + jobs::retry_delay(job.attempts) + jitter;
            tracing::warn!(kind = %job.kind, id = %job.id, %error, attempt = job.attempts, "job failed; retrying");
            let _ = self.engine.store.retry_job(job.seq, due, &error).await;
        }
    }

    /// Runs jobs until none is due now (used after the manual clock moves, so that the
    /// request that moved it returns once everything due has happened).
    pub async fn run_due(&self) -> Result<usize> {
        let mut total = 0;
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        loop {
            let n = self.run_once().await?;
            total += n;
            if n == 0 {
                // A job leased by a background worker is still due: wait for it to finish.
                let next = self.engine.store.next_due().await.map_err(store_err)?;
                let pending_leased = self.engine.store.due_count(self.engine.clock.now()).await.map_err(store_err)?;
                let due_now = next.is_some_and(|t| t <= self.engine.clock.now());
                if !due_now && pending_leased == 0 {
                    return Ok(total);
                }
                if tokio::time::Instant::now() > deadline {
                    return Ok(total);
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        }
    }

    /// The worker loop: keeps up to [`MAX_IN_FLIGHT`] jobs running at once, claiming more
    /// as soon as any finishes, so a slow job (a webhook endpoint that takes its whole
    /// timeout) never holds up the others. Returns when `shutdown` is cancelled, after the
    /// jobs in flight have finished.
    pub async fn run(self, shutdown: CancellationToken) {
        let permits = Arc::new(Semaphore::new(MAX_IN_FLIGHT));
        // When the last claim was made, and whether it took all it could.
        let mut last_claim: Option<(tokio::time::Instant, bool)> = None;
        loop {
            if shutdown.is_cancelled() {
                break;
            }
            let free = permits.available_permits();
            if free == 0 {
                tokio::select! {
                    _ = shutdown.cancelled() => break,
                    p = permits.clone().acquire_owned() => drop(p),
                }
                continue;
            }
            if let Some((at, false)) = last_claim {
                tokio::select! {
                    _ = shutdown.cancelled() => break,
                    _ = tokio::time::sleep_until(at + CLAIM_PACE) => {}
                }
            }
            let now = self.engine.clock.now();
            let limit = (free as i64).min(BATCH);
            let claimed = self.engine.store.claim_jobs(now, &self.engine.instance, LEASE, limit).await;
            last_claim =
                Some((tokio::time::Instant::now(), claimed.as_ref().is_ok_and(|jobs| jobs.len() as i64 == limit)));
            match claimed {
                Ok(jobs) if !jobs.is_empty() => {
                    for work in self.plan(jobs) {
                        let Ok(permit) = permits.clone().acquire_many_owned(work.len() as u32).await else { break };
                        let this = self.clone();
                        tokio::spawn(async move {
                            this.run_work(work).await;
                            drop(permit);
                            // An ordering successor may have become claimable.
                            this.engine.wake.notify_one();
                        });
                    }
                    continue;
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "scheduler could not claim jobs"),
            }
            let wait = self.idle_wait().await;
            tokio::select! {
                _ = shutdown.cancelled() => break,
                _ = self.engine.wake.notified() => {}
                _ = tokio::time::sleep(wait) => {}
            }
        }
        let _ = permits.acquire_many(MAX_IN_FLIGHT as u32).await;
    }

    async fn idle_wait(&self) -> Duration {
        if self.engine.clock.is_manual() {
            return POLL;
        }
        match self.engine.store.next_due().await {
            Ok(Some(due)) => (due - Utc::now()).to_std().unwrap_or(Duration::ZERO).min(POLL),
            _ => POLL,
        }
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
    }
}
