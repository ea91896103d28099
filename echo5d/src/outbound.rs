//! Calls to tenant-supplied URLs: the address rule applied to every address a host resolves
//! to, at create time and again at every send, and a client that connects only to addresses
//! that passed (its resolver is the check, so DNS rebinding between check and connect has
//! nothing to slip through).

use echo5_core::outbound_guard::{AddressPolicy, Refusal};
use echo5_core::outbox::RetrySchedule;
use reqwest::Url;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use crate::config::OutboundArgs;

/// Longest a name lookup may take before the host counts as unresolvable.
pub const LOOKUP_TIMEOUT: Duration = Duration::from_secs(3);

/// Why a URL may not be called.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UrlRefused {
    /// An address of the host is refused by the rule.
    Forbidden {
        host: String,
        addr: IpAddr,
        why: Refusal,
    },
    /// The host resolves to nothing (or not in time).
    Unresolvable { host: String, detail: String },
    /// Not a URL with a host.
    Invalid(String),
}

impl fmt::Display for UrlRefused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UrlRefused::Forbidden { host, addr, why } => write!(
                f,
                "url_forbidden: {host} resolves to {addr}, a {} address; only public addresses \
                 are called (an operator may allow a range with --outbound-allow-cidr)",
                why.as_str()
            ),
            UrlRefused::Unresolvable { host, detail } => {
                write!(f, "the host {host} does not resolve: {detail}")
            }
            UrlRefused::Invalid(m) => write!(f, "{m}"),
        }
    }
}

impl std::error::Error for UrlRefused {}

/// Resolves `host` and checks every address; the addresses that may be connected to.
pub async fn resolve_checked(
    policy: &AddressPolicy,
    host: &str,
) -> Result<Vec<IpAddr>, UrlRefused> {
    // An IP literal (brackets already removed by the URL parser) is judged as it is.
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    let addrs: Vec<IpAddr> = if let Ok(ip) = bare.parse::<IpAddr>() {
        vec![ip]
    } else {
        let lookup = tokio::net::lookup_host((bare, 0));
        match tokio::time::timeout(LOOKUP_TIMEOUT, lookup).await {
            Ok(Ok(it)) => it.map(|a| a.ip()).collect(),
            Ok(Err(e)) => {
                return Err(UrlRefused::Unresolvable {
                    host: bare.into(),
                    detail: e.to_string(),
                });
            }
            Err(_) => {
                return Err(UrlRefused::Unresolvable {
                    host: bare.into(),
                    detail: format!("no answer within {} s", LOOKUP_TIMEOUT.as_secs()),
                });
            }
        }
    };
    if addrs.is_empty() {
        return Err(UrlRefused::Unresolvable {
            host: bare.into(),
            detail: "no addresses".into(),
        });
    }
    policy
        .check_all(&addrs)
        .map_err(|(addr, why)| UrlRefused::Forbidden {
            host: bare.into(),
            addr,
            why,
        })?;
    Ok(addrs)
}

/// The host of an http(s) URL.
pub fn host_of(url: &str) -> Result<String, UrlRefused> {
    let u = Url::parse(url).map_err(|e| UrlRefused::Invalid(format!("not a URL: {e}")))?;
    u.host_str()
        .map(str::to_string)
        .ok_or_else(|| UrlRefused::Invalid("the URL has no host".into()))
}

/// reqwest's resolver: every name goes through [`resolve_checked`].
struct GuardedResolver(Arc<AddressPolicy>);

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = self.0.clone();
        let host = name.as_str().to_string();
        Box::pin(async move {
            let addrs = resolve_checked(&policy, &host).await?;
            // The port is the URL's: the connector sets it on each address.
            let out: Addrs = Box::new(addrs.into_iter().map(|ip| SocketAddr::new(ip, 0)));
            Ok(out)
        })
    }
}

/// Everything the outbox worker needs to call out.
pub struct Outbound {
    pub policy: Arc<AddressPolicy>,
    pub client: reqwest::Client,
    pub timeout: Duration,
    pub schedule: RetrySchedule,
    /// How long the delivery log and finished tasks are kept.
    pub keep: chrono::TimeDelta,
    /// `--stripe-api-url`, without a trailing slash.
    pub stripe_api_url: String,
    /// Meta's Graph API (`--meta-graph-url`).
    pub graph: Graph,
    /// SendGrid's and Twilio's API base URLs (`--sendgrid-api-url`, `--twilio-api-url`).
    pub sendgrid_api_url: String,
    pub twilio_api_url: String,
}

impl fmt::Debug for Outbound {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Outbound")
            .field("policy", &self.policy)
            .field("timeout", &self.timeout)
            .finish()
    }
}

impl Outbound {
    pub fn new(args: &OutboundArgs) -> Result<Outbound, String> {
        let policy = Arc::new(AddressPolicy {
            allow: args.outbound_allow_cidr.clone(),
            deny: args.outbound_deny_cidr.clone(),
        });
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            // A proxy from the environment would connect for us, to addresses never checked.
            .no_proxy()
            .dns_resolver(Arc::new(GuardedResolver(policy.clone())))
            .connect_timeout(args.webhook_timeout)
            .pool_idle_timeout(Duration::from_secs(30))
            .user_agent(concat!("Echo5-Webhooks/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| format!("cannot build the webhook HTTP client: {e}"))?;
        Ok(Outbound {
            policy,
            client,
            timeout: args.webhook_timeout,
            schedule: args.outbound_retry_schedule.clone(),
            keep: chrono::TimeDelta::days(args.outbox_keep_days.into()),
            stripe_api_url: args.stripe_api_url.trim_end_matches('/').to_string(),
            graph: Graph::new(&args.meta_graph_url, args.webhook_timeout)?,
            sendgrid_api_url: args.sendgrid_api_url.trim_end_matches('/').to_string(),
            twilio_api_url: args.twilio_api_url.trim_end_matches('/').to_string(),
        })
    }

    /// The create/patch check: the URL's host resolves, and only to allowed addresses.
    pub async fn check_url(&self, url: &str) -> Result<(), UrlRefused> {
        let host = host_of(url)?;
        resolve_checked(&self.policy, &host).await.map(|_| ())
    }
}

/// Meta's Graph API: an operator-set origin (`--meta-graph-url`), so no address rule; its
/// own client, which never follows a redirect (a redirect would carry the access token
/// elsewhere).
#[derive(Debug, Clone)]
pub struct Graph {
    pub client: reqwest::Client,
    /// The origin, without a trailing slash.
    pub base: String,
    pub timeout: Duration,
}

impl Graph {
    pub fn new(base: &str, timeout: Duration) -> Result<Graph, String> {
        let base = base.trim().trim_end_matches('/').to_string();
        let parsed = Url::parse(&base).map_err(|e| format!("--meta-graph-url {base:?}: {e}"))?;
        if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
            return Err(format!("--meta-graph-url {base:?} is not an http(s) URL"));
        }
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(timeout)
            .pool_idle_timeout(Duration::from_secs(30))
            .user_agent(concat!("Echo5/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| format!("cannot build the Graph API HTTP client: {e}"))?;
        Ok(Graph {
            client,
            base,
            timeout,
        })
    }

    /// `{base}{path}` with the query pairs; the access token is added by the caller.
    pub fn url(&self, path: &str, query: &[(&str, &str)]) -> Result<Url, String> {
        let mut url = Url::parse(&format!("{}{path}", self.base))
            .map_err(|e| format!("cannot build a Graph API URL: {e}"))?;
        url.query_pairs_mut().extend_pairs(query);
        Ok(url)
    }
}

/// The address refusal inside an error chain (a send refused by the resolver).
pub fn refusal_in<'a>(err: &'a (dyn std::error::Error + 'static)) -> Option<&'a UrlRefused> {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = cur {
        if let Some(r) = e.downcast_ref::<UrlRefused>() {
            return Some(r);
        }
        cur = e.source();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn literals_and_loopback_names_are_refused_without_connecting() {
        let p = AddressPolicy::default();
        for host in [
            "127.0.0.1",
            "10.0.0.1",
            "169.254.169.254",
            "[::1]",
            "[::ffff:7f00:1]",
            "localhost",
        ] {
            match resolve_checked(&p, host).await {
                Err(UrlRefused::Forbidden { .. }) => {}
                other => panic!("{host}: {other:?}"),
            }
        }
        let allow = AddressPolicy {
            allow: vec!["127.0.0.0/8".parse().unwrap()],
            deny: vec![],
        };
        assert_eq!(
            resolve_checked(&allow, "127.0.0.1").await,
            Ok(vec!["127.0.0.1".parse::<IpAddr>().unwrap()])
        );
    }
}
