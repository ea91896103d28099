//! Plans as stored, a tenant's plan and Stripe customer, and what the limits need from the
//! database: the hard-limit checks (inside the write job that inserts, so two concurrent
//! creates cannot both pass), the `over_plan` flag and the 80 %/100 % notices of ingest
//! (inside the lead's own group-commit job, counted from the usage counters; the notices
//! go out as outbox mail tasks queued in that transaction), the
//! retention erasure and the plan use of the usage answers.

use chrono::{DateTime, Utc};
use echo5_core::DomainError;
use echo5_core::audit::{AuditAction, AuditRecord};
use echo5_core::clock::from_millis;
use echo5_core::leads::Lead;
use echo5_core::outbox_tasks::{MailTask, NewTask, TaskKind};
use echo5_core::plans::{
    self, HardLimit, MeterEvent, Plan, PlanFields, PlanLimits, PlanUse, Report, Threshold, Use,
};
use echo5_core::usage::Month;
use rusqlite::{Connection, OptionalExtension, Row, params};
use serde_json::json;
use std::cell::RefCell;
use std::collections::HashMap;
use uuid::Uuid;

use crate::Store;
use crate::audit;
use crate::error::StoreError;
use crate::tenants::{self, TenantKey};
use crate::usage::BatchUsage;

const COLUMNS: &str = "p.id, p.name, p.price_cents, p.currency, p.leads_per_month, p.users, \
    p.api_keys, p.webhooks, p.retention_days, p.created_at, \
    (SELECT count(*) FROM tenants t WHERE t.plan_id = p.id)";

fn count(r: &Row<'_>, i: usize) -> rusqlite::Result<Option<u64>> {
    Ok(r.get::<_, Option<i64>>(i)?.map(|v| v.max(0) as u64))
}

fn limits_at(r: &Row<'_>, at: usize) -> rusqlite::Result<PlanLimits> {
    Ok(PlanLimits {
        leads_per_month: count(r, at)?,
        users: count(r, at + 1)?,
        api_keys: count(r, at + 2)?,
        webhooks: count(r, at + 3)?,
        retention_days: r.get::<_, Option<i64>>(at + 4)?.map(|v| v.max(0) as u32),
    })
}

fn from_row(r: &Row<'_>) -> rusqlite::Result<Plan> {
    let id: String = r.get(0)?;
    Ok(Plan {
        id: Uuid::parse_str(&id).map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, e.into())
        })?,
        name: r.get(1)?,
        price_cents: r.get::<_, i64>(2)?.max(0) as u64,
        currency: r.get(3)?,
        limits: limits_at(r, 4)?,
        created_at: from_millis(r.get(9)?),
        tenants: r.get::<_, i64>(10)?.max(0) as u64,
    })
}

fn not_found() -> StoreError {
    StoreError::Domain(DomainError::NotFound { what: "plan" })
}

fn get(c: &Connection, id: Uuid) -> Result<Plan, StoreError> {
    c.prepare_cached(&format!("SELECT {COLUMNS} FROM plans p WHERE p.id = ?1"))?
        .query_row([id.to_string()], from_row)
        .optional()?
        .ok_or_else(not_found)
}

fn all(c: &Connection) -> Result<Vec<Plan>, StoreError> {
    Ok(c.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM plans p ORDER BY p.price_cents, p.name, p.id"
    ))?
    .query_map([], from_row)?
    .collect::<Result<_, _>>()?)
}

fn write_fields(c: &Connection, id: Uuid, f: &PlanFields) -> Result<(), StoreError> {
    let n = |v: Option<u64>| v.map(|v| v as i64);
    c.prepare_cached(
        "UPDATE plans SET name = ?2, price_cents = ?3, currency = ?4, leads_per_month = ?5,
         users = ?6, api_keys = ?7, webhooks = ?8, retention_days = ?9 WHERE id = ?1",
    )?
    .execute(params![
        id.to_string(),
        f.name,
        f.price_cents as i64,
        f.currency,
        n(f.limits.leads_per_month),
        n(f.limits.users),
        n(f.limits.api_keys),
        n(f.limits.webhooks),
        f.limits.retention_days
    ])?;
    Ok(())
}

fn plan_audit(
    c: &Connection,
    now: DateTime<Utc>,
    actor: String,
    action: AuditAction,
    p: &Plan,
) -> Result<(), StoreError> {
    audit::record(
        c,
        now,
        &AuditRecord {
            actor,
            action,
            tenant: None,
            target: Some(p.id.to_string()),
            details: json!({ "name": p.name, "price_cents": p.price_cents,
                             "currency": p.currency, "limits": p.limits }),
        },
    )
}

/// The limits of the tenant's plan; `None` when it has no plan.
pub(crate) fn tenant_limits(
    c: &Connection,
    tenant: Uuid,
) -> Result<Option<PlanLimits>, StoreError> {
    Ok(c.prepare_cached(
        "SELECT p.leads_per_month, p.users, p.api_keys, p.webhooks, p.retention_days
             FROM tenants t JOIN plans p ON p.id = t.plan_id WHERE t.id = ?1",
    )?
    .query_row([tenant.to_string()], |r| limits_at(r, 0))
    .optional()?)
}

/// How many of `which` the tenant has now: its users, its live API keys (neither revoked
/// nor expired, and not the old half of a rotation whose new key is live), its webhook
/// endpoints.
fn used(
    c: &Connection,
    tenant: Uuid,
    which: HardLimit,
    now: DateTime<Utc>,
) -> Result<u64, StoreError> {
    let t = tenant.to_string();
    let n: i64 = match which {
        HardLimit::Users => c
            .prepare_cached("SELECT count(*) FROM users WHERE tenant_id = ?1")?
            .query_row([t], |r| r.get(0))?,
        // A key in its rotation grace shares its place with its successor while that one
        // is live: a rotation is not a create, so it must not hold a second place for the
        // grace (24 h by default) and refuse the tenant's next key meanwhile.
        HardLimit::ApiKeys => c
            .prepare_cached(
                "SELECT count(*) FROM api_keys k WHERE k.tenant_id = ?1 AND k.revoked_at IS NULL
                 AND (k.expires_at IS NULL OR k.expires_at > ?2)
                 AND NOT EXISTS (SELECT 1 FROM api_keys n WHERE n.tenant_id = ?1
                     AND n.rotated_from = k.id AND n.revoked_at IS NULL
                     AND (n.expires_at IS NULL OR n.expires_at > ?2))",
            )?
            .query_row(params![t, now.timestamp_millis()], |r| r.get(0))?,
        HardLimit::Webhooks => c
            .prepare_cached("SELECT count(*) FROM webhooks WHERE tenant_id = ?1")?
            .query_row([t], |r| r.get(0))?,
    };
    Ok(n.max(0) as u64)
}

/// Refuses (402 `plan_limit_reached`) one more `which` for the tenant past its plan's limit.
/// Called inside the write job that inserts it: the writer runs jobs one at a time, so two
/// concurrent creates see each other's rows and cannot both pass.
pub(crate) fn check_limit(
    c: &Connection,
    tenant: Uuid,
    which: HardLimit,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let Some(limit) = tenant_limits(c, tenant)?.and_then(|l| which.of(&l)) else {
        return Ok(());
    };
    plans::check_create(which, used(c, tenant, which, now)?, Some(limit))?;
    Ok(())
}

/// A tenant's `leads_per_month`, and the month and its accepted count as the usage
/// counters held them when read.
type LeadLimit = (Option<u64>, String, u64);

thread_local! {
    /// Per tenant, on the writer thread: its `leads_per_month` and the month's accepted
    /// count as the usage counters held when first read, until the writer's generation
    /// changes (the end of a batch, or a job that may change a plan). The batch's own
    /// leads are added from the batch's staged usage, so the count is exact without a
    /// query per lead.
    static LEAD_LIMITS: RefCell<(u64, HashMap<Uuid, LeadLimit>)> =
        RefCell::new((u64::MAX, HashMap::new()));
}

/// The accepted leads of the tenant in `month` as the usage counters hold them.
fn counted(c: &Connection, tenant: Uuid, month: &str) -> Result<u64, StoreError> {
    let n: i64 = c
        .prepare_cached(
            "SELECT coalesce(sum(accepted), 0) FROM usage_counters WHERE tenant_id = ?1 AND month = ?2",
        )?
        .query_row(params![tenant.to_string(), month], |r| r.get(0))?;
    Ok(n.max(0) as u64)
}

/// Inside an ingest job, before the lead's counts join the batch: whether the lead is over
/// its tenant's monthly limit, and the notice thresholds it reaches, each recorded once per
/// tenant and month in `plan_notices` (in this transaction). A tenant without a plan or
/// without `leads_per_month` costs one cached lookup per batch.
pub(crate) fn ingest_check(
    c: &Connection,
    tenant: Uuid,
    month: &str,
    batch: &BatchUsage,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let generation = crate::writer::generation();
    let known = LEAD_LIMITS.with_borrow_mut(|(seen, m)| {
        if *seen != generation {
            m.clear();
            *seen = generation;
        }
        m.get(&tenant).filter(|(_, mo, _)| mo == month).cloned()
    });
    // The first lead of the tenant since the writer's generation changed (a new batch, or
    // a job that may have changed its plan) asks which thresholds the count has reached,
    // not only which it crosses: a limit lowered below the month's use, or a plan given
    // to a tenant already past it, is told at the next lead. Later leads of the generation
    // can only cross (the limit stays, the count grows by one).
    let (limit, stored, first) = match known {
        Some((limit, _, stored)) => (limit, stored, false),
        None => {
            let limit = tenant_limits(c, tenant)?.and_then(|l| l.leads_per_month);
            let stored = if limit.is_some() {
                counted(c, tenant, month)?
            } else {
                0
            };
            LEAD_LIMITS
                .with_borrow_mut(|(_, m)| m.insert(tenant, (limit, month.to_string(), stored)));
            (limit, stored, true)
        }
    };
    let Some(limit) = limit else {
        return Ok(false);
    };
    let before = stored + batch.staged_accepted(tenant, month);
    let due = if first {
        plans::thresholds_reached(before + 1, Some(limit))
    } else {
        plans::thresholds_crossed(before, before + 1, Some(limit))
    };
    for t in due {
        let first = c
            .prepare_cached(
                "INSERT INTO plan_notices(tenant_id, month, threshold, created_at) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT DO NOTHING",
            )?
            .execute(params![tenant.to_string(), month, t.percent(), now.timestamp_millis()])?;
        if first == 1 {
            queue_notice(c, tenant, month, t, before + 1, limit, now)?;
        }
    }
    Ok(plans::lead_over_plan(before, Some(limit)))
}

/// Who is told about a tenant's plan: the platform's operator address, its owners and the
/// tenant's admins (active users), each address once.
fn notice_recipients(c: &Connection, tenant: Uuid) -> Result<Vec<String>, StoreError> {
    let mut out: Vec<String> = Vec::new();
    if let Some(e) = crate::platform_settings::load(c)?.operator_email {
        out.push(e);
    }
    let mut stmt = c.prepare_cached(
        "SELECT email FROM users WHERE active = 1
         AND ((tenant_id IS NULL AND role = 'owner') OR (tenant_id = ?1 AND role = 'admin'))
         ORDER BY created_at, id",
    )?;
    for e in stmt.query_map([tenant.to_string()], |r| r.get::<_, String>(0))? {
        let e = e?;
        if !out.iter().any(|o| o.eq_ignore_ascii_case(&e)) {
            out.push(e);
        }
    }
    Ok(out)
}

/// Queues the mails of a notice (one outbox mail task per recipient, deduplicated per
/// tenant, month, threshold and address) in the caller's transaction: they go out with
/// the outbox's retries, across SMTP outages and restarts.
fn queue_notice(
    c: &Connection,
    tenant: Uuid,
    month: &str,
    threshold: Threshold,
    used: u64,
    limit: u64,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let t = tenants::get(c, &TenantKey::Id(tenant))?;
    let mail = plans::notice_mail(
        &t.fields.name,
        &t.fields.slug,
        month,
        threshold,
        used,
        limit,
    );
    for to in notice_recipients(c, tenant)? {
        let task = MailTask {
            to: to.clone(),
            subject: mail.0.clone(),
            text: mail.1.clone(),
        };
        crate::outbox_tasks::enqueue(
            c,
            &NewTask::mail(&task, now).tenant(tenant).dedup(format!(
                "plan_notice:{tenant}:{month}:{}:{}",
                threshold.percent(),
                to.to_lowercase()
            )),
            now,
        )?;
    }
    Ok(())
}

/// The number of leads one retention job erases at most: small enough that the writer is
/// held for milliseconds, not seconds (an erase costs ~0.3 ms on the writer: 200 a job held
/// it ~57 ms and took the ingest p99 at c16 from 23 to 114 ms on the 1 M-lead benchmark).
pub const RETENTION_BATCH: usize = 50;

/// What one retention pass did for one tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Erased {
    pub tenant: Uuid,
    pub leads: u64,
}

impl Store {
    pub async fn list_plans(&self) -> Result<Vec<Plan>, StoreError> {
        self.read(all).await
    }

    pub async fn get_plan(&self, id: Uuid) -> Result<Plan, StoreError> {
        self.read(move |c| get(c, id)).await
    }

    pub async fn create_plan(&self, actor: String, f: PlanFields) -> Result<Plan, StoreError> {
        let now = self.now();
        self.write(move |c| {
            let id = Uuid::now_v7();
            c.prepare_cached(
                "INSERT INTO plans(id, name, price_cents, currency, created_at) VALUES (?1, ?2, 0, 'EUR', ?3)",
            )?
            .execute(params![id.to_string(), f.name, now.timestamp_millis()])?;
            write_fields(c, id, &f)?;
            let p = get(c, id)?;
            plan_audit(c, now, actor, AuditAction::PlanCreated, &p)?;
            Ok(p)
        })
        .await
    }

    /// Read-modify-write of a plan in one transaction.
    pub async fn update_plan<F>(
        &self,
        actor: String,
        id: Uuid,
        change: F,
    ) -> Result<Plan, StoreError>
    where
        F: FnOnce(&PlanFields) -> Result<PlanFields, DomainError> + Send + 'static,
    {
        let now = self.now();
        self.write(move |c| {
            let cur = get(c, id)?;
            let next = change(&PlanFields {
                name: cur.name,
                price_cents: cur.price_cents,
                currency: cur.currency,
                limits: cur.limits,
            })?;
            write_fields(c, id, &next)?;
            let p = get(c, id)?;
            plan_audit(c, now, actor, AuditAction::PlanUpdated, &p)?;
            Ok(p)
        })
        .await
    }

    /// Deletes a plan no tenant is on (else 409 `plan_in_use`).
    pub async fn delete_plan(&self, actor: String, id: Uuid) -> Result<(), StoreError> {
        let now = self.now();
        self.write(move |c| {
            let p = get(c, id)?;
            if p.tenants > 0 {
                return Err(DomainError::conflict(
                    "plan_in_use",
                    format!(
                        "{} tenant(s) are on plan \"{}\"; move them to another plan first",
                        p.tenants, p.name
                    ),
                )
                .into());
            }
            c.prepare_cached("DELETE FROM plans WHERE id = ?1")?
                .execute([id.to_string()])?;
            plan_audit(c, now, actor, AuditAction::PlanDeleted, &p)
        })
        .await
    }

    /// The plan notices recorded for a tenant in a month (thresholds, in order).
    pub async fn plan_notices(
        &self,
        tenant: Uuid,
        month: Month,
    ) -> Result<Vec<Threshold>, StoreError> {
        self.read(move |c| {
            let rows: Vec<u32> = c
                .prepare_cached(
                    "SELECT threshold FROM plan_notices WHERE tenant_id = ?1 AND month = ?2
                     ORDER BY threshold",
                )?
                .query_map(params![tenant.to_string(), month.to_string()], |r| r.get(0))?
                .collect::<Result<_, _>>()?;
            Ok(rows
                .into_iter()
                .filter_map(Threshold::from_percent)
                .collect())
        })
        .await
    }

    /// Erases, for every tenant whose plan has `retention_days`, the leads created before
    /// the window (strictly older than `retention_days` at the store's now), in jobs of at
    /// most [`RETENTION_BATCH`] leads, each erased as `DELETE /api/v1/leads/{id}` erases
    /// one (counters, analytics days, duplicate windows). One audit row per tenant with the
    /// count. Returns what it erased, per tenant.
    pub async fn erase_past_retention(&self, actor: &str) -> Result<Vec<Erased>, StoreError> {
        let now = self.now();
        let tenants: Vec<(Uuid, u32)> = self
            .read(|c| {
                let rows: Vec<(String, i64)> = c
                    .prepare_cached(
                        "SELECT t.id, p.retention_days FROM tenants t JOIN plans p ON p.id = t.plan_id
                         WHERE p.retention_days IS NOT NULL ORDER BY t.id",
                    )?
                    .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
                    .collect::<Result<_, _>>()?;
                rows.into_iter()
                    .map(|(t, d)| Ok((Uuid::parse_str(&t)?, d.max(0) as u32)))
                    .collect()
            })
            .await?;
        let mut out = Vec::new();
        for (tenant, days) in tenants {
            let Some(cutoff) = plans::retention_cutoff(now, Some(days)) else {
                continue;
            };
            let mut total = 0u64;
            loop {
                let recent = self.recent();
                let cut = cutoff.timestamp_millis();
                let job = std::time::Instant::now();
                let n = self
                    .write(move |c| {
                        let leads: Vec<Lead> = c
                            .prepare_cached(&format!(
                                "SELECT {} FROM leads INDEXED BY leads_tenant_created
                                 WHERE tenant_id = ?1 AND created_at < ?2
                                 ORDER BY created_at LIMIT ?3",
                                crate::leads::COLUMNS
                            ))?
                            .query_map(
                                params![tenant.to_string(), cut, RETENTION_BATCH as i64],
                                crate::leads::from_row,
                            )?
                            .collect::<Result<_, _>>()?;
                        for l in &leads {
                            crate::leads::erase::erase_remembered(c, &recent, l, now)?;
                        }
                        Ok(leads.len())
                    })
                    .await?;
                total += n as u64;
                if n < RETENTION_BATCH {
                    break;
                }
                // As long again with the writer left to ingest: the retention job takes at
                // most half of the writer's time, however busy ingest is.
                tokio::time::sleep(job.elapsed()).await;
            }
            if total > 0 {
                let actor = actor.to_string();
                self.write(move |c| {
                    // A tenant deleted meanwhile took its leads with it: there is no tenant
                    // to record against, and no reason to fail the other tenants' pass.
                    let Some(t) = tenants::find(c, &TenantKey::Id(tenant))? else {
                        return Ok(());
                    };
                    audit::record(
                        c,
                        now,
                        &AuditRecord {
                            actor,
                            action: AuditAction::LeadsRetentionErased,
                            tenant: Some(t.tref()),
                            target: None,
                            details: json!({ "erased": total, "retention_days": days,
                                             "created_before": cutoff }),
                        },
                    )
                })
                .await?;
            }
            out.push(Erased {
                tenant,
                leads: total,
            });
        }
        Ok(out)
    }

    /// Queues, for every tenant with a Stripe customer, one report of the leads accepted
    /// since its previous report (an outbox task whose id is the report's `identifier`),
    /// and moves the tenant's reported mark in the same transaction: a restart before the
    /// commit reports nothing, after it the task is there to send, so every accepted lead
    /// is reported exactly once. Nothing is queued while no meter event name is set.
    pub async fn billing_sync(&self) -> Result<Vec<Report>, StoreError> {
        let now = self.now();
        let reports = self
            .write(move |c| {
                let Some(event_name) = crate::platform_settings::load(c)?.stripe_meter_event_name
                else {
                    return Ok(Vec::new());
                };
                let rows: Vec<(String, String, i64, i64)> = c
                    .prepare_cached(
                        "SELECT t.id, t.stripe_customer_id, t.stripe_reported_leads,
                                (SELECT coalesce(sum(u.accepted), 0) FROM usage_counters u
                                 WHERE u.tenant_id = t.id)
                         FROM tenants t WHERE t.stripe_customer_id IS NOT NULL ORDER BY t.id",
                    )?
                    .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
                    .collect::<Result<_, _>>()?;
                let mut out = Vec::new();
                for (t, customer, reported, total) in rows {
                    if total <= reported {
                        continue;
                    }
                    let tenant = Uuid::parse_str(&t)?;
                    let event = MeterEvent {
                        tenant_id: tenant,
                        stripe_customer_id: customer.clone(),
                        event_name: event_name.clone(),
                        value: (total - reported) as u64,
                        timestamp: now,
                    };
                    let task = NewTask::new(
                        TaskKind::StripeMeterEvent,
                        serde_json::to_value(&event)?,
                        now,
                    )
                    .tenant(tenant)
                    .group(plans::STRIPE_GROUP)
                    // One report per high-water mark, ever.
                    .dedup(format!("stripe:{tenant}:{total}"));
                    let Some(id) = crate::outbox_tasks::enqueue(c, &task, now)? else {
                        continue;
                    };
                    c.prepare_cached(
                        "UPDATE tenants SET stripe_reported_leads = ?2 WHERE id = ?1",
                    )?
                    .execute(params![t, total])?;
                    out.push(Report {
                        tenant_id: tenant,
                        stripe_customer_id: customer,
                        value: event.value,
                        identifier: id,
                    });
                }
                Ok(out)
            })
            .await?;
        if !reports.is_empty() {
            self.wake_outbox();
        }
        Ok(reports)
    }

    /// Each tenant's plan with its use now (leads: `month`'s accepted), for the usage
    /// answers; tenants without a plan are left out.
    pub async fn plan_use(&self, month: Month) -> Result<HashMap<Uuid, PlanUse>, StoreError> {
        let now = self.now();
        self.read(move |c| {
            let rows: Vec<(String, Plan)> = c
                .prepare_cached(&format!(
                    "SELECT t.id, {COLUMNS} FROM tenants t JOIN plans p ON p.id = t.plan_id"
                ))?
                .query_map([], |r| {
                    let t: String = r.get(0)?;
                    // The plan's columns start at 1.
                    let id: String = r.get(1)?;
                    Ok((
                        t,
                        Plan {
                            id: Uuid::parse_str(&id).unwrap_or_default(),
                            name: r.get(2)?,
                            price_cents: r.get::<_, i64>(3)?.max(0) as u64,
                            currency: r.get(4)?,
                            limits: limits_at(r, 5)?,
                            created_at: from_millis(r.get(10)?),
                            tenants: 0,
                        },
                    ))
                })?
                .collect::<Result<_, _>>()?;
            let mut out = HashMap::new();
            for (t, p) in rows {
                let tenant = Uuid::parse_str(&t)?;
                let used = Use {
                    leads_this_month: counted(c, tenant, &month.to_string())?,
                    users: used(c, tenant, HardLimit::Users, now)?,
                    api_keys: used(c, tenant, HardLimit::ApiKeys, now)?,
                    webhooks: used(c, tenant, HardLimit::Webhooks, now)?,
                };
                out.insert(
                    tenant,
                    PlanUse {
                        plan_id: p.id,
                        plan_name: p.name,
                        price_cents: p.price_cents,
                        currency: p.currency,
                        limits: p.limits,
                        used,
                    },
                );
            }
            Ok(out)
        })
        .await
    }
}
