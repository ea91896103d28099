-- Usage metering: per tenant, per API key ('' for activity without a key), per month (YYYY-MM).
-- accepted/spam/duplicates are counted in the transaction that stores the lead; api_calls and
-- rejected are coalesced in memory and added in batches.
CREATE TABLE usage_counters (
    tenant_id  TEXT NOT NULL,
    api_key_id TEXT NOT NULL DEFAULT '',
    month      TEXT NOT NULL,
    accepted   INTEGER NOT NULL DEFAULT 0,
    spam       INTEGER NOT NULL DEFAULT 0,
    duplicates INTEGER NOT NULL DEFAULT 0,
    rejected   INTEGER NOT NULL DEFAULT 0,
    api_calls  INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id, api_key_id, month)
) STRICT;
CREATE INDEX usage_counters_month ON usage_counters(month, tenant_id);
