-- 007_audit_chain: a tamper-evident audit trail that records reads as well as writes.
-- Applied by server/migrate.c inside one transaction (no BEGIN/COMMIT here); in the same
-- transaction, after this file, migrate.c chains the rows that already exist
-- (srv_audit_chain_existing in server/audit.c), so the chain covers the whole history.
--
-- The chain: each row's `hash` is the SHA-256 (lowercase hex) of its `prev_hash` followed by
-- the JSON array [id, actor, token_id, action, entity_type, entity_id, at, details, client]
-- (compact, nulls as null); `prev_hash` is the previous row's hash (64 zeros for the first).
-- Editing a row breaks its own hash, deleting one breaks the next row's prev_hash, and
-- audit_head catches rows cut off the end. `relapsewatchd --verify-audit` and
-- GET /api/v1/admin/audit/verify recompute it. A hash chain without a secret detects silent
-- edits, not a forger who recomputes every later hash: keep the head hash that verify prints
-- somewhere else (a ticket, a log shipper) to pin the history up to that point.

-- the client's IP address for rows written by a request (NULL for the daemon's own actions)
ALTER TABLE audit_log ADD COLUMN client TEXT;
-- the previous row's hash; 64 zeros for the first row of the chain
ALTER TABLE audit_log ADD COLUMN prev_hash TEXT CHECK (prev_hash IS NULL OR length(prev_hash) = 64);
-- SHA-256 of prev_hash || the row's content (see above)
ALTER TABLE audit_log ADD COLUMN hash TEXT CHECK (hash IS NULL OR length(hash) = 64);

-- one successor per row: two writers that read the same head cannot both append (the chain
-- cannot fork even if a writer forgot BEGIN IMMEDIATE)
CREATE UNIQUE INDEX audit_log_chain ON audit_log (prev_hash);
-- the admin listing filters by time and by actor
CREATE INDEX audit_log_at ON audit_log (at, id);
CREATE INDEX audit_log_actor ON audit_log (actor, id);

-- The newest row of the chain, updated with every append: a deletion of the last rows leaves
-- the head pointing at a row that is gone.
CREATE TABLE audit_head (
    one INTEGER PRIMARY KEY CHECK (one = 1),
    -- audit_log.id of the newest row (0 while the log is empty)
    last_id INTEGER NOT NULL,
    -- its hash (64 zeros while the log is empty)
    hash TEXT NOT NULL CHECK (length(hash) = 64),
    -- rows in the chain
    rows INTEGER NOT NULL CHECK (rows >= 0)
) STRICT;

-- The trail is append-only for the daemon: a chained row can be neither changed nor removed
-- (a row may receive its hash once, when the chain starts). Someone with the database file can
-- drop these triggers; the chain then still shows what was changed.
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log WHEN OLD.hash IS NOT NULL
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
