//! Leads as stored: the row functions ingest, the workflow and the listings build on.

pub mod all_tenants;
pub mod assignment;
pub mod erase;
pub mod listing;
pub mod notes;
pub mod workflow;

use chrono::{DateTime, Utc};
use echo5_core::DomainError;
use echo5_core::authorization::Reach;
use echo5_core::clock::from_millis;
use echo5_core::leads::{Lead, LeadSource};
use rusqlite::{Connection, OptionalExtension, Row, params};
use uuid::Uuid;

use crate::Store;
use crate::error::StoreError;

/// The body as it arrived, kept byte for byte.
#[derive(Debug, Clone, Copy)]
pub struct RawBody<'a> {
    pub bytes: &'a [u8],
    pub content_type: &'a str,
    /// [`body_hash`] of `bytes`, computed before the write job: hashing is the caller's
    /// work, not the one writer thread's.
    pub hash: [u8; 16],
}

/// What double-submit detection compares: the first 16 bytes of SHA-256 of the body.
pub fn body_hash(raw: &[u8]) -> [u8; 16] {
    let full = echo5_core::crypto::sha256(raw);
    let mut out = [0u8; 16];
    out.copy_from_slice(&full[..16]);
    out
}

/// Stores a lead and counts it in `lead_counts` (manual entry, the demo seed).
pub(crate) fn insert_counted(
    conn: &Connection,
    l: &Lead,
    raw: Option<RawBody<'_>>,
    api_key_id: Option<Uuid>,
) -> Result<(), StoreError> {
    let bytes = insert(conn, l, &l.custom.to_string(), raw, api_key_id)?;
    add_counts(conn, &count_key(l), &count_of(l, bytes))
}

/// Stores a lead, uncounted, and returns its `row_bytes`: the caller counts it, at once
/// ([`insert_counted`]) or with its batch (ingest, see [`crate::tally`]). Inserts are not
/// counted by a trigger: a trigger made every insert a multi-statement write that copied
/// the pages it touched into a statement journal — with the trigger's own upsert, ~10 % of
/// the writer at full ingest. Updates and deletes are still counted by triggers.
pub(crate) fn insert(
    conn: &Connection,
    l: &Lead,
    // `l.custom` as JSON text: ingest serializes it before its job, off the writer thread.
    custom: &str,
    raw: Option<RawBody<'_>>,
    api_key_id: Option<Uuid>,
) -> Result<i64, StoreError> {
    // Ids as text without a heap string each (five per stored lead, on the writer thread).
    let [
        mut id_buf,
        mut tenant_buf,
        mut stage_buf,
        mut duplicate_buf,
        mut key_buf,
        mut assignee_buf,
    ] = [Uuid::encode_buffer(); 6];
    conn.prepare_cached(
        "INSERT INTO leads(id, tenant_id, created_at, stage_id, stage_changed_at, first_contacted_at,
            name, first_name, last_name, email, phone, message, company, source, form_name, page_url,
            referrer, utm_source, utm_medium, utm_campaign, utm_term, utm_content, gclid, fbclid, ip,
            user_agent, custom, raw, raw_content_type, is_spam, spam_reason, duplicate_of,
            assigned_to, api_key_id, body_hash, is_test, external_id, over_plan)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19,
            ?20, ?21, ?22, ?23, ?24, ?25, ?26, ?27, ?28, ?29, ?30, ?31, ?32, ?33, ?34, ?35, ?36, ?37, ?38)",
    )?
    .execute(params![
        &*l.id.hyphenated().encode_lower(&mut id_buf),
        &*l.tenant_id.hyphenated().encode_lower(&mut tenant_buf),
        l.created_at.timestamp_millis(),
        &*l.stage_id.hyphenated().encode_lower(&mut stage_buf),
        l.stage_changed_at.timestamp_millis(),
        l.first_contacted_at.map(|t| t.timestamp_millis()),
        l.name,
        l.first_name,
        l.last_name,
        l.email,
        l.phone,
        l.message,
        l.company,
        l.source.as_str(),
        l.form_name,
        l.page_url,
        l.referrer,
        l.utm_source,
        l.utm_medium,
        l.utm_campaign,
        l.utm_term,
        l.utm_content,
        l.gclid,
        l.fbclid,
        l.ip,
        l.user_agent,
        custom,
        raw.map(|r| r.bytes),
        raw.map(|r| r.content_type),
        l.is_spam,
        l.spam_reason,
        l.duplicate_of
            .map(|d| &*d.hyphenated().encode_lower(&mut duplicate_buf)),
        l.assigned_to
            .map(|a| &*a.hyphenated().encode_lower(&mut assignee_buf)),
        api_key_id.map(|k| &*k.hyphenated().encode_lower(&mut key_buf)),
        raw.map(|r| r.hash.to_vec()),
        l.is_test,
        l.external_id,
        l.over_plan,
    ])?;
    // Computed, not read back (a query per stored lead, ~4 % of the writer; `RETURNING` is
    // worse: SQLite runs it as a trigger, which brings the statement journal back).
    Ok(row_bytes(l, custom, raw))
}

/// The `row_bytes` SQLite computes for this row (the generated column of migration 0004):
/// the byte lengths of the raw body, the custom JSON and every text column (notes live in
/// `lead_notes` and are not counted, see docs/decisions.md). The test
/// `lead_counts_follow_every_write_path` checks the two agree.
fn row_bytes(l: &Lead, custom: &str, raw: Option<RawBody<'_>>) -> i64 {
    let texts = [
        &l.name,
        &l.first_name,
        &l.last_name,
        &l.email,
        &l.phone,
        &l.message,
        &l.company,
        &l.form_name,
        &l.page_url,
        &l.referrer,
        &l.utm_source,
        &l.utm_medium,
        &l.utm_campaign,
        &l.utm_term,
        &l.utm_content,
        &l.gclid,
        &l.fbclid,
        &l.ip,
        &l.user_agent,
        &l.spam_reason,
    ];
    let raw_len = raw.map_or(0, |r| r.bytes.len() + r.content_type.len());
    // An assignee is stored as its id's 36 characters.
    let assignee_len = if l.assigned_to.is_some() { 36 } else { 0 };
    let total = raw_len
        + assignee_len
        + custom.len()
        + texts
            .iter()
            .map(|t| t.as_ref().map_or(0, String::len))
            .sum::<usize>();
    i64::try_from(total).unwrap_or(i64::MAX)
}

/// A `lead_counts` row: tenant, stage, spam.
pub(crate) type CountKey = (Uuid, Uuid, bool);

/// What one lead adds to its `lead_counts` row.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct LeadCount {
    pub leads: i64,
    pub duplicates: i64,
    pub bytes: i64,
}

impl crate::tally::Tally for LeadCount {
    fn add(&mut self, o: &LeadCount) {
        self.leads += o.leads;
        self.duplicates += o.duplicates;
        self.bytes += o.bytes;
    }
}

pub(crate) fn count_key(l: &Lead) -> CountKey {
    (l.tenant_id, l.stage_id, l.is_spam)
}

pub(crate) fn count_of(l: &Lead, bytes: i64) -> LeadCount {
    LeadCount {
        leads: 1,
        duplicates: i64::from(l.duplicate_of.is_some()),
        bytes,
    }
}

/// Adds to a `lead_counts` row inside the caller's transaction (what the insert trigger of
/// migration 0004 did per row).
pub(crate) fn add_counts(
    conn: &Connection,
    (tenant, stage, spam): &CountKey,
    c: &LeadCount,
) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT INTO lead_counts (tenant_id, stage_id, is_spam, leads, duplicates, bytes)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (tenant_id, stage_id, is_spam) DO UPDATE SET
             leads = leads + excluded.leads,
             duplicates = duplicates + excluded.duplicates,
             bytes = bytes + excluded.bytes",
    )?
    .execute(params![
        tenant.to_string(),
        stage.to_string(),
        spam,
        c.leads,
        c.duplicates,
        c.bytes
    ])?;
    Ok(())
}

/// The lead counts of the leads stored by the running group commit (see [`crate::tally`]).
pub(crate) type BatchLeadCounts = crate::tally::BatchTally<CountKey, LeadCount>;

pub(crate) fn batch_lead_counts() -> BatchLeadCounts {
    crate::tally::BatchTally::new(add_counts)
}

pub(crate) fn record_stage_change(
    conn: &Connection,
    lead: Uuid,
    tenant: Uuid,
    from: Option<Uuid>,
    to: Uuid,
    at: DateTime<Utc>,
    by: &str,
) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT INTO stage_history(lead_id, tenant_id, from_stage, to_stage, at, by)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![
        lead.to_string(),
        tenant.to_string(),
        from.map(|f| f.to_string()),
        to.to_string(),
        at.timestamp_millis(),
        by
    ])?;
    Ok(())
}

pub(crate) const COLUMNS: &str = "id, tenant_id, created_at, stage_id, stage_changed_at, first_contacted_at, \
    name, first_name, last_name, email, phone, message, company, source, form_name, page_url, \
    referrer, utm_source, utm_medium, utm_campaign, utm_term, utm_content, gclid, fbclid, ip, \
    user_agent, custom, is_spam, spam_reason, duplicate_of, assigned_to, is_test, external_id, over_plan";

fn uuid_at(r: &Row<'_>, i: usize) -> rusqlite::Result<Uuid> {
    let s: String = r.get(i)?;
    Uuid::parse_str(&s).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, e.into())
    })
}

pub(crate) fn from_row(r: &Row<'_>) -> rusqlite::Result<Lead> {
    let source: String = r.get(13)?;
    let custom: String = r.get(26)?;
    Ok(Lead {
        id: uuid_at(r, 0)?,
        tenant_id: uuid_at(r, 1)?,
        created_at: from_millis(r.get(2)?),
        stage_id: uuid_at(r, 3)?,
        stage_changed_at: from_millis(r.get(4)?),
        first_contacted_at: r.get::<_, Option<i64>>(5)?.map(from_millis),
        name: r.get(6)?,
        first_name: r.get(7)?,
        last_name: r.get(8)?,
        email: r.get(9)?,
        phone: r.get(10)?,
        message: r.get(11)?,
        company: r.get(12)?,
        source: LeadSource::parse(&source).unwrap_or(LeadSource::Api),
        form_name: r.get(14)?,
        page_url: r.get(15)?,
        referrer: r.get(16)?,
        utm_source: r.get(17)?,
        utm_medium: r.get(18)?,
        utm_campaign: r.get(19)?,
        utm_term: r.get(20)?,
        utm_content: r.get(21)?,
        gclid: r.get(22)?,
        fbclid: r.get(23)?,
        ip: r.get(24)?,
        user_agent: r.get(25)?,
        custom: serde_json::from_str(&custom).unwrap_or_default(),
        is_spam: r.get(27)?,
        spam_reason: r.get(28)?,
        duplicate_of: r
            .get::<_, Option<String>>(29)?
            .and_then(|s| Uuid::parse_str(&s).ok()),
        // Filled by `notes::attach` where the lead is shown.
        notes: Vec::new(),
        assigned_to: r
            .get::<_, Option<String>>(30)?
            .and_then(|s| Uuid::parse_str(&s).ok()),
        is_test: r.get(31)?,
        external_id: r.get(32)?,
        over_plan: r.get(33)?,
    })
}

/// One lead with its notes.
pub(crate) fn get(conn: &Connection, id: Uuid) -> Result<Lead, StoreError> {
    let mut lead = conn
        .prepare_cached(&format!("SELECT {COLUMNS} FROM leads WHERE id = ?1"))?
        .query_row([id.to_string()], from_row)
        .optional()?
        .ok_or(StoreError::Domain(DomainError::NotFound { what: "lead" }))?;
    notes::attach(conn, [&mut lead])?;
    Ok(lead)
}

/// One lead with its notes if `reach` covers it; a lead out of reach is `not_found`, as
/// one that does not exist.
pub(crate) fn get_within(conn: &Connection, id: Uuid, reach: Reach) -> Result<Lead, StoreError> {
    let lead = get(conn, id)?;
    if reach.covers(lead.assigned_to) {
        Ok(lead)
    } else {
        Err(StoreError::Domain(DomainError::NotFound { what: "lead" }))
    }
}

impl Store {
    /// A lead's tenant and assignee, and nothing else: what authorization decides on
    /// before a lead route runs.
    pub async fn lead_owner(&self, id: Uuid) -> Result<(Uuid, Option<String>), StoreError> {
        self.read(move |c| {
            let found: Option<(String, Option<String>)> = c
                .prepare_cached("SELECT tenant_id, assigned_to FROM leads WHERE id = ?1")?
                .query_row([id.to_string()], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()?;
            let (tenant, assigned) =
                found.ok_or(StoreError::Domain(DomainError::NotFound { what: "lead" }))?;
            Ok((Uuid::parse_str(&tenant)?, assigned))
        })
        .await
    }

    pub async fn get_lead(&self, id: Uuid) -> Result<Lead, StoreError> {
        self.read(move |c| get(c, id)).await
    }

    /// How many leads a tenant holds, counted from the rows themselves.
    pub async fn count_leads(&self, tenant: Uuid) -> Result<u64, StoreError> {
        self.read(move |c| {
            let n: i64 = c
                .prepare_cached("SELECT count(*) FROM leads WHERE tenant_id = ?1")?
                .query_row([tenant.to_string()], |r| r.get(0))?;
            Ok(n as u64)
        })
        .await
    }
}
