//! Webhook endpoints (secrets sealed under the master key) and their delivery log: list,
//! retry one, recover since, test message, secret rotation.

use chrono::{DateTime, TimeDelta, Utc};
use echo5_core::DomainError;
use echo5_core::audit::{AuditAction, AuditRecord};
use echo5_core::clock::from_millis;
use echo5_core::page::{self, Cursor, List, Page};
use echo5_core::secret::Secret;
use echo5_core::webhooks::{
    Attempt, Delivery, DeliveryStatus, EventMask, EventType, NewWebhook, PREVIOUS_SECRET_HOURS,
    Recovered, Webhook, WebhookPatch, WebhookWithSecret, secret_aad, url_origin,
};
use rusqlite::{Connection, OptionalExtension, params};
use serde_json::json;
use uuid::Uuid;

use crate::Store;
use crate::audit;
use crate::error::StoreError;
use crate::outbox::{self, tenant_mask};
use crate::tenants::{self, TenantKey};

const COLUMNS: &str = "id, tenant_id, url, events, description, active, disabled_reason, created_at, updated_at, previous_secret_expires_at";

fn from_row(r: &rusqlite::Row) -> rusqlite::Result<Webhook> {
    let uuid = |s: String| Uuid::parse_str(&s).unwrap_or_default();
    Ok(Webhook {
        id: uuid(r.get(0)?),
        tenant_id: uuid(r.get(1)?),
        url: r.get(2)?,
        events: serde_json::from_str(&r.get::<_, String>(3)?).unwrap_or_default(),
        description: r.get(4)?,
        active: r.get(5)?,
        disabled_reason: r.get(6)?,
        created_at: from_millis(r.get(7)?),
        updated_at: from_millis(r.get(8)?),
        previous_secret_expires_at: r.get::<_, Option<i64>>(9)?.map(from_millis),
    })
}

fn not_found() -> StoreError {
    StoreError::Domain(DomainError::NotFound { what: "webhook" })
}

fn get(conn: &Connection, tenant: Uuid, id: Uuid) -> Result<Webhook, StoreError> {
    conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM webhooks WHERE id = ?1 AND tenant_id = ?2"
    ))?
    .query_row(params![id.to_string(), tenant.to_string()], from_row)
    .optional()?
    .ok_or_else(not_found)
}

fn status_str(s: DeliveryStatus) -> &'static str {
    match s {
        DeliveryStatus::Pending => "pending",
        DeliveryStatus::Succeeded => "succeeded",
        DeliveryStatus::Failed => "failed",
    }
}

fn status_of(s: &str) -> DeliveryStatus {
    match s {
        "succeeded" => DeliveryStatus::Succeeded,
        "failed" => DeliveryStatus::Failed,
        _ => DeliveryStatus::Pending,
    }
}

/// One delivery with its attempts, by endpoint and message seq.
fn delivery(conn: &Connection, endpoint: Uuid, seq: i64) -> Result<Delivery, StoreError> {
    let row: Option<(String, String, String, i64, Option<i64>)> = conn
        .prepare_cached(
            "SELECT m.id, m.event_type, d.status, d.created_at, d.next_attempt_at
             FROM outbox_deliveries d JOIN outbox_messages m ON m.seq = d.message_seq
             WHERE d.endpoint_id = ?1 AND d.message_seq = ?2",
        )?
        .query_row(params![endpoint.to_string(), seq], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })
        .optional()?;
    let (message_id, event, status, created, next) =
        row.ok_or(StoreError::Domain(DomainError::NotFound {
            what: "delivery",
        }))?;
    let attempts = conn
        .prepare_cached(
            "SELECT at, status_code, duration_ms, response, error FROM outbox_attempts
             WHERE endpoint_id = ?1 AND message_seq = ?2 ORDER BY at, id",
        )?
        .query_map(params![endpoint.to_string(), seq], |r| {
            Ok(Attempt {
                at: from_millis(r.get(0)?),
                status_code: r.get::<_, Option<i64>>(1)?.map(|c| c as u16),
                duration_ms: r.get::<_, i64>(2)?.max(0) as u64,
                response: r.get(3)?,
                error: r.get(4)?,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    let status = status_of(&status);
    Ok(Delivery {
        message_id,
        event_type: EventType::parse(&event).unwrap_or(EventType::WebhookTest),
        status,
        created_at: from_millis(created),
        next_attempt_at: if status == DeliveryStatus::Pending {
            next.map(from_millis)
        } else {
            None
        },
        attempts,
    })
}

/// The seq of a message delivered to `endpoint`, by its `webhook-id`.
fn seq_of(conn: &Connection, endpoint: Uuid, message_id: &str) -> Result<i64, StoreError> {
    // Along the endpoint's deliveries: message ids have no index of their own.
    conn.prepare_cached(
        "SELECT d.message_seq FROM outbox_deliveries d
         JOIN outbox_messages m ON m.seq = d.message_seq
         WHERE d.endpoint_id = ?1 AND m.id = ?2",
    )?
    .query_row(params![endpoint.to_string(), message_id], |r| r.get(0))
    .optional()?
    .ok_or(StoreError::Domain(DomainError::NotFound {
        what: "delivery",
    }))
}

/// An audit row about an endpoint; never its URL's path or query, never its secret.
fn webhook_audit(
    actor: String,
    action: AuditAction,
    t: &tenants::TenantRow,
    id: Uuid,
    details: serde_json::Value,
) -> AuditRecord {
    AuditRecord {
        actor,
        action,
        tenant: Some(t.tref()),
        target: Some(id.to_string()),
        details,
    }
}

impl Store {
    /// After an endpoint change commits: the tenant's exact subscriptions.
    async fn refresh_subscriptions(&self, tenant: Uuid) -> Result<(), StoreError> {
        let mask = self.read(move |c| tenant_mask(c, tenant)).await?;
        self.subscriptions().set(tenant, mask);
        Ok(())
    }

    /// Creates an endpoint; the answer carries its secret, shown this once.
    pub async fn create_webhook(
        &self,
        actor: String,
        tenant: TenantKey,
        new: NewWebhook,
    ) -> Result<WebhookWithSecret, StoreError> {
        new.validate()?;
        let now = self.now();
        let key = self.key();
        let subs = self.subscriptions();
        let secret = echo5_core::webhooks::generate_secret()?;
        let sealed_secret = secret.clone();
        let webhook = self
            .write(move |c| {
                let t = tenants::get(c, &tenant)?;
                let id = Uuid::now_v7();
                let sealed = key.seal(&secret_aad(t.id, id), sealed_secret.expose().as_bytes())?;
                let active = new.active.unwrap_or(true);
                c.prepare_cached(
                    "INSERT INTO webhooks(id, tenant_id, url, events, description, active, secret, created_at, updated_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8)",
                )?
                .execute(params![
                    id.to_string(),
                    t.id.to_string(),
                    new.url,
                    serde_json::to_string(&new.events)?,
                    new.description.unwrap_or_default(),
                    active,
                    sealed,
                    now.timestamp_millis()
                ])?;
                if active {
                    subs.widen(t.id, EventMask::from_names(&new.events));
                }
                audit::record(
                    c,
                    now,
                    &webhook_audit(
                        actor,
                        AuditAction::WebhookCreated,
                        &t,
                        id,
                        json!({ "origin": url_origin(&new.url), "events": new.events, "active": active }),
                    ),
                )?;
                get(c, t.id, id)
            })
            .await?;
        self.refresh_subscriptions(webhook.tenant_id).await?;
        Ok(WebhookWithSecret {
            webhook,
            secret: secret.expose().clone(),
        })
    }

    pub async fn list_webhooks(&self, tenant: TenantKey) -> Result<List<Webhook>, StoreError> {
        self.read(move |c| {
            let t = tenants::get(c, &tenant)?;
            let data = c
                .prepare_cached(&format!(
                    "SELECT {COLUMNS} FROM webhooks WHERE tenant_id = ?1 ORDER BY created_at DESC, id DESC"
                ))?
                .query_map([t.id.to_string()], from_row)?
                .collect::<Result<Vec<_>, _>>()?;
            Ok(List { data })
        })
        .await
    }

    pub async fn get_webhook(&self, tenant: TenantKey, id: Uuid) -> Result<Webhook, StoreError> {
        self.read(move |c| {
            let t = tenants::get(c, &tenant)?;
            get(c, t.id, id)
        })
        .await
    }

    /// Changes an endpoint; `active: true` also clears what disabled it.
    pub async fn patch_webhook(
        &self,
        actor: String,
        tenant: TenantKey,
        id: Uuid,
        patch: WebhookPatch,
    ) -> Result<Webhook, StoreError> {
        patch.validate()?;
        let at = self.now();
        let now = at.timestamp_millis();
        let subs = self.subscriptions();
        let w = self
            .write(move |c| {
                let t = tenants::get(c, &tenant)?;
                let mut w = get(c, t.id, id)?;
                let mut changed = serde_json::Map::new();
                if let Some(u) = &patch.url {
                    changed.insert("origin".into(), json!(url_origin(u)));
                }
                if let Some(e) = &patch.events {
                    changed.insert("events".into(), json!(e));
                }
                if patch.description.is_some() {
                    changed.insert("description".into(), json!(true));
                }
                if let Some(a) = patch.active {
                    changed.insert("active".into(), json!(a));
                }
                if let Some(u) = patch.url {
                    w.url = u;
                }
                if let Some(e) = patch.events {
                    w.events = e;
                }
                if let Some(d) = patch.description {
                    w.description = d;
                }
                let reenable = patch.active == Some(true) && !w.active;
                if let Some(a) = patch.active {
                    w.active = a;
                }
                c.prepare_cached(
                    "UPDATE webhooks SET url = ?2, events = ?3, description = ?4, active = ?5,
                       disabled_reason = CASE WHEN ?5 = 1 THEN NULL ELSE disabled_reason END,
                       failing_since = CASE WHEN ?6 THEN NULL ELSE failing_since END,
                       updated_at = ?7
                     WHERE id = ?1",
                )?
                .execute(params![
                    id.to_string(),
                    w.url,
                    serde_json::to_string(&w.events)?,
                    w.description,
                    w.active,
                    reenable,
                    now
                ])?;
                if w.active {
                    subs.widen(t.id, EventMask::from_names(&w.events));
                }
                audit::record(
                    c,
                    at,
                    &webhook_audit(
                        actor,
                        AuditAction::WebhookUpdated,
                        &t,
                        id,
                        serde_json::Value::Object(changed),
                    ),
                )?;
                get(c, t.id, id)
            })
            .await?;
        self.refresh_subscriptions(w.tenant_id).await?;
        Ok(w)
    }

    /// Deletes an endpoint with its deliveries and attempts.
    pub async fn delete_webhook(
        &self,
        actor: String,
        tenant: TenantKey,
        id: Uuid,
    ) -> Result<(), StoreError> {
        let now = self.now();
        let t = self
            .write(move |c| {
                let t = tenants::get(c, &tenant)?;
                let w = get(c, t.id, id)?;
                audit::record(
                    c,
                    now,
                    &webhook_audit(
                        actor,
                        AuditAction::WebhookDeleted,
                        &t,
                        id,
                        json!({ "origin": url_origin(&w.url) }),
                    ),
                )?;
                c.prepare_cached("DELETE FROM outbox_attempts WHERE endpoint_id = ?1")?
                    .execute([id.to_string()])?;
                c.prepare_cached("DELETE FROM webhooks WHERE id = ?1")?
                    .execute([id.to_string()])?;
                Ok(t.id)
            })
            .await?;
        self.refresh_subscriptions(t).await
    }

    /// A new secret; the current one becomes the previous one and keeps signing for 24 h.
    pub async fn rotate_webhook_secret(
        &self,
        actor: String,
        tenant: TenantKey,
        id: Uuid,
    ) -> Result<WebhookWithSecret, StoreError> {
        let now = self.now();
        let key = self.key();
        let secret: Secret<String> = echo5_core::webhooks::generate_secret()?;
        let sealed_secret = secret.clone();
        let webhook = self
            .write(move |c| {
                let t = tenants::get(c, &tenant)?;
                get(c, t.id, id)?;
                let sealed = key.seal(&secret_aad(t.id, id), sealed_secret.expose().as_bytes())?;
                c.prepare_cached(
                    "UPDATE webhooks SET previous_secret = secret, secret = ?2,
                       previous_secret_expires_at = ?3, updated_at = ?4 WHERE id = ?1",
                )?
                .execute(params![
                    id.to_string(),
                    sealed,
                    (now + TimeDelta::hours(PREVIOUS_SECRET_HOURS)).timestamp_millis(),
                    now.timestamp_millis()
                ])?;
                audit::record(
                    c,
                    now,
                    &webhook_audit(
                        actor,
                        AuditAction::WebhookSecretRotated,
                        &t,
                        id,
                        json!({ "previous_signs_for_hours": PREVIOUS_SECRET_HOURS }),
                    ),
                )?;
                get(c, t.id, id)
            })
            .await?;
        Ok(WebhookWithSecret {
            webhook,
            secret: secret.expose().clone(),
        })
    }

    /// Queues a `webhook.test` message for this endpoint alone (paused or not: it is sent
    /// once the endpoint is active).
    pub async fn test_webhook(&self, tenant: TenantKey, id: Uuid) -> Result<Delivery, StoreError> {
        let now = self.now();
        let d = self
            .write(move |c| {
                let t = tenants::get(c, &tenant)?;
                let w = get(c, t.id, id)?;
                let data = serde_json::json!({
                    "webhook_id": w.id,
                    "tenant_id": t.id,
                    "message": "A test message from Echo5 Leads",
                });
                let (seq, _) =
                    outbox::insert_message(c, t.id, EventType::WebhookTest, None, Some(&data), now)?;
                c.prepare_cached(
                    "INSERT INTO outbox_deliveries(endpoint_id, message_seq, status, attempts, next_attempt_at, created_at)
                     VALUES (?1, ?2, 'pending', 0, ?3, ?3)",
                )?
                .execute(params![id.to_string(), seq, now.timestamp_millis()])?;
                delivery(c, id, seq)
            })
            .await?;
        self.wake_outbox();
        Ok(d)
    }

    /// An endpoint's deliveries, newest first, optionally of one status.
    pub async fn list_deliveries(
        &self,
        tenant: TenantKey,
        id: Uuid,
        status: Option<DeliveryStatus>,
        limit: Option<u32>,
        cursor: Option<String>,
    ) -> Result<Page<Delivery>, StoreError> {
        let (limit, cursor) = page::parse(limit, cursor.as_deref())?;
        self.read(move |c| {
            let t = tenants::get(c, &tenant)?;
            get(c, t.id, id)?;
            let before = match &cursor {
                Some(cur) => cur.id.parse::<i64>().map_err(|_| {
                    DomainError::invalid(
                        "cursor",
                        "invalid_cursor",
                        "cursor is not one this API returned",
                    )
                })?,
                None => i64::MAX,
            };
            let seqs: Vec<i64> = c
                .prepare_cached(
                    "SELECT message_seq FROM outbox_deliveries
                     WHERE endpoint_id = ?1 AND (?2 IS NULL OR status = ?2) AND message_seq < ?3
                     ORDER BY message_seq DESC LIMIT ?4",
                )?
                .query_map(
                    params![
                        id.to_string(),
                        status.map(status_str),
                        before,
                        limit as i64 + 1
                    ],
                    |r| r.get(0),
                )?
                .collect::<Result<_, _>>()?;
            let rows = seqs
                .into_iter()
                .map(|s| delivery(c, id, s).map(|d| (s, d)))
                .collect::<Result<Vec<_>, _>>()?;
            let p = page::paginate(rows, limit, |(s, d)| Cursor {
                ts: d.created_at.timestamp_millis(),
                id: s.to_string(),
            });
            Ok(Page {
                data: p.data.into_iter().map(|(_, d)| d).collect(),
                next_cursor: p.next_cursor,
            })
        })
        .await
    }

    /// Sends one message to this endpoint again now, whatever its status.
    pub async fn retry_delivery(
        &self,
        tenant: TenantKey,
        id: Uuid,
        message_id: String,
    ) -> Result<Delivery, StoreError> {
        let now = self.now().timestamp_millis();
        let d = self
            .write(move |c| {
                let t = tenants::get(c, &tenant)?;
                get(c, t.id, id)?;
                let seq = seq_of(c, id, &message_id)?;
                c.prepare_cached(
                    "UPDATE outbox_deliveries SET status = 'pending', next_attempt_at = ?3
                     WHERE endpoint_id = ?1 AND message_seq = ?2",
                )?
                .execute(params![id.to_string(), seq, now])?;
                delivery(c, id, seq)
            })
            .await?;
        self.wake_outbox();
        Ok(d)
    }

    /// Queues again every failed delivery to this endpoint of a message created since
    /// `since`.
    pub async fn recover_deliveries(
        &self,
        tenant: TenantKey,
        id: Uuid,
        since: DateTime<Utc>,
    ) -> Result<Recovered, StoreError> {
        let now = self.now().timestamp_millis();
        let n = self
            .write(move |c| {
                let t = tenants::get(c, &tenant)?;
                get(c, t.id, id)?;
                Ok(c.prepare_cached(
                    "UPDATE outbox_deliveries SET status = 'pending', next_attempt_at = ?3
                     WHERE endpoint_id = ?1 AND status = 'failed' AND created_at >= ?2",
                )?
                .execute(params![
                    id.to_string(),
                    since.timestamp_millis(),
                    now
                ])?)
            })
            .await?;
        self.wake_outbox();
        Ok(Recovered { queued: n as u64 })
    }
}
