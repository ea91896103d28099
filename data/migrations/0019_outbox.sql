-- The outbox: every message Echo5 sends out, written in the transaction of the change that
-- causes it; per-endpoint deliveries with their schedule; every attempt.

CREATE TABLE webhooks (
    id                         TEXT PRIMARY KEY,
    tenant_id                  TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    url                        TEXT NOT NULL,
    events                     TEXT NOT NULL,      -- JSON array of event names, or ["*"]
    description                TEXT NOT NULL DEFAULT '',
    active                     INTEGER NOT NULL DEFAULT 1,
    disabled_reason            TEXT,
    secret                     BLOB NOT NULL,      -- sealed under the master key
    previous_secret            BLOB,               -- sealed; signs too until it expires
    previous_secret_expires_at INTEGER,
    failing_since              INTEGER,            -- first failed attempt since the last success
    created_at                 INTEGER NOT NULL,
    updated_at                 INTEGER NOT NULL
) STRICT;
CREATE INDEX webhooks_tenant ON webhooks(tenant_id, created_at);

-- No foreign keys: a message outlives what it is about (a deleted lead) and costs ingest no
-- lookup. `payload` is the whole body; NULL for a lead message whose body is made from the
-- lead row when it is fanned out (ingest writes those: one short row per lead).
CREATE TABLE outbox_messages (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    id         TEXT NOT NULL UNIQUE,
    tenant_id  TEXT NOT NULL,
    event_type TEXT NOT NULL,
    lead_id    TEXT,
    payload    TEXT,
    created_at INTEGER NOT NULL
) STRICT;

CREATE TABLE outbox_deliveries (
    endpoint_id     TEXT NOT NULL REFERENCES webhooks(id) ON DELETE CASCADE,
    message_seq     INTEGER NOT NULL,
    status          TEXT NOT NULL,                 -- pending | succeeded | failed
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER,
    created_at      INTEGER NOT NULL,
    PRIMARY KEY (endpoint_id, message_seq)
) STRICT, WITHOUT ROWID;
CREATE INDEX outbox_deliveries_due ON outbox_deliveries(endpoint_id, next_attempt_at)
    WHERE status = 'pending';
CREATE INDEX outbox_deliveries_status ON outbox_deliveries(endpoint_id, status, message_seq);

CREATE TABLE outbox_attempts (
    id          INTEGER PRIMARY KEY,
    endpoint_id TEXT NOT NULL,
    message_seq INTEGER NOT NULL,
    at          INTEGER NOT NULL,
    status_code INTEGER,
    duration_ms INTEGER NOT NULL,
    response    TEXT NOT NULL,
    error       TEXT,
    FOREIGN KEY (endpoint_id, message_seq)
        REFERENCES outbox_deliveries(endpoint_id, message_seq) ON DELETE CASCADE
) STRICT;
CREATE INDEX outbox_attempts_delivery ON outbox_attempts(endpoint_id, message_seq, at);
