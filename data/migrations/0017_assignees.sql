-- A lead's `assigned_to` becomes a user reference: the id of a user of the lead's tenant,
-- or NULL. Until now it was free text ("Maria"), so each stored value is kept:
--
-- 1. Every non-blank value that is not already the id of a user of the lead's tenant
--    becomes one note on the lead's timeline, by author `migrated` (actor `system`):
--    `Assigned to: <text> (written before assignees were users)`, at the time of the last
--    audited write of the assignee (`lead.updated` whose `details.changed` names
--    `assigned_to`), or the lead's `created_at` when there is none (manual entry).
-- 2. The column then holds a user id where the text names exactly one user of the lead's
--    tenant: the user's id itself (any user), else the e-mail address or the name of an
--    active user (case-insensitive; a name two active users share names nobody). Every
--    other value becomes NULL; its text is in the note.
--
-- Each rewritten row is counted by the `lead_counts_update` trigger (its size changes).

WITH last_write AS (
    SELECT target AS lead_id, max(at) AS at FROM audit_log
    WHERE action = 'lead.updated'
      AND EXISTS (SELECT 1 FROM json_each(details, '$.changed') WHERE value = 'assigned_to')
    GROUP BY target
)
INSERT INTO lead_notes (id, lead_id, at, actor, author, text)
SELECT lower(hex(randomblob(4))) || '-' || lower(hex(randomblob(2))) || '-4'
           || substr(lower(hex(randomblob(2))), 2) || '-'
           || substr('89ab', 1 + abs(random() % 4), 1) || substr(lower(hex(randomblob(2))), 2)
           || '-' || lower(hex(randomblob(6))),
       l.id, coalesce(w.at, l.created_at), 'system', 'migrated',
       'Assigned to: ' || trim(l.assigned_to, ' ' || char(9, 10, 13))
           || ' (written before assignees were users)'
FROM leads l LEFT JOIN last_write w ON w.lead_id = l.id
WHERE l.assigned_to IS NOT NULL
  AND trim(l.assigned_to, ' ' || char(9, 10, 13)) <> ''
  AND NOT EXISTS (SELECT 1 FROM users u WHERE u.id = l.assigned_to AND u.tenant_id = l.tenant_id)
ORDER BY l.created_at, l.id;

UPDATE leads SET assigned_to = (
    SELECT u.id FROM users u
    WHERE u.tenant_id = leads.tenant_id
      AND (u.id = leads.assigned_to
           OR (u.active = 1 AND u.email = trim(leads.assigned_to) COLLATE NOCASE)
           OR (u.active = 1 AND u.name = trim(leads.assigned_to) COLLATE NOCASE
               AND (SELECT count(*) FROM users v
                    WHERE v.tenant_id = leads.tenant_id AND v.active = 1
                      AND v.name = trim(leads.assigned_to) COLLATE NOCASE) = 1))
    ORDER BY u.id = leads.assigned_to DESC, u.email = trim(leads.assigned_to) COLLATE NOCASE DESC
    LIMIT 1)
WHERE assigned_to IS NOT NULL;

-- A manager's listing, export and breaches: their leads, newest first, spam apart. Partial:
-- unassigned leads (every lead of a tenant without assignment) cost ingest no entry here.
CREATE INDEX leads_tenant_assignee ON leads(tenant_id, assigned_to, is_spam, created_at, id)
    WHERE assigned_to IS NOT NULL;

-- A deleted user's leads become unassigned (a deactivated user keeps theirs until someone
-- reassigns them). A trigger, not a foreign key: the column exists since 0001, and adding a
-- foreign key to it would mean rebuilding the leads table.
CREATE TRIGGER users_unassign_leads AFTER DELETE ON users WHEN OLD.tenant_id IS NOT NULL BEGIN
    UPDATE leads SET assigned_to = NULL
        WHERE tenant_id = OLD.tenant_id AND assigned_to = OLD.id;
END;

-- `settings.auto_assign`: how a tenant's new leads get an assignee.
ALTER TABLE tenants ADD COLUMN auto_assign TEXT NOT NULL DEFAULT 'none'
    CHECK (auto_assign = 'none' OR auto_assign = 'round_robin');

-- Round robin: the manager who got the tenant's last auto-assigned lead. Written in the
-- same transaction as that lead, so a restart continues the rotation where it stopped.
CREATE TABLE assignment_turns (
    tenant_id TEXT PRIMARY KEY REFERENCES tenants(id) ON DELETE CASCADE,
    last_user TEXT NOT NULL   -- not a foreign key: the turn passes on if the user goes
) STRICT, WITHOUT ROWID;
