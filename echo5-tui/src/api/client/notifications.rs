//! Notification settings on the wire: `/api/v1/tenants/{t}/notifications`, its test and
//! preview. Paths and bodies live here only.

use echo5_core::notifications::{Channel, Notifications, NotifyEvent, Rendered};
use reqwest::Method;
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;

use super::Client;
use crate::app::{ApiError, Reply};

pub fn notifications_path(tenant: Uuid) -> String {
    format!("/api/v1/tenants/{tenant}/notifications")
}

#[derive(Deserialize)]
struct Queued {
    queued: usize,
}

impl Client {
    pub(super) async fn get_notifications(&self, tenant: Uuid) -> Result<Reply, ApiError> {
        let n: Notifications = self
            .send(self.req(Method::GET, &notifications_path(tenant)))
            .await?;
        Ok(Reply::Notifications(Box::new(n)))
    }

    pub(super) async fn test_notification(
        &self,
        tenant: Uuid,
        channel: Channel,
    ) -> Result<Reply, ApiError> {
        let path = format!("{}/test", notifications_path(tenant));
        let q: Queued = self
            .send(
                self.req(Method::POST, &path)
                    .json(&json!({ "channel": channel })),
            )
            .await?;
        Ok(Reply::NotificationTested(q.queued))
    }

    pub(super) async fn preview_notification(
        &self,
        tenant: Uuid,
        event: NotifyEvent,
    ) -> Result<Reply, ApiError> {
        let path = format!("{}/preview", notifications_path(tenant));
        let r: Rendered = self
            .send(
                self.req(Method::POST, &path)
                    .json(&json!({ "event": event })),
            )
            .await?;
        Ok(Reply::NotificationPreview(Box::new(r)))
    }
}
