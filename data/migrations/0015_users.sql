-- Users and their credentials: login sessions, personal tokens, invitation and reset links,
-- and recent login failures. Every token is stored as its SHA-256 only (`token_hash`), so
-- the database holds no usable credential. A user's credentials go with the user (ON DELETE
-- CASCADE), and a tenant's users with the tenant.

CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    tenant_id     TEXT REFERENCES tenants(id) ON DELETE CASCADE,  -- NULL: a platform user
    email         TEXT NOT NULL,          -- lower-cased by `core::users::validate_email`
    name          TEXT NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'manager', 'agent')),
    permissions   TEXT NOT NULL DEFAULT '{}',  -- the overrides only, JSON
    password_hash TEXT,                   -- PHC string; NULL until the invitation is accepted
    active        INTEGER NOT NULL DEFAULT 1,
    created_at    INTEGER NOT NULL,
    last_login_at INTEGER,
    CHECK ((tenant_id IS NULL) = (role = 'owner'))
) STRICT;

-- One address, one user, across the whole platform, whatever its case.
CREATE UNIQUE INDEX users_by_email ON users(email COLLATE NOCASE);
CREATE INDEX users_by_tenant ON users(tenant_id, created_at);

CREATE TABLE sessions (
    token_hash   BLOB PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at   INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    ip           TEXT,
    user_agent   TEXT
) STRICT, WITHOUT ROWID;

CREATE INDEX sessions_by_user ON sessions(user_id);

CREATE TABLE personal_tokens (
    id           TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    label        TEXT NOT NULL,
    scope        TEXT NOT NULL CHECK (scope IN ('read', 'write')),
    token_hash   BLOB NOT NULL UNIQUE,
    prefix       TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    last_used_at INTEGER
) STRICT;

CREATE INDEX personal_tokens_by_user ON personal_tokens(user_id, created_at);

CREATE TABLE auth_links (
    token_hash BLOB PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    purpose    TEXT NOT NULL CHECK (purpose IN ('invite', 'reset')),
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at    INTEGER
) STRICT, WITHOUT ROWID;

CREATE INDEX auth_links_by_user ON auth_links(user_id, purpose);

-- `key` is `email:<address>` or `ip:<address>`; only the failures inside the throttling
-- window matter, and only the last few of those (see `core::sessions::ThrottlePolicy`).
CREATE TABLE login_failures (
    id  INTEGER PRIMARY KEY,
    key TEXT NOT NULL,
    at  INTEGER NOT NULL
) STRICT;

CREATE INDEX login_failures_by_key ON login_failures(key, at);
CREATE INDEX login_failures_by_time ON login_failures(at);
