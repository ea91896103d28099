//! `--demo`: three demo tenants with realistic leads, seeded once per database.

use echo5_core::audit::{AuditAction, AuditRecord};
use echo5_core::demo::{self, TENANTS};
use echo5_core::platform_settings::PlatformSettings;
use rusqlite::OptionalExtension;
use serde_json::json;
use {
    echo5_core::settings::{SecretChanges, Settings},
    echo5_core::tenants::TenantFields,
};

use crate::Store;
use crate::error::StoreError;
use crate::{audit, leads, stages, tenants};

impl Store {
    /// Seeds the demo tenants unless this database was seeded before. Returns how many
    /// leads were created, or `None` when it had already been seeded. One transaction: a
    /// crash mid-seed leaves nothing half-done.
    pub async fn seed_demo(&self, seed: u64) -> Result<Option<usize>, StoreError> {
        let key = self.key();
        let now = self.now();
        let recent = self.recent();
        self.write(move |c| {
            let done: Option<String> = c
                .query_row(
                    "SELECT value FROM meta WHERE key = 'demo_seeded_at'",
                    [],
                    |r| r.get(0),
                )
                .optional()?;
            if done.is_some() {
                return Ok(None);
            }
            let mut total = 0;
            for t in &TENANTS {
                if tenants::find(c, &tenants::TenantKey::Slug(t.slug.into()))?.is_some() {
                    continue;
                }
                let fields = TenantFields {
                    slug: t.slug.into(),
                    name: t.name.into(),
                    active: true,
                    settings: Settings {
                        sla_hours: t.sla_hours,
                        spam_keywords: t.spam_keywords.iter().map(|s| s.to_string()).collect(),
                        manager_email: Some(t.manager_email.into()),
                        default_country: echo5_core::phone::DEFAULT_COUNTRY.into(),
                        auto_assign: echo5_core::assignment::AutoAssign::None,
                        meta_page_ids: Vec::new(),
                        business_hours: None,
                    },
                };
                // The built-in pipeline, whatever the platform defaults: the demo leads are
                // spread over its stages.
                let row = tenants::insert(
                    c,
                    &key,
                    now,
                    &fields,
                    &SecretChanges::default(),
                    &PlatformSettings::default().default_stages,
                )?;
                let pipeline = stages::load(c, row.id)?;
                let intake = stages::intake_of(&pipeline)
                    .map(|s| s.id)
                    .ok_or_else(|| StoreError::Internal("no stages".into()))?;
                for lead in demo::leads(t, row.id, &pipeline, now, seed) {
                    leads::insert_counted(c, &lead, None, None)?;
                    recent.remember(&lead, now);
                    if lead.stage_id != intake {
                        leads::record_stage_change(
                            c,
                            lead.id,
                            row.id,
                            Some(intake),
                            lead.stage_id,
                            lead.stage_changed_at,
                            "demo",
                        )?;
                    }
                    total += 1;
                }
                // Counted from the rows and their stage history, as a pipeline edit does.
                crate::lead_days::recount(c, row.id)?;
                audit::record(
                    c,
                    now,
                    &AuditRecord {
                        actor: "system".into(),
                        action: AuditAction::DemoSeeded,
                        tenant: Some(row.tref()),
                        target: None,
                        details: json!({ "leads": t.leads }),
                    },
                )?;
            }
            c.execute(
                "INSERT INTO meta(key, value) VALUES ('demo_seeded_at', ?1)",
                [now.to_rfc3339()],
            )?;
            Ok(Some(total))
        })
        .await
    }
}
