-- What the global analytics (`GET /api/v1/analytics`) reads instead of the leads: per tenant
-- and UTC day of `created_at`, how many leads (spam excluded) fall in each bucket of each
-- figure. A window of whole days is answered by summing a few rows per tenant and day,
-- whatever the number of leads.
--
-- `dim` says which figure a row counts, `key` which bucket of it:
--   0  stage the lead is in now                      key = stage id
--   1  furthest stage of the funnel it reached       key = stage id ('' = only ever in lost
--      (its stage and every stage it was moved to;          stages)
--      the funnel is the pipeline without lost stages)
--   2  source                                        key = source
--   3  utm_source                                    key = utm_source (leads without one: no row)
--   4  utm_campaign                                  key = utm_campaign (likewise)
--   5  contacted (first_contacted_at set)            key = ''
--
-- The code that writes leads keeps it in the same transaction as the change (ingest adds up
-- a group commit, see data/src/tally.rs; data/src/lead_days.rs for the other paths). A row
-- whose count falls to 0 is deleted.
CREATE TABLE lead_days (
    tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    day       INTEGER NOT NULL,   -- days since 1970-01-01 (UTC) of created_at
    dim       INTEGER NOT NULL,
    key       TEXT NOT NULL,
    leads     INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, day, dim, key)
) STRICT, WITHOUT ROWID;

-- The same count as `lead_days::recount` runs for one tenant, over every lead there is.
WITH f AS MATERIALIZED (
    SELECT l.tenant_id,
        (l.created_at - ((l.created_at % 86400000) + 86400000) % 86400000) / 86400000 AS day,
        l.stage_id, l.source, l.utm_source, l.utm_campaign,
        l.first_contacted_at IS NOT NULL AS contacted,
        coalesce((SELECT s.id FROM stages s
                  WHERE s.id IN (SELECT l.stage_id
                                 UNION ALL SELECT h.to_stage FROM stage_history h
                                           WHERE h.lead_id = l.id)
                    AND s.tenant_id = l.tenant_id AND s.kind <> 'lost'
                  ORDER BY s.position DESC, s.created_at DESC LIMIT 1), '') AS reach
    FROM leads l WHERE l.is_spam = 0
)
INSERT INTO lead_days (tenant_id, day, dim, key, leads)
    SELECT tenant_id, day, 0, stage_id, count(*) FROM f GROUP BY tenant_id, day, stage_id
    UNION ALL
    SELECT tenant_id, day, 1, reach, count(*) FROM f GROUP BY tenant_id, day, reach
    UNION ALL
    SELECT tenant_id, day, 2, source, count(*) FROM f GROUP BY tenant_id, day, source
    UNION ALL
    SELECT tenant_id, day, 3, utm_source, count(*) FROM f WHERE utm_source IS NOT NULL
        GROUP BY tenant_id, day, utm_source
    UNION ALL
    SELECT tenant_id, day, 4, utm_campaign, count(*) FROM f WHERE utm_campaign IS NOT NULL
        GROUP BY tenant_id, day, utm_campaign
    UNION ALL
    SELECT tenant_id, day, 5, '', count(*) FROM f WHERE contacted GROUP BY tenant_id, day;
