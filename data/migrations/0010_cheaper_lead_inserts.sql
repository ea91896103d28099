-- Two things made every INSERT INTO leads do needless work on the writer thread:
--
-- 1. `row_bytes`, the VIRTUAL generated column of 0004. In a STRICT table SQLite computes
--    and type-checks generated columns on every insert: 25 octet_length() calls per lead,
--    although ingest counts bytes in code since 0008 and nothing reads the column but the
--    two triggers below. They now compute the size themselves; a VIRTUAL column has no
--    data on disk, so dropping it rewrites no rows.
-- 2. `CHECK (source IN (...))`: SQLite evaluates an IN list of more than two constants
--    by building a temporary B-tree, for every row. The migration's hook (data/src/db.rs)
--    rewrites the CHECK as an equivalent chain of `=`, by SQLite's documented procedure
--    for changing a CHECK constraint in place (writable_schema); no row is touched.
--
-- Together these were ~5 % of the writer thread at c64 ingest (see docs/decisions.md).

DROP TRIGGER lead_counts_delete;
DROP TRIGGER lead_counts_update;
ALTER TABLE leads DROP COLUMN row_bytes;

-- A lead's size: its text columns plus the raw body as received (as `row_bytes` was;
-- `leads::row_bytes` in code computes the same for inserts).
CREATE TRIGGER lead_counts_delete AFTER DELETE ON leads BEGIN
    UPDATE lead_counts SET
            leads = leads - 1,
            duplicates = duplicates - (OLD.duplicate_of IS NOT NULL),
            bytes = bytes - (coalesce(octet_length(OLD.raw), 0) + octet_length(OLD.custom)
                + coalesce(octet_length(OLD.name), 0) + coalesce(octet_length(OLD.first_name), 0)
                + coalesce(octet_length(OLD.last_name), 0) + coalesce(octet_length(OLD.email), 0)
                + coalesce(octet_length(OLD.phone), 0) + coalesce(octet_length(OLD.message), 0)
                + coalesce(octet_length(OLD.company), 0) + coalesce(octet_length(OLD.form_name), 0)
                + coalesce(octet_length(OLD.page_url), 0) + coalesce(octet_length(OLD.referrer), 0)
                + coalesce(octet_length(OLD.utm_source), 0)
                + coalesce(octet_length(OLD.utm_medium), 0)
                + coalesce(octet_length(OLD.utm_campaign), 0)
                + coalesce(octet_length(OLD.utm_term), 0) + coalesce(octet_length(OLD.utm_content), 0)
                + coalesce(octet_length(OLD.gclid), 0) + coalesce(octet_length(OLD.fbclid), 0)
                + coalesce(octet_length(OLD.ip), 0) + coalesce(octet_length(OLD.user_agent), 0)
                + coalesce(octet_length(OLD.raw_content_type), 0)
                + coalesce(octet_length(OLD.spam_reason), 0) + coalesce(octet_length(OLD.notes), 0)
                + coalesce(octet_length(OLD.assigned_to), 0))
        WHERE tenant_id = OLD.tenant_id AND stage_id = OLD.stage_id AND is_spam = OLD.is_spam;
END;

-- Any update (a move, notes, a spam verdict) takes the old row out and puts the new one in.
CREATE TRIGGER lead_counts_update AFTER UPDATE ON leads BEGIN
    UPDATE lead_counts SET
            leads = leads - 1,
            duplicates = duplicates - (OLD.duplicate_of IS NOT NULL),
            bytes = bytes - (coalesce(octet_length(OLD.raw), 0) + octet_length(OLD.custom)
                + coalesce(octet_length(OLD.name), 0) + coalesce(octet_length(OLD.first_name), 0)
                + coalesce(octet_length(OLD.last_name), 0) + coalesce(octet_length(OLD.email), 0)
                + coalesce(octet_length(OLD.phone), 0) + coalesce(octet_length(OLD.message), 0)
                + coalesce(octet_length(OLD.company), 0) + coalesce(octet_length(OLD.form_name), 0)
                + coalesce(octet_length(OLD.page_url), 0) + coalesce(octet_length(OLD.referrer), 0)
                + coalesce(octet_length(OLD.utm_source), 0)
                + coalesce(octet_length(OLD.utm_medium), 0)
                + coalesce(octet_length(OLD.utm_campaign), 0)
                + coalesce(octet_length(OLD.utm_term), 0) + coalesce(octet_length(OLD.utm_content), 0)
                + coalesce(octet_length(OLD.gclid), 0) + coalesce(octet_length(OLD.fbclid), 0)
                + coalesce(octet_length(OLD.ip), 0) + coalesce(octet_length(OLD.user_agent), 0)
                + coalesce(octet_length(OLD.raw_content_type), 0)
                + coalesce(octet_length(OLD.spam_reason), 0) + coalesce(octet_length(OLD.notes), 0)
                + coalesce(octet_length(OLD.assigned_to), 0))
        WHERE tenant_id = OLD.tenant_id AND stage_id = OLD.stage_id AND is_spam = OLD.is_spam;
    INSERT INTO lead_counts (tenant_id, stage_id, is_spam, leads, duplicates, bytes)
        VALUES (NEW.tenant_id, NEW.stage_id, NEW.is_spam, 1, NEW.duplicate_of IS NOT NULL,
                coalesce(octet_length(NEW.raw), 0) + octet_length(NEW.custom)
                + coalesce(octet_length(NEW.name), 0) + coalesce(octet_length(NEW.first_name), 0)
                + coalesce(octet_length(NEW.last_name), 0) + coalesce(octet_length(NEW.email), 0)
                + coalesce(octet_length(NEW.phone), 0) + coalesce(octet_length(NEW.message), 0)
                + coalesce(octet_length(NEW.company), 0) + coalesce(octet_length(NEW.form_name), 0)
                + coalesce(octet_length(NEW.page_url), 0) + coalesce(octet_length(NEW.referrer), 0)
                + coalesce(octet_length(NEW.utm_source), 0)
                + coalesce(octet_length(NEW.utm_medium), 0)
                + coalesce(octet_length(NEW.utm_campaign), 0)
                + coalesce(octet_length(NEW.utm_term), 0) + coalesce(octet_length(NEW.utm_content), 0)
                + coalesce(octet_length(NEW.gclid), 0) + coalesce(octet_length(NEW.fbclid), 0)
                + coalesce(octet_length(NEW.ip), 0) + coalesce(octet_length(NEW.user_agent), 0)
                + coalesce(octet_length(NEW.raw_content_type), 0)
                + coalesce(octet_length(NEW.spam_reason), 0) + coalesce(octet_length(NEW.notes), 0)
                + coalesce(octet_length(NEW.assigned_to), 0))
        ON CONFLICT (tenant_id, stage_id, is_spam) DO UPDATE SET
            leads = leads + 1,
            duplicates = duplicates + excluded.duplicates,
            bytes = bytes + excluded.bytes;
END;
