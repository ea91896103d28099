-- A lead's notes become a timeline: one row per note, appended, never edited, each with
-- its author and time. `leads.notes` (one text, overwritten by every PATCH) is no longer
-- written; dropping the column would rewrite every lead row, so it stays, emptied.
--
-- A non-empty old `notes` text becomes one note by author `migrated` (actor `system`), at
-- the time of the last audited notes write of that lead (`lead.updated` whose
-- `details.changed` names `notes`), or at the lead's `created_at` when no such row exists
-- (notes given at manual entry). Migrated ids are random (version 4) UUIDs; new notes get
-- time-ordered (version 7) ones. Order is by `at`, then insertion.

CREATE TABLE lead_notes (
    id      TEXT PRIMARY KEY,
    lead_id TEXT NOT NULL REFERENCES leads(id) ON DELETE CASCADE,
    at      INTEGER NOT NULL,
    actor   TEXT NOT NULL,            -- as in audit_log.actor (`admin:<token id>`, `system`)
    author  TEXT NOT NULL,            -- the display name shown with the note
    text    TEXT NOT NULL
) STRICT;

CREATE INDEX lead_notes_by_lead ON lead_notes(lead_id, at);

WITH last_write AS (
    SELECT target AS lead_id, max(at) AS at FROM audit_log
    WHERE action = 'lead.updated'
      AND EXISTS (SELECT 1 FROM json_each(details, '$.changed') WHERE value = 'notes')
    GROUP BY target
)
INSERT INTO lead_notes (id, lead_id, at, actor, author, text)
SELECT lower(hex(randomblob(4))) || '-' || lower(hex(randomblob(2))) || '-4'
           || substr(lower(hex(randomblob(2))), 2) || '-'
           || substr('89ab', 1 + abs(random() % 4), 1) || substr(lower(hex(randomblob(2))), 2)
           || '-' || lower(hex(randomblob(6))),
       l.id, coalesce(w.at, l.created_at), 'system', 'migrated', l.notes
FROM leads l LEFT JOIN last_write w ON w.lead_id = l.id
WHERE l.notes IS NOT NULL AND trim(l.notes, ' ' || char(9, 10, 13)) <> ''
ORDER BY l.created_at, l.id;

UPDATE leads SET notes = NULL WHERE notes IS NOT NULL;
