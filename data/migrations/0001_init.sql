-- Echo5 schema, version 1. Timestamps are INTEGER milliseconds since the Unix epoch (UTC);
-- ids are UUID text. Every table is STRICT so a wrong type is an error, not a surprise.

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;

CREATE TABLE tenants (
    id               TEXT PRIMARY KEY,
    slug             TEXT NOT NULL UNIQUE,
    name             TEXT NOT NULL,
    active           INTEGER NOT NULL DEFAULT 1,
    created_at       INTEGER NOT NULL,
    sla_hours        INTEGER NOT NULL DEFAULT 24,
    spam_keywords    TEXT NOT NULL DEFAULT '[]',   -- JSON array of lower-case strings
    manager_email    TEXT,
    -- Secrets: AES-256-GCM sealed (see echo5_core::crypto), plus the last four characters
    -- in clear for the masked view, so listing tenants never needs the master key.
    meta_token_enc   BLOB,
    meta_token_last4 TEXT,
    google_ads_enc   BLOB,
    google_ads_last4 TEXT
) STRICT;
CREATE INDEX tenants_created ON tenants(created_at DESC, id DESC);

CREATE TABLE stages (
    id         TEXT PRIMARY KEY,
    tenant_id  TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    kind       TEXT NOT NULL CHECK (kind IN ('open', 'won', 'lost')),
    position   INTEGER NOT NULL,
    created_at INTEGER NOT NULL
) STRICT;
CREATE UNIQUE INDEX stages_tenant_name ON stages(tenant_id, name COLLATE NOCASE);
CREATE INDEX stages_tenant_position ON stages(tenant_id, position);

CREATE TABLE leads (
    id                 TEXT PRIMARY KEY,
    tenant_id          TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    created_at         INTEGER NOT NULL,
    stage_id           TEXT NOT NULL REFERENCES stages(id),
    stage_changed_at   INTEGER NOT NULL,
    first_contacted_at INTEGER,
    name               TEXT,
    first_name         TEXT,
    last_name          TEXT,
    email              TEXT,
    phone              TEXT,
    message            TEXT,
    company            TEXT,
    source             TEXT NOT NULL CHECK (source IN ('website', 'meta', 'google', 'manual', 'api')),
    form_name          TEXT,
    page_url           TEXT,
    referrer           TEXT,
    utm_source         TEXT,
    utm_medium         TEXT,
    utm_campaign       TEXT,
    utm_term           TEXT,
    utm_content        TEXT,
    gclid              TEXT,
    fbclid             TEXT,
    ip                 TEXT,
    user_agent         TEXT,
    custom             TEXT NOT NULL DEFAULT '{}',  -- JSON object of unmapped fields
    raw                BLOB,                        -- the body exactly as received
    raw_content_type   TEXT,
    is_spam            INTEGER NOT NULL DEFAULT 0,
    spam_reason        TEXT,
    duplicate_of       TEXT,
    notes              TEXT,
    assigned_to        TEXT,
    api_key_id         TEXT,                        -- the key that posted it, if any
    body_hash          BLOB                         -- first 16 bytes of SHA-256(raw): double submits
) STRICT;
-- Newest-first listing per tenant (keyset on created_at, id), spam apart: default listings
-- and dashboard counts hide spam and read this index alone.
CREATE INDEX leads_tenant_created ON leads(tenant_id, is_spam, created_at DESC, id DESC);
-- Stage filters, stage counts and the intake-stage SLA scan.
CREATE INDEX leads_tenant_stage ON leads(tenant_id, stage_id, is_spam, created_at, id);
-- Leads that carry an SLA (not spam, not duplicates), by stage and age: the breach lists,
-- counts and the SLA monitor read only this index.
CREATE INDEX leads_sla ON leads(tenant_id, stage_id, created_at, id)
    WHERE is_spam = 0 AND duplicate_of IS NULL;
-- Duplicate detection: same tenant and e-mail or phone within 30 days.
CREATE INDEX leads_tenant_email ON leads(tenant_id, email, created_at) WHERE email IS NOT NULL;
CREATE INDEX leads_tenant_phone ON leads(tenant_id, phone, created_at) WHERE phone IS NOT NULL;
-- Double submits: a byte-identical body from the same key within minutes. A short key keeps
-- this index dense; its entries land at random places, so small entries matter.
CREATE INDEX leads_body_hash ON leads(body_hash) WHERE body_hash IS NOT NULL;

-- Moves between stages. A lead's arrival in the intake stage is its created_at, not a row.
CREATE TABLE stage_history (
    id         INTEGER PRIMARY KEY,
    lead_id    TEXT NOT NULL REFERENCES leads(id) ON DELETE CASCADE,
    tenant_id  TEXT NOT NULL,
    from_stage TEXT,
    to_stage   TEXT NOT NULL,
    at         INTEGER NOT NULL,
    by         TEXT NOT NULL
) STRICT;
CREATE INDEX stage_history_lead ON stage_history(lead_id, at);

CREATE TABLE api_keys (
    id           TEXT PRIMARY KEY,
    tenant_id    TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    hash         BLOB NOT NULL UNIQUE,   -- SHA-256 of the full key: the lookup
    key_enc      BLOB NOT NULL,          -- sealed copy for an audited reveal
    prefix       TEXT NOT NULL,          -- first 8 characters, for display
    label        TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER,
    expires_at   INTEGER,
    revoked_at   INTEGER,
    rotated_from TEXT
) STRICT;
CREATE INDEX api_keys_tenant ON api_keys(tenant_id, created_at DESC);

CREATE TABLE admin_tokens (
    id         TEXT PRIMARY KEY,
    hash       BLOB NOT NULL UNIQUE,     -- SHA-256 of the token; the token itself is never stored
    label      TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
) STRICT;

-- Audit rows keep the tenant's slug and name as they were, so they outlive the tenant.
CREATE TABLE audit_log (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    at          INTEGER NOT NULL,
    actor       TEXT NOT NULL,
    action      TEXT NOT NULL,
    tenant_id   TEXT,
    tenant_slug TEXT,
    tenant_name TEXT,
    target      TEXT,
    details     TEXT NOT NULL DEFAULT '{}'
) STRICT;
CREATE INDEX audit_log_tenant ON audit_log(tenant_id, id DESC);

-- Ingest idempotency: `Idempotency-Key` retries.
CREATE TABLE idempotency (
    api_key_id TEXT NOT NULL,
    idem_key   TEXT NOT NULL,            -- the header value, or a body hash for double submits
    created_at INTEGER NOT NULL,
    status     INTEGER NOT NULL,
    response   TEXT NOT NULL,
    PRIMARY KEY (api_key_id, idem_key)
) STRICT, WITHOUT ROWID;
CREATE INDEX idempotency_created ON idempotency(created_at);
