-- A tenant's `default_country` (ISO 3166 alpha-2): the country a phone number without a
-- country code is read in, so phones are stored in E.164. Every tenant starts as `US`, the
-- default the contract names.
--
-- The migration's hook (`db.rs`, `phones_to_e164`) then rewrites the phones stored before
-- this in E.164 with that country, so a lead stored as `5550102000` and a later one stored
-- as `+15550102000` are the same number for duplicate detection and search.
ALTER TABLE tenants ADD COLUMN default_country TEXT NOT NULL DEFAULT 'US';
