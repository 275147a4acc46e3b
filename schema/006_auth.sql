-- 006_auth: user accounts for people (Argon2id password hashes), server-side sign-in sessions,
-- sign-in failure counters (throttling and lock-out), and tokens with an owner, an optional
-- expiry and a last-used time. The `viewer` role (read-only auditors) is new.
-- Applied by server/migrate.c inside one transaction (no BEGIN/COMMIT here).
-- Times used for expiry arithmetic are Unix seconds (INTEGER *_unix); the others ISO 8601 UTC.

-- One row per person who signs in with a name and a password. `lims` is not a person's role:
-- machines use tokens.
CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    -- the sign-in name, lowercase [a-z0-9._-], 1-63 characters; the actor in audit_log
    name TEXT NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 63 AND name = lower(name)),
    -- clinician: reads clinical data, writes treatments/events, acknowledges alerts;
    -- viewer: reads clinical data only; admin: users, tokens, panels, settings (one role each)
    role TEXT NOT NULL CHECK (role IN ('clinician', 'viewer', 'admin')),
    -- libsodium crypto_pwhash_str output ("$argon2id$v=19$m=...,t=...,p=1$salt$hash")
    password_hash TEXT NOT NULL CHECK (password_hash LIKE '$argon2id$%'),
    -- 1 after an admin set the password (creation, reset): the next session may only change it
    must_change INTEGER NOT NULL DEFAULT 1 CHECK (must_change IN (0, 1)),
    -- 1 stops the account at once: its sessions and the tokens it owns are refused
    disabled INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    last_signin_at TEXT -- ISO 8601 UTC of the last successful sign-in; NULL before the first
) STRICT;

-- Sign-in sessions. The cookie holds 32 random bytes (hex); only their SHA-256 is stored here,
-- so the table never holds anything that authenticates.
CREATE TABLE sessions (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users (id),
    hash TEXT NOT NULL UNIQUE CHECK (length(hash) = 64), -- lowercase hex SHA-256 of the cookie
    -- the per-session CSRF token the pages echo in X-CSRF-Token (not a credential by itself)
    csrf TEXT NOT NULL CHECK (length(csrf) = 64),
    created_unix INTEGER NOT NULL,   -- absolute expiry counts from here (--session-max)
    last_seen_unix INTEGER NOT NULL, -- idle expiry counts from here (--session-idle)
    ended_unix INTEGER,              -- sign-out, password change/reset, user disabled; NULL while open
    address TEXT NOT NULL            -- the client address at sign-in
) STRICT;
CREATE INDEX sessions_user ON sessions (user_id);

-- Consecutive failed sign-ins per user name (kind 'name', also for names that do not exist, so
-- a guess cannot tell them apart) and per client address (kind 'address'). A success deletes the
-- name's row; an address's row is forgotten an hour after its last failure.
CREATE TABLE signin_failures (
    kind TEXT NOT NULL CHECK (kind IN ('name', 'address')),
    key TEXT NOT NULL CHECK (length(key) BETWEEN 1 AND 255),
    failures INTEGER NOT NULL CHECK (failures >= 1),
    last_failed_unix REAL NOT NULL, -- Unix seconds with a fraction: waits of 1 s must be exact
    PRIMARY KEY (kind, key)
) STRICT;

-- tokens is rebuilt (SQLite cannot change a CHECK): every column of 002 kept, `viewer` allowed,
-- plus the owner, an optional expiry and the last use. Nothing references tokens(id) by a
-- foreign key (audit_log.token_id is a plain integer on purpose).
CREATE TABLE tokens_006 (
    id INTEGER PRIMARY KEY,
    -- lims: registers patients and samples, uploads; the other roles as for users
    role TEXT NOT NULL CHECK (role IN ('lims', 'clinician', 'viewer', 'admin')),
    -- who or what holds the token ("LIMS prod"); the actor in audit_log
    label TEXT NOT NULL CHECK (length(label) BETWEEN 1 AND 63),
    -- lowercase hex SHA-256 of the secret "rw_..."; looked up on every request
    hash TEXT NOT NULL UNIQUE CHECK (length(hash) = 64),
    created_at TEXT NOT NULL, -- ISO 8601 UTC
    revoked_at TEXT,          -- ISO 8601 UTC; NULL while the token is valid
    -- the user whose admin session created it; NULL for the bootstrap token and tokens made
    -- with another token. A disabled owner stops the token.
    owner_user_id INTEGER REFERENCES users (id),
    expires_at TEXT,  -- ISO 8601 UTC; NULL = no expiry
    last_used_at TEXT -- ISO 8601 UTC, refreshed at most once a minute; NULL = never used
);
INSERT INTO tokens_006 (id, role, label, hash, created_at, revoked_at)
    SELECT id, role, label, hash, created_at, revoked_at FROM tokens;
DROP TABLE tokens;
ALTER TABLE tokens_006 RENAME TO tokens;
