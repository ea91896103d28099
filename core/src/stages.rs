//! Pipeline stages and the rules that keep a pipeline usable.
//!
//! A pipeline is an ordered list; the first stage is the intake stage every new lead enters,
//! so it must be an `open` stage, and at least one open stage must always remain.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::DomainError;
use crate::validate;

pub const STAGE_NAME_MAX_CHARS: usize = 40;
pub const STAGES_MAX: usize = 50;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum StageKind {
    Open,
    Won,
    Lost,
}

impl StageKind {
    pub fn as_str(self) -> &'static str {
        match self {
            StageKind::Open => "open",
            StageKind::Won => "won",
            StageKind::Lost => "lost",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "open" => Some(StageKind::Open),
            "won" => Some(StageKind::Won),
            "lost" => Some(StageKind::Lost),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Stage {
    pub id: Uuid,
    pub name: String,
    pub kind: StageKind,
}

/// A stage as `GET /tenants/{id}/stages` lists it: with how many leads sit in it, so a
/// client can tell which deletes need a `move_to`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StageSummary {
    pub id: Uuid,
    pub name: String,
    pub kind: StageKind,
    pub lead_count: u64,
}

/// `POST /tenants/{id}/stages`
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewStage {
    pub name: String,
    #[serde(default = "default_kind")]
    pub kind: StageKind,
}

fn default_kind() -> StageKind {
    StageKind::Open
}

/// `PATCH /tenants/{id}/stages/{stage_id}`
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct StagePatch {
    #[serde(
        default,
        deserialize_with = "crate::patch::not_null",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    pub name: Option<String>,
    #[serde(
        default,
        deserialize_with = "crate::patch::not_null",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    pub kind: Option<StageKind>,
}

/// `PUT /tenants/{id}/stages`: the full new order.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct StageOrder {
    pub order: Vec<Uuid>,
}

/// `DELETE /tenants/{id}/stages/{stage_id}`: which stage went and where its leads went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StageDeleted {
    pub deleted: Uuid,
    pub moved_leads: u64,
    pub moved_to: Option<Uuid>,
}

/// The pipeline every tenant starts with.
pub fn default_pipeline() -> Vec<(&'static str, StageKind)> {
    vec![
        ("New", StageKind::Open),
        ("Contacted", StageKind::Open),
        ("Qualified", StageKind::Open),
        ("Tour Scheduled", StageKind::Open),
        ("Won", StageKind::Won),
        ("Lost", StageKind::Lost),
    ]
}

pub fn validate_name(value: &str) -> Result<String, DomainError> {
    validate::text("name", value, STAGE_NAME_MAX_CHARS)
}

fn name_taken(stages: &[Stage], name: &str, except: Option<Uuid>) -> bool {
    stages
        .iter()
        .any(|s| Some(s.id) != except && s.name.to_lowercase() == name.to_lowercase())
}

fn check_unique(stages: &[Stage], name: &str, except: Option<Uuid>) -> Result<(), DomainError> {
    if name_taken(stages, name, except) {
        return Err(DomainError::conflict_on(
            "name",
            "stage_name_taken",
            format!("a stage named \"{name}\" already exists in this pipeline"),
        ));
    }
    Ok(())
}

/// The invariants every pipeline keeps after any change.
pub fn check_pipeline(stages: &[Stage]) -> Result<(), DomainError> {
    match stages.first() {
        None => Err(DomainError::conflict(
            "last_open_stage",
            "a pipeline needs at least one open stage",
        )),
        Some(first) if first.kind != StageKind::Open => Err(DomainError::conflict(
            "intake_stage_not_open",
            format!(
                "the first stage is where new leads arrive, so it must be open; \"{}\" is {}",
                first.name,
                first.kind.as_str()
            ),
        )),
        Some(_) => Ok(()),
    }
}

fn find(stages: &[Stage], id: Uuid) -> Result<usize, DomainError> {
    stages
        .iter()
        .position(|s| s.id == id)
        .ok_or(DomainError::NotFound { what: "stage" })
}

/// Appends a stage; returns the new pipeline.
pub fn add(stages: &[Stage], new: &NewStage, id: Uuid) -> Result<Vec<Stage>, DomainError> {
    let name = validate_name(&new.name)?;
    if stages.len() >= STAGES_MAX {
        return Err(DomainError::conflict(
            "too_many_stages",
            format!("a pipeline holds at most {STAGES_MAX} stages"),
        ));
    }
    check_unique(stages, &name, None)?;
    let mut out = stages.to_vec();
    out.push(Stage {
        id,
        name,
        kind: new.kind,
    });
    check_pipeline(&out)?;
    Ok(out)
}

/// Renames and/or re-kinds a stage; leads keep pointing at it by id.
pub fn patch(stages: &[Stage], id: Uuid, p: &StagePatch) -> Result<Vec<Stage>, DomainError> {
    let i = find(stages, id)?;
    let mut out = stages.to_vec();
    if let Some(name) = &p.name {
        let name = validate_name(name)?;
        check_unique(stages, &name, Some(id))?;
        out[i].name = name;
    }
    if let Some(kind) = p.kind {
        out[i].kind = kind;
    }
    if !out.iter().any(|s| s.kind == StageKind::Open) {
        return Err(DomainError::conflict(
            "last_open_stage",
            "a pipeline needs at least one open stage",
        ));
    }
    check_pipeline(&out)?;
    Ok(out)
}

/// Puts the stages in the given order, which must name every stage exactly once.
pub fn reorder(stages: &[Stage], order: &[Uuid]) -> Result<Vec<Stage>, DomainError> {
    let mut out = Vec::with_capacity(order.len());
    for (i, id) in order.iter().enumerate() {
        if order[..i].contains(id) {
            return Err(DomainError::invalid(
                format!("order[{i}]"),
                "duplicate_stage",
                format!("stage {id} appears more than once"),
            ));
        }
        let s = stages.iter().find(|s| s.id == *id).ok_or_else(|| {
            DomainError::invalid(
                format!("order[{i}]"),
                "unknown_stage",
                format!("stage {id} is not in this pipeline"),
            )
        })?;
        out.push(s.clone());
    }
    if out.len() != stages.len() {
        return Err(DomainError::invalid(
            "order",
            "incomplete_order",
            format!(
                "order must list all {} stages of the pipeline (got {})",
                stages.len(),
                out.len()
            ),
        ));
    }
    check_pipeline(&out)?;
    Ok(out)
}

/// What deleting a stage does to its leads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeletePlan {
    pub remaining: Vec<Stage>,
    /// Where the deleted stage's leads go; `None` when it holds none.
    pub move_to: Option<Uuid>,
}

/// Deletes a stage. A stage holding leads needs `move_to`, another stage of the same
/// pipeline, else 409 `stage_not_empty`.
pub fn delete(
    stages: &[Stage],
    id: Uuid,
    move_to: Option<Uuid>,
    lead_count: u64,
) -> Result<DeletePlan, DomainError> {
    let i = find(stages, id)?;
    if let Some(target) = move_to {
        if target == id {
            return Err(DomainError::invalid(
                "move_to",
                "invalid_move_target",
                "move_to must be a different stage from the one being deleted",
            ));
        }
        if !stages.iter().any(|s| s.id == target) {
            return Err(DomainError::invalid(
                "move_to",
                "unknown_stage",
                format!("stage {target} is not in this pipeline"),
            ));
        }
    }
    let mut remaining = stages.to_vec();
    remaining.remove(i);
    if !remaining.iter().any(|s| s.kind == StageKind::Open) {
        return Err(DomainError::conflict(
            "last_open_stage",
            "a pipeline needs at least one open stage; this is the last one",
        ));
    }
    check_pipeline(&remaining)?;
    if lead_count > 0 && move_to.is_none() {
        return Err(DomainError::conflict_on(
            "move_to",
            "stage_not_empty",
            format!(
                "stage \"{}\" holds {lead_count} lead(s); pass move_to=<stage id> to move them first",
                stages[i].name
            ),
        ));
    }
    Ok(DeletePlan {
        remaining,
        move_to: if lead_count > 0 { move_to } else { None },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pipeline() -> Vec<Stage> {
        default_pipeline()
            .into_iter()
            .enumerate()
            .map(|(i, (name, kind))| Stage {
                id: Uuid::from_u128(i as u128 + 1),
                name: name.into(),
                kind,
            })
            .collect()
    }

    fn code(e: DomainError) -> &'static str {
        match e {
            DomainError::Invalid { code, .. } | DomainError::Conflict { code, .. } => code,
            DomainError::NotFound { .. } => "not_found",
            DomainError::PlanLimit { .. } => "plan_limit_reached",
        }
    }

    #[test]
    fn add_appends_and_rejects_duplicate_names() {
        let p = pipeline();
        let out = add(
            &p,
            &NewStage {
                name: " Nurture ".into(),
                kind: StageKind::Open,
            },
            Uuid::from_u128(99),
        )
        .unwrap();
        assert_eq!(out.len(), 7);
        assert_eq!(out[6].name, "Nurture");
        let dup = NewStage {
            name: "contacted".into(),
            kind: StageKind::Open,
        };
        assert_eq!(
            code(add(&p, &dup, Uuid::nil()).unwrap_err()),
            "stage_name_taken"
        );
        let long = NewStage {
            name: "x".repeat(41),
            kind: StageKind::Open,
        };
        assert_eq!(code(add(&p, &long, Uuid::nil()).unwrap_err()), "too_long");
    }

    #[test]
    fn rename_keeps_id_and_allows_case_change_of_itself() {
        let p = pipeline();
        let id = p[1].id;
        let out = patch(
            &p,
            id,
            &StagePatch {
                name: Some("CONTACTED".into()),
                kind: None,
            },
        )
        .unwrap();
        assert_eq!(out[1].id, id);
        assert_eq!(out[1].name, "CONTACTED");
        let clash = StagePatch {
            name: Some("Won".into()),
            kind: None,
        };
        assert_eq!(code(patch(&p, id, &clash).unwrap_err()), "stage_name_taken");
        let gone = patch(&p, Uuid::from_u128(1234), &clash).unwrap_err();
        assert_eq!(gone, DomainError::NotFound { what: "stage" });
    }

    #[test]
    fn intake_stage_must_stay_open() {
        let p = pipeline();
        let to_won = StagePatch {
            name: None,
            kind: Some(StageKind::Won),
        };
        assert_eq!(
            code(patch(&p, p[0].id, &to_won).unwrap_err()),
            "intake_stage_not_open"
        );
        let mut order: Vec<Uuid> = p.iter().map(|s| s.id).collect();
        order.swap(0, 4); // Won first
        assert_eq!(
            code(reorder(&p, &order).unwrap_err()),
            "intake_stage_not_open"
        );
    }

    #[test]
    fn reorder_needs_a_permutation() {
        let p = pipeline();
        let mut order: Vec<Uuid> = p.iter().map(|s| s.id).collect();
        order.swap(1, 3);
        let out = reorder(&p, &order).unwrap();
        assert_eq!(out[1].name, "Tour Scheduled");
        assert_eq!(out[3].name, "Contacted");
        assert_eq!(
            code(reorder(&p, &order[..5]).unwrap_err()),
            "incomplete_order"
        );
        let mut dup = order.clone();
        dup[2] = dup[1];
        assert_eq!(code(reorder(&p, &dup).unwrap_err()), "duplicate_stage");
        let mut unknown = order.clone();
        unknown[2] = Uuid::from_u128(777);
        assert_eq!(code(reorder(&p, &unknown).unwrap_err()), "unknown_stage");
    }

    #[test]
    fn delete_rules() {
        let p = pipeline();
        // Empty stage: no move needed.
        let plan = delete(&p, p[2].id, None, 0).unwrap();
        assert_eq!(plan.remaining.len(), 5);
        assert_eq!(plan.move_to, None);
        // Stage with leads: 409 without move_to, ok with it.
        let err = delete(&p, p[2].id, None, 3).unwrap_err();
        assert_eq!(code(err.clone()), "stage_not_empty");
        assert!(matches!(err, DomainError::Conflict { .. }));
        let plan = delete(&p, p[2].id, Some(p[1].id), 3).unwrap();
        assert_eq!(plan.move_to, Some(p[1].id));
        assert_eq!(
            code(delete(&p, p[2].id, Some(p[2].id), 3).unwrap_err()),
            "invalid_move_target"
        );
        assert_eq!(
            code(delete(&p, p[2].id, Some(Uuid::from_u128(555)), 3).unwrap_err()),
            "unknown_stage"
        );
        // The last open stage stays.
        let two = vec![p[0].clone(), p[4].clone()];
        assert_eq!(
            code(delete(&two, p[0].id, Some(p[4].id), 0).unwrap_err()),
            "last_open_stage"
        );
        // Deleting the intake stage is fine if the next one is open.
        let plan = delete(&p, p[0].id, Some(p[1].id), 5).unwrap();
        assert_eq!(plan.remaining[0].name, "Contacted");
    }
}
