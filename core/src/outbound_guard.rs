//! The address rule for every tenant-supplied URL the daemon calls (webhooks, and later
//! Slack and other integrations): only public addresses, unless an operator allows a range.
//!
//! The daemon resolves the host, judges every address with [`AddressPolicy::check`] and
//! connects only to addresses that passed, at create time and again at every send.

pub use ipnet::IpNet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Why an address is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    Loopback,
    Private,
    LinkLocal,
    SharedCgnat,
    Unspecified,
    Broadcast,
    Multicast,
    Reserved,
    /// The operator's `--outbound-deny-cidr`.
    Denied,
}

impl Refusal {
    pub fn as_str(self) -> &'static str {
        match self {
            Refusal::Loopback => "loopback",
            Refusal::Private => "private",
            Refusal::LinkLocal => "link-local (cloud metadata lives there)",
            Refusal::SharedCgnat => "carrier-grade NAT",
            Refusal::Unspecified => "unspecified",
            Refusal::Broadcast => "broadcast",
            Refusal::Multicast => "multicast",
            Refusal::Reserved => "reserved or documentation",
            Refusal::Denied => "denied by the operator",
        }
    }
}

fn v4(a: u8, b: u8, c: u8, d: u8, len: u8) -> IpNet {
    IpNet::V4(ipnet::Ipv4Net::new(Ipv4Addr::new(a, b, c, d), len).expect("valid prefix"))
}

/// The verdict on an IPv4 address by itself (no lists).
fn refuse_v4(ip: Ipv4Addr) -> Option<Refusal> {
    let table: [(IpNet, Refusal); 16] = [
        (v4(0, 0, 0, 0, 32), Refusal::Unspecified),
        (v4(0, 0, 0, 0, 8), Refusal::Reserved),
        (v4(10, 0, 0, 0, 8), Refusal::Private),
        (v4(100, 64, 0, 0, 10), Refusal::SharedCgnat),
        (v4(127, 0, 0, 0, 8), Refusal::Loopback),
        (v4(169, 254, 0, 0, 16), Refusal::LinkLocal),
        (v4(172, 16, 0, 0, 12), Refusal::Private),
        (v4(192, 0, 0, 0, 24), Refusal::Reserved),
        (v4(192, 0, 2, 0, 24), Refusal::Reserved),
        (v4(192, 88, 99, 0, 24), Refusal::Reserved),
        (v4(192, 168, 0, 0, 16), Refusal::Private),
        (v4(198, 18, 0, 0, 15), Refusal::Reserved),
        (v4(198, 51, 100, 0, 24), Refusal::Reserved),
        (v4(203, 0, 113, 0, 24), Refusal::Reserved),
        (v4(224, 0, 0, 0, 4), Refusal::Multicast),
        (v4(240, 0, 0, 0, 4), Refusal::Reserved),
    ];
    if ip == Ipv4Addr::BROADCAST {
        return Some(Refusal::Broadcast);
    }
    let ip = IpAddr::V4(ip);
    table
        .iter()
        .find(|(net, _)| net.contains(&ip))
        .map(|(_, r)| *r)
}

/// The IPv4 address an IPv6 one stands for: IPv4-mapped `::ffff:a.b.c.d`, IPv4-compatible
/// `::a.b.c.d` and NAT64 `64:ff9b::a.b.c.d` are judged as that IPv4 address.
fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return Some(v4);
    }
    let s = ip.segments();
    let tail = Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8);
    if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        return Some(tail);
    }
    // ::a.b.c.d (deprecated, still routed by some stacks); :: and ::1 are judged below.
    if s[..6] == [0; 6] && !matches!(ip.segments()[6..], [0, 0] | [0, 1]) {
        return Some(tail);
    }
    None
}

fn refuse_v6(ip: Ipv6Addr) -> Option<Refusal> {
    if let Some(v4) = embedded_v4(ip) {
        return refuse_v4(v4);
    }
    let s = ip.segments();
    if ip.is_unspecified() {
        Some(Refusal::Unspecified)
    } else if ip.is_loopback() {
        Some(Refusal::Loopback)
    } else if s[0] & 0xfe00 == 0xfc00 {
        // fc00::/7, unique local.
        Some(Refusal::Private)
    } else if s[0] & 0xffc0 == 0xfe80 || s[0] & 0xffc0 == 0xfec0 {
        // fe80::/10 link-local; fec0::/10 the old site-local.
        Some(Refusal::LinkLocal)
    } else if s[0] & 0xff00 == 0xff00 {
        Some(Refusal::Multicast)
    } else if s[0] == 0x2001 && s[1] == 0x0db8 {
        // 2001:db8::/32, documentation.
        Some(Refusal::Reserved)
    } else if s[0] == 0x0100 && s[1..4] == [0, 0, 0] {
        // 100::/64, discard-only.
        Some(Refusal::Reserved)
    } else if s[0] == 0x2002 {
        // 6to4: the IPv4 address it tunnels to is judged.
        refuse_v4(Ipv4Addr::new(
            (s[1] >> 8) as u8,
            s[1] as u8,
            (s[2] >> 8) as u8,
            s[2] as u8,
        ))
    } else {
        None
    }
}

/// The rule with the operator's lists: `deny` (refused whatever else holds) and `allow`
/// (ranges accepted although the rule refuses them, e.g. 127.0.0.0/8 for tests or a
/// receiver on the private network).
#[derive(Debug, Clone, Default)]
pub struct AddressPolicy {
    pub allow: Vec<IpNet>,
    pub deny: Vec<IpNet>,
}

impl AddressPolicy {
    /// `Ok` when the daemon may connect to `ip`.
    pub fn check(&self, ip: IpAddr) -> Result<(), Refusal> {
        let v4 = match ip {
            IpAddr::V6(v6) => embedded_v4(v6).map(IpAddr::V4),
            IpAddr::V4(_) => None,
        };
        let listed = |nets: &[IpNet]| {
            nets.iter()
                .any(|n| n.contains(&ip) || v4.is_some_and(|v| n.contains(&v)))
        };
        if listed(&self.deny) {
            return Err(Refusal::Denied);
        }
        let refusal = match ip {
            IpAddr::V4(a) => refuse_v4(a),
            IpAddr::V6(a) => refuse_v6(a),
        };
        match refusal {
            Some(r) if !listed(&self.allow) => Err(r),
            _ => Ok(()),
        }
    }

    /// Every address must pass; the first refused one is named.
    pub fn check_all(&self, addrs: &[IpAddr]) -> Result<(), (IpAddr, Refusal)> {
        for a in addrs {
            self.check(*a).map_err(|r| (*a, r))?;
        }
        Ok(())
    }
}

/// A CIDR (`10.0.0.0/8`) or a bare address (taken as one host), for the flags.
pub fn parse_cidr(text: &str) -> Result<IpNet, String> {
    let t = text.trim();
    t.parse::<IpNet>()
        .or_else(|_| t.parse::<IpAddr>().map(IpNet::from))
        .map_err(|_| format!("{t:?} is not a CIDR such as 10.0.0.0/8 or an address"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn internal_addresses_are_refused() {
        let p = AddressPolicy::default();
        for (a, r) in [
            ("127.0.0.1", Refusal::Loopback),
            ("127.255.0.9", Refusal::Loopback),
            ("10.0.0.1", Refusal::Private),
            ("172.16.0.1", Refusal::Private),
            ("172.31.255.255", Refusal::Private),
            ("192.168.1.1", Refusal::Private),
            ("169.254.169.254", Refusal::LinkLocal),
            ("100.64.0.1", Refusal::SharedCgnat),
            ("100.127.255.254", Refusal::SharedCgnat),
            ("0.0.0.0", Refusal::Unspecified),
            ("0.1.2.3", Refusal::Reserved),
            ("255.255.255.255", Refusal::Broadcast),
            ("224.0.0.1", Refusal::Multicast),
            ("192.0.2.1", Refusal::Reserved),
            ("198.51.100.7", Refusal::Reserved),
            ("203.0.113.9", Refusal::Reserved),
            ("198.18.0.1", Refusal::Reserved),
            ("240.0.0.1", Refusal::Reserved),
            ("::1", Refusal::Loopback),
            ("::", Refusal::Unspecified),
            ("fc00::1", Refusal::Private),
            ("fd12:3456::1", Refusal::Private),
            ("fe80::1", Refusal::LinkLocal),
            ("ff02::1", Refusal::Multicast),
            ("::ffff:127.0.0.1", Refusal::Loopback),
            ("::ffff:10.0.0.1", Refusal::Private),
            ("::ffff:169.254.169.254", Refusal::LinkLocal),
            ("64:ff9b::a9fe:a9fe", Refusal::LinkLocal),
            ("64:ff9b::7f00:1", Refusal::Loopback),
            ("::127.0.0.1", Refusal::Loopback),
            ("2002:7f00:1::1", Refusal::Loopback),
            ("2001:db8::1", Refusal::Reserved),
        ] {
            assert_eq!(p.check(ip(a)), Err(r), "{a}");
        }
    }

    #[test]
    fn public_addresses_pass() {
        let p = AddressPolicy::default();
        for a in [
            "8.8.8.8",
            "1.1.1.1",
            "172.32.0.1",
            "100.128.0.1",
            "169.255.0.1",
            "2606:4700::1111",
            "::ffff:8.8.8.8",
            "64:ff9b::808:808",
        ] {
            assert_eq!(p.check(ip(a)), Ok(()), "{a}");
        }
    }

    #[test]
    fn the_allow_list_lets_ranges_through_and_deny_wins() {
        let p = AddressPolicy {
            allow: vec![parse_cidr("127.0.0.0/8").unwrap()],
            deny: vec![],
        };
        assert_eq!(p.check(ip("127.0.0.1")), Ok(()));
        // The mapped form of an allowed address is allowed too.
        assert_eq!(p.check(ip("::ffff:127.0.0.1")), Ok(()));
        assert_eq!(p.check(ip("::1")), Err(Refusal::Loopback));
        assert_eq!(p.check(ip("10.0.0.1")), Err(Refusal::Private));
        let p = AddressPolicy {
            allow: vec![parse_cidr("10.1.2.3").unwrap()],
            deny: vec![
                parse_cidr("0.0.0.0/0").unwrap(),
                parse_cidr("::/0").unwrap(),
            ],
        };
        assert_eq!(p.check(ip("8.8.8.8")), Err(Refusal::Denied));
        assert_eq!(p.check(ip("10.1.2.3")), Err(Refusal::Denied));
        assert_eq!(p.check(ip("2606:4700::1111")), Err(Refusal::Denied));
        assert_eq!(
            AddressPolicy::default().check_all(&[ip("8.8.8.8"), ip("10.0.0.1")]),
            Err((ip("10.0.0.1"), Refusal::Private))
        );
        assert!(parse_cidr("10.0.0.0/33").is_err());
        assert!(parse_cidr("nope").is_err());
    }
}
