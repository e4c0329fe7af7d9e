//! The composition root: [`run`] wires the store, the engine, the scheduler and the HTTP
//! router together and serves until shutdown. `main.rs` is the command line around it;
//! the integration tests call [`run`] on port 0.

use dialtone_api::{AppState, limits};
use dialtone_domain::clock::Clock;
use dialtone_engine::Engine;
use dialtone_engine::bootstrap::{self, BootInfo};
use dialtone_engine::scheduler::Builder;
use dialtone_store::Store;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// Everything `dialtone serve` is configured with.
#[derive(Clone, Default)]
pub struct Config {
    pub database: String,
    pub api_key: Option<String>,
    pub signing_key: Option<String>,
    pub manual_clock: bool,
    /// Requests per second per API key; `None` for no limit.
    pub rate_limit: Option<u32>,
    /// Scheduler workers in this process (0 runs no background worker: jobs then run only
    /// when the manual clock is advanced, or in another process).
    pub workers: usize,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("database", &self.database)
            .field("api_key", &self.api_key.as_ref().map(|_| "<hidden>"))
            .field("signing_key", &self.signing_key.as_ref().map(|_| "<hidden>"))
            .field("manual_clock", &self.manual_clock)
            .field("rate_limit", &self.rate_limit)
            .field("workers", &self.workers)
            .finish()
    }
}

/// A started server: what to print, and the handle to wait on.
pub struct Running {
    pub info: BootInfo,
    pub addr: std::net::SocketAddr,
    pub engine: Engine,
    pub task: tokio::task::JoinHandle<anyhow::Result<()>>,
}

/// The runtime the scheduler's workers and their jobs run on, beside the one serving
/// requests. Dropped (with the server's task, or when it ends) it stops without waiting:
/// the workers have finished by then, and a runtime may not block in another's thread.
struct JobsRuntime(Option<tokio::runtime::Runtime>);

impl JobsRuntime {
    fn start() -> std::io::Result<JobsRuntime> {
        let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(threads)
            .thread_name("dialtone-jobs")
            .enable_all()
            .build()?;
        Ok(JobsRuntime(Some(rt)))
    }

    fn spawn<F>(&self, f: F) -> tokio::task::JoinHandle<F::Output>
    where
        F: std::future::Future + Send + 'static,
        F::Output: Send + 'static,
    {
        match &self.0 {
            Some(rt) => rt.spawn(f),
            // Only while being dropped.
            None => tokio::spawn(f),
        }
    }
}

impl Drop for JobsRuntime {
    fn drop(&mut self) {
        if let Some(rt) = self.0.take() {
            rt.shutdown_background();
        }
    }
}

/// Opens the store, bootstraps the root account, starts the scheduler and serves HTTP on
/// `listener` until `shutdown` is cancelled. In-flight requests finish before it returns.
pub async fn start(config: Config, listener: TcpListener, shutdown: CancellationToken) -> anyhow::Result<Running> {
    let store = Store::connect(&config.database).await?;
    // One process serves a SQLite file: its job leases and its document cache are in memory.
    if let Err(e) = store.own() {
        store.close().await;
        return Err(e.into());
    }
    let clock = if config.manual_clock { Clock::manual(chrono::Utc::now()) } else { Clock::Real };
    let engine = Engine::new(store.clone(), clock);
    let info = bootstrap::bootstrap(
        &engine,
        &bootstrap::Options {
            api_key: config.api_key.clone(),
            signing_key: config.signing_key.clone(),
            owner_email: None,
        },
    )
    .await
    .map_err(|e| anyhow::anyhow!("{}", e.detail))?;
    let webhooks = dialtone_webhooks::Worker::new();
    let scheduler = webhooks.register(Builder::standard()).build(engine.clone());
    // Job leases hold while this process beats; a killed process's jobs are retaken by
    // the others within seconds.
    engine.store.heartbeat(&engine.instance).await?;
    let beat = {
        let (engine, shutdown) = (engine.clone(), shutdown.clone());
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = shutdown.cancelled() => break,
                    _ = tokio::time::sleep(std::time::Duration::from_secs(1)) => {
                        if let Err(e) = engine.store.heartbeat(&engine.instance).await {
                            tracing::warn!(error = %e, "heartbeat failed");
                        }
                    }
                }
            }
        })
    };
    // After a burst, once the process is idle, the memory the allocator kept goes back to
    // the system.
    let trimmer = {
        let shutdown = shutdown.clone();
        tokio::spawn(async move {
            let mut trimmer = dialtone_alloc::IdleTrimmer::default();
            loop {
                tokio::select! {
                    _ = shutdown.cancelled() => break,
                    _ = tokio::time::sleep(dialtone_alloc::TICK) => {
                        if let Some(ticks) = dialtone_alloc::cpu_ticks()
                            && trimmer.tick(ticks)
                        {
                            let released = dialtone_alloc::release_free_memory();
                            tracing::debug!(released, "idle: gave free memory back to the system");
                        }
                    }
                }
            }
        })
    };
    // Media streams of live calls were tasks of the previous run: open them again.
    let resumed = engine.resume_streams().await.map_err(|e| anyhow::anyhow!("{}", e.detail))?;
    if resumed > 0 {
        tracing::info!(resumed, "media streams of live calls reopened");
    }
    // The jobs run on a runtime of their own: on the requests' runtime, each request waited
    // in the threads' queues behind the steps and webhook deliveries queued before it
    // (paced at 5,000 POST/s, p99 36-46 ms; on their own runtime 15-21 ms).
    let jobs = (config.workers > 0).then(JobsRuntime::start).transpose()?;
    let workers: Vec<_> = jobs
        .iter()
        .flat_map(|jobs| (0..config.workers).map(|_| jobs.spawn(scheduler.clone().run(shutdown.clone()))))
        .collect();
    let state = AppState {
        engine: engine.clone(),
        scheduler,
        rate: Arc::new(limits::RateLimiter::new(config.rate_limit)),
        faults: Arc::new(limits::Faults::default()),
    };
    let app = dialtone_api::router(state);
    let addr = listener.local_addr()?;
    let engine_for_stop = engine.clone();
    let task = tokio::spawn(async move {
        axum::serve(listener, app).with_graceful_shutdown(async move { shutdown.cancelled().await }).await?;
        // Stream sockets close (1001) without `stop`: their calls live on in the store.
        engine_for_stop.close_streams();
        for w in workers {
            let _ = w.await;
        }
        let _ = beat.await;
        let _ = trimmer.await;
        let _ = engine_for_stop.store.forget_instance(&engine_for_stop.instance).await;
        store.close().await;
        drop(jobs);
        Ok(())
    });
    Ok(Running { info, addr, engine, task })
}
