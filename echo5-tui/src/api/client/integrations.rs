//! A tenant's ad sources on the wire: `/api/v1/tenants/{t}/integrations` and the Meta
//! backfill. Paths and bodies live here only.

use chrono::{DateTime, Utc};
use echo5_core::integrations::Integrations;
use echo5_core::integrations::meta_graph::{MetaSync, MetaSyncQueued};
use reqwest::Method;
use uuid::Uuid;

use super::Client;
use crate::app::{ApiError, Reply};

pub fn integrations_path(tenant: Uuid) -> String {
    format!("/api/v1/tenants/{tenant}/integrations")
}

impl Client {
    pub(super) async fn list_integrations(&self, tenant: Uuid) -> Result<Reply, ApiError> {
        let l: Integrations = self
            .send(self.req(Method::GET, &integrations_path(tenant)))
            .await?;
        Ok(Reply::Integrations(l.data))
    }

    pub(super) async fn sync_meta(
        &self,
        tenant: Uuid,
        since: DateTime<Utc>,
    ) -> Result<Reply, ApiError> {
        let path = format!("{}/meta/sync", integrations_path(tenant));
        self.send::<MetaSyncQueued>(self.req(Method::POST, &path).json(&MetaSync { since }))
            .await
            .map(Reply::MetaSyncQueued)
    }
}
