//! The durable scheduler on the manual clock, and exactly-once between processes.

use crate::harness::{Options, Process, Server, fresh_database};
use serde_json::json;

/// A job of `kind` due at `due_at`, without payload or ordering key.
fn job_due(id: &str, kind: &str, due_at: chrono::DateTime<chrono::Utc>) -> dialtone_store::NewJob {
    dialtone_store::NewJob { id: id.into(), kind: kind.into(), payload: json!({}).into(), due_at, ordering_key: None }
}

#[tokio::test]
async fn timers_fire_when_the_manual_clock_reaches_them() {
    let s = Server::start().await;
    let t = s.post("/_dialtone/sim/timers", json!({"in_seconds": 30})).await;
    assert_eq!(t.status, 201, "{}", t.text);
    let id = t.body["data"]["id"].as_str().unwrap().to_owned();
    let early =
        s.post("/_dialtone/sim/timers", json!({"in_seconds": 5})).await.body["data"]["id"].as_str().unwrap().to_owned();

    let r = s.post("/_dialtone/sim/clock/advance", json!({"seconds": 10})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["data"]["mode"], "manual");
    assert_eq!(s.get(&format!("/_dialtone/sim/timers/{early}")).await.body["data"]["fired_count"], 1);
    assert_eq!(s.get(&format!("/_dialtone/sim/timers/{id}")).await.body["data"]["fired_count"], 0);

    s.post("/_dialtone/sim/clock/advance", json!({"seconds": 20})).await;
    let fired = s.get(&format!("/_dialtone/sim/timers/{id}")).await.body["data"].clone();
    assert_eq!(fired["fired_count"], 1);
    assert_eq!(fired["fired_at"], fired["due_at"]);
    // Nothing fires twice.
    s.post("/_dialtone/sim/clock/advance", json!({"seconds": 3600})).await;
    assert_eq!(s.get(&format!("/_dialtone/sim/timers/{id}")).await.body["data"]["fired_count"], 1);
}

#[tokio::test]
async fn the_clock_is_validated_and_real_clocks_do_not_move() {
    let s = Server::start().await;
    assert_eq!(s.post("/_dialtone/sim/clock/advance", json!({})).await.status, 422);
    assert_eq!(s.post("/_dialtone/sim/clock/advance", json!({"seconds": -1})).await.status, 422);
    assert_eq!(s.post("/_dialtone/sim/timers", json!({"in_seconds": "soon"})).await.status, 422);
    let other = s.post("/v2/managed_accounts", json!({"business_name": "x"})).await;
    let key = other.body["data"]["api_key"].as_str().unwrap();
    assert_eq!(s.with_key(key).post("/_dialtone/sim/clock/advance", json!({"seconds": 1})).await.status, 403);
    // Timers are the creating account's own.
    let t =
        s.post("/_dialtone/sim/timers", json!({"in_seconds": 1})).await.body["data"]["id"].as_str().unwrap().to_owned();
    assert_eq!(s.with_key(key).get(&format!("/_dialtone/sim/timers/{t}")).await.status, 404);

    let real = Server::start_with(Options { manual_clock: false, ..Options::default() }).await;
    let r = real.post("/_dialtone/sim/clock/advance", json!({"seconds": 1})).await;
    assert_eq!(r.status, 422);
    assert_eq!(real.get("/_dialtone/sim/clock").await.body["data"]["mode"], "real");
}

#[tokio::test]
async fn a_job_whose_worker_fails_is_retried_with_backoff() {
    use dialtone_engine::scheduler::Builder;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    let s = Server::start_with(Options { workers: 0, ..Options::default() }).await;
    let calls = Arc::new(AtomicUsize::new(0));
    let c = calls.clone();
    let sched = Builder::default()
        .handler("test.flaky", move |_e, _j| {
            let n = c.fetch_add(1, Ordering::SeqCst);
            async move { if n < 2 { Err("not yet".to_owned()) } else { Ok(dialtone_store::ChangeSet::new()) } }
        })
        .build(s.engine.clone());
    let now = s.engine.clock.now();
    s.engine.commit(&dialtone_store::ChangeSet::new().job(job_due("flaky-1", "test.flaky", now))).await.unwrap();
    sched.run_due().await.unwrap();
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    // Backoff: 1 s after the first failure, 2 s after the second.
    s.engine.clock.advance(chrono::Duration::milliseconds(1300));
    sched.run_due().await.unwrap();
    assert_eq!(calls.load(Ordering::SeqCst), 2);
    s.engine.clock.advance(chrono::Duration::milliseconds(1000));
    sched.run_due().await.unwrap();
    assert_eq!(calls.load(Ordering::SeqCst), 2, "the second retry waits 2 s");
    s.engine.clock.advance(chrono::Duration::milliseconds(1300));
    sched.run_due().await.unwrap();
    assert_eq!(calls.load(Ordering::SeqCst), 3);
    assert!(s.engine.store.job("flaky-1").await.unwrap().is_none(), "done jobs are removed");
}

/// Jobs of a kind with a batch handler that are due together run as one call, committed
/// with all of them done; a batch whose handler or commit fails runs again job by job with
/// the kind's own handler, so nothing is lost or run twice.
#[tokio::test]
async fn jobs_due_together_run_as_one_batch_or_one_by_one_when_it_fails() {
    use dialtone_engine::scheduler::Builder;
    use dialtone_store::{ChangeSet, Doc};
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{Arc, Mutex};
    let s = Server::start_with(Options { workers: 0, ..Options::default() }).await;
    let engine = s.engine.clone();
    let now = engine.clock.now();
    // How the batch handler behaves: 0 works, 1 fails, 2 answers a change set that cannot
    // commit (a document that already exists).
    let mode = Arc::new(AtomicUsize::new(0));
    let batches = Arc::new(Mutex::new(Vec::<Vec<String>>::new()));
    let singles = Arc::new(Mutex::new(Vec::<String>::new()));
    let (m, b, one) = (mode.clone(), batches.clone(), singles.clone());
    let doc = move |id: &str| Doc::new("test.thing", id, "acct", json!({}), now);
    let single_doc = doc;
    let sched = Builder::default()
        .handler("test.batched", move |_e, j| {
            one.lock().unwrap().push(j.id.clone());
            let d = single_doc(&j.id);
            async move { Ok(ChangeSet::new().insert(d)) }
        })
        .batch_handler("test.batched", move |_e, jobs| {
            b.lock().unwrap().push(jobs.iter().map(|j| j.id.clone()).collect());
            let mode = m.load(Ordering::SeqCst);
            let mut cs = ChangeSet::new();
            for j in jobs.iter() {
                cs = cs.insert(doc(&j.id));
            }
            if mode == 2 {
                cs = cs.insert(doc("taken"));
            }
            async move { if mode == 1 { Err("batch broke".to_owned()) } else { Ok(cs) } }
        })
        .build(engine.clone());
    engine.commit(&ChangeSet::new().insert(Doc::new("test.thing", "taken", "acct", json!({}), now))).await.unwrap();
    let enqueue = |prefix: &str| {
        let mut cs = ChangeSet::new();
        for i in 0..5 {
            cs = cs.job(job_due(&format!("{prefix}-{i}"), "test.batched", now));
        }
        cs
    };
    let things = |prefix: &'static str| {
        let engine = engine.clone();
        async move {
            let docs = engine.store.list("test.thing", Some("acct"), None).await.unwrap();
            docs.iter().filter(|d| d.id.starts_with(prefix)).count()
        }
    };

    engine.commit(&enqueue("a")).await.unwrap();
    assert_eq!(sched.run_due().await.unwrap(), 5);
    assert_eq!(*batches.lock().unwrap(), vec![vec!["a-0", "a-1", "a-2", "a-3", "a-4"]], "one call for the five");
    assert!(singles.lock().unwrap().is_empty());
    assert_eq!(things("a-").await, 5);
    assert!(engine.store.jobs_with_prefix("a-").await.unwrap().is_empty(), "all done in the batch's commit");

    for (m, prefix) in [(1, "b"), (2, "c")] {
        mode.store(m, Ordering::SeqCst);
        singles.lock().unwrap().clear();
        engine.commit(&enqueue(prefix)).await.unwrap();
        assert_eq!(sched.run_due().await.unwrap(), 5);
        let mut ran = singles.lock().unwrap().clone();
        ran.sort();
        assert_eq!(ran, (0..5).map(|i| format!("{prefix}-{i}")).collect::<Vec<_>>(), "mode {m}: each job alone");
        assert_eq!(things(if m == 1 { "b-" } else { "c-" }).await, 5, "mode {m}: every job's effect, once");
        assert!(engine.store.jobs_with_prefix(prefix).await.unwrap().is_empty());
    }
    // A job due alone runs with the single handler.
    mode.store(0, Ordering::SeqCst);
    singles.lock().unwrap().clear();
    engine.commit(&ChangeSet::new().job(job_due("d-0", "test.batched", now))).await.unwrap();
    sched.run_due().await.unwrap();
    assert_eq!(*singles.lock().unwrap(), vec!["d-0"]);
}

/// A change set can cancel the pending jobs under an id prefix (a call's void timers): the
/// unclaimed ones go, a claimed one stays with its worker, other ids and the change set's
/// own new jobs are kept.
#[tokio::test]
async fn jobs_are_cancelled_by_id_prefix_unless_claimed() {
    use dialtone_store::ChangeSet;
    let s = Server::start().await;
    let store = &s.engine.store;
    let now = s.engine.clock.now();
    let job = |id: &str, due_in: i64| job_due(id, "test.noop", now + chrono::Duration::seconds(due_in));
    let cs = ChangeSet::new()
        .job(job("t:a:1", 30))
        .job(job("t:a:2", 600))
        .job(job("t:a:3", 900))
        .job(job("t:ab:1", 600))
        .job(job("t:b:1", 600));
    store.apply(&cs).await.unwrap();
    // Claimed as a worker would when it is due (the server's own worker, on the manual clock,
    // sees nothing due).
    store.heartbeat("someone").await.unwrap();
    let at = now + chrono::Duration::seconds(30);
    let claimed = store.claim_jobs(at, "someone", std::time::Duration::from_secs(60), 10).await.unwrap();
    assert_eq!(claimed.iter().map(|j| j.id.as_str()).collect::<Vec<_>>(), ["t:a:1"]);

    store.apply(&ChangeSet::new().cancel_jobs("t:a:").job(job("t:a:4", 60))).await.unwrap();
    let ids = |jobs: Vec<dialtone_store::Job>| jobs.into_iter().map(|j| j.id).collect::<Vec<_>>();
    assert_eq!(ids(store.jobs_with_prefix("t:a:").await.unwrap()), ["t:a:1", "t:a:4"]);
    assert_eq!(ids(store.jobs_with_prefix("t:").await.unwrap()), ["t:a:1", "t:a:4", "t:ab:1", "t:b:1"]);
    // An empty prefix cancels nothing.
    store.apply(&ChangeSet::new().cancel_jobs("")).await.unwrap();
    assert_eq!(store.jobs_with_prefix("t:").await.unwrap().len(), 4);
}

/// A job held by a process that stopped: on PostgreSQL, whose leases are rows shared by
/// processes, another takes it as soon as the holder's heartbeat is gone; on SQLite, whose
/// one server holds leases in memory, it stays held until its lease runs out.
#[tokio::test]
async fn a_job_held_by_a_stopped_process_is_taken_again_on_postgres() {
    let s = Server::start().await;
    let store = s.engine.store.clone().check_stale_leases_always();
    let on_postgres = store.kind() == dialtone_store::BackendKind::Postgres;
    let soon = s.engine.clock.now() + chrono::Duration::seconds(30);
    store.apply(&dialtone_store::ChangeSet::new().job(job_due("h:1", "test.noop", soon))).await.unwrap();
    let lease = std::time::Duration::from_secs(60);
    store.heartbeat("gone").await.unwrap();
    let held = store.claim_jobs(soon, "gone", lease, 10).await.unwrap();
    assert_eq!(held.len(), 1);
    store.heartbeat("other").await.unwrap();
    assert!(store.claim_jobs(soon, "other", lease, 10).await.unwrap().is_empty(), "held while its holder beats");
    store.forget_instance("gone").await.unwrap();
    let retaken = store.claim_jobs(soon, "other", lease, 10).await.unwrap();
    if on_postgres {
        assert_eq!(retaken.iter().map(|j| (j.seq, j.attempts)).collect::<Vec<_>>(), [(held[0].seq, 2)]);
    } else {
        assert!(retaken.is_empty(), "a SQLite lease holds until it runs out");
    }
}

/// Claimed jobs replaced by the jobs that follow them (a message's next carrier step),
/// several in one change set (a batch): the old ones are gone, the new ones wait for their
/// time, unclaimed. A replaced job that is gone fails the whole change set, which then
/// applies nothing.
#[tokio::test]
async fn claimed_jobs_are_replaced_by_the_jobs_that_follow_them() {
    use dialtone_store::{ChangeSet, StoreError};
    let s = Server::start().await;
    let store = &s.engine.store;
    let now = s.engine.clock.now();
    let soon = now + chrono::Duration::seconds(30);
    store
        .apply(&ChangeSet::new().job(job_due("r:a:1", "test.noop", soon)).job(job_due("r:b:1", "test.noop", soon)))
        .await
        .unwrap();
    store.heartbeat("someone").await.unwrap();
    let lease = std::time::Duration::from_secs(60);
    let claimed = store.claim_jobs(soon, "someone", lease, 10).await.unwrap();
    let seqs: Vec<i64> = claimed.iter().map(|j| j.seq).collect();
    assert_eq!(seqs.len(), 2);

    let later = soon + chrono::Duration::seconds(5);
    let cs = ChangeSet::new()
        .replace_job(seqs[0], job_due("r:a:2", "test.noop", later))
        .replace_job(seqs[1], job_due("r:b:2", "test.noop", later));
    store.apply_with_jobs_done(&cs, &seqs).await.unwrap();
    let ids = |jobs: Vec<dialtone_store::Job>| jobs.into_iter().map(|j| j.id).collect::<Vec<_>>();
    assert_eq!(ids(store.jobs_with_prefix("r:").await.unwrap()), ["r:a:2", "r:b:2"]);
    assert!(store.claim_jobs(soon, "someone", lease, 10).await.unwrap().is_empty(), "not due before their time");
    let next = store.claim_jobs(later, "someone", lease, 10).await.unwrap();
    assert_eq!(next.iter().map(|j| (j.id.as_str(), j.attempts)).collect::<Vec<_>>(), [("r:a:2", 1), ("r:b:2", 1)]);

    // The first is done for good; replacing both fails, and the second keeps its lease.
    store.apply_with_jobs_done(&ChangeSet::new(), &[next[0].seq]).await.unwrap();
    let seqs: Vec<i64> = next.iter().map(|j| j.seq).collect();
    let cs = ChangeSet::new()
        .replace_job(seqs[0], job_due("r:a:3", "test.noop", later))
        .replace_job(seqs[1], job_due("r:b:3", "test.noop", later));
    assert!(matches!(store.apply_with_jobs_done(&cs, &seqs).await, Err(StoreError::Conflict)));
    assert_eq!(ids(store.jobs_with_prefix("r:").await.unwrap()), ["r:b:2"]);
    assert!(store.claim_jobs(later, "someone", lease, 10).await.unwrap().is_empty(), "still leased");
}

/// Two `dialtone serve` processes on one database: both serve the same accounts, and each
/// due job runs exactly once between them. Only meaningful on PostgreSQL: a SQLite file is
/// one process's, so on SQLite a second server is refused while the first runs, and the
/// test runs them one after the other.
#[tokio::test]
async fn two_processes_share_accounts_and_run_each_job_once() {
    let db = fresh_database().await;
    let on_postgres = db.starts_with("postgres");
    let a = Process::spawn(&db, &["--workers", "2"]).await;
    let created = a.post("/v2/managed_accounts", json!({"business_name": "Shared"})).await;
    assert_eq!(created.status, 200);
    let id = created.body["data"]["id"].as_str().unwrap().to_owned();
    let key = created.body["data"]["api_key"].as_str().unwrap().to_owned();
    let mut timers = Vec::new();
    for _ in 0..40 {
        let t = a.post("/_dialtone/sim/timers", json!({"in_milliseconds": 300})).await;
        timers.push(t.body["data"]["id"].as_str().unwrap().to_owned());
    }
    let b = if on_postgres {
        Process::spawn(&db, &["--workers", "2"]).await
    } else {
        // A second server on the same SQLite file refuses to start, and says why.
        let second = std::process::Command::new(env!("CARGO_BIN_EXE_dialtone"))
            .args(["serve", "--listen", "127.0.0.1:0", "--database", &db, "--api-key", crate::harness::ROOT_KEY])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&second.stderr);
        assert!(!second.status.success(), "a second server started: {stderr}");
        assert!(stderr.contains("is in use by another `dialtone serve`"), "{stderr}");
        a.terminate();
        Process::spawn(&db, &["--workers", "2"]).await
    };
    // B serves what A created, with the key A handed out.
    assert_eq!(b.get(&format!("/v2/managed_accounts/{id}")).await.status, 200);
    assert_eq!(b.with_key(&key).get("/v2/organizations/users").await.status, 200);
    let mut fired_by = std::collections::HashSet::new();
    for t in &timers {
        let mut body = json!(null);
        for _ in 0..200 {
            body = b.get(&format!("/_dialtone/sim/timers/{t}")).await.body["data"].clone();
            if body["fired_count"] != 0 {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        }
        assert_eq!(body["fired_count"], 1, "timer {t} fired exactly once: {body}");
        fired_by.insert(body["fired_by"].as_str().unwrap().to_owned());
    }
    if on_postgres {
        // With both processes polling, the jobs were shared between them (not required for
        // correctness, but shows both workers took part).
        eprintln!("timers fired by {} process(es)", fired_by.len());
    }
}
