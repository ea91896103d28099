-- Duplicate and double-submit detection moved into memory (echo5_core::dedup, rebuilt from
-- the leads at start). These three indexes existed only for those lookups; their keys are
-- random, so each stored lead dirtied a random page in each, and writing those pages was
-- most of the write path's cost. `body_hash` stays as a column: the start-up rebuild reads it.
DROP INDEX IF EXISTS leads_tenant_email;
DROP INDEX IF EXISTS leads_tenant_phone;
DROP INDEX IF EXISTS leads_body_hash;
