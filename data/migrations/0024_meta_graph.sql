-- Meta lead fetches: where a tenant's Meta integration stands when the Graph API refuses its
-- access token, and the lead forms a tenant's notifications have named (what a backfill
-- reads).
--
-- `broken_at` is set when Meta answers error 190 (token invalid or expired) and cleared when
-- the tenant's token is replaced; `breakages` counts the times it was set, so the manager's
-- alert is queued once per breakage (its dedup key carries the count).
ALTER TABLE integrations ADD COLUMN broken_at INTEGER;
ALTER TABLE integrations ADD COLUMN breakages INTEGER NOT NULL DEFAULT 0;

CREATE TABLE meta_forms (
    tenant_id     TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    form_id       TEXT NOT NULL,
    first_seen_at INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, form_id)
) STRICT;
