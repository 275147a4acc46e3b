-- 002_tokens: API tokens. Only the SHA-256 of each secret is stored; the secret itself is shown
-- once, when the token is created, and cannot be recovered from the database.
-- Applied by server/migrate.c inside one transaction (no BEGIN/COMMIT here).

-- One row per API token ever issued; revoked tokens are kept for the audit trail.
CREATE TABLE tokens (
    id INTEGER PRIMARY KEY,
    -- lims: pushes samples and results; clinician: reads, acknowledges alerts; admin: everything
    role TEXT NOT NULL CHECK (role IN ('lims', 'clinician', 'admin')),
    -- who or what holds the token ("LIMS prod", "dr-smith"); the actor in audit_log
    label TEXT NOT NULL CHECK (length(label) BETWEEN 1 AND 63),
    -- lowercase hex SHA-256 of the secret "rw_..."; looked up on every request
    hash TEXT NOT NULL UNIQUE CHECK (length(hash) = 64),
    created_at TEXT NOT NULL, -- ISO 8601 UTC
    revoked_at TEXT           -- ISO 8601 UTC; NULL while the token is valid
);
