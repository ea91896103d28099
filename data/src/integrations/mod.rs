//! Ad-platform integrations as stored: leads from Google Ads and Meta Lead Ads (through the
//! same group-commit writer as website leads, each platform lead id once per tenant), the
//! page → tenant routing of Meta notifications, and what each source last did per tenant.

pub mod meta_graph;

use chrono::{DateTime, Utc};
use echo5_core::clock::from_millis;
use echo5_core::events::Change;
use echo5_core::integrations::{Activity, IntegrationSource};
use echo5_core::leads::Lead;
use echo5_core::tenants::TenantRef;
use echo5_core::usage::Month;
use echo5_core::webhooks::EventType;
use rusqlite::{Connection, OptionalExtension, params};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;
use uuid::Uuid;

use crate::Store;
use crate::error::StoreError;
use crate::ingest::{IngestStatus, intake_stage};
use crate::lead_days;
use crate::leads::{self, RawBody};
use crate::outbox;
use crate::usage::Counts;

/// What a test lead's `spam_reason` says.
pub const TEST_REASON: &str = "test";

/// A lead an ad platform delivered, mapped (see `echo5_core::integrations`).
pub struct AdLeadRequest {
    pub tenant_id: Uuid,
    pub source: IntegrationSource,
    /// Contact fields, `custom`, `external_id` and `is_test` filled in; the stage, spam and
    /// duplicate fields are set here.
    pub lead: Lead,
    pub raw: Vec<u8>,
    pub content_type: String,
}

/// What storing an ad-platform lead did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AdLeadOutcome {
    pub id: Uuid,
    pub status: IngestStatus,
    /// `false`: the platform's lead id was already stored for this tenant; nothing new.
    pub created: bool,
    pub assigned_to: Option<Uuid>,
    pub is_test: bool,
}

impl AdLeadOutcome {
    /// What a newly stored lead announces (nothing for a repeat).
    pub fn change(&self, tenant: &TenantRef, source: IntegrationSource) -> Option<Change> {
        self.created.then(|| Change::LeadCreated {
            tenant: tenant.clone(),
            lead_id: self.id,
            source: source.lead_source(),
            spam: Some(self.status == IngestStatus::Spam),
            assigned_to: self.assigned_to,
        })
    }
}

/// The lead already stored under this platform id for the tenant.
fn stored_external(
    conn: &Connection,
    tenant: Uuid,
    source: &str,
    external_id: &str,
) -> Result<Option<(Uuid, bool, bool, bool)>, StoreError> {
    let row: Option<(String, bool, bool, bool)> = conn
        .prepare_cached(
            "SELECT id, is_spam, duplicate_of IS NOT NULL, is_test FROM leads
             WHERE tenant_id = ?1 AND source = ?2 AND external_id = ?3",
        )?
        .query_row(params![tenant.to_string(), source, external_id], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })
        .optional()?;
    row.map(|(id, spam, dup, test)| Ok((Uuid::parse_str(&id)?, spam, dup, test)))
        .transpose()
}

fn note_lead(
    conn: &Connection,
    tenant: Uuid,
    source: IntegrationSource,
    at: DateTime<Utc>,
) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT INTO integrations(tenant_id, source, last_lead_at) VALUES (?1, ?2, ?3)
         ON CONFLICT(tenant_id, source) DO UPDATE SET last_lead_at = excluded.last_lead_at",
    )?
    .execute(params![
        tenant.to_string(),
        source.as_str(),
        at.timestamp_millis()
    ])?;
    Ok(())
}

/// How often one tenant's source records an error: a flood of refused deliveries writes at
/// most one row a minute.
const ERROR_NOTE_EVERY: Duration = Duration::from_secs(60);

/// When each (tenant, source) last recorded an error, in memory.
#[derive(Default)]
pub(crate) struct ErrorNotes(Mutex<HashMap<(Uuid, IntegrationSource), DateTime<Utc>>>);

impl ErrorNotes {
    /// Whether an error at `now` is to be written (and, if so, takes the turn).
    fn due(&self, key: (Uuid, IntegrationSource), now: DateTime<Utc>) -> bool {
        let mut m = self.0.lock().unwrap_or_else(|p| p.into_inner());
        match m.get(&key) {
            Some(last) if (now - *last).to_std().is_ok_and(|d| d < ERROR_NOTE_EVERY) => false,
            _ => {
                m.insert(key, now);
                true
            }
        }
    }
}

impl Store {
    /// Stores an ad platform's lead through the group-commit writer, answering only once
    /// it is durable, as website ingest does (intake stage, duplicate link, auto-assignment,
    /// lead and usage counts, analytics day counts, dedup windows). A platform lead id
    /// already stored for the tenant and source stores nothing and answers that lead: the
    /// writer is one thread, so concurrent repeats are looked up one after the other, and
    /// the unique index `leads_external` stands behind it. A test lead is stored flagged as
    /// spam with reason [`TEST_REASON`], which keeps it out of every count.
    pub async fn ingest_ad_lead(&self, req: AdLeadRequest) -> Result<AdLeadOutcome, StoreError> {
        let now = self.now();
        let recent = self.recent();
        let batch_usage = self.batch_usage();
        let lead_counts = self.batch_lead_counts();
        let lead_days = self.batch_lead_days();
        let hash = leads::body_hash(&req.raw);
        let contacts = recent.contacts(req.tenant_id, &req.lead);
        let custom = req.lead.custom.to_string();
        let month = Month::of(now).to_string();
        let subs = self.subscriptions();
        let tenant = req.tenant_id;
        let answer = self
            .write_unguarded(move |c| {
                let AdLeadRequest {
                    tenant_id,
                    source,
                    mut lead,
                    raw,
                    content_type,
                } = req;
                let external = lead.external_id.clone().unwrap_or_default();
                if let Some((id, spam, dup, test)) =
                    stored_external(c, tenant_id, source.as_str(), &external)?
                {
                    let outcome = AdLeadOutcome {
                        id,
                        status: IngestStatus::of(spam, dup),
                        created: false,
                        assigned_to: None,
                        is_test: test,
                    };
                    return Ok((outcome, (lead, raw)));
                }
                let mut windows = recent.lock();
                windows.prune(now);
                lead.tenant_id = tenant_id;
                lead.source = source.lead_source();
                lead.stage_id = intake_stage(c, tenant_id)?;
                lead.stage_changed_at = lead.created_at;
                lead.first_contacted_at = None;
                if lead.is_test {
                    lead.is_spam = true;
                    lead.spam_reason = Some(TEST_REASON.to_string());
                }
                lead.duplicate_of = if lead.is_spam {
                    None
                } else {
                    windows.original_of_contacts(&contacts, lead.created_at)
                };
                lead.assigned_to = if lead.is_spam {
                    None
                } else {
                    leads::assignment::auto_assignee(c, tenant_id)?
                };
                lead.over_plan =
                    crate::plans::ingest_check(c, tenant_id, &month, &batch_usage, now)?;
                let status = IngestStatus::of(lead.is_spam, lead.duplicate_of.is_some());
                let bytes = leads::insert(
                    c,
                    &lead,
                    &custom,
                    Some(RawBody {
                        bytes: &raw,
                        content_type: &content_type,
                        hash,
                    }),
                    None,
                )?;
                note_lead(c, tenant_id, source, now)?;
                // Its outbox message, in this transaction, as for a website lead; spam and test
                // leads are nobody's news.
                if !lead.is_spam {
                    outbox::record(
                        c,
                        &subs,
                        tenant_id,
                        EventType::LeadCreated,
                        Some(lead.id),
                        None,
                        now,
                    )?;
                }
                // Last, once nothing below can fail (see `ingest`).
                lead_counts.add(leads::count_key(&lead), leads::count_of(&lead, bytes));
                if let Some((k, n)) = lead_days::ingested(&lead) {
                    lead_days.add(k, n);
                }
                batch_usage.add(
                    (tenant_id, None, month),
                    Counts {
                        accepted: 1,
                        spam: u64::from(status == IngestStatus::Spam),
                        duplicates: u64::from(status == IngestStatus::Duplicate),
                        ..Counts::default()
                    },
                );
                windows.add_lead(&lead, &contacts, now);
                let outcome = AdLeadOutcome {
                    id: lead.id,
                    status,
                    created: true,
                    assigned_to: lead.assigned_to,
                    is_test: lead.is_test,
                };
                Ok((outcome, (lead, raw)))
            })
            .await
            .map(|(outcome, _spent): (AdLeadOutcome, (Lead, Vec<u8>))| outcome);
        if answer.as_ref().is_ok_and(|o| {
            o.created
                && o.status != IngestStatus::Spam
                && self.subscriptions().wants(tenant, EventType::LeadCreated)
        }) {
            self.wake_outbox();
        }
        answer
    }

    /// The tenant whose Facebook page this is (`settings.meta_page_ids`), if any.
    pub async fn tenant_of_meta_page(&self, page_id: String) -> Result<Option<Uuid>, StoreError> {
        self.read(move |c| {
            let t: Option<String> = c
                .prepare_cached("SELECT tenant_id FROM meta_pages WHERE page_id = ?1")?
                .query_row([page_id], |r| r.get(0))
                .optional()?;
            Ok(t.map(|t| Uuid::parse_str(&t)).transpose()?)
        })
        .await
    }

    /// Records what went wrong with a tenant's source (shown by the integrations answer):
    /// at most once a minute per tenant and source, so refused deliveries cannot flood the
    /// writer. `message` is the operator's text, never a secret or a lead's content.
    pub async fn note_integration_error(
        &self,
        tenant: Uuid,
        source: IntegrationSource,
        message: String,
    ) -> Result<(), StoreError> {
        let now = self.now();
        if !self.error_notes().due((tenant, source), now) {
            return Ok(());
        }
        self.write(move |c| {
            c.prepare_cached(
                "INSERT INTO integrations(tenant_id, source, last_error, last_error_at)
                 VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT(tenant_id, source) DO UPDATE SET
                     last_error = excluded.last_error, last_error_at = excluded.last_error_at",
            )?
            .execute(params![
                tenant.to_string(),
                source.as_str(),
                message,
                now.timestamp_millis()
            ])?;
            Ok(())
        })
        .await
    }

    /// What each source last did for the tenant, and what of its configuration is missing.
    pub async fn integration_activity(
        &self,
        tenant: Uuid,
    ) -> Result<Vec<(IntegrationSource, Activity, Vec<String>)>, StoreError> {
        self.read(move |c| {
            let id = tenant.to_string();
            let mut activity: HashMap<String, Activity> = HashMap::new();
            let mut stmt = c.prepare_cached(
                "SELECT source, last_lead_at, last_error, last_error_at, broken_at
                 FROM integrations WHERE tenant_id = ?1",
            )?;
            let rows = stmt.query_map([&id], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    Activity {
                        last_lead_at: r.get::<_, Option<i64>>(1)?.map(from_millis),
                        last_error: r.get(2)?,
                        last_error_at: r.get::<_, Option<i64>>(3)?.map(from_millis),
                        broken_since: r.get::<_, Option<i64>>(4)?.map(from_millis),
                    },
                ))
            })?;
            for row in rows {
                let (source, a) = row?;
                activity.insert(source, a);
            }
            let (google, meta_token, pages): (bool, bool, String) = c
                .prepare_cached(
                    "SELECT google_ads_enc IS NOT NULL, meta_token_enc IS NOT NULL, meta_page_ids
                     FROM tenants WHERE id = ?1",
                )?
                .query_row([&id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
            let app_secret: bool = c
                .prepare_cached(
                    "SELECT meta_app_secret_enc IS NOT NULL FROM platform_settings WHERE id = 1",
                )?
                .query_row([], |r| r.get(0))
                .optional()?
                .unwrap_or(false);
            let pages: Vec<String> = serde_json::from_str(&pages)?;
            let mut out = Vec::new();
            for source in IntegrationSource::ALL {
                let mut missing = Vec::new();
                match source {
                    IntegrationSource::Google => {
                        if !google {
                            missing.push("settings.google_ads".to_string());
                        }
                    }
                    IntegrationSource::Meta => {
                        if pages.is_empty() {
                            missing.push("settings.meta_page_ids".to_string());
                        }
                        if !meta_token {
                            missing.push("settings.meta_access_token".to_string());
                        }
                        if !app_secret {
                            missing.push("platform.meta_app_secret".to_string());
                        }
                    }
                }
                let a = activity.remove(source.as_str()).unwrap_or_default();
                out.push((source, a, missing));
            }
            Ok(out)
        })
        .await
    }
}
