//! Plans on the wire: `/api/v1/platform/plans`. Paths and bodies live here only (a
//! tenant's plan is a field of its PATCH, in the tenant calls).

use echo5_core::page::List;
use echo5_core::plans::{NewPlan, Plan, PlanPatch};
use reqwest::Method;
use uuid::Uuid;

use super::Client;
use crate::app::{ApiError, Reply};

pub const PLANS_PATH: &str = "/api/v1/platform/plans";

fn plan_path(plan: Uuid) -> String {
    format!("{PLANS_PATH}/{plan}")
}

impl Client {
    pub(super) async fn list_plans(&self) -> Result<Reply, ApiError> {
        let l: List<Plan> = self.send(self.req(Method::GET, PLANS_PATH)).await?;
        Ok(Reply::Plans(l.data))
    }

    pub(super) async fn create_plan(&self, new: &NewPlan) -> Result<Reply, ApiError> {
        self.send::<Plan>(self.req(Method::POST, PLANS_PATH).json(new))
            .await
            .map(|p| Reply::PlanSaved(Box::new(p)))
    }

    pub(super) async fn patch_plan(
        &self,
        plan: Uuid,
        patch: &PlanPatch,
    ) -> Result<Reply, ApiError> {
        self.send::<Plan>(self.req(Method::PATCH, &plan_path(plan)).json(patch))
            .await
            .map(|p| Reply::PlanSaved(Box::new(p)))
    }

    pub(super) async fn delete_plan(&self, plan: Uuid) -> Result<Reply, ApiError> {
        self.send_empty(self.req(Method::DELETE, &plan_path(plan)))
            .await
            .map(|()| Reply::PlanDeleted)
    }
}
