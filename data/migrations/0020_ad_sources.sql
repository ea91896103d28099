-- Leads from ad platforms (Google Ads lead forms, Meta Lead Ads).
--
-- `external_id` is the platform's own id of the lead; a platform repeats deliveries, so a
-- lead is stored once per tenant, source and id (the writer looks it up before inserting;
-- the index makes a second row impossible). `is_test` marks a platform's test lead, which is
-- stored flagged as spam (reason `test`) so every count that leaves spam out leaves it out.
ALTER TABLE leads ADD COLUMN external_id TEXT;
ALTER TABLE leads ADD COLUMN is_test INTEGER NOT NULL DEFAULT 0;
CREATE UNIQUE INDEX leads_external ON leads(tenant_id, source, external_id)
    WHERE external_id IS NOT NULL;

-- A tenant's Facebook pages (`settings.meta_page_ids`, kept in order as JSON like the spam
-- keywords) and the routing table Meta's notifications are delivered through: one app
-- delivers every page's leads to one URL, so a page belongs to at most one tenant.
ALTER TABLE tenants ADD COLUMN meta_page_ids TEXT NOT NULL DEFAULT '[]';
CREATE TABLE meta_pages (
    page_id   TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE
) STRICT;
CREATE INDEX meta_pages_tenant ON meta_pages(tenant_id);

-- What each source last did for a tenant: its last stored lead, its last error.
CREATE TABLE integrations (
    tenant_id     TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    source        TEXT NOT NULL CHECK (source IN ('google', 'meta')),
    last_lead_at  INTEGER,
    last_error    TEXT,
    last_error_at INTEGER,
    PRIMARY KEY (tenant_id, source)
) STRICT;

-- The Meta app secret (platform-wide: one app signs every page's deliveries), sealed under
-- the master key like the tenants' secrets; the JSON document holds no secret.
ALTER TABLE platform_settings ADD COLUMN meta_app_secret_enc BLOB;
ALTER TABLE platform_settings ADD COLUMN meta_app_secret_last4 TEXT;
