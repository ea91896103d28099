-- Platform settings: the defaults new tenants start from, the honeypot names every
-- tenant's ingest checks, the rotation grace default and who runs the platform. One row, a
-- JSON document (echo5_core::platform::PlatformSettings); no row = the built-in defaults.
CREATE TABLE platform_settings (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    settings   TEXT NOT NULL,
    updated_at INTEGER NOT NULL
) STRICT;
