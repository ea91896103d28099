-- `leads_sla` (tenant, stage, created_at, id; leads that carry an SLA) and
-- `leads_tenant_stage` (tenant, stage, is_spam, created_at, id) held the same keys for
-- every lead that is neither spam nor a duplicate — nearly all of them — so every stored
-- lead was inserted into both: at c64 ingest each group commit rewrote ~3.9 WAL pages of
-- each (B-tree appends split the last leaves), of its ~24 frames.
--
-- One index serves both now: `leads_tenant_stage` gains `duplicate_of` as its last column.
-- For a lead that is no duplicate it is NULL, one byte in the entry, and the SLA queries
-- (`is_spam = 0 AND duplicate_of IS NULL`) read it from the index, in `created_at` order
-- within the stage, without table rows, as they read `leads_sla` before. What they step
-- over is the stage's duplicates, a few in a hundred leads.
DROP INDEX IF EXISTS leads_sla;
DROP INDEX IF EXISTS leads_tenant_stage;
CREATE INDEX leads_tenant_stage ON leads(tenant_id, stage_id, is_spam, created_at, id, duplicate_of);
