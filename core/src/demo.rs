//! Demo data for `echo5d --demo`: three home-care agencies with a few hundred realistic leads
//! over the last 60 days, some of them overdue, so a newcomer sees a living system at once.
//!
//! Deterministic for a given seed and clock, so tests can assert on it.

use chrono::{DateTime, TimeDelta, Utc};
use uuid::Uuid;

use crate::leads::{Lead, LeadSource, new_lead_id};
use crate::stages::{Stage, StageKind};

pub struct DemoTenant {
    pub name: &'static str,
    pub slug: &'static str,
    pub sla_hours: u32,
    pub manager_email: &'static str,
    pub spam_keywords: &'static [&'static str],
    pub leads: usize,
}

pub const TENANTS: [DemoTenant; 3] = [
    DemoTenant {
        name: "Open Arms",
        slug: "open-arms",
        sla_hours: 24,
        manager_email: "intake@openarms.example",
        spam_keywords: &["casino", "crypto", "seo services"],
        leads: 140,
    },
    DemoTenant {
        name: "Caring Hearts",
        slug: "caring-hearts",
        sla_hours: 4,
        manager_email: "director@caringhearts.example",
        spam_keywords: &["casino", "backlinks"],
        leads: 110,
    },
    DemoTenant {
        name: "Family First",
        slug: "family-first",
        sla_hours: 48,
        manager_email: "office@familyfirst.example",
        spam_keywords: &["viagra", "loan offer"],
        leads: 90,
    },
];

/// splitmix64: small, fast, good enough to vary demo data; not for secrets.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

const FIRST: &[&str] = &[
    "Maria", "James", "Linda", "Robert", "Patricia", "Michael", "Barbara", "David", "Susan",
    "William", "Karen", "Joseph", "Nancy", "Thomas", "Betty", "Carlos", "Aisha", "Mei", "Priya",
    "Olga",
];
const LAST: &[&str] = &[
    "Garcia", "Johnson", "Smith", "Williams", "Brown", "Jones", "Miller", "Davis", "Martinez",
    "Lopez", "Wilson", "Anderson", "Nguyen", "Patel", "Kowalski", "O'Brien",
];
const MESSAGES: &[&str] = &[
    "My mother is 84 and needs help with bathing and meals a few days a week. Do you have availability?",
    "Looking for overnight care for my father after his hip surgery next month.",
    "Can someone call me about companion care for my aunt? She lives alone and is getting forgetful.",
    "Do you accept long-term care insurance? We need about 20 hours a week.",
    "Interested in a tour of your memory care program for my husband.",
    "Need respite care for two weeks in July while we travel.",
    "What are your rates for live-in care? Please call after 5pm.",
    "My dad was just discharged and the hospital recommended in-home care. Urgent.",
];
const SPAM: &[&str] = &[
    "Boost your rankings with our SEO services and backlinks, 50% off today!",
    "Best online casino bonus, click here http://spam.example http://spam2.example",
    "Guaranteed loan offer, crypto accepted, reply now",
];
const PAGES: &[&str] = &[
    "/contact",
    "/services/home-care",
    "/memory-care",
    "/careers",
    "/",
];
const FORMS: &[&str] = &["Contact Form", "Free Consultation", "Schedule a Tour"];

/// Leads for one demo tenant. `stages` is its pipeline in order (the first is intake).
pub fn leads(
    tenant: &DemoTenant,
    tenant_id: Uuid,
    stages: &[Stage],
    now: DateTime<Utc>,
    seed: u64,
) -> Vec<Lead> {
    let mut rng = Rng(seed ^ tenant_id.as_u128() as u64);
    let intake = stages[0].id;
    let open_later: Vec<&Stage> = stages[1..]
        .iter()
        .filter(|s| s.kind == StageKind::Open)
        .collect();
    let closed: Vec<&Stage> = stages
        .iter()
        .filter(|s| s.kind != StageKind::Open)
        .collect();
    let domain = format!("https://www.{}.example", tenant.slug);
    let mut out = Vec::with_capacity(tenant.leads);
    for i in 0..tenant.leads {
        // Newer leads are denser: squares skew ages towards zero.
        let frac = (i as f64 / tenant.leads as f64).powi(2);
        let age_minutes = (frac * 60.0 * 24.0 * 60.0) as i64 + rng.below(90) as i64;
        let created = now - TimeDelta::minutes(age_minutes);
        let mut lead = Lead::blank(new_lead_id(created), tenant_id, intake, created);
        let first = *rng.pick(FIRST);
        let last = *rng.pick(LAST);
        lead.first_name = Some(first.into());
        lead.last_name = Some(last.into());
        lead.name = Some(format!("{first} {last}"));
        let mailbox: String = format!("{first}.{last}")
            .to_lowercase()
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '.')
            .collect();
        lead.email = Some(format!("{mailbox}{}@example.com", rng.below(100)));
        lead.phone = Some(format!("+1555{:07}", rng.below(10_000_000)));
        lead.message = Some((*rng.pick(MESSAGES)).into());
        lead.page_url = Some(format!("{domain}{}", rng.pick(PAGES)));
        lead.form_name = Some((*rng.pick(FORMS)).into());
        match rng.below(10) {
            0..=3 => {
                lead.utm_source = Some("google".into());
                lead.utm_medium = Some("cpc".into());
                lead.utm_campaign = Some("home-care-search".into());
                lead.gclid = Some(format!("Cj0KCQ{}", rng.next() % 1_000_000_000));
            }
            4..=5 => {
                lead.source = LeadSource::Meta;
                lead.utm_source = Some("facebook".into());
                lead.utm_medium = Some("paid_social".into());
                lead.utm_campaign = Some("caregiver-awareness".into());
                lead.fbclid = Some(format!("IwAR{}", rng.next() % 1_000_000_000));
            }
            6 => lead.referrer = Some("https://www.google.com/".into()),
            _ => {}
        }
        if rng.chance(4) {
            lead.is_spam = true;
            lead.spam_reason = Some("keyword".into());
            lead.message = Some((*rng.pick(SPAM)).into());
        } else {
            // How far along the pipeline the lead got: older leads further.
            let age_h = age_minutes / 60;
            let progressed = age_h > tenant.sla_hours as i64 * 2 || rng.chance(40);
            // Some stay in intake past their SLA: those are the overdue ones.
            let forgotten = rng.chance(12);
            if progressed && !forgotten && age_minutes > 30 {
                let contact_after = TimeDelta::minutes(
                    (rng.below((tenant.sla_hours as u64 * 60).max(31)) as i64).min(age_minutes - 1),
                );
                let contacted = created + contact_after;
                lead.first_contacted_at = Some(contacted);
                let target = if age_h > 24 * 7 && !closed.is_empty() && rng.chance(60) {
                    rng.pick(&closed).id
                } else if !open_later.is_empty() {
                    rng.pick(&open_later).id
                } else {
                    intake
                };
                lead.stage_id = target;
                lead.stage_changed_at = contacted;
            }
        }
        out.push(lead);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stages::default_pipeline;

    #[test]
    fn demo_leads_are_realistic_and_some_are_overdue() {
        let stages: Vec<Stage> = default_pipeline()
            .into_iter()
            .enumerate()
            .map(|(i, (n, k))| Stage {
                id: Uuid::from_u128(i as u128 + 1),
                name: n.into(),
                kind: k,
            })
            .collect();
        let now = DateTime::from_timestamp(1_780_000_000, 0).unwrap();
        let t = &TENANTS[0];
        let tid = Uuid::from_u128(42);
        let leads = leads(t, tid, &stages, now, 7);
        assert_eq!(leads.len(), t.leads);
        assert!(leads.iter().all(|l| l.created_at <= now));
        assert!(
            leads
                .iter()
                .all(|l| now - l.created_at <= TimeDelta::days(61))
        );
        let sla = TimeDelta::hours(t.sla_hours as i64);
        let overdue = leads
            .iter()
            .filter(|l| !l.is_spam && l.stage_id == stages[0].id && now - l.created_at > sla)
            .count();
        assert!(overdue >= 3, "only {overdue} overdue leads");
        assert!(leads.iter().any(|l| l.stage_id == stages[4].id), "some won");
        assert!(leads.iter().any(|l| l.is_spam));
        // Deterministic for a seed.
        let again = super::leads(t, tid, &stages, now, 7);
        assert_eq!(
            leads.iter().map(|l| &l.email).collect::<Vec<_>>(),
            again.iter().map(|l| &l.email).collect::<Vec<_>>()
        );
        // Every moved lead was contacted after it arrived.
        for l in &leads {
            if let Some(c) = l.first_contacted_at {
                assert!(c >= l.created_at && c <= now);
            }
        }
    }
}
