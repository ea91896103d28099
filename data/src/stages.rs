//! Pipeline stages: every change loads the pipeline, applies the rule from
//! `echo5_core::stages`, and writes the result back in the same transaction.

use chrono::{DateTime, Utc};
use echo5_core::DomainError;
use echo5_core::audit::{AuditAction, AuditRecord};
use echo5_core::events::{Change, Changed, TenantPart};
use echo5_core::stages::{self, NewStage, Stage, StageKind, StagePatch, StageSummary};
use rusqlite::{Connection, OptionalExtension, params};
use serde_json::json;
use std::collections::HashMap;
use uuid::Uuid;

use crate::Store;
use crate::audit;
use crate::error::StoreError;
use crate::lead_days;
use crate::tenants::{self, TenantKey, TenantRow};

fn parse_id(s: &str) -> rusqlite::Result<Uuid> {
    Uuid::parse_str(s).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, e.into())
    })
}

/// The order of a pipeline: by position, then by age. A tenant's intake stage — the stage
/// every new lead enters, and the one its SLA watches — is the first in this order. Every
/// query that orders a pipeline or picks its intake stage is built from this.
macro_rules! pipeline_order {
    () => {
        "position, created_at"
    };
}

/// The id of the intake stage of the tenant named by `$tenant` (a parameter or a column), as
/// SQL: one seek in `stages_tenant_order`, no sort (see `intake_lookup_is_one_seek`).
macro_rules! intake_sql {
    ($tenant:literal) => {
        concat!(
            "SELECT id FROM stages WHERE tenant_id = ",
            $tenant,
            " ORDER BY ",
            $crate::stages::pipeline_order!(),
            " LIMIT 1"
        )
    };
}
pub(crate) use {intake_sql, pipeline_order};

/// The pipeline in order.
pub(crate) fn load(conn: &Connection, tenant: Uuid) -> Result<Vec<Stage>, StoreError> {
    let mut stmt = conn.prepare_cached(concat!(
        "SELECT id, name, kind FROM stages WHERE tenant_id = ?1 ORDER BY ",
        pipeline_order!()
    ))?;
    let rows = stmt
        .query_map([tenant.to_string()], |r| {
            let kind: String = r.get(2)?;
            Ok(Stage {
                id: parse_id(&r.get::<_, String>(0)?)?,
                name: r.get(1)?,
                kind: StageKind::parse(&kind).unwrap_or(StageKind::Open),
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

/// The intake stage of a pipeline already loaded in order (see [`load`]).
pub(crate) fn intake_of(pipeline: &[Stage]) -> Option<&Stage> {
    pipeline.first()
}

/// A tenant's intake stage, which every tenant has (its pipeline is never empty).
pub(crate) fn intake(conn: &Connection, tenant: Uuid) -> Result<Uuid, StoreError> {
    intake_id(conn, tenant)?
        .ok_or_else(|| StoreError::Internal(format!("tenant {tenant} has no stages")))
}

/// A tenant's intake stage, if it has stages. Runs for every stored lead: one seek in
/// `stages_tenant_order`, no sort (see `intake_lookup_is_one_seek`).
pub(crate) fn intake_id(conn: &Connection, tenant: Uuid) -> Result<Option<Uuid>, StoreError> {
    let id: Option<String> = conn
        .prepare_cached(INTAKE_SQL)?
        .query_row(
            [&*tenant.hyphenated().encode_lower(&mut Uuid::encode_buffer())],
            |r| r.get(0),
        )
        .optional()?;
    Ok(id.map(|s| parse_id(&s)).transpose()?)
}

const INTAKE_SQL: &str = intake_sql!("?1");

/// Every tenant's intake stage, in one query.
pub(crate) fn intake_stages(conn: &Connection) -> Result<HashMap<Uuid, Uuid>, StoreError> {
    let mut stmt = conn.prepare_cached(concat!(
        "SELECT tenant_id, id FROM stages ORDER BY tenant_id, ",
        pipeline_order!()
    ))?;
    let rows = stmt
        .query_map([], |r| {
            Ok((
                parse_id(&r.get::<_, String>(0)?)?,
                parse_id(&r.get::<_, String>(1)?)?,
            ))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    let mut out = HashMap::new();
    for (tenant, stage) in rows {
        out.entry(tenant).or_insert(stage);
    }
    Ok(out)
}

fn lead_counts(conn: &Connection, tenant: Uuid) -> Result<HashMap<Uuid, u64>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT stage_id, sum(leads) FROM lead_counts WHERE tenant_id = ?1 GROUP BY stage_id",
    )?;
    let rows = stmt
        .query_map([tenant.to_string()], |r| {
            Ok((
                parse_id(&r.get::<_, String>(0)?)?,
                r.get::<_, i64>(1)? as u64,
            ))
        })?
        .collect::<Result<HashMap<_, _>, _>>()?;
    Ok(rows)
}

fn count_in(conn: &Connection, tenant: Uuid, stage: Uuid) -> Result<u64, StoreError> {
    let n: i64 = conn
        .prepare_cached(
            "SELECT coalesce(sum(leads), 0) FROM lead_counts WHERE tenant_id = ?1 AND stage_id = ?2",
        )?
        .query_row(params![tenant.to_string(), stage.to_string()], |r| r.get(0))?;
    Ok(n as u64)
}

/// Writes names, kinds and positions back; inserts stages that are new.
fn save(
    conn: &Connection,
    tenant: Uuid,
    stages: &[Stage],
    at: DateTime<Utc>,
) -> Result<(), StoreError> {
    let mut upsert = conn.prepare_cached(
        "INSERT INTO stages(id, tenant_id, name, kind, position, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT(id) DO UPDATE SET name = excluded.name, kind = excluded.kind, position = excluded.position",
    )?;
    for (pos, s) in stages.iter().enumerate() {
        upsert.execute(params![
            s.id.to_string(),
            tenant.to_string(),
            s.name,
            s.kind.as_str(),
            pos as i64,
            at.timestamp_millis()
        ])?;
    }
    Ok(())
}

fn stage_audit(
    actor: String,
    action: AuditAction,
    t: &TenantRow,
    target: Uuid,
    details: serde_json::Value,
) -> AuditRecord {
    AuditRecord {
        actor,
        action,
        tenant: Some(t.tref()),
        target: Some(target.to_string()),
        details,
    }
}

/// What every pipeline write announces: its tenant's pipeline changed.
fn pipeline_changed<T>(t: &TenantRow, value: T) -> Changed<T> {
    Changed::one(
        value,
        Change::TenantUpdated {
            tenant: t.tref(),
            part: TenantPart::Stages,
        },
    )
}

/// What a stage deletion did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StageDeleted {
    pub moved_leads: u64,
    pub moved_to: Option<Uuid>,
}

impl Store {
    pub async fn list_stages(&self, tenant: TenantKey) -> Result<Vec<StageSummary>, StoreError> {
        self.read(move |c| {
            let t = tenants::get(c, &tenant)?;
            let counts = lead_counts(c, t.id)?;
            Ok(load(c, t.id)?
                .into_iter()
                .map(|s| StageSummary {
                    lead_count: counts.get(&s.id).copied().unwrap_or(0),
                    id: s.id,
                    name: s.name,
                    kind: s.kind,
                })
                .collect())
        })
        .await
    }

    pub async fn add_stage(
        &self,
        actor: String,
        tenant: TenantKey,
        new: NewStage,
    ) -> Result<Changed<Stage>, StoreError> {
        let now = self.now();
        self.write(move |c| {
            let t = tenants::get(c, &tenant)?;
            let id = Uuid::now_v7();
            let pipeline = stages::add(&load(c, t.id)?, &new, id)?;
            save(c, t.id, &pipeline, now)?;
            let created = pipeline
                .into_iter()
                .find(|s| s.id == id)
                .ok_or_else(|| StoreError::Internal("added stage vanished".into()))?;
            audit::record(
                c,
                now,
                &stage_audit(
                    actor,
                    AuditAction::StageCreated,
                    &t,
                    id,
                    json!({ "name": created.name, "kind": created.kind }),
                ),
            )?;
            Ok(pipeline_changed(&t, created))
        })
        .await
    }

    pub async fn patch_stage(
        &self,
        actor: String,
        tenant: TenantKey,
        stage_id: Uuid,
        patch: StagePatch,
    ) -> Result<Changed<Stage>, StoreError> {
        let now = self.now();
        self.write(move |c| {
            let t = tenants::get(c, &tenant)?;
            let before = load(c, t.id)?;
            let pipeline = stages::patch(&before, stage_id, &patch)?;
            save(c, t.id, &pipeline, now)?;
            if lead_days::funnel(&before) != lead_days::funnel(&pipeline) {
                lead_days::recount(c, t.id)?;
            }
            let old = before.iter().find(|s| s.id == stage_id);
            let new = pipeline
                .into_iter()
                .find(|s| s.id == stage_id)
                .ok_or(DomainError::NotFound { what: "stage" })?;
            audit::record(
                c,
                now,
                &stage_audit(
                    actor,
                    AuditAction::StageUpdated,
                    &t,
                    stage_id,
                    json!({
                        "from": old.map(|s| json!({"name": s.name, "kind": s.kind})),
                        "to": {"name": new.name, "kind": new.kind},
                    }),
                ),
            )?;
            Ok(pipeline_changed(&t, new))
        })
        .await
    }

    pub async fn reorder_stages(
        &self,
        actor: String,
        tenant: TenantKey,
        order: Vec<Uuid>,
    ) -> Result<Changed<Vec<Stage>>, StoreError> {
        let now = self.now();
        self.write(move |c| {
            let t = tenants::get(c, &tenant)?;
            let before = load(c, t.id)?;
            let pipeline = stages::reorder(&before, &order)?;
            save(c, t.id, &pipeline, now)?;
            if lead_days::funnel(&before) != lead_days::funnel(&pipeline) {
                lead_days::recount(c, t.id)?;
            }
            audit::record(
                c,
                now,
                &AuditRecord {
                    actor,
                    action: AuditAction::StageReordered,
                    tenant: Some(t.tref()),
                    target: None,
                    details: json!({ "order": order }),
                },
            )?;
            Ok(pipeline_changed(&t, pipeline))
        })
        .await
    }

    /// Deletes a stage; with `move_to`, its leads move there first (each move is written to
    /// the stage history, `by` the actor).
    pub async fn delete_stage(
        &self,
        actor: String,
        tenant: TenantKey,
        stage_id: Uuid,
        move_to: Option<Uuid>,
    ) -> Result<Changed<StageDeleted>, StoreError> {
        let now = self.now();
        self.write(move |c| {
            let t = tenants::get(c, &tenant)?;
            let pipeline = load(c, t.id)?;
            let count = if pipeline.iter().any(|s| s.id == stage_id) {
                count_in(c, t.id, stage_id)?
            } else {
                0
            };
            let plan = stages::delete(&pipeline, stage_id, move_to, count)?;
            let (tid, sid) = (t.id.to_string(), stage_id.to_string());
            if let Some(target) = plan.move_to {
                let ms = now.timestamp_millis();
                c.execute(
                    "INSERT INTO stage_history(lead_id, tenant_id, from_stage, to_stage, at, by)
                     SELECT id, tenant_id, stage_id, ?3, ?4, ?5 FROM leads
                     WHERE tenant_id = ?1 AND stage_id = ?2",
                    params![tid, sid, target.to_string(), ms, actor],
                )?;
                c.execute(
                    "UPDATE leads SET stage_id = ?3, stage_changed_at = ?4
                     WHERE tenant_id = ?1 AND stage_id = ?2",
                    params![tid, sid, target.to_string(), ms],
                )?;
            }
            c.execute(
                "DELETE FROM stages WHERE id = ?1 AND tenant_id = ?2",
                params![sid, tid],
            )?;
            save(c, t.id, &plan.remaining, now)?;
            // Moved leads change stage, and a lead whose furthest stage this was has
            // another now (its history still names this one, which no longer counts).
            lead_days::recount(c, t.id)?;
            audit::record(
                c,
                now,
                &stage_audit(
                    actor,
                    AuditAction::StageDeleted,
                    &t,
                    stage_id,
                    json!({ "moved_leads": count, "move_to": plan.move_to }),
                ),
            )?;
            Ok(pipeline_changed(
                &t,
                StageDeleted {
                    moved_leads: if plan.move_to.is_some() { count } else { 0 },
                    moved_to: plan.move_to,
                },
            ))
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intake_lookup_is_one_seek() {
        let plan = crate::db::fresh_query_plan(INTAKE_SQL, ["t"]);
        assert!(plan.contains("stages_tenant_order"), "{plan}");
        assert!(
            !plan.contains("TEMP B-TREE"),
            "sorts on every lookup: {plan}"
        );
    }
}
