-- A tenant's stages in pipeline order (position, then age) straight from one index. The
-- intake-stage lookup runs for every stored lead; with the old (tenant_id, position) index
-- SQLite sorted the rows in a temporary B-tree each time, ~6 % of the writer thread at full
-- ingest.
CREATE INDEX stages_tenant_order ON stages(tenant_id, position, created_at);
DROP INDEX IF EXISTS stages_tenant_position;
