-- SLA breaches, recorded once per lead by the monitor (the breach lists themselves are
-- computed from the leads, so a lead shows there the moment it is overdue).
CREATE TABLE sla_breaches (
    lead_id     TEXT PRIMARY KEY REFERENCES leads(id) ON DELETE CASCADE,
    tenant_id   TEXT NOT NULL,
    breached_at INTEGER NOT NULL,   -- created_at + sla_hours at the time it was recorded
    recorded_at INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

-- Breach alerts waiting to be e-mailed: queued in the transaction that records the breach,
-- retried with backoff, marked sent once the SMTP server accepted the message.
CREATE TABLE alerts (
    id              INTEGER PRIMARY KEY,
    lead_id         TEXT NOT NULL UNIQUE REFERENCES leads(id) ON DELETE CASCADE,
    tenant_id       TEXT NOT NULL,
    recipient       TEXT,           -- NULL: the tenant has no manager_email
    subject         TEXT NOT NULL,
    body            TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('pending', 'sent', 'logged', 'skipped')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    last_error      TEXT,
    created_at      INTEGER NOT NULL,
    sent_at         INTEGER
) STRICT;
CREATE INDEX alerts_due ON alerts(status, next_attempt_at) WHERE status = 'pending';
