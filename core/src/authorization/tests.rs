//! The rule as data: every (subject, action) against every kind of principal, for tenant A's
//! resources, tenant B's and the platform's.

use super::*;
use crate::users::{PermissionOverrides, effective_permissions};
use uuid::Uuid;

const A: TenantId = Uuid::from_u128(0xA);
const B: TenantId = Uuid::from_u128(0xB);

fn account(id: u128, tenant: Option<TenantId>, role: Role, o: PermissionOverrides) -> Account {
    Account {
        id: Uuid::from_u128(id),
        tenant,
        email: format!("user{id}@example.com"),
        role,
        permissions: effective_permissions(role, &o),
        active: true,
    }
}

fn session(a: Account) -> Principal {
    Principal::Session { account: a }
}

fn token(a: Account, scope: TokenScope) -> Principal {
    Principal::PersonalToken {
        token_id: Uuid::from_u128(0x70),
        account: a,
        scope,
    }
}

const MANAGER_A: u128 = 0x13;

/// The columns of the tables below, in order.
fn principals() -> Vec<(&'static str, Principal)> {
    let none = PermissionOverrides::default;
    let edit = PermissionOverrides {
        edit_leads: Some(true),
        ..Default::default()
    };
    let mut off = account(0x19, Some(A), Role::Admin, none());
    off.active = false;
    vec![
        (
            "adm",
            Principal::AdminToken {
                token_id: Uuid::from_u128(1),
            },
        ),
        ("own", session(account(0x2, None, Role::Owner, none()))),
        (
            "ownR",
            token(account(0x2, None, Role::Owner, none()), TokenScope::Read),
        ),
        ("adA", session(account(0x11, Some(A), Role::Admin, none()))),
        (
            "mgA",
            session(account(MANAGER_A, Some(A), Role::Manager, none())),
        ),
        ("agA", session(account(0x14, Some(A), Role::Agent, none()))),
        ("agE", session(account(0x15, Some(A), Role::Agent, edit))),
        (
            "adAr",
            token(
                account(0x11, Some(A), Role::Admin, none()),
                TokenScope::Read,
            ),
        ),
        (
            "mgAw",
            token(
                account(MANAGER_A, Some(A), Role::Manager, none()),
                TokenScope::Write,
            ),
        ),
        ("off", session(off)),
        (
            "keyA",
            Principal::IngestKey {
                key_id: Uuid::from_u128(0x50),
                tenant: A,
            },
        ),
    ]
}

/// Tenant A's resources. `Y` allowed (every lead), `M` allowed for the manager's assigned
/// leads only, `F` 403 forbidden, `N` 404, `U` 401.
///
/// adm: admin token · own: owner user · ownR: owner's read token · adA: tenant admin ·
/// mgA: manager · agA: agent · agE: agent given edit_leads · adAr: admin's read token ·
/// mgAw: manager's write token · off: deactivated admin · keyA: ingest key.
const TENANT_A: &str = "
subject          action  adm own ownR adA mgA agA agE adAr mgAw off keyA
Leads            read    Y   Y   Y    Y   M   Y   Y   Y    M    U   F
Leads            write   Y   Y   F    Y   M   F   Y   F    M    U   F
Leads            delete  Y   Y   F    Y   F   F   F   F    F    U   F
Analytics        read    Y   Y   Y    Y   M   Y   Y   Y    M    U   F
Analytics        write   Y   Y   F    F   F   F   F   F    F    U   F
Analytics        delete  Y   Y   F    F   F   F   F   F    F    U   F
Events           read    Y   Y   Y    Y   M   Y   Y   Y    M    U   F
Events           write   Y   Y   F    F   F   F   F   F    F    U   F
Events           delete  Y   Y   F    F   F   F   F   F    F    U   F
Stages           read    Y   Y   Y    Y   Y   Y   Y   Y    Y    U   F
Stages           write   Y   Y   F    Y   F   F   F   F    F    U   F
Stages           delete  Y   Y   F    Y   F   F   F   F    F    U   F
Settings         read    Y   Y   Y    Y   F   F   F   Y    F    U   F
Settings         write   Y   Y   F    Y   F   F   F   F    F    U   F
Settings         delete  Y   Y   F    Y   F   F   F   F    F    U   F
Keys             read    Y   Y   Y    Y   F   F   F   Y    F    U   F
Keys             write   Y   Y   F    Y   F   F   F   F    F    U   F
Keys             delete  Y   Y   F    Y   F   F   F   F    F    U   F
Webhooks         read    Y   Y   Y    Y   F   F   F   Y    F    U   F
Webhooks         write   Y   Y   F    Y   F   F   F   F    F    U   F
Webhooks         delete  Y   Y   F    Y   F   F   F   F    F    U   F
Notifications    read    Y   Y   Y    Y   F   F   F   Y    F    U   F
Notifications    write   Y   Y   F    Y   F   F   F   F    F    U   F
Notifications    delete  Y   Y   F    Y   F   F   F   F    F    U   F
Integrations     read    Y   Y   Y    Y   F   F   F   Y    F    U   F
Integrations     write   Y   Y   F    Y   F   F   F   F    F    U   F
Integrations     delete  Y   Y   F    Y   F   F   F   F    F    U   F
Usage            read    Y   Y   Y    Y   F   F   F   Y    F    U   F
Usage            write   Y   Y   F    F   F   F   F   F    F    U   F
Usage            delete  Y   Y   F    F   F   F   F   F    F    U   F
Plans            read    Y   Y   Y    Y   F   F   F   Y    F    U   F
Plans            write   Y   Y   F    F   F   F   F   F    F    U   F
Plans            delete  Y   Y   F    F   F   F   F   F    F    U   F
Audit            read    Y   Y   Y    Y   F   F   F   Y    F    U   F
Audit            write   Y   Y   F    F   F   F   F   F    F    U   F
Audit            delete  Y   Y   F    F   F   F   F   F    F    U   F
Users            read    Y   Y   Y    Y   F   F   F   Y    F    U   F
Users            write   Y   Y   F    Y   F   F   F   F    F    U   F
Users            delete  Y   Y   F    Y   F   F   F   F    F    U   F
Tenant           read    Y   Y   Y    Y   Y   Y   Y   Y    Y    U   F
Tenant           write   Y   Y   F    F   F   F   F   F    F    U   F
Tenant           delete  Y   Y   F    F   F   F   F   F    F    U   F
Ingest           read    Y   Y   Y    F   F   F   F   F    F    U   Y
Ingest           write   Y   Y   F    F   F   F   F   F    F    U   Y
Ingest           delete  Y   Y   F    F   F   F   F   F    F    U   Y
PlatformSettings read    Y   Y   Y    F   F   F   F   F    F    U   F
PlatformSettings write   Y   Y   F    F   F   F   F   F    F    U   F
PlatformSettings delete  Y   Y   F    F   F   F   F   F    F    U   F
PlatformUsers    read    Y   Y   Y    F   F   F   F   F    F    U   F
PlatformUsers    write   Y   Y   F    F   F   F   F   F    F    U   F
PlatformUsers    delete  Y   Y   F    F   F   F   F   F    F    U   F
SystemLogs       read    Y   Y   Y    F   F   F   F   F    F    U   F
SystemLogs       write   Y   Y   F    F   F   F   F   F    F    U   F
SystemLogs       delete  Y   Y   F    F   F   F   F   F    F    U   F
Account          read    Y   Y   Y    Y   Y   Y   Y   Y    Y    U   F
Account          write   F   Y   F    Y   Y   Y   Y   F    F    U   F
Account          delete  F   Y   F    Y   Y   Y   Y   F    F    U   F
";

/// Tenant B's resources, seen by the same principals: nothing of B exists for A's users
/// and key; the platform's principals see it as they see A's; their own account is
/// everyone's own.
const TENANT_B: &str = "
subject          action  adm own ownR adA mgA agA agE adAr mgAw off keyA
Leads            read    Y   Y   Y    N   N   N   N   N    N    U   N
Leads            write   Y   Y   F    N   N   N   N   N    N    U   N
Leads            delete  Y   Y   F    N   N   N   N   N    N    U   N
Analytics        read    Y   Y   Y    N   N   N   N   N    N    U   N
Analytics        write   Y   Y   F    N   N   N   N   N    N    U   N
Analytics        delete  Y   Y   F    N   N   N   N   N    N    U   N
Events           read    Y   Y   Y    N   N   N   N   N    N    U   N
Events           write   Y   Y   F    N   N   N   N   N    N    U   N
Events           delete  Y   Y   F    N   N   N   N   N    N    U   N
Stages           read    Y   Y   Y    N   N   N   N   N    N    U   N
Stages           write   Y   Y   F    N   N   N   N   N    N    U   N
Stages           delete  Y   Y   F    N   N   N   N   N    N    U   N
Settings         read    Y   Y   Y    N   N   N   N   N    N    U   N
Settings         write   Y   Y   F    N   N   N   N   N    N    U   N
Settings         delete  Y   Y   F    N   N   N   N   N    N    U   N
Keys             read    Y   Y   Y    N   N   N   N   N    N    U   N
Keys             write   Y   Y   F    N   N   N   N   N    N    U   N
Keys             delete  Y   Y   F    N   N   N   N   N    N    U   N
Webhooks         read    Y   Y   Y    N   N   N   N   N    N    U   N
Webhooks         write   Y   Y   F    N   N   N   N   N    N    U   N
Webhooks         delete  Y   Y   F    N   N   N   N   N    N    U   N
Notifications    read    Y   Y   Y    N   N   N   N   N    N    U   N
Notifications    write   Y   Y   F    N   N   N   N   N    N    U   N
Notifications    delete  Y   Y   F    N   N   N   N   N    N    U   N
Integrations     read    Y   Y   Y    N   N   N   N   N    N    U   N
Integrations     write   Y   Y   F    N   N   N   N   N    N    U   N
Integrations     delete  Y   Y   F    N   N   N   N   N    N    U   N
Usage            read    Y   Y   Y    N   N   N   N   N    N    U   N
Usage            write   Y   Y   F    N   N   N   N   N    N    U   N
Usage            delete  Y   Y   F    N   N   N   N   N    N    U   N
Plans            read    Y   Y   Y    N   N   N   N   N    N    U   N
Plans            write   Y   Y   F    N   N   N   N   N    N    U   N
Plans            delete  Y   Y   F    N   N   N   N   N    N    U   N
Audit            read    Y   Y   Y    N   N   N   N   N    N    U   N
Audit            write   Y   Y   F    N   N   N   N   N    N    U   N
Audit            delete  Y   Y   F    N   N   N   N   N    N    U   N
Users            read    Y   Y   Y    N   N   N   N   N    N    U   N
Users            write   Y   Y   F    N   N   N   N   N    N    U   N
Users            delete  Y   Y   F    N   N   N   N   N    N    U   N
Tenant           read    Y   Y   Y    N   N   N   N   N    N    U   N
Tenant           write   Y   Y   F    N   N   N   N   N    N    U   N
Tenant           delete  Y   Y   F    N   N   N   N   N    N    U   N
Ingest           read    Y   Y   Y    N   N   N   N   N    N    U   N
Ingest           write   Y   Y   F    N   N   N   N   N    N    U   N
Ingest           delete  Y   Y   F    N   N   N   N   N    N    U   N
PlatformSettings read    Y   Y   Y    N   N   N   N   N    N    U   N
PlatformSettings write   Y   Y   F    N   N   N   N   N    N    U   N
PlatformSettings delete  Y   Y   F    N   N   N   N   N    N    U   N
PlatformUsers    read    Y   Y   Y    N   N   N   N   N    N    U   N
PlatformUsers    write   Y   Y   F    N   N   N   N   N    N    U   N
PlatformUsers    delete  Y   Y   F    N   N   N   N   N    N    U   N
SystemLogs       read    Y   Y   Y    N   N   N   N   N    N    U   N
SystemLogs       write   Y   Y   F    N   N   N   N   N    N    U   N
SystemLogs       delete  Y   Y   F    N   N   N   N   N    N    U   N
Account          read    Y   Y   Y    Y   Y   Y   Y   Y    Y    U   N
Account          write   F   Y   F    Y   Y   Y   Y   F    F    U   N
Account          delete  F   Y   F    Y   Y   Y   Y   F    F    U   N
";

/// The platform's own resources and everything across tenants (all leads, all usage,
/// the tenant list, where writing is creating a tenant): never a tenant user's.
const PLATFORM: &str = "
subject          action  adm own ownR adA mgA agA agE adAr mgAw off keyA
Leads            read    Y   Y   Y    F   F   F   F   F    F    U   F
Leads            write   Y   Y   F    F   F   F   F   F    F    U   F
Leads            delete  Y   Y   F    F   F   F   F   F    F    U   F
Analytics        read    Y   Y   Y    F   F   F   F   F    F    U   F
Analytics        write   Y   Y   F    F   F   F   F   F    F    U   F
Analytics        delete  Y   Y   F    F   F   F   F   F    F    U   F
Events           read    Y   Y   Y    F   F   F   F   F    F    U   F
Events           write   Y   Y   F    F   F   F   F   F    F    U   F
Events           delete  Y   Y   F    F   F   F   F   F    F    U   F
Stages           read    Y   Y   Y    F   F   F   F   F    F    U   F
Stages           write   Y   Y   F    F   F   F   F   F    F    U   F
Stages           delete  Y   Y   F    F   F   F   F   F    F    U   F
Settings         read    Y   Y   Y    F   F   F   F   F    F    U   F
Settings         write   Y   Y   F    F   F   F   F   F    F    U   F
Settings         delete  Y   Y   F    F   F   F   F   F    F    U   F
Keys             read    Y   Y   Y    F   F   F   F   F    F    U   F
Keys             write   Y   Y   F    F   F   F   F   F    F    U   F
Keys             delete  Y   Y   F    F   F   F   F   F    F    U   F
Webhooks         read    Y   Y   Y    F   F   F   F   F    F    U   F
Webhooks         write   Y   Y   F    F   F   F   F   F    F    U   F
Webhooks         delete  Y   Y   F    F   F   F   F   F    F    U   F
Notifications    read    Y   Y   Y    F   F   F   F   F    F    U   F
Notifications    write   Y   Y   F    F   F   F   F   F    F    U   F
Notifications    delete  Y   Y   F    F   F   F   F   F    F    U   F
Integrations     read    Y   Y   Y    F   F   F   F   F    F    U   F
Integrations     write   Y   Y   F    F   F   F   F   F    F    U   F
Integrations     delete  Y   Y   F    F   F   F   F   F    F    U   F
Usage            read    Y   Y   Y    F   F   F   F   F    F    U   F
Usage            write   Y   Y   F    F   F   F   F   F    F    U   F
Usage            delete  Y   Y   F    F   F   F   F   F    F    U   F
Plans            read    Y   Y   Y    F   F   F   F   F    F    U   F
Plans            write   Y   Y   F    F   F   F   F   F    F    U   F
Plans            delete  Y   Y   F    F   F   F   F   F    F    U   F
Audit            read    Y   Y   Y    F   F   F   F   F    F    U   F
Audit            write   Y   Y   F    F   F   F   F   F    F    U   F
Audit            delete  Y   Y   F    F   F   F   F   F    F    U   F
Users            read    Y   Y   Y    F   F   F   F   F    F    U   F
Users            write   Y   Y   F    F   F   F   F   F    F    U   F
Users            delete  Y   Y   F    F   F   F   F   F    F    U   F
Tenant           read    Y   Y   Y    F   F   F   F   F    F    U   F
Tenant           write   Y   Y   F    F   F   F   F   F    F    U   F
Tenant           delete  Y   Y   F    F   F   F   F   F    F    U   F
Ingest           read    Y   Y   Y    F   F   F   F   F    F    U   F
Ingest           write   Y   Y   F    F   F   F   F   F    F    U   F
Ingest           delete  Y   Y   F    F   F   F   F   F    F    U   F
PlatformSettings read    Y   Y   Y    F   F   F   F   F    F    U   F
PlatformSettings write   Y   Y   F    F   F   F   F   F    F    U   F
PlatformSettings delete  Y   Y   F    F   F   F   F   F    F    U   F
PlatformUsers    read    Y   Y   Y    F   F   F   F   F    F    U   F
PlatformUsers    write   Y   Y   F    F   F   F   F   F    F    U   F
PlatformUsers    delete  Y   Y   F    F   F   F   F   F    F    U   F
SystemLogs       read    Y   Y   Y    F   F   F   F   F    F    U   F
SystemLogs       write   Y   Y   F    F   F   F   F   F    F    U   F
SystemLogs       delete  Y   Y   F    F   F   F   F   F    F    U   F
Account          read    Y   Y   Y    Y   Y   Y   Y   Y    Y    U   F
Account          write   F   Y   F    Y   Y   Y   Y   F    F    U   F
Account          delete  F   Y   F    Y   Y   Y   Y   F    F    U   F
";

fn subject(name: &str) -> Subject {
    *Subject::ALL
        .iter()
        .find(|s| format!("{s:?}") == name)
        .unwrap_or_else(|| panic!("unknown subject {name}"))
}

fn action(name: &str) -> Action {
    match name {
        "read" => Action::Read,
        "write" => Action::Write,
        "delete" => Action::Delete,
        other => panic!("unknown action {other}"),
    }
}

fn expected(cell: &str) -> Decision {
    match cell {
        "Y" => Decision::Allow(Reach::All),
        "M" => Decision::Allow(Reach::AssignedTo(Uuid::from_u128(MANAGER_A))),
        "F" => Decision::Forbidden,
        "N" => Decision::NotFound,
        "U" => Decision::Unauthenticated,
        other => panic!("unknown cell {other}"),
    }
}

/// Walks a table; fails on a wrong decision, a column that is not the principal it names,
/// and a (subject, action) pair missing or given twice.
fn check(table: &str, scope: Scope) {
    let principals = principals();
    let mut lines = table.lines().filter(|l| !l.trim().is_empty());
    let header: Vec<&str> = lines.next().unwrap().split_whitespace().skip(2).collect();
    let names: Vec<&str> = principals.iter().map(|(n, _)| *n).collect();
    assert_eq!(header, names, "columns");
    let mut seen = std::collections::HashSet::new();
    let mut failures = Vec::new();
    for line in lines {
        let cells: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(cells.len(), 2 + principals.len(), "{line}");
        let (s, a) = (subject(cells[0]), action(cells[1]));
        assert!(seen.insert((s, a)), "{s:?} {a:?} twice");
        // Account takes no scope: the rule ignores whatever scope it is given.
        let resource = Resource { subject: s, scope };
        for ((name, p), cell) in principals.iter().zip(&cells[2..]) {
            let got = authorize(p, a, resource);
            if got != expected(cell) {
                failures.push(format!("{s:?} {a:?} {name}: expected {cell}, got {got:?}"));
            }
        }
    }
    for s in Subject::ALL {
        for a in Action::ALL {
            assert!(seen.contains(&(s, a)), "{s:?} {a:?} missing from the table");
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn tenant_a_resources() {
    check(TENANT_A, Scope::Tenant(A));
}

#[test]
fn another_tenants_resources_are_not_found() {
    check(TENANT_B, Scope::Tenant(B));
}

#[test]
fn platform_resources() {
    check(PLATFORM, Scope::Platform);
}

#[test]
fn tenant_rules_name_each_subject_once_and_platform_subjects_not_at_all() {
    let mut seen = std::collections::HashSet::new();
    for (s, ..) in TENANT_RULES {
        assert!(seen.insert(*s), "{s:?} twice");
    }
    for s in [
        Subject::PlatformSettings,
        Subject::PlatformUsers,
        Subject::SystemLogs,
        Subject::Ingest,
    ] {
        for a in Action::ALL {
            assert_eq!(tenant_need(s, a), Need::Platform, "{s:?} {a:?}");
        }
    }
}

fn lead(tenant: TenantId, assigned_to: Option<u128>) -> LeadRef {
    LeadRef {
        tenant,
        assigned_to: assigned_to.map(Uuid::from_u128),
    }
}

fn p(name: &str) -> Principal {
    principals()
        .into_iter()
        .find(|(n, _)| *n == name)
        .map(|(_, p)| p)
        .unwrap()
}

#[test]
fn managers_see_and_edit_only_their_assigned_leads() {
    let mine = lead(A, Some(MANAGER_A));
    let someone_elses = lead(A, Some(0x99));
    let unassigned = lead(A, None);
    for m in [p("mgA"), p("mgAw")] {
        assert!(authorize_lead(&m, Action::Read, mine).is_allowed());
        assert!(authorize_lead(&m, Action::Write, mine).is_allowed());
        assert_eq!(
            authorize_lead(&m, Action::Delete, mine),
            Decision::Forbidden
        );
        for hidden in [someone_elses, unassigned] {
            for a in Action::ALL {
                assert_eq!(authorize_lead(&m, a, hidden), Decision::NotFound, "{a:?}");
            }
            assert!(!may_see_lead(&m, hidden));
        }
        assert_eq!(
            authorize_lead(&m, Action::Read, lead(B, Some(MANAGER_A))),
            Decision::NotFound,
            "an id that happens to match in another tenant"
        );
    }
    assert!(may_see_lead(&p("mgA"), mine));
}

#[test]
fn lead_decisions_for_everyone_else() {
    let any = lead(A, Some(0x99));
    let b = lead(B, None);
    let cases = [
        // principal, read, write, delete (on a lead of A assigned to someone else)
        ("adm", "Y", "Y", "Y"),
        ("own", "Y", "Y", "Y"),
        ("ownR", "Y", "F", "F"),
        ("adA", "Y", "Y", "Y"),
        ("agA", "Y", "F", "F"),
        ("agE", "Y", "Y", "F"),
        ("adAr", "Y", "F", "F"),
        ("off", "U", "U", "U"),
        ("keyA", "F", "F", "F"),
    ];
    for (name, r, w, d) in cases {
        let pr = p(name);
        for (a, cell) in [(Action::Read, r), (Action::Write, w), (Action::Delete, d)] {
            assert_eq!(authorize_lead(&pr, a, any), expected(cell), "{name} {a:?}");
        }
        let in_b = authorize_lead(&pr, Action::Read, b);
        if pr.is_platform() {
            assert!(in_b.is_allowed(), "{name}");
        } else if name == "off" {
            assert_eq!(in_b, Decision::Unauthenticated);
        } else {
            assert_eq!(in_b, Decision::NotFound, "{name}");
        }
    }
}

#[test]
fn a_manager_without_view_leads_sees_no_lead_even_with_edit() {
    let o = PermissionOverrides {
        view_leads: Some(false),
        ..Default::default()
    };
    let m = session(account(MANAGER_A, Some(A), Role::Manager, o));
    let mine = lead(A, Some(MANAGER_A));
    assert_eq!(authorize_lead(&m, Action::Read, mine), Decision::Forbidden);
    assert_eq!(authorize_lead(&m, Action::Write, mine), Decision::Forbidden);
    assert_eq!(
        authorize(&m, Action::Read, Resource::tenant(Subject::Analytics, A)),
        Decision::Forbidden
    );
}

#[test]
fn an_agent_given_manage_settings_manages_settings_but_not_users() {
    let o = PermissionOverrides {
        manage_settings: Some(true),
        ..Default::default()
    };
    let ag = session(account(0x16, Some(A), Role::Agent, o));
    for s in [
        Subject::Settings,
        Subject::Keys,
        Subject::Stages,
        Subject::Webhooks,
    ] {
        assert!(
            authorize(&ag, Action::Write, Resource::tenant(s, A)).is_allowed(),
            "{s:?}"
        );
    }
    assert_eq!(
        authorize(&ag, Action::Write, Resource::tenant(Subject::Users, A)),
        Decision::Forbidden
    );
    assert_eq!(
        authorize(&ag, Action::Write, Resource::tenant(Subject::Plans, A)),
        Decision::Forbidden
    );
}

#[test]
fn reach_filters_by_assignee() {
    let me = Uuid::from_u128(MANAGER_A);
    assert!(Reach::All.covers(None));
    assert!(Reach::All.covers(Some(me)));
    assert!(Reach::AssignedTo(me).covers(Some(me)));
    assert!(!Reach::AssignedTo(me).covers(None));
    assert!(!Reach::AssignedTo(me).covers(Some(Uuid::from_u128(1))));
}

#[test]
fn refusals_map_to_their_statuses() {
    assert_eq!(Decision::Forbidden.into_result(), Err(Denied::Forbidden));
    assert_eq!(Denied::Forbidden.status(), 403);
    assert_eq!(Denied::Forbidden.code(), "forbidden");
    assert_eq!(Denied::NotFound.status(), 404);
    assert_eq!(Denied::NotFound.code(), "not_found");
    assert_eq!(Denied::Unauthenticated.status(), 401);
    assert_eq!(Decision::Allow(Reach::All).into_result(), Ok(Reach::All));
}

#[test]
fn actors_name_the_credential_and_the_user() {
    let a = p("adm").actor();
    assert_eq!((a.kind, a.email.as_deref()), (ActorKind::AdminToken, None));
    let s = p("adA").actor();
    assert_eq!(s.kind, ActorKind::User);
    assert_eq!(s.id, Uuid::from_u128(0x11).to_string());
    assert_eq!(s.email.as_deref(), Some("user17@example.com"));
    let t = p("adAr").actor();
    assert_eq!(t.kind, ActorKind::PersonalToken);
    assert_eq!(t.id, Uuid::from_u128(0x70).to_string());
    assert_eq!(t.email.as_deref(), Some("user17@example.com"));
    let k = p("keyA").actor();
    assert_eq!(
        (k.kind, k.id),
        (ActorKind::ApiKey, Uuid::from_u128(0x50).to_string())
    );
    assert_eq!(
        serde_json::to_value(&s).unwrap()["kind"],
        serde_json::json!("user")
    );
    assert_eq!(
        serde_json::to_value(&a).unwrap(),
        serde_json::json!({"kind": "admin_token", "id": Uuid::from_u128(1).to_string()})
    );
}

#[test]
fn everyone_but_a_key_reads_their_own_account() {
    for (name, pr) in principals() {
        let d = authorize(&pr, Action::Read, Resource::account());
        match name {
            "off" => assert_eq!(d, Decision::Unauthenticated),
            "keyA" => assert_eq!(d, Decision::Forbidden),
            _ => assert_eq!(d, Decision::Allow(Reach::All), "{name}"),
        }
    }
}

#[test]
fn principals_know_their_tenant() {
    assert_eq!(p("adm").tenant(), None);
    assert_eq!(p("own").tenant(), None);
    assert_eq!(p("adA").tenant(), Some(A));
    assert_eq!(p("keyA").tenant(), Some(A));
    assert!(p("own").is_platform());
    assert!(p("ownR").is_platform());
    assert!(!p("adA").is_platform());
    assert!(!p("keyA").is_platform());
}

#[test]
fn users_principals_carry_their_account_and_credentials_of_nobody_do_not() {
    let none = PermissionOverrides::default;
    assert_eq!(
        p("adA").account(),
        Some(&account(0x11, Some(A), Role::Admin, none()))
    );
    assert_eq!(
        p("mgAw").account(),
        Some(&account(MANAGER_A, Some(A), Role::Manager, none()))
    );
    assert_eq!(p("adm").account(), None);
    assert_eq!(p("keyA").account(), None);
}

/// Neither can be stored (a role belongs to one realm), so neither may be mistaken for the
/// platform: a tenant role without a tenant is refused everything, and an owner bound to a
/// tenant is held to that tenant.
#[test]
fn only_a_platform_role_without_a_tenant_is_the_platform() {
    let none = PermissionOverrides::default;
    let adrift = session(account(0x20, None, Role::Admin, none()));
    assert!(!adrift.is_platform());
    for r in [
        Resource::tenant(Subject::Leads, A),
        Resource::tenant(Subject::Users, A),
        Resource::platform(Subject::PlatformSettings),
    ] {
        assert_eq!(
            authorize(&adrift, Action::Read, r),
            Decision::Forbidden,
            "{r:?}"
        );
    }
    let bound = session(account(0x21, Some(A), Role::Owner, none()));
    assert!(!bound.is_platform());
    for s in [Subject::PlatformSettings, Subject::Tenant] {
        assert_eq!(
            authorize(&bound, Action::Read, Resource::platform(s)),
            Decision::Forbidden,
            "{s:?}"
        );
    }
    assert_eq!(
        authorize(&bound, Action::Read, Resource::tenant(Subject::Leads, B)),
        Decision::NotFound
    );
}

#[test]
fn needs_read_as_the_openapi_document_states_them() {
    assert_eq!(
        tenant_need(Subject::Leads, Action::Write).describe(),
        "view_leads + edit_leads"
    );
    assert_eq!(
        tenant_need(Subject::Keys, Action::Delete).describe(),
        "manage_settings"
    );
    assert_eq!(
        tenant_need(Subject::Users, Action::Read).describe(),
        "role admin"
    );
    assert_eq!(
        tenant_need(Subject::Tenant, Action::Read).describe(),
        "any user of the tenant"
    );
    assert_eq!(
        tenant_need(Subject::Plans, Action::Write).describe(),
        "platform only (admin token or owner)"
    );
}

/// A personal token never does more than a session of the same user: a read token only
/// what the session may read, a write token what the session may do, bar its account.
#[test]
fn a_token_never_exceeds_its_users_session() {
    let accounts = principals()
        .into_iter()
        .filter_map(|(_, p)| p.account().cloned())
        .collect::<Vec<_>>();
    // Every principal but the admin token and the ingest key is a user's.
    assert_eq!(accounts.len(), principals().len() - 2);
    let scopes = [Scope::Tenant(A), Scope::Tenant(B), Scope::Platform];
    for acc in accounts {
        let s = session(acc.clone());
        for scope in [TokenScope::Read, TokenScope::Write] {
            let t = token(acc.clone(), scope);
            for subject in Subject::ALL {
                for action in Action::ALL {
                    for sc in scopes {
                        let r = Resource { subject, scope: sc };
                        let by_token = authorize(&t, action, r);
                        let by_session = authorize(&s, action, r);
                        if by_token.is_allowed() {
                            assert_eq!(by_token, by_session, "{acc:?} {scope:?} {r:?} {action:?}");
                        }
                        let expect_same = match scope {
                            TokenScope::Read => action == Action::Read,
                            TokenScope::Write => {
                                subject != Subject::Account || action == Action::Read
                            }
                        };
                        if expect_same {
                            assert_eq!(by_token, by_session, "{acc:?} {scope:?} {r:?} {action:?}");
                        } else if by_session.is_allowed() {
                            assert_eq!(by_token, Decision::Forbidden, "{scope:?} {r:?} {action:?}");
                        }
                    }
                }
            }
        }
    }
}
