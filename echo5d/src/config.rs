//! Command line and environment: every flag has an `ECHO5_*` twin.
//!
//! The flags the maintenance commands read too (`--data-dir`, the master key, `--log`) are
//! global: they may come before or after the command and show in its `--help`.

use clap::parser::ValueSource;
use clap::{ArgMatches, Args, Parser, Subcommand};
use echo5_core::outbound_guard::IpNet;
use echo5_core::outbox::RetrySchedule;
use echo5_core::secret::Secret;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use crate::datadir::{self, SetupError};

#[derive(Parser)]
#[command(name = "echo5d", version, about = "Echo5 lead-intake daemon")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub serve: ServeArgs,
}

#[derive(Subcommand)]
pub enum Command {
    /// Run the daemon (the default when no command is given).
    Serve,
    /// Issue a new platform-admin token into admin.token and revoke every older one; a
    /// daemon serving from the same data directory stops taking the old ones within 250 ms.
    NewAdminToken,
    /// Re-encrypt every stored secret and API-key copy under a new master key, in one
    /// transaction. Refused while a daemon serves from the data directory.
    RotateMasterKey,
    /// Write a consistent copy of the database, authenticated under the master key, to a new
    /// owner-only file; safe while the daemon serves.
    Backup {
        /// The backup file to create.
        #[arg(long)]
        to: PathBuf,
    },
    /// Replace the database with a backup (its authentication and integrity checked
    /// first). Refused while a daemon serves from the data directory.
    Restore {
        /// The backup file to restore.
        #[arg(long)]
        from: PathBuf,
    },
}

#[derive(Args, Clone)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "ECHO5_LISTEN", default_value = "127.0.0.1:8787")]
    pub listen: SocketAddr,
    /// Where echo5.db, master.key and admin.token live [default: $XDG_DATA_HOME/echo5].
    #[arg(long, env = "ECHO5_DATA_DIR", global = true)]
    pub data_dir: Option<PathBuf>,
    /// Seed three demo tenants with realistic leads (once per data directory).
    #[arg(long, env = "ECHO5_DEMO")]
    pub demo: bool,
    /// Log filter, e.g. `info` or `echo5d=debug,tower_http=info`.
    #[arg(long = "log", env = "ECHO5_LOG", default_value = "info", global = true)]
    pub log: String,
    /// The 32-byte master key as 64 hex characters or base64 (overrides master.key).
    /// Prefer ECHO5_MASTER_KEY or --master-key-file: a flag is visible to every local user.
    #[arg(
        long,
        env = "ECHO5_MASTER_KEY",
        hide_env_values = true,
        value_parser = secret_arg,
        global = true
    )]
    pub master_key: Option<Secret<String>>,
    /// A file holding the master key (for Docker/systemd secrets).
    #[arg(long, env = "ECHO5_MASTER_KEY_FILE", global = true)]
    pub master_key_file: Option<PathBuf>,
    /// Read-only database connections (each on its own thread).
    #[arg(long, env = "ECHO5_DB_READERS", default_value_t = 4)]
    pub db_readers: usize,
    /// Capacity of the write queue; writes beyond it are answered 503 + Retry-After.
    #[arg(long, env = "ECHO5_WRITE_QUEUE", default_value_t = 4096)]
    pub write_queue: usize,
    /// Ingest requests per minute per API key (token bucket, bursts up to this many);
    /// beyond it 429 + Retry-After. 0 disables the limit.
    #[arg(long, env = "ECHO5_KEY_RATE_LIMIT", default_value_t = 600)]
    pub key_rate_limit: u32,
    /// Seconds between SLA monitor passes.
    #[arg(long, env = "ECHO5_SLA_INTERVAL", default_value_t = 10)]
    pub sla_interval: u64,
    /// SMTP server for breach alerts, e.g. `smtp://127.0.0.1:25` or
    /// `smtps://user:pass@mail.example.com`. Without it alerts are only logged. With a
    /// password, prefer ECHO5_SMTP_URL or --smtp-url-file: a flag is visible to every
    /// local user.
    #[arg(long, env = "ECHO5_SMTP_URL", hide_env_values = true, value_parser = secret_arg)]
    pub smtp_url: Option<Secret<String>>,
    /// Sender address of alert e-mails.
    #[arg(
        long,
        env = "ECHO5_SMTP_FROM",
        default_value = "Echo5 <echo5@localhost>"
    )]
    pub smtp_from: String,
    /// Base URL of this daemon as operators reach it, for links in e-mails
    /// [default: http://<listen>].
    #[arg(long, env = "ECHO5_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// A file holding the SMTP URL (for Docker/systemd secrets; keeps its password out of
    /// the process list).
    #[arg(long, env = "ECHO5_SMTP_URL_FILE")]
    pub smtp_url_file: Option<PathBuf>,
    #[command(flatten)]
    pub http: HttpArgs,
    #[command(flatten)]
    pub sessions: SessionArgs,
    #[command(flatten)]
    pub outbound: OutboundArgs,
}

/// What the daemon sends out: webhooks now, every outbox message later.
#[derive(Args, Clone, Debug)]
pub struct OutboundArgs {
    /// Longest a webhook attempt may take (connect, send, the receiver's answer); then it
    /// counts as failed.
    #[arg(long, env = "ECHO5_WEBHOOK_TIMEOUT", default_value = "15s", value_parser = duration_arg)]
    pub webhook_timeout: Duration,
    /// Seconds to wait before each attempt of an outbox message, the first counted from the
    /// message, each later one from the attempt before; as many attempts as entries.
    #[arg(
        long,
        env = "ECHO5_OUTBOUND_RETRY_SCHEDULE",
        default_value = echo5_core::outbox::DEFAULT_SCHEDULE,
        value_parser = schedule_arg
    )]
    pub outbound_retry_schedule: RetrySchedule,
    /// An address range tenant URLs may reach although the address rule refuses it
    /// (loopback, private, link-local...), e.g. a receiver on the office network.
    /// Repeatable; the environment variable takes a comma-separated list.
    #[arg(long, env = "ECHO5_OUTBOUND_ALLOW_CIDR", value_delimiter = ',', value_parser = cidr_arg)]
    pub outbound_allow_cidr: Vec<IpNet>,
    /// An address range tenant URLs may never reach, whatever else allows it (`0.0.0.0/0`
    /// and `::/0` together turn every outgoing call off). Repeatable, as the allow list.
    #[arg(long, env = "ECHO5_OUTBOUND_DENY_CIDR", value_delimiter = ',', value_parser = cidr_arg)]
    pub outbound_deny_cidr: Vec<IpNet>,
    /// Days the delivery log and finished outbox tasks are kept; older ones are pruned
    /// hourly (a message still being retried is kept until it ends).
    #[arg(long, env = "ECHO5_OUTBOX_KEEP_DAYS", default_value_t = echo5_core::outbox::DEFAULT_KEEP_DAYS,
          value_parser = clap::value_parser!(u32).range(1..=3650))]
    pub outbox_keep_days: u32,
    /// Where usage reports (Stripe meter events) are sent: Stripe's API, or a stand-in.
    #[arg(
        long,
        env = "ECHO5_STRIPE_API_URL",
        default_value = "https://api.stripe.com"
    )]
    pub stripe_api_url: String,
    /// Where Meta's Graph API is reached for lead fetches and backfills (an operator's
    /// setting, so the address rule for tenant URLs does not apply to it).
    #[arg(
        long,
        env = "ECHO5_META_GRAPH_URL",
        default_value = echo5_core::integrations::meta_graph::DEFAULT_GRAPH_URL
    )]
    pub meta_graph_url: String,
    /// Base URL of the SendGrid v3 API, for tenants that send their e-mail notifications
    /// through SendGrid (tests point it at a local stand-in).
    #[arg(long, env = "ECHO5_SENDGRID_API_URL", default_value = DEFAULT_SENDGRID_API_URL)]
    pub sendgrid_api_url: String,
    /// Base URL of the Twilio REST API, for SMS notifications.
    #[arg(long, env = "ECHO5_TWILIO_API_URL", default_value = DEFAULT_TWILIO_API_URL)]
    pub twilio_api_url: String,
}

pub const DEFAULT_SENDGRID_API_URL: &str = "https://api.sendgrid.com";
pub const DEFAULT_TWILIO_API_URL: &str = "https://api.twilio.com";

impl Default for OutboundArgs {
    fn default() -> Self {
        OutboundArgs {
            webhook_timeout: Duration::from_secs(15),
            outbound_retry_schedule: RetrySchedule::default(),
            outbound_allow_cidr: Vec::new(),
            outbound_deny_cidr: Vec::new(),
            outbox_keep_days: echo5_core::outbox::DEFAULT_KEEP_DAYS,
            stripe_api_url: "https://api.stripe.com".into(),
            meta_graph_url: echo5_core::integrations::meta_graph::DEFAULT_GRAPH_URL.into(),
            sendgrid_api_url: DEFAULT_SENDGRID_API_URL.into(),
            twilio_api_url: DEFAULT_TWILIO_API_URL.into(),
        }
    }
}

fn schedule_arg(s: &str) -> Result<RetrySchedule, String> {
    RetrySchedule::parse(s)
}

fn cidr_arg(s: &str) -> Result<IpNet, String> {
    echo5_core::outbound_guard::parse_cidr(s)
}

/// How long users' login sessions last. Durations as for [`HttpArgs`].
#[derive(Args, Clone, Debug)]
pub struct SessionArgs {
    /// A session unused this long ends (the user logs in again).
    #[arg(long, env = "ECHO5_SESSION_IDLE", default_value = "30m", value_parser = duration_arg)]
    pub session_idle: Duration,
    /// A session ends this long after its login, however busy it is.
    #[arg(long, env = "ECHO5_SESSION_MAX", default_value = "12h", value_parser = duration_arg)]
    pub session_max: Duration,
}

impl Default for SessionArgs {
    fn default() -> Self {
        SessionArgs {
            session_idle: Duration::from_secs(30 * 60),
            session_max: Duration::from_secs(12 * 3600),
        }
    }
}

impl SessionArgs {
    pub fn timeouts(&self) -> echo5_core::sessions::SessionTimeouts {
        let delta = |d: Duration| chrono::TimeDelta::from_std(d).unwrap_or(chrono::TimeDelta::MAX);
        echo5_core::sessions::SessionTimeouts {
            idle: delta(self.session_idle),
            absolute: delta(self.session_max),
        }
    }
}

/// Listeners, timeouts and caps of the HTTP server, and the refused-credential throttle.
/// Durations take `ms`, `s`, `m` or `h` (a bare number is seconds).
#[derive(Args, Clone, Debug)]
pub struct HttpArgs {
    /// A second address that serves the whole API (admin included); with it, `--listen`
    /// serves only ingest, `GET /api/v1/key`, `/healthz` and `/readyz`.
    #[arg(long, env = "ECHO5_ADMIN_LISTEN")]
    pub admin_listen: Option<SocketAddr>,
    /// Time a request's head (request line and headers) may take, from the connection's
    /// accept or the request's first byte; then the connection is closed.
    #[arg(long, env = "ECHO5_HEADER_READ_TIMEOUT", default_value = "30s", value_parser = duration_arg)]
    pub header_read_timeout: Duration,
    /// Time the whole request body may take after the head; then 408 and the connection
    /// is closed.
    #[arg(long, env = "ECHO5_BODY_TIMEOUT", default_value = "60s", value_parser = duration_arg)]
    pub body_timeout: Duration,
    /// Time a keep-alive connection may sit idle between requests.
    #[arg(long, env = "ECHO5_IDLE_TIMEOUT", default_value = "75s", value_parser = duration_arg)]
    pub idle_timeout: Duration,
    /// Largest request head in bytes (at least 8192); larger ones are answered 431.
    #[arg(long, env = "ECHO5_MAX_HEADER_BYTES", default_value_t = 32 * 1024)]
    pub max_header_bytes: usize,
    /// Connections per listener (lowered to fit the open-file limit). At the cap the
    /// connection waiting longest without a request in flight is closed for the new one.
    #[arg(long, env = "ECHO5_MAX_CONNECTIONS", default_value_t = 10_000)]
    pub max_connections: usize,
    /// Wrong admin tokens or API keys from one address (IPv6: one /64) within
    /// `--auth-failure-window` before further wrong ones are answered 429; 0 disables.
    #[arg(long, env = "ECHO5_AUTH_FAILURE_LIMIT", default_value_t = 20)]
    pub auth_failure_limit: u32,
    /// The window of `--auth-failure-limit`.
    #[arg(long, env = "ECHO5_AUTH_FAILURE_WINDOW", default_value = "60s", value_parser = duration_arg)]
    pub auth_failure_window: Duration,
    /// Time a client may leave its answer unread (the socket takes no byte); then the
    /// connection is dropped.
    #[arg(long, env = "ECHO5_SEND_TIMEOUT", default_value = "60s", value_parser = duration_arg)]
    pub send_timeout: Duration,
}

impl Default for HttpArgs {
    fn default() -> Self {
        HttpArgs {
            admin_listen: None,
            header_read_timeout: Duration::from_secs(30),
            body_timeout: Duration::from_secs(60),
            idle_timeout: Duration::from_secs(75),
            max_header_bytes: 32 * 1024,
            max_connections: 10_000,
            auth_failure_limit: 20,
            auth_failure_window: Duration::from_secs(60),
            send_timeout: Duration::from_secs(60),
        }
    }
}

/// `500ms`, `30s`, `2m`, `1h`, or a bare number of seconds; more than zero.
fn duration_arg(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: u64 = num
        .parse()
        .map_err(|_| format!("{s:?} is not a duration (e.g. 500ms, 30s, 2m)"))?;
    let d = match unit.trim() {
        "ms" => Duration::from_millis(n),
        "" | "s" => Duration::from_secs(n),
        "m" => Duration::from_secs(n.saturating_mul(60)),
        "h" => Duration::from_secs(n.saturating_mul(3600)),
        other => return Err(format!("unknown unit {other:?} in {s:?} (ms, s, m or h)")),
    };
    if d.is_zero() {
        return Err("a duration must be more than zero".into());
    }
    Ok(d)
}

fn secret_arg(s: &str) -> Result<Secret<String>, String> {
    Ok(Secret::new(s.to_string()))
}

impl ServeArgs {
    /// `--data-dir`, or `echo5` under the user's XDG data directory.
    pub fn data_dir(&self) -> PathBuf {
        self.data_dir.clone().unwrap_or_else(default_data_dir)
    }

    /// The SMTP URL, from `--smtp-url` / `ECHO5_SMTP_URL` or read from `--smtp-url-file`.
    pub fn smtp_url(&self) -> Result<Option<Secret<String>>, SetupError> {
        match (&self.smtp_url, &self.smtp_url_file) {
            (Some(_), Some(_)) => Err(SetupError::BothSmtpUrls),
            (Some(url), None) => Ok(Some(url.clone())),
            (None, Some(path)) => datadir::read_secret_file(path).map(Some),
            (None, None) => Ok(None),
        }
    }
}

/// Warnings for secrets given as command-line flags, which every local user can read in
/// `ps` or `/proc/<pid>/cmdline`; each names the safer way to pass the same value. Values
/// from the environment are fine (only the same user and root can read those).
pub fn secret_flag_warnings(matches: &ArgMatches, args: &ServeArgs) -> Vec<String> {
    // Global flags given after a command are recorded in the command's matches.
    let from_command_line = |id: &str| {
        std::iter::successors(Some(matches), |m| m.subcommand().map(|(_, sub)| sub))
            // Only ids a command knows may be asked about (clap panics on others).
            .any(|m| {
                m.ids().any(|i| i == id) && m.value_source(id) == Some(ValueSource::CommandLine)
            })
    };
    let mut out = Vec::new();
    if from_command_line("master_key") {
        out.push(
            "--master-key on the command line is visible to every local user (ps); \
             use --master-key-file or ECHO5_MASTER_KEY instead"
                .to_string(),
        );
    }
    if from_command_line("smtp_url")
        && args
            .smtp_url
            .as_ref()
            .is_some_and(|u| url_has_credentials(u.expose()))
    {
        out.push(
            "--smtp-url with credentials on the command line is visible to every local user \
             (ps); use --smtp-url-file or ECHO5_SMTP_URL instead"
                .to_string(),
        );
    }
    out
}

/// Whether a URL carries a user (and so, usually, a password): `scheme://user:pass@host`.
fn url_has_credentials(url: &str) -> bool {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    authority.contains('@')
}

pub fn default_data_dir() -> PathBuf {
    dirs::data_dir()
        .unwrap_or_else(|| PathBuf::from("."))
        .join("echo5")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(duration_arg("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(duration_arg("30"), Ok(Duration::from_secs(30)));
        assert_eq!(duration_arg("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(duration_arg("2m"), Ok(Duration::from_secs(120)));
        assert!(duration_arg("0s").is_err());
        assert!(duration_arg("ten").is_err());
        assert!(duration_arg("5d").is_err());
        assert!(duration_arg("-5").is_err());
    }

    #[test]
    fn http_defaults_match_the_flags() {
        let cli = Cli::try_parse_from(["echo5d"]).unwrap();
        let d = HttpArgs::default();
        let a = cli.serve.http;
        assert_eq!(
            (a.header_read_timeout, a.body_timeout, a.idle_timeout),
            (d.header_read_timeout, d.body_timeout, d.idle_timeout)
        );
        assert_eq!(
            (a.max_header_bytes, a.max_connections, a.auth_failure_limit),
            (d.max_header_bytes, d.max_connections, d.auth_failure_limit)
        );
        assert_eq!(a.auth_failure_window, d.auth_failure_window);
        assert_eq!(a.send_timeout, d.send_timeout);
        assert_eq!(a.admin_listen, None);
    }
}
