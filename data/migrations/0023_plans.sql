-- Plans: what a tenant pays and its limits (NULL: no limit).
CREATE TABLE plans (
    id              TEXT PRIMARY KEY,
    name            TEXT NOT NULL,
    price_cents     INTEGER NOT NULL CHECK (price_cents >= 0),
    currency        TEXT NOT NULL,
    leads_per_month INTEGER,
    users           INTEGER,
    api_keys        INTEGER,
    webhooks        INTEGER,
    retention_days  INTEGER,
    created_at      INTEGER NOT NULL
) STRICT;

-- A tenant's plan (NULL: none, no limits) and its Stripe customer. The plan is checked in
-- code: setting an unknown one is 422, deleting a plan a tenant is on 409.
ALTER TABLE tenants ADD COLUMN plan_id TEXT;
ALTER TABLE tenants ADD COLUMN stripe_customer_id TEXT;

-- A lead stored past its tenant's monthly limit (leads are never refused for a plan).
-- A constant default: adding it rewrites no row.
ALTER TABLE leads ADD COLUMN over_plan INTEGER NOT NULL DEFAULT 0;

-- The 80 % / 100 % notices of `leads_per_month`, one row per tenant, month and threshold:
-- written in the transaction of the lead that crossed it, with the notice's mail tasks
-- (outbox_tasks), so a notice is queued once a month whatever the concurrency.
CREATE TABLE plan_notices (
    tenant_id  TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    month      TEXT NOT NULL,
    threshold  INTEGER NOT NULL CHECK (threshold IN (80, 100)),
    created_at INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, month, threshold)
) STRICT;

-- Stripe usage reports: the platform's secret key (sealed under the master key like the
-- Meta app secret), and per tenant the leads reported so far, written in the transaction
-- that queues a report's outbox task, so a restart mid-sync never reports a lead twice
-- or never.
ALTER TABLE platform_settings ADD COLUMN stripe_secret_key_enc BLOB;
ALTER TABLE platform_settings ADD COLUMN stripe_secret_key_last4 TEXT;
ALTER TABLE tenants ADD COLUMN stripe_reported_leads INTEGER NOT NULL DEFAULT 0;
