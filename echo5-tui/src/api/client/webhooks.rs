//! Webhook endpoints on the wire: `/api/v1/tenants/{t}/webhooks` and their deliveries.
//! Paths and bodies live here only.

use chrono::{DateTime, Utc};
use echo5_core::page::{List, Page};
use echo5_core::secret::Secret;
use echo5_core::webhooks::{
    Delivery, DeliveryStatus, NewWebhook, Recover, Recovered, Webhook, WebhookPatch,
    WebhookWithSecret,
};
use reqwest::Method;
use uuid::Uuid;

use super::Client;
use crate::app::{ApiError, Reply};

/// Deliveries per page; more load as the cursor passes the end.
const DELIVERIES_PAGE: u32 = 50;

pub fn webhooks_path(tenant: Uuid) -> String {
    format!("/api/v1/tenants/{tenant}/webhooks")
}

pub fn webhook_path(tenant: Uuid, webhook: Uuid) -> String {
    format!("{}/{webhook}", webhooks_path(tenant))
}

/// The query of a deliveries page: the status filter and the cursor, when set.
pub fn deliveries_query(
    status: Option<DeliveryStatus>,
    cursor: Option<&str>,
) -> Vec<(&'static str, String)> {
    let mut q = vec![("limit", DELIVERIES_PAGE.to_string())];
    if let Some(s) = status {
        q.push(("status", status_param(s).to_string()));
    }
    if let Some(c) = cursor {
        q.push(("cursor", c.to_string()));
    }
    q
}

pub fn status_param(s: DeliveryStatus) -> &'static str {
    match s {
        DeliveryStatus::Pending => "pending",
        DeliveryStatus::Succeeded => "succeeded",
        DeliveryStatus::Failed => "failed",
    }
}

/// The body of a recover: `since` in RFC 3339, to the second.
pub fn recover_body(since: DateTime<Utc>) -> Recover {
    Recover { since }
}

/// The wire type carries the secret as a plain string; it is wrapped before it goes
/// anywhere a `Debug` could print it.
fn with_secret(w: WebhookWithSecret, rotated: bool) -> Reply {
    Reply::WebhookSecret {
        webhook: Box::new(w.webhook),
        secret: Secret::new(w.secret),
        rotated,
    }
}

impl Client {
    pub(super) async fn list_webhooks(&self, tenant: Uuid) -> Result<Reply, ApiError> {
        let l: List<Webhook> = self
            .send(self.req(Method::GET, &webhooks_path(tenant)))
            .await?;
        Ok(Reply::Webhooks(l.data))
    }

    pub(super) async fn create_webhook(
        &self,
        tenant: Uuid,
        new: &NewWebhook,
    ) -> Result<Reply, ApiError> {
        let w: WebhookWithSecret = self
            .send(self.req(Method::POST, &webhooks_path(tenant)).json(new))
            .await?;
        Ok(with_secret(w, false))
    }

    pub(super) async fn patch_webhook(
        &self,
        tenant: Uuid,
        webhook: Uuid,
        patch: &WebhookPatch,
    ) -> Result<Reply, ApiError> {
        self.send::<Webhook>(
            self.req(Method::PATCH, &webhook_path(tenant, webhook))
                .json(patch),
        )
        .await
        .map(|w| Reply::WebhookSaved(Box::new(w)))
    }

    pub(super) async fn delete_webhook(
        &self,
        tenant: Uuid,
        webhook: Uuid,
    ) -> Result<Reply, ApiError> {
        self.send_empty(self.req(Method::DELETE, &webhook_path(tenant, webhook)))
            .await
            .map(|()| Reply::WebhookDeleted)
    }

    pub(super) async fn rotate_webhook_secret(
        &self,
        tenant: Uuid,
        webhook: Uuid,
    ) -> Result<Reply, ApiError> {
        let path = format!("{}/rotate-secret", webhook_path(tenant, webhook));
        let w: WebhookWithSecret = self.send(self.req(Method::POST, &path)).await?;
        Ok(with_secret(w, true))
    }

    /// What the answer carries besides its status is not needed: the delivery shows in
    /// the log, which is fetched again.
    pub(super) async fn test_webhook(
        &self,
        tenant: Uuid,
        webhook: Uuid,
    ) -> Result<Reply, ApiError> {
        let path = format!("{}/test", webhook_path(tenant, webhook));
        self.send_empty(self.req(Method::POST, &path))
            .await
            .map(|()| Reply::WebhookTested)
    }

    pub(super) async fn list_deliveries(
        &self,
        tenant: Uuid,
        webhook: Uuid,
        status: Option<DeliveryStatus>,
        cursor: Option<&str>,
    ) -> Result<Reply, ApiError> {
        let path = format!("{}/deliveries", webhook_path(tenant, webhook));
        let page: Page<Delivery> = self
            .send(
                self.req(Method::GET, &path)
                    .query(&deliveries_query(status, cursor)),
            )
            .await?;
        Ok(Reply::Deliveries(page))
    }

    pub(super) async fn retry_delivery(
        &self,
        tenant: Uuid,
        webhook: Uuid,
        message_id: &str,
    ) -> Result<Reply, ApiError> {
        // The id came from the daemon; it is still one path segment, whatever it holds.
        let id: String = url_segment(message_id);
        let path = format!("{}/deliveries/{id}/retry", webhook_path(tenant, webhook));
        self.send_empty(self.req(Method::POST, &path))
            .await
            .map(|()| Reply::DeliveryRetried)
    }

    pub(super) async fn recover_webhook(
        &self,
        tenant: Uuid,
        webhook: Uuid,
        since: DateTime<Utc>,
    ) -> Result<Reply, ApiError> {
        let path = format!("{}/recover", webhook_path(tenant, webhook));
        self.send::<Recovered>(self.req(Method::POST, &path).json(&recover_body(since)))
            .await
            .map(Reply::Recovered)
    }
}

/// `text` percent-encoded as one path segment (unreserved characters kept).
fn url_segment(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use serde_json::json;

    #[test]
    fn paths_queries_and_bodies_match_the_contract() {
        let t = Uuid::from_u128(7);
        let w = Uuid::from_u128(8);
        assert_eq!(webhooks_path(t), format!("/api/v1/tenants/{t}/webhooks"));
        assert_eq!(
            webhook_path(t, w),
            format!("/api/v1/tenants/{t}/webhooks/{w}")
        );
        assert_eq!(
            deliveries_query(Some(DeliveryStatus::Failed), Some("c2")),
            vec![
                ("limit", "50".to_string()),
                ("status", "failed".to_string()),
                ("cursor", "c2".to_string()),
            ]
        );
        assert_eq!(
            deliveries_query(None, None),
            vec![("limit", "50".to_string())]
        );
        let since = Utc
            .with_ymd_and_hms(2026, 3, 1, 9, 0, 0)
            .single()
            .expect("date");
        assert_eq!(
            serde_json::to_value(recover_body(since)).ok(),
            Some(json!({"since": "2026-03-01T09:00:00Z"}))
        );
        let patch = WebhookPatch {
            active: Some(false),
            ..WebhookPatch::default()
        };
        assert_eq!(
            serde_json::to_value(patch).ok(),
            Some(json!({"active": false}))
        );
        assert_eq!(url_segment("msg_2Ab/../x y"), "msg_2Ab%2F..%2Fx%20y");
    }

    #[test]
    fn a_created_secret_is_wrapped_at_once() {
        let w = json!({
            "id": Uuid::from_u128(1), "tenant_id": Uuid::from_u128(2),
            "url": "https://crm.example/hook", "events": ["*"], "description": "",
            "active": true, "disabled_reason": null,
            "created_at": "2026-03-02T09:30:00Z", "updated_at": "2026-03-02T09:30:00Z",
            "previous_secret_expires_at": null,
            "secret": "whsec_SECRETsecretSECRETsecret"
        });
        let w: WebhookWithSecret = match serde_json::from_value(w) {
            Ok(w) => w,
            Err(e) => panic!("{e}"),
        };
        let r = with_secret(w, false);
        assert!(!format!("{r:?}").contains("SECRETsecret"));
        let Reply::WebhookSecret { secret, .. } = r else {
            panic!("not a secret reply");
        };
        assert_eq!(secret.expose(), "whsec_SECRETsecretSECRETsecret");
    }
}
