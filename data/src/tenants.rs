//! Tenants: their fields and settings as stored (the sealed secrets are written by
//! `settings`).

use chrono::{DateTime, Utc};
use echo5_core::DomainError;
use echo5_core::assignment::AutoAssign;
use echo5_core::audit::{AuditAction, AuditRecord};
use echo5_core::clock::from_millis;
use echo5_core::crypto::MasterKey;
use echo5_core::events::{Change, Changed, TenantPart};
use echo5_core::page::{self, Cursor, Page};
use echo5_core::platform_settings::StageTemplate;
use echo5_core::secret::MaskedSecret;
use rusqlite::{Connection, OptionalExtension, Row, params};
use serde_json::json;
use std::sync::atomic::{AtomicU64, Ordering};
use uuid::Uuid;
use {
    echo5_core::settings::{SecretChanges, Settings, TenantSettings},
    echo5_core::tenants::{Tenant, TenantFields, TenantRef},
};

use crate::Store;
use crate::audit;
use crate::error::StoreError;
use crate::settings::{apply_secrets, secret_names};

/// How a request names a tenant: `/tenants/{id or slug}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TenantKey {
    Id(Uuid),
    Slug(String),
}

impl TenantKey {
    pub fn parse(s: &str) -> TenantKey {
        match Uuid::try_parse(s) {
            Ok(id) => TenantKey::Id(id),
            Err(_) => TenantKey::Slug(s.to_string()),
        }
    }
}

impl From<Uuid> for TenantKey {
    fn from(id: Uuid) -> Self {
        TenantKey::Id(id)
    }
}

/// A tenant as stored.
#[derive(Debug, Clone)]
pub(crate) struct TenantRow {
    pub id: Uuid,
    pub created_at: DateTime<Utc>,
    pub fields: TenantFields,
    pub meta_last4: Option<String>,
    pub google_last4: Option<String>,
}

impl TenantRow {
    pub fn view(&self) -> Tenant {
        Tenant {
            id: self.id,
            slug: self.fields.slug.clone(),
            name: self.fields.name.clone(),
            active: self.fields.active,
            created_at: self.created_at,
            settings: TenantSettings {
                sla_hours: self.fields.settings.sla_hours,
                spam_keywords: self.fields.settings.spam_keywords.clone(),
                manager_email: self.fields.settings.manager_email.clone(),
                default_country: self.fields.settings.default_country.clone(),
                auto_assign: self.fields.settings.auto_assign,
                meta_page_ids: self.fields.settings.meta_page_ids.clone(),
                business_hours: self.fields.settings.business_hours.clone(),
                meta_access_token: MaskedSecret::from_last4(self.meta_last4.clone()),
                google_ads: MaskedSecret::from_last4(self.google_last4.clone()),
            },
        }
    }

    pub fn tref(&self) -> TenantRef {
        TenantRef::new(self.id, &self.fields.slug, &self.fields.name)
    }
}

const COLUMNS: &str = "id, slug, name, active, created_at, sla_hours, spam_keywords, manager_email, \
                       meta_token_last4, google_ads_last4, default_country, auto_assign, meta_page_ids, \
                       business_hours";

/// A row with its JSON columns (spam keywords, page ids, business hours) still as text.
type RawRow = ((String, String, Option<String>), TenantRow);

fn from_row(r: &Row<'_>) -> rusqlite::Result<RawRow> {
    let id: String = r.get(0)?;
    let keywords: String = r.get(6)?;
    let pages: String = r.get(12)?;
    let hours: Option<String> = r.get(13)?;
    let auto_assign: String = r.get(11)?;
    Ok((
        (keywords, pages, hours),
        TenantRow {
            id: Uuid::parse_str(&id).map_err(|e| {
                rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, e.into())
            })?,
            created_at: from_millis(r.get(4)?),
            fields: TenantFields {
                slug: r.get(1)?,
                name: r.get(2)?,
                active: r.get(3)?,
                settings: Settings {
                    sla_hours: r.get(5)?,
                    spam_keywords: Vec::new(),
                    manager_email: r.get(7)?,
                    default_country: r.get(10)?,
                    // The column's CHECK admits only the values `parse` reads.
                    auto_assign: AutoAssign::parse(&auto_assign).unwrap_or_default(),
                    meta_page_ids: Vec::new(),
                    business_hours: None,
                },
            },
            meta_last4: r.get(8)?,
            google_last4: r.get(9)?,
        },
    ))
}

fn finish_row(((keywords, pages, hours), mut row): RawRow) -> Result<TenantRow, StoreError> {
    row.fields.settings.spam_keywords = serde_json::from_str(&keywords)?;
    row.fields.settings.meta_page_ids = serde_json::from_str(&pages)?;
    row.fields.settings.business_hours = hours.as_deref().map(serde_json::from_str).transpose()?;
    Ok(row)
}

pub(crate) fn find(conn: &Connection, key: &TenantKey) -> Result<Option<TenantRow>, StoreError> {
    let found = match key {
        TenantKey::Id(id) => conn
            .prepare_cached(&format!("SELECT {COLUMNS} FROM tenants WHERE id = ?1"))?
            .query_row([id.to_string()], from_row)
            .optional()?,
        TenantKey::Slug(slug) => conn
            .prepare_cached(&format!("SELECT {COLUMNS} FROM tenants WHERE slug = ?1"))?
            .query_row([slug], from_row)
            .optional()?,
    };
    found.map(finish_row).transpose()
}

/// Every tenant, oldest first, in one query.
pub(crate) fn all(conn: &Connection) -> Result<Vec<TenantRow>, StoreError> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM tenants ORDER BY created_at, id"
    ))?;
    let rows = stmt
        .query_map([], from_row)?
        .collect::<Result<Vec<_>, _>>()?;
    rows.into_iter().map(finish_row).collect()
}

pub(crate) fn get(conn: &Connection, key: &TenantKey) -> Result<TenantRow, StoreError> {
    find(conn, key)?.ok_or(StoreError::Domain(DomainError::NotFound { what: "tenant" }))
}

/// The tenant asked for, or every tenant (oldest first) when none is.
pub(crate) fn one_or_all(
    conn: &Connection,
    only: Option<&TenantKey>,
) -> Result<Vec<TenantRow>, StoreError> {
    match only {
        Some(k) => Ok(vec![get(conn, k)?]),
        None => all(conn),
    }
}

fn slug_taken(conn: &Connection, slug: &str, except: Option<Uuid>) -> Result<bool, StoreError> {
    let other: Option<String> = conn
        .prepare_cached("SELECT id FROM tenants WHERE slug = ?1")?
        .query_row([slug], |r| r.get(0))
        .optional()?;
    Ok(match (other, except) {
        (None, _) => false,
        (Some(id), Some(me)) => id != me.to_string(),
        (Some(_), None) => true,
    })
}

/// The `business_hours` column: the setting as JSON, NULL when unset.
fn business_hours_json(s: &Settings) -> Result<Option<String>, StoreError> {
    Ok(s.business_hours
        .as_ref()
        .map(serde_json::to_string)
        .transpose()?)
}

fn slug_conflict(slug: &str) -> StoreError {
    StoreError::Domain(DomainError::conflict_on(
        "slug",
        "slug_taken",
        format!("another tenant already uses the slug \"{slug}\""),
    ))
}

/// Names of the fields that differ, for the audit row (values are not logged: some are
/// personal data, and the current values are one GET away).
fn changed_fields(old: &TenantFields, new: &TenantFields) -> Vec<&'static str> {
    let mut out = Vec::new();
    if old.slug != new.slug {
        out.push("slug");
    }
    if old.name != new.name {
        out.push("name");
    }
    if old.active != new.active {
        out.push("active");
    }
    if old.settings.sla_hours != new.settings.sla_hours {
        out.push("settings.sla_hours");
    }
    if old.settings.spam_keywords != new.settings.spam_keywords {
        out.push("settings.spam_keywords");
    }
    if old.settings.manager_email != new.settings.manager_email {
        out.push("settings.manager_email");
    }
    if old.settings.default_country != new.settings.default_country {
        out.push("settings.default_country");
    }
    if old.settings.auto_assign != new.settings.auto_assign {
        out.push("settings.auto_assign");
    }
    if old.settings.meta_page_ids != new.settings.meta_page_ids {
        out.push("settings.meta_page_ids");
    }
    if old.settings.business_hours != new.settings.business_hours {
        out.push("settings.business_hours");
    }
    out
}

/// Makes `pages` the tenant's Facebook pages: its column and the routing table. A page
/// another tenant holds is a conflict naming the page (not the tenant, which the caller may
/// not see).
fn set_meta_pages(conn: &Connection, tenant: Uuid, pages: &[String]) -> Result<(), StoreError> {
    let id = tenant.to_string();
    for (i, page) in pages.iter().enumerate() {
        let holder: Option<String> = conn
            .prepare_cached("SELECT tenant_id FROM meta_pages WHERE page_id = ?1")?
            .query_row([page], |r| r.get(0))
            .optional()?;
        if holder.is_some_and(|h| h != id) {
            return Err(StoreError::Domain(DomainError::conflict_on(
                format!("meta_page_ids[{i}]"),
                "meta_page_taken",
                format!(
                    "Facebook page {page} is already connected to another tenant; a page's \
                     leads go to one tenant, so remove it there first"
                ),
            )));
        }
    }
    conn.prepare_cached("DELETE FROM meta_pages WHERE tenant_id = ?1")?
        .execute([&id])?;
    let mut add =
        conn.prepare_cached("INSERT INTO meta_pages(page_id, tenant_id) VALUES (?1, ?2)")?;
    for page in pages {
        add.execute(params![page, id])?;
    }
    conn.prepare_cached("UPDATE tenants SET meta_page_ids = ?2 WHERE id = ?1")?
        .execute(params![id, serde_json::to_string(pages)?])?;
    Ok(())
}

/// A new tenant's pipeline: the platform's default stages (see `platform_settings`).
pub(crate) fn insert_default_stages(
    conn: &Connection,
    tenant: Uuid,
    at: DateTime<Utc>,
    stages: &[StageTemplate],
) -> Result<(), StoreError> {
    let mut stmt = conn.prepare_cached(
        "INSERT INTO stages(id, tenant_id, name, kind, position, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?;
    for (pos, s) in stages.iter().enumerate() {
        stmt.execute(params![
            Uuid::now_v7().to_string(),
            tenant.to_string(),
            s.name,
            s.kind.as_str(),
            pos as i64,
            at.timestamp_millis()
        ])?;
    }
    Ok(())
}

/// The tenant-creating part of a transaction, shared by the API and demo seeding.
/// `stages` is its starting pipeline.
pub(crate) fn insert(
    conn: &Connection,
    key: &MasterKey,
    at: DateTime<Utc>,
    fields: &TenantFields,
    secrets: &SecretChanges,
    stages: &[StageTemplate],
) -> Result<TenantRow, StoreError> {
    if slug_taken(conn, &fields.slug, None)? {
        return Err(slug_conflict(&fields.slug));
    }
    let id = Uuid::now_v7();
    conn.prepare_cached(
        "INSERT INTO tenants(id, slug, name, active, created_at, sla_hours, spam_keywords, manager_email,
                             default_country, auto_assign, business_hours)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    )?
    .execute(params![
        id.to_string(),
        fields.slug,
        fields.name,
        fields.active,
        at.timestamp_millis(),
        fields.settings.sla_hours,
        serde_json::to_string(&fields.settings.spam_keywords)?,
        fields.settings.manager_email,
        fields.settings.default_country,
        fields.settings.auto_assign.as_str(),
        business_hours_json(&fields.settings)?
    ])?;
    apply_secrets(conn, key, id, secrets)?;
    if !fields.settings.meta_page_ids.is_empty() {
        set_meta_pages(conn, id, &fields.settings.meta_page_ids)?;
    }
    insert_default_stages(conn, id, at, stages)?;
    get(conn, &TenantKey::Id(id))
}

/// Orders the commits of tenant changes: taken inside the writing transaction, on the one
/// writer thread, so a later commit always holds a larger number.
pub(crate) fn tenant_change() -> u64 {
    static CHANGES: AtomicU64 = AtomicU64::new(0);
    CHANGES.fetch_add(1, Ordering::Relaxed) + 1
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeleteMode {
    /// Refuse (409) when the tenant still holds leads: leads are never lost by accident.
    KeepLeads,
    /// Delete the tenant with all its leads, stages and keys.
    Purge,
}

impl Store {
    /// The id of the tenant a request names (by id or slug): what authorization decides on
    /// before a tenant route runs. One indexed lookup of one column.
    pub async fn tenant_id(&self, key: TenantKey) -> Result<Uuid, StoreError> {
        self.read(move |c| {
            let (sql, arg) = match &key {
                TenantKey::Id(id) => ("SELECT id FROM tenants WHERE id = ?1", id.to_string()),
                TenantKey::Slug(s) => ("SELECT id FROM tenants WHERE slug = ?1", s.clone()),
            };
            let id: Option<String> = c
                .prepare_cached(sql)?
                .query_row([arg], |r| r.get(0))
                .optional()?;
            let id = id.ok_or(StoreError::Domain(DomainError::NotFound { what: "tenant" }))?;
            Ok(Uuid::parse_str(&id)?)
        })
        .await
    }

    pub async fn get_tenant(&self, key: TenantKey) -> Result<Tenant, StoreError> {
        self.read(move |c| Ok(get(c, &key)?.view())).await
    }

    /// Newest first.
    pub async fn list_tenants(
        &self,
        limit: u32,
        cursor: Option<Cursor>,
    ) -> Result<Page<Tenant>, StoreError> {
        self.read(move |c| {
            let (ts, id) = match &cursor {
                Some(cur) => (cur.ts, cur.id.clone()),
                None => (i64::MAX, String::new()),
            };
            let mut stmt = c.prepare_cached(&format!(
                "SELECT {COLUMNS} FROM tenants
                 WHERE (created_at, id) < (?1, ?2)
                 ORDER BY created_at DESC, id DESC LIMIT ?3"
            ))?;
            let rows = stmt
                .query_map(params![ts, id, limit as i64 + 1], from_row)?
                .collect::<Result<Vec<_>, _>>()?;
            let tenants = rows
                .into_iter()
                .map(|r| finish_row(r).map(|t| t.view()))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(page::paginate(tenants, limit, |t| Cursor {
                ts: t.created_at.timestamp_millis(),
                id: t.id.to_string(),
            }))
        })
        .await
    }

    pub async fn create_tenant(
        &self,
        actor: String,
        fields: TenantFields,
        secrets: SecretChanges,
    ) -> Result<Changed<Tenant>, StoreError> {
        let key = self.key();
        let now = self.now();
        self.write(move |c| {
            // The pipeline comes from the platform settings as they are in this transaction.
            let stages = crate::platform_settings::load(c)?.default_stages;
            let row = insert(c, &key, now, &fields, &secrets, &stages)?;
            let secret_names = secret_names(&secrets);
            audit::record(
                c,
                now,
                &AuditRecord {
                    actor,
                    action: AuditAction::TenantCreated,
                    tenant: Some(row.tref()),
                    target: None,
                    details: json!({ "secrets_set": secret_names }),
                },
            )?;
            let created = Change::TenantUpdated {
                tenant: row.tref(),
                part: TenantPart::Created,
            };
            Ok((Changed::one(row.view(), created), tenant_change()))
        })
        .await
        .map(|(t, change)| {
            // A tenant created inactive takes no leads from its first key on.
            self.keys()
                .set_tenant_active(t.value.id, t.value.active, change);
            t
        })
    }

    /// Read-modify-write of a tenant in one transaction: `change` sees the current fields
    /// and returns the new ones (a PUT, a PATCH, a settings update). `action` also says
    /// which part of the tenant the announced change is about.
    pub async fn update_tenant<F>(
        &self,
        actor: String,
        tenant: TenantKey,
        action: AuditAction,
        change: F,
    ) -> Result<Changed<Tenant>, StoreError>
    where
        F: FnOnce(&TenantFields) -> Result<(TenantFields, SecretChanges), DomainError>
            + Send
            + 'static,
    {
        let key = self.key();
        let now = self.now();
        self.write(move |c| {
            let before = get(c, &tenant)?;
            let (fields, secrets) = change(&before.fields)?;
            if fields.slug != before.fields.slug && slug_taken(c, &fields.slug, Some(before.id))? {
                return Err(slug_conflict(&fields.slug));
            }
            c.prepare_cached(
                "UPDATE tenants SET slug = ?2, name = ?3, active = ?4, sla_hours = ?5,
                 spam_keywords = ?6, manager_email = ?7, default_country = ?8, auto_assign = ?9,
                 business_hours = ?10
                 WHERE id = ?1",
            )?
            .execute(params![
                before.id.to_string(),
                fields.slug,
                fields.name,
                fields.active,
                fields.settings.sla_hours,
                serde_json::to_string(&fields.settings.spam_keywords)?,
                fields.settings.manager_email,
                fields.settings.default_country,
                fields.settings.auto_assign.as_str(),
                business_hours_json(&fields.settings)?
            ])?;
            if fields.settings.meta_page_ids != before.fields.settings.meta_page_ids {
                set_meta_pages(c, before.id, &fields.settings.meta_page_ids)?;
            }
            let secrets_changed = apply_secrets(c, &key, before.id, &secrets)?;
            let after = get(c, &TenantKey::Id(before.id))?;
            let mut changed: Vec<&str> = changed_fields(&before.fields, &after.fields);
            changed.extend(secrets_changed.iter().map(|s| match *s {
                "meta_access_token" => "settings.meta_access_token",
                _ => "settings.google_ads",
            }));
            audit::record(
                c,
                now,
                &AuditRecord {
                    actor,
                    action,
                    tenant: Some(after.tref()),
                    target: None,
                    details: json!({ "changed": changed }),
                },
            )?;
            let part = match action {
                AuditAction::SettingsReplaced | AuditAction::SettingsUpdated => {
                    TenantPart::Settings
                }
                _ => TenantPart::Tenant,
            };
            let updated = Change::TenantUpdated {
                tenant: after.tref(),
                part,
            };
            Ok((Changed::one(after.view(), updated), tenant_change()))
        })
        .await
        .map(|(t, change)| {
            self.keyword_cache().forget(t.value.id);
            // Its keys are refused (or honoured again) from the next request on, without a
            // read per request (see `keys`).
            self.keys()
                .set_tenant_active(t.value.id, t.value.active, change);
            t
        })
    }

    pub async fn delete_tenant(
        &self,
        actor: String,
        tenant: TenantKey,
        mode: DeleteMode,
    ) -> Result<(), StoreError> {
        let now = self.now();
        let id = self
            .write(move |c| {
            let row = get(c, &tenant)?;
            let leads: i64 = c.query_row(
                "SELECT count(*) FROM leads WHERE tenant_id = ?1",
                [row.id.to_string()],
                |r| r.get(0),
            )?;
            if leads > 0 && mode == DeleteMode::KeepLeads {
                return Err(DomainError::conflict(
                    "tenant_not_empty",
                    format!(
                        "tenant \"{}\" holds {leads} lead(s); deactivate it with PATCH {{\"active\": false}}, \
                         or delete it with ?purge=true to delete its leads too",
                        row.fields.slug
                    ),
                )
                .into());
            }
            // Leads reference stages; drop them first so the cascade never trips the FK.
            c.execute("DELETE FROM leads WHERE tenant_id = ?1", [row.id.to_string()])?;
            crate::lead_days::forget_tenant(c, row.id)?;
            c.execute("DELETE FROM tenants WHERE id = ?1", [row.id.to_string()])?;
            audit::record(
                c,
                now,
                &AuditRecord {
                    actor,
                    action: AuditAction::TenantDeleted,
                    tenant: Some(row.tref()),
                    target: None,
                    details: json!({ "leads_deleted": leads }),
                },
            )?;
            Ok(row.id)
        })
        .await?;
        // Its keys went with it (ON DELETE CASCADE); stop honouring them now.
        self.keys().forget_tenant(id);
        self.keyword_cache().forget(id);
        Ok(())
    }
}
