-- How many leads (and how many bytes of them) each tenant holds per stage and spam flag.
-- Dashboard "open" / "in breach" counts and usage "storage bytes" read these few rows instead
-- of stepping through hundreds of thousands of index entries per request.
--
-- Triggers keep it, so every path that writes leads (ingest, manual entry and imports,
-- stage moves, stage deletion with move_to, the demo seed, tenant deletion) stays right
-- without having to remember it; the cost is one upsert into a tiny, always-cached table
-- per written lead.

-- The size a lead occupies: its text columns plus the raw body as received.
ALTER TABLE leads ADD COLUMN row_bytes INTEGER GENERATED ALWAYS AS (
    coalesce(octet_length(raw), 0) + octet_length(custom)
    + coalesce(octet_length(name), 0) + coalesce(octet_length(first_name), 0)
    + coalesce(octet_length(last_name), 0) + coalesce(octet_length(email), 0)
    + coalesce(octet_length(phone), 0) + coalesce(octet_length(message), 0)
    + coalesce(octet_length(company), 0) + coalesce(octet_length(form_name), 0)
    + coalesce(octet_length(page_url), 0) + coalesce(octet_length(referrer), 0)
    + coalesce(octet_length(utm_source), 0) + coalesce(octet_length(utm_medium), 0)
    + coalesce(octet_length(utm_campaign), 0) + coalesce(octet_length(utm_term), 0)
    + coalesce(octet_length(utm_content), 0) + coalesce(octet_length(gclid), 0)
    + coalesce(octet_length(fbclid), 0) + coalesce(octet_length(ip), 0)
    + coalesce(octet_length(user_agent), 0) + coalesce(octet_length(raw_content_type), 0)
    + coalesce(octet_length(spam_reason), 0) + coalesce(octet_length(notes), 0)
    + coalesce(octet_length(assigned_to), 0)
) VIRTUAL;

CREATE TABLE lead_counts (
    tenant_id  TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    stage_id   TEXT NOT NULL REFERENCES stages(id) ON DELETE CASCADE,
    is_spam    INTEGER NOT NULL,
    leads      INTEGER NOT NULL DEFAULT 0,
    duplicates INTEGER NOT NULL DEFAULT 0,   -- of `leads`, those with duplicate_of set
    bytes      INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id, stage_id, is_spam)
) STRICT, WITHOUT ROWID;

INSERT INTO lead_counts (tenant_id, stage_id, is_spam, leads, duplicates, bytes)
    SELECT tenant_id, stage_id, is_spam, count(*), count(duplicate_of), sum(row_bytes)
    FROM leads GROUP BY tenant_id, stage_id, is_spam;

CREATE TRIGGER lead_counts_insert AFTER INSERT ON leads BEGIN
    INSERT INTO lead_counts (tenant_id, stage_id, is_spam, leads, duplicates, bytes)
        VALUES (NEW.tenant_id, NEW.stage_id, NEW.is_spam, 1,
                NEW.duplicate_of IS NOT NULL, NEW.row_bytes)
        ON CONFLICT (tenant_id, stage_id, is_spam) DO UPDATE SET
            leads = leads + 1,
            duplicates = duplicates + excluded.duplicates,
            bytes = bytes + excluded.bytes;
END;

CREATE TRIGGER lead_counts_delete AFTER DELETE ON leads BEGIN
    UPDATE lead_counts SET
            leads = leads - 1,
            duplicates = duplicates - (OLD.duplicate_of IS NOT NULL),
            bytes = bytes - OLD.row_bytes
        WHERE tenant_id = OLD.tenant_id AND stage_id = OLD.stage_id AND is_spam = OLD.is_spam;
END;

-- Any update (a move, notes, a spam verdict) takes the old row out and puts the new one in.
CREATE TRIGGER lead_counts_update AFTER UPDATE ON leads BEGIN
    UPDATE lead_counts SET
            leads = leads - 1,
            duplicates = duplicates - (OLD.duplicate_of IS NOT NULL),
            bytes = bytes - OLD.row_bytes
        WHERE tenant_id = OLD.tenant_id AND stage_id = OLD.stage_id AND is_spam = OLD.is_spam;
    INSERT INTO lead_counts (tenant_id, stage_id, is_spam, leads, duplicates, bytes)
        VALUES (NEW.tenant_id, NEW.stage_id, NEW.is_spam, 1,
                NEW.duplicate_of IS NOT NULL, NEW.row_bytes)
        ON CONFLICT (tenant_id, stage_id, is_spam) DO UPDATE SET
            leads = leads + 1,
            duplicates = duplicates + excluded.duplicates,
            bytes = bytes + excluded.bytes;
END;
