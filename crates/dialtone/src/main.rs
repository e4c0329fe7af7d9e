//! `dialtone`: the server and its administration commands.

mod commands;

use clap::{Parser, Subcommand};
use dialtone::Config;
use std::io::Write;
use tokio_util::sync::CancellationToken;

macro_rules! say {
    ($out:expr, $($arg:tt)*) => {{
        let _ = writeln!($out, $($arg)*);
    }};
}

#[derive(Parser)]
#[command(name = "dialtone", version, about = "A local Telnyx API v2 server with a simulated carrier network")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Args, Clone)]
struct DbArg {
    /// sqlite://PATH, sqlite::memory: or postgres://...
    #[arg(long, env = "DIALTONE_DATABASE", default_value = "sqlite://dialtone.db")]
    database: String,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server.
    Serve {
        /// Address to listen on.
        #[arg(long, env = "DIALTONE_LISTEN", default_value = "127.0.0.1:4010")]
        listen: String,
        #[command(flatten)]
        db: DbArg,
        /// API key of the root account (generated on first start when absent).
        #[arg(long, env = "DIALTONE_API_KEY", hide_env_values = true)]
        api_key: Option<String>,
        /// Base64 of the root account's 32-byte Ed25519 seed for webhook signatures.
        #[arg(long, env = "DIALTONE_SIGNING_KEY", hide_env_values = true)]
        signing_key: Option<String>,
        /// `real` (default) or `manual`: a manual clock moves only through
        /// POST /_dialtone/sim/clock/advance.
        #[arg(long, env = "DIALTONE_CLOCK", default_value = "real", value_parser = ["real", "manual"])]
        clock: String,
        /// Requests per second allowed per API key (off when absent).
        #[arg(long, env = "DIALTONE_RATE_LIMIT")]
        rate_limit: Option<u32>,
        /// Scheduler workers in this process.
        #[arg(long, env = "DIALTONE_WORKERS", default_value_t = 1)]
        workers: usize,
    },
    /// Manage organization users (acts on the database directly).
    Users {
        #[command(subcommand)]
        command: UsersCommand,
    },
    /// Send and read messages (a client of the API: TELNYX_BASE_URL, TELNYX_API_KEY).
    Messages {
        #[command(flatten)]
        conn: commands::Conn,
        #[command(subcommand)]
        command: commands::Messages,
    },
    /// Dial and command calls.
    Calls {
        #[command(flatten)]
        conn: commands::Conn,
        #[command(subcommand)]
        command: commands::Calls,
    },
    /// Create and list video rooms.
    Rooms {
        #[command(flatten)]
        conn: commands::Conn,
        #[command(subcommand)]
        command: commands::Rooms,
    },
    /// Drive Dialtone's simulation: the clock, inbound messages and calls, far ends, events.
    Sim {
        #[command(flatten)]
        conn: commands::Conn,
        #[command(subcommand)]
        command: commands::Sim,
    },
    /// Receive webhooks locally.
    Webhooks {
        #[command(flatten)]
        conn: commands::Conn,
        #[command(subcommand)]
        command: commands::Webhooks,
    },
}

#[derive(Subcommand)]
enum UsersCommand {
    /// Add a user to an account's organization (the root account's by default).
    Add {
        #[command(flatten)]
        db: DbArg,
        /// The user's email address.
        #[arg(long)]
        email: String,
        /// A group to put the user in (repeatable; created when new).
        #[arg(long = "group")]
        groups: Vec<String>,
        /// The account whose organization gets the user.
        #[arg(long)]
        account: Option<String>,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("DIALTONE_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    match Cli::parse().command {
        Command::Serve { listen, db, api_key, signing_key, clock, rate_limit, workers } => {
            let config = Config {
                database: db.database,
                api_key,
                signing_key,
                manual_clock: clock == "manual",
                rate_limit,
                workers,
            };
            serve(config, &listen).await
        }
        Command::Users { command: UsersCommand::Add { db, email, groups, account } } => {
            let store = dialtone_store::Store::connect(&db.database).await?;
            let engine = dialtone_engine::Engine::new(store, dialtone_domain::clock::Clock::Real);
            let account = match account {
                Some(a) => a,
                None => engine
                    .root_account_id()
                    .await
                    .map_err(|e| anyhow::anyhow!(e.detail))?
                    .ok_or_else(|| anyhow::anyhow!("no root account yet: run `dialtone serve` once first"))?,
            };
            let user = engine.add_user(&account, &email, &groups).await.map_err(|e| anyhow::anyhow!(e.detail))?;
            println!("{}", serde_json::to_string_pretty(&user.to_json(true))?);
            Ok(())
        }
        Command::Messages { conn, command } => commands::messages(conn, command).await,
        Command::Calls { conn, command } => commands::calls(conn, command).await,
        Command::Rooms { conn, command } => commands::rooms(conn, command).await,
        Command::Sim { conn, command } => commands::sim(conn, command).await,
        Command::Webhooks { conn, command } => commands::webhooks(conn, command).await,
    }
}

async fn serve(config: Config, listen: &str) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(listen).await?;
    let shutdown = CancellationToken::new();
    let running = dialtone::start(config, listener, shutdown.clone()).await?;
    let base = format!("http://{}", running.addr);
    // A closed stdout (piped into `head`, say) must not stop the server.
    let mut out = std::io::stdout().lock();
    say!(out, "Dialtone is listening on {base}");
    say!(out, "  TELNYX_BASE_URL={base}/v2");
    match &running.info.api_key {
        Some(k) => say!(out, "  TELNYX_API_KEY={k}"),
        None => say!(
            out,
            "  TELNYX_API_KEY=<the key printed at first start; only its hash is stored — pass --api-key to choose one>"
        ),
    }
    say!(out, "  TELNYX_PUBLIC_KEY={}", running.info.public_key);
    let _ = out.flush();
    drop(out);
    tokio::spawn(async move {
        wait_for_signal().await;
        shutdown.cancel();
    });
    running.task.await??;
    Ok(())
}

async fn wait_for_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).expect("SIGTERM handler");
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}
