//! HTTP handlers, one module per resource. Each handler carries its OpenAPI description,
//! so the document at `/api/v1/openapi.json` is generated from the routes that exist.

pub mod audit;
pub mod dashboard;
pub mod events;
pub mod health;
pub mod ingest;
pub mod keys;
pub mod leads;
pub mod logs;
pub mod platform_settings;
pub mod settings;
pub mod sla;
pub mod stages;
pub mod tenants;
pub mod usage;

pub use echo5_core::page::List;
use serde::Deserialize;

use crate::error::ApiError;
use echo5_core::page::{self, Cursor};

/// `?limit=&cursor=` of every paginated list.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// 1..=200, default 50.
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

impl PageParams {
    pub fn parse(&self) -> Result<(u32, Option<Cursor>), ApiError> {
        Ok(page::parse(self.limit, self.cursor.as_deref())?)
    }
}

/// Announces a change to a tenant (its fields, settings or pipeline) on the event stream.
pub fn tenant_updated(state: &crate::state::AppState, t: &echo5_core::tenants::Tenant, what: &str) {
    state.events.publish(
        echo5_core::event::TENANT_UPDATED,
        Some(echo5_core::tenants::TenantRef::from(t)),
        serde_json::json!({ "changed": what }),
    );
}

/// [`tenant_updated`] for handlers that only hold the tenant's key.
pub async fn tenant_updated_by_key(
    state: &crate::state::AppState,
    key: echo5_data::TenantKey,
    what: &str,
) {
    if let Ok(t) = state.store.get_tenant(key).await {
        tenant_updated(state, &t, what);
    }
}
