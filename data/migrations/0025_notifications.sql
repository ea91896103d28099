-- A tenant's notification settings: the document as the API shows it (secrets masked) and
-- the channel secrets (Slack webhook URL, Twilio token, SendGrid key) sealed together under
-- the master key. A tenant without a row keeps the plain breach e-mail to its manager.
CREATE TABLE notification_settings (
    tenant_id      TEXT PRIMARY KEY REFERENCES tenants(id) ON DELETE CASCADE,
    doc            TEXT NOT NULL,
    secrets        BLOB NOT NULL,      -- sealed JSON
    lead_watermark INTEGER NOT NULL,   -- lead.created: leads created after this (ms) are announced
    digest_sent_on TEXT,               -- local date (YYYY-MM-DD) of the last daily digest
    updated_at     INTEGER NOT NULL
) STRICT;

-- Escalation steps sent, once per lead and step (a step is known by its offset).
CREATE TABLE notification_escalations (
    lead_id     TEXT NOT NULL REFERENCES leads(id) ON DELETE CASCADE,
    after_hours INTEGER NOT NULL,
    sent_at     INTEGER NOT NULL,
    PRIMARY KEY (lead_id, after_hours)
) STRICT, WITHOUT ROWID;

-- The escalation pass reads one tenant's breaches of the last day or so, by breach time.
CREATE INDEX sla_breaches_tenant_time ON sla_breaches(tenant_id, breached_at);
