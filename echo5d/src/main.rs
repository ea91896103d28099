use clap::{CommandFactory, FromArgMatches};
use echo5_core::clock::SystemClock;
use echo5d::config::{self, Cli, Command};
use echo5d::logs::{LOG_RING, LogRing, RingLayer};
use echo5d::run::{self, StartError};
use std::io::IsTerminal;
use std::process::ExitCode;
use std::sync::Arc;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// mimalloc instead of glibc malloc, for Rust and (feature `override`) SQLite allocations:
/// see the note in Cargo.toml (measured with bench/ingest.sh).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc asks for transparent huge pages for its arenas. The first touch of a huge page
/// zeroes 2 MiB at once, and on a VM whose memory the host backs lazily (this machine) it
/// took ~4.4 ms. The writer grows its dedup windows and page cache all the time, so at c64
/// ingest ~20 group commits a second stalled that long inside one INSERT, and that set the
/// p99 (10-16 ms; 4-5 ms without). 4 KiB pages spread the same cost evenly. The flag holds
/// for the whole process and its children.
fn no_transparent_huge_pages() {
    if let Err(e) = rustix::thread::disable_transparent_huge_pages(true) {
        eprintln!("echo5d: transparent huge pages stay on: {e}");
    }
}

fn main() -> ExitCode {
    no_transparent_huge_pages();
    let matches = Cli::command().get_matches();
    let cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    let mut filter = EnvFilter::try_new(&cli.serve.log).unwrap_or_else(|_| EnvFilter::new("info"));
    // The migration library says "migrated to version N" at INFO on every start; that is
    // detail (the start's one INFO line is ours), shown from `--log debug` on.
    if !cli.serve.log.contains("debug")
        && !cli.serve.log.contains("trace")
        && !cli.serve.log.contains("rusqlite_migration")
        && let Ok(quiet) = "rusqlite_migration=warn".parse()
    {
        filter = filter.add_directive(quiet);
    }
    // Lines go to stderr and, through the same filter, to the ring behind
    // `GET /api/v1/system/logs`.
    let logs = LogRing::new(LOG_RING);
    tracing_subscriber::registry()
        .with(filter)
        .with(
            tracing_subscriber::fmt::layer()
                .with_writer(std::io::stderr)
                // Colour codes only for a person at a terminal, never into a file or a pipe.
                .with_ansi(std::io::stderr().is_terminal())
                .fmt_fields(echo5d::logs::SafeFields),
        )
        .with(RingLayer::new(logs.clone()))
        .init();
    for warning in config::secret_flag_warnings(&matches, &cli.serve) {
        tracing::warn!("{warning}");
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("echo5d: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match cli.command.unwrap_or(Command::Serve) {
            Command::Serve => serve(&cli.serve, logs).await,
            Command::NewAdminToken => {
                let (path, token) = run::new_admin_token(&cli.serve).await?;
                println!(
                    "New admin token (older tokens are revoked), saved to {}:",
                    path.display()
                );
                println!("{}", token.expose());
                Ok(())
            }
            Command::Backup { to } => {
                let bytes = run::backup(&cli.serve, &to).await?;
                println!("Backup written to {} ({bytes} bytes).", to.display());
                Ok(())
            }
            Command::Restore { from } => {
                let leads = run::restore(&cli.serve, &from).await?;
                println!("Restored {} ({leads} leads). Start echo5d again.", from.display());
                Ok(())
            }
            Command::RotateMasterKey => {
                let done = run::rotate_master_key(&cli.serve).await?;
                let r = done.rotation;
                println!(
                    "Master key rotated to generation {}: {} tenant secret(s) and {} API key(s) re-encrypted.",
                    r.version, r.tenant_secrets, r.api_keys
                );
                match done.new_key_for_operator {
                    None => println!("The new key is in {}.", done.key_file.display()),
                    Some(key) => {
                        println!(
                            "Your master key comes from ECHO5_MASTER_KEY(_FILE): replace it with the new key below \
                             (also saved to {}) before starting echo5d.",
                            done.key_file.display()
                        );
                        println!("{}", key.expose());
                    }
                }
                Ok(())
            }
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e}");
            eprintln!("echo5d: {e}");
            ExitCode::FAILURE
        }
    }
}

/// What the first start prints: the admin token, what it is for, and the command that
/// starts the console against this daemon.
fn first_start_message(
    args: &echo5d::config::ServeArgs,
    data_dir: &std::path::Path,
    token: &str,
) -> String {
    let token_file = data_dir.join("admin.token");
    // The console talks to the admin API: the admin listener when there is one.
    let admin = args.http.admin_listen.unwrap_or(args.listen);
    let mut console = format!("echo5-tui --data-dir {}", data_dir.display());
    if admin.to_string() != "127.0.0.1:8787" {
        console.push_str(&format!(" --url http://{admin}"));
    }
    format!(
        "Admin token (saved to {file}, readable only by you):\n{token}\n\n\
         It is the platform administrator's credential: the console and scripts send it as\n\
         `Authorization: Bearer <token>` to the admin API. Keep it secret; \
         `echo5d new-admin-token` replaces it.\n\n\
         Next, in another terminal on this machine, open the console (it reads the token\n\
         from the same file):\n    {console}",
        file = token_file.display()
    )
}

async fn serve(args: &echo5d::config::ServeArgs, logs: Arc<LogRing>) -> Result<(), StartError> {
    let prepared = run::prepare_with_logs(args, Arc::new(SystemClock), logs).await?;
    // Held until serving has stopped and the store is shut down.
    let _lock = prepared.lock;
    let (listeners, http) = echo5d::app::bind(args).await?;
    if let Some(token) = &prepared.new_admin_token {
        // Printed once, on the start that created it; it also sits in admin.token (0600).
        println!(
            "{}",
            first_start_message(args, &prepared.data_dir, token.expose())
        );
    }
    // The start's one INFO line; the steps before it are DEBUG (`--log debug` shows them).
    let demo = match (args.demo, prepared.demo_leads) {
        (false, _) => String::new(),
        (true, Some(n)) => format!("; seeded {n} demo leads"),
        (true, None) => "; demo data already present, not seeded again".into(),
    };
    let admin = match args.http.admin_listen {
        Some(a) => format!(" (admin API on {a})"),
        None => String::new(),
    };
    tracing::info!(
        "echo5d serving on {}{admin}, data in {}{demo}",
        args.listen,
        prepared.data_dir.display()
    );
    echo5d::launch_with(listeners, prepared.state, http, run::shutdown_signal())
        .await
        .map_err(|source| StartError::Listen {
            addr: args.listen,
            source,
        })?;
    tracing::info!("stopped cleanly");
    Ok(())
}
