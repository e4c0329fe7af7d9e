//! Each backend owns its schema, applied at start in order and recorded in
//! `dialtone_migrations`. A migration is never edited once released; a change is a new one.

use rusqlite::{Connection, OptionalExtension, TransactionBehavior};
use sqlx::PgPool;

const SQLITE: &[(i64, &str)] = &[
    (
        1,
        r#"
CREATE TABLE docs (
    kind TEXT NOT NULL,
    id TEXT NOT NULL,
    account_id TEXT NOT NULL,
    parent_id TEXT,
    unique_key TEXT,
    data TEXT NOT NULL,
    version INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (kind, id)
);
CREATE UNIQUE INDEX docs_unique ON docs (kind, unique_key) WHERE unique_key IS NOT NULL;
CREATE INDEX docs_account ON docs (kind, account_id, created_at);
CREATE INDEX docs_parent ON docs (kind, parent_id) WHERE parent_id IS NOT NULL;
CREATE TABLE api_keys (
    key_hash TEXT PRIMARY KEY,
    account_id TEXT NOT NULL,
    prefix TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX api_keys_account ON api_keys (account_id);
CREATE TABLE jobs (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    due_at INTEGER NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    ordering_key TEXT,
    lease_until INTEGER,
    lease_owner TEXT,
    last_error TEXT,
    created_at INTEGER NOT NULL
);
CREATE INDEX jobs_due ON jobs (due_at);
CREATE INDEX jobs_ordering ON jobs (ordering_key, seq) WHERE ordering_key IS NOT NULL;
CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"#,
    ),
    (
        2,
        r#"
CREATE TABLE instances (id TEXT PRIMARY KEY, heartbeat_at INTEGER NOT NULL);
"#,
    ),
    (
        3,
        // Counters moved atomically with change sets. The channels a manager has allocated
        // to its managed accounts were summed over their documents on every request; the
        // counter (key `allocated_channels:{manager}`, see the domain's `accounts`) starts
        // from that sum.
        r#"
CREATE TABLE counters (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
INSERT INTO counters (key, value)
    SELECT 'allocated_channels:' || parent_id, SUM(CAST(json_extract(data, '$.channel_limit') AS INTEGER))
    FROM docs WHERE kind = 'account' AND parent_id IS NOT NULL GROUP BY parent_id;
"#,
    ),
    (
        4,
        // The usual claim takes only jobs no one holds, first due first.
        r#"
CREATE INDEX jobs_free ON jobs (due_at, seq) WHERE lease_until IS NULL;
"#,
    ),
    (
        5,
        // Leases live in the memory of the one process that owns the file, never in a row:
        // every job is free to claim, and `jobs_due` (whose entries end with the rowid,
        // `seq`) gives the claim's order. The partial index was one more entry to write for
        // every job added, replaced or removed.
        r#"
DROP INDEX jobs_free;
"#,
    ),
];

const POSTGRES: &[(i64, &str)] = &[
    (
        1,
        r#"
CREATE TABLE docs (
    kind TEXT NOT NULL,
    id TEXT NOT NULL,
    account_id TEXT NOT NULL,
    parent_id TEXT,
    unique_key TEXT,
    data TEXT NOT NULL,
    version BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (kind, id)
);
CREATE UNIQUE INDEX docs_unique ON docs (kind, unique_key) WHERE unique_key IS NOT NULL;
CREATE INDEX docs_account ON docs (kind, account_id, created_at);
CREATE INDEX docs_parent ON docs (kind, parent_id) WHERE parent_id IS NOT NULL;
CREATE TABLE api_keys (
    key_hash TEXT PRIMARY KEY,
    account_id TEXT NOT NULL,
    prefix TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX api_keys_account ON api_keys (account_id);
CREATE TABLE jobs (
    seq BIGSERIAL PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    due_at BIGINT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    ordering_key TEXT,
    lease_until BIGINT,
    lease_owner TEXT,
    last_error TEXT,
    created_at BIGINT NOT NULL
);
CREATE INDEX jobs_due ON jobs (due_at);
CREATE INDEX jobs_ordering ON jobs (ordering_key, seq) WHERE ordering_key IS NOT NULL;
CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"#,
    ),
    (
        2,
        r#"
CREATE TABLE instances (id TEXT PRIMARY KEY, heartbeat_at BIGINT NOT NULL);
"#,
    ),
    (
        3,
        // See the SQLite migration 3.
        r#"
CREATE TABLE counters (key TEXT PRIMARY KEY, value BIGINT NOT NULL);
INSERT INTO counters (key, value)
    SELECT 'allocated_channels:' || parent_id, SUM((data::jsonb ->> 'channel_limit')::bigint)
    FROM docs WHERE kind = 'account' AND parent_id IS NOT NULL GROUP BY parent_id;
"#,
    ),
    (
        4,
        // The usual claim takes only jobs no one holds, first due first.
        r#"
CREATE INDEX jobs_free ON jobs (due_at, seq) WHERE lease_until IS NULL;
"#,
    ),
];

/// `BEGIN IMMEDIATE`: a second process starting on the same file waits for the first
/// and then finds the work done.
pub fn sqlite(conn: &mut Connection) -> rusqlite::Result<()> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    tx.execute_batch("CREATE TABLE IF NOT EXISTS dialtone_migrations (version INTEGER PRIMARY KEY)")?;
    for (version, sql) in SQLITE {
        let done: Option<i64> = tx
            .query_row("SELECT version FROM dialtone_migrations WHERE version = ?1", [version], |r| r.get(0))
            .optional()?;
        if done.is_none() {
            tx.execute_batch(sql)?;
            tx.execute("INSERT INTO dialtone_migrations (version) VALUES (?1)", [version])?;
        }
    }
    tx.commit()
}

/// Several processes may start at once on one database: an advisory lock held for the
/// transaction makes the second wait and then find the work done.
pub async fn postgres(pool: &PgPool) -> Result<(), sqlx::Error> {
    let mut tx = pool.begin().await?;
    sqlx::query("SELECT pg_advisory_xact_lock(4010)").execute(&mut *tx).await?;
    sqlx::query("CREATE TABLE IF NOT EXISTS dialtone_migrations (version BIGINT PRIMARY KEY)")
        .execute(&mut *tx)
        .await?;
    for (version, sql) in POSTGRES {
        let done: Option<i64> = sqlx::query_scalar("SELECT version FROM dialtone_migrations WHERE version = $1")
            .bind(version)
            .fetch_optional(&mut *tx)
            .await?;
        if done.is_none() {
            sqlx::raw_sql(sql).execute(&mut *tx).await?;
            sqlx::query("INSERT INTO dialtone_migrations (version) VALUES ($1)")
                .bind(version)
                .execute(&mut *tx)
                .await?;
        }
    }
    tx.commit().await
}
