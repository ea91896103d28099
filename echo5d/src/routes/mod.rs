//! HTTP handlers, one module per resource. Each handler carries its OpenAPI description,
//! so the document at `/api/v1/openapi.json` is generated from the routes that exist.

pub mod audit;
pub mod dashboard;
pub mod events;
pub mod health;
pub mod ingest;
pub mod integrations;
pub mod invites;
pub mod keys;
pub mod leads;
pub mod logs;
pub mod notifications;
pub mod personal_tokens;
pub mod plans;
pub mod platform_settings;
pub mod sessions;
pub mod settings;
pub mod sla;
pub mod stages;
pub mod tenants;
pub mod usage;
pub mod users;
pub mod webhooks;

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
