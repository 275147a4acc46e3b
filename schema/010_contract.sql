-- 010_contract: what a LIMS integration needs of the API contract (issue 13, server/api_jobs.c,
-- server/api_samples.c, server/api_results.c).
-- 1. The job chain: a finished job (done or failed) is superseded when a newer job of the same
--    sample is queued (a panel activated after a failed upload, a replaced input, a re-run). The
--    trigger below records it, so the job_url a LIMS was given leads on to the job that replaced
--    it (GET /jobs/{id}: state "superseded", superseded_by, next). Kept by a trigger rather than
--    by each caller of srv_jobs_enqueue(), so no path that queues a job can forget it.
-- 2. samples.collected_time: the time of the draw (HH:MM, the site's time zone), optional.
-- 3. updated_at on every row a LIMS syncs (patients, samples, results, alerts), maintained by
--    triggers on every write (also the job queue's and the monitoring engine's, which do not go
--    through srv_row_update), for `updated_since` on the lists. patients and samples already
--    have the column (001); results and alerts get it here, filled from their own timestamps.
-- Only columns, triggers and indexes are added: no table is rebuilt. SQLite's ALTER TABLE ADD
-- COLUMN takes no expression default, so new rows get their updated_at from the triggers.
-- Triggers do not recurse (recursive_triggers is off), so an AFTER UPDATE that sets updated_at
-- does not fire itself; the WHEN clause leaves alone a write that set updated_at itself.
-- Applied by server/migrate.c inside one transaction (no BEGIN/COMMIT here).

-- ---------------------------------------------------------------- 1. job chain
-- the job that replaced this one (a newer job of the same sample queued after this one ended);
-- NULL while it is the sample's latest word
ALTER TABLE jobs ADD COLUMN superseded_by INTEGER REFERENCES jobs (id);
CREATE TRIGGER jobs_supersede AFTER INSERT ON jobs
BEGIN
    UPDATE jobs SET superseded_by = NEW.id
    WHERE sample_id = NEW.sample_id AND id < NEW.id AND superseded_by IS NULL
      AND state IN ('done', 'failed');
END;
-- Jobs that ended before 010 are chained the same way: each finished job points to the next job
-- of its sample.
UPDATE jobs SET superseded_by = (SELECT min(n.id) FROM jobs n
                                 WHERE n.sample_id = jobs.sample_id AND n.id > jobs.id)
WHERE state IN ('done', 'failed');

-- ---------------------------------------------------------------- 2. time of the draw
-- HH:MM (24 h) of the draw in the site's time zone (--time-zone); NULL when not given
ALTER TABLE samples ADD COLUMN collected_time TEXT
    CHECK (collected_time IS NULL
           OR (collected_time GLOB '[0-2][0-9]:[0-5][0-9]' AND collected_time <= '23:59'));

-- ---------------------------------------------------------------- 3. updated_at
-- when the result was last written (stored or re-run); ISO 8601 UTC
ALTER TABLE results ADD COLUMN updated_at TEXT;
UPDATE results SET updated_at = computed_at;
-- when the alert was last written (raised, re-raised, closed, retracted, acknowledged)
ALTER TABLE alerts ADD COLUMN updated_at TEXT;
UPDATE alerts SET updated_at = max(created_at, coalesce(retracted_at, ''),
                                   coalesce(acknowledged_at, ''));

CREATE TRIGGER patients_touch AFTER UPDATE ON patients WHEN NEW.updated_at IS OLD.updated_at
BEGIN
    UPDATE patients SET updated_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now') WHERE id = NEW.id;
END;
CREATE TRIGGER samples_touch AFTER UPDATE ON samples WHEN NEW.updated_at IS OLD.updated_at
BEGIN
    UPDATE samples SET updated_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now') WHERE id = NEW.id;
END;
CREATE TRIGGER results_touch_insert AFTER INSERT ON results
BEGIN
    UPDATE results SET updated_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now')
    WHERE sample_id = NEW.sample_id;
END;
CREATE TRIGGER results_touch AFTER UPDATE ON results WHEN NEW.updated_at IS OLD.updated_at
BEGIN
    UPDATE results SET updated_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now')
    WHERE sample_id = NEW.sample_id;
END;
CREATE TRIGGER alerts_touch_insert AFTER INSERT ON alerts
BEGIN
    UPDATE alerts SET updated_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now') WHERE id = NEW.id;
END;
CREATE TRIGGER alerts_touch AFTER UPDATE ON alerts WHEN NEW.updated_at IS OLD.updated_at
BEGIN
    UPDATE alerts SET updated_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now') WHERE id = NEW.id;
END;

-- `updated_since` reads these (the lists page by id within them)
CREATE INDEX patients_updated ON patients (updated_at);
CREATE INDEX samples_updated ON samples (updated_at);
CREATE INDEX results_updated ON results (updated_at);
CREATE INDEX alerts_updated ON alerts (updated_at);
