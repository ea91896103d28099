-- The outbox's tasks: what Echo5 sends that is not a webhook message (mail notices, ad
-- platform fetches, provider calls), written in the transaction of the change that causes
-- it and run by the outbox worker on the shared retry schedule.

CREATE TABLE outbox_tasks (
    id              TEXT PRIMARY KEY,          -- random; the same on every attempt
    kind            TEXT NOT NULL,
    tenant_id       TEXT,
    lead_id         TEXT,                      -- the lead it is about: erasing the lead scrubs it
    grp             TEXT,                      -- tasks parked and released together
    dedup_key       TEXT,                      -- one task per (kind, dedup_key), ever
    payload         TEXT NOT NULL,             -- the handler's JSON
    status          TEXT NOT NULL,             -- pending | parked | succeeded | failed
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER,                   -- when pending
    last_error      TEXT,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
) STRICT;
CREATE UNIQUE INDEX outbox_tasks_dedup ON outbox_tasks(kind, dedup_key)
    WHERE dedup_key IS NOT NULL;
CREATE INDEX outbox_tasks_due ON outbox_tasks(next_attempt_at) WHERE status = 'pending';
CREATE INDEX outbox_tasks_group ON outbox_tasks(grp, status) WHERE grp IS NOT NULL;
CREATE INDEX outbox_tasks_tenant ON outbox_tasks(tenant_id, created_at);
CREATE INDEX outbox_tasks_lead ON outbox_tasks(lead_id) WHERE lead_id IS NOT NULL;

-- Erasing a lead scrubs the message bodies already built about it. Ingest's rows carry no
-- body until they are fanned out, so they stay outside this index and ingest pays nothing.
CREATE INDEX outbox_messages_lead_body ON outbox_messages(lead_id) WHERE payload IS NOT NULL;
