-- The newest-first listing index was declared `created_at DESC, id DESC`, so every new lead
-- sorted first in its tenant's range: an insert at the left edge, which SQLite's B-tree
-- balances by splitting into half-full pages. At c64 ingest it rewrote ~4 pages (three
-- leaves and their parent) of every group commit's ~18 WAL frames, and half of the index's
-- space was empty. Ascending, a new lead appends at the end of its range; SQLite reads the
-- index backwards for `ORDER BY created_at DESC, id DESC` with the same plans (no sort).
DROP INDEX IF EXISTS leads_tenant_created;
CREATE INDEX leads_tenant_created ON leads(tenant_id, is_spam, created_at, id);
