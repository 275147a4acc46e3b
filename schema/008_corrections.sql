-- 008_corrections: correcting wrong data (issue 12, server/corrections.c, server/api_corrections.c,
-- server/idempotency.c).
-- 1. Ids are never reused: patients, samples, treatments, clinical_events, jobs and alerts lose
--    rows (corrections, erasure, DELETE of a record) and audit rows name them by id, so they are
--    rebuilt with AUTOINCREMENT. SQLite cannot add it to a table: each is copied aside, dropped,
--    created again and refilled, every row and every column of 001-005 kept, its indexes
--    recreated (no triggers exist on them). sqlite_sequence starts above the highest id the table
--    or the audit trail ever named, so even ids deleted before 008 are not given again.
-- 2. New columns: a draw's retraction (samples.retracted_*), a client key for treatments and
--    clinical events (external_id, unique per patient: a resend is idempotent on it).
-- 3. New tables: idempotency_keys (the Idempotency-Key header of every POST) and file_removals
--    (files of erased or replaced inputs, removed after the commit; swept at start-up).
-- Foreign keys: the daemon's connections run with foreign_keys=ON, which cannot change inside the
-- migration's transaction; defer_foreign_keys (reset at COMMIT) lets a parent be dropped and
-- refilled: dropping it counts its children as violations, refilling it counts them back, and the
-- COMMIT checks that none is left. Parents are rebuilt before their children.
-- Applied by server/migrate.c inside one transaction (no BEGIN/COMMIT here).

PRAGMA defer_foreign_keys = ON;

-- Guard: each rebuilt table has exactly the columns this file copies. A column added by another
-- migration before this one would otherwise be dropped silently; instead the CHECK fails and the
-- migration (and the start-up) stops with "CHECK constraint failed".
CREATE TEMP TABLE guard_008 (
    name TEXT NOT NULL,
    have TEXT,
    want TEXT NOT NULL,
    CHECK (have IS want)
);
INSERT INTO guard_008 (name, have, want)
SELECT t.name,
       (SELECT group_concat(c.name, ',') FROM (SELECT name FROM pragma_table_info(t.name)
                                               ORDER BY cid) AS c),
       t.want
FROM (SELECT 'patients' AS name,
             'id,external_id,er_status,pr_status,her2_status,diagnosis_date,primary_1q213_status,'
             || 'primary_1q213_cn,created_at,updated_at' AS want
      UNION ALL SELECT 'treatments',
             'id,patient_id,kind,regimen,start_date,end_date,created_at,updated_at'
      UNION ALL SELECT 'clinical_events', 'id,patient_id,date,kind,note,created_at,updated_at'
      UNION ALL SELECT 'samples',
             'id,accession,patient_id,collected_at,received_at,assay,status,error,created_at,'
             || 'updated_at'
      UNION ALL SELECT 'jobs',
             'id,sample_id,kind,state,progress,error,attempts,created_at,started_at,finished_at'
      UNION ALL SELECT 'alerts',
             'id,patient_id,kind,rule,fired_on,sample_id,evidence,closed_by,closed_on,created_at,'
             || 'retracted_at,acknowledged_at,acknowledged_by,ack_comment') AS t;
DROP TABLE guard_008;

-- ---------------------------------------------------------------- patients
CREATE TEMP TABLE copy_patients AS SELECT * FROM patients;
DROP TABLE patients;
-- One row per monitored patient. The hospital's pseudonymous id is stored but never logged.
CREATE TABLE patients (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    -- the hospital's pseudonymous patient id; the idempotency key of POST /patients
    external_id TEXT NOT NULL UNIQUE CHECK (length(external_id) BETWEEN 1 AND 64),
    er_status TEXT NOT NULL DEFAULT 'unknown'
        CHECK (er_status IN ('positive', 'negative', 'unknown')),
    pr_status TEXT NOT NULL DEFAULT 'unknown'
        CHECK (pr_status IN ('positive', 'negative', 'unknown')),
    her2_status TEXT NOT NULL DEFAULT 'unknown'
        CHECK (her2_status IN ('positive', 'negative', 'unknown')),
    diagnosis_date TEXT NOT NULL CHECK (date(diagnosis_date, '+0 days') IS diagnosis_date),
    -- 1q21.3 in the primary tumour (FISH or sequencing), the prior the longitudinal engine uses
    primary_1q213_status TEXT NOT NULL DEFAULT 'unknown'
        CHECK (primary_1q213_status IN ('amplified', 'not_amplified', 'unknown')),
    primary_1q213_cn REAL CHECK (primary_1q213_cn IS NULL OR primary_1q213_cn BETWEEN 0 AND 100),
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
) STRICT;
INSERT INTO patients (id, external_id, er_status, pr_status, her2_status, diagnosis_date,
                      primary_1q213_status, primary_1q213_cn, created_at, updated_at)
SELECT id, external_id, er_status, pr_status, her2_status, diagnosis_date, primary_1q213_status,
       primary_1q213_cn, created_at, updated_at
FROM temp.copy_patients;
DROP TABLE temp.copy_patients;

-- ---------------------------------------------------------------- samples
CREATE TEMP TABLE copy_samples AS SELECT * FROM samples;
DROP TABLE samples;
-- Blood draws (cfDNA) registered by the LIMS; results arrive later by upload (jobs).
CREATE TABLE samples (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    -- the LIMS's sample id; the idempotency key of POST /patients/{id}/samples; never logged
    accession TEXT NOT NULL UNIQUE CHECK (length(accession) BETWEEN 1 AND 64),
    patient_id INTEGER NOT NULL REFERENCES patients (id),
    -- the day blood was drawn: the time axis of the patient's series
    collected_at TEXT NOT NULL CHECK (date(collected_at, '+0 days') IS collected_at),
    received_at TEXT NOT NULL DEFAULT (date('now'))
        CHECK (date(received_at, '+0 days') IS received_at AND received_at >= collected_at),
    assay TEXT NOT NULL CHECK (assay IN ('swgs', 'bins', 'ddpcr')),
    -- processing state, moved on by the job queue
    status TEXT NOT NULL DEFAULT 'received'
        CHECK (status IN ('received', 'queued', 'processing', 'done', 'failed')),
    error TEXT,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    -- when the draw's result was retracted (POST /samples/{accession}/retract): the monitoring
    -- engine skips it, the trend shows it with `retracted`; NULL while it counts
    retracted_at TEXT,
    -- why (required; free text shown to clinicians, never logged)
    retraction_reason TEXT CHECK (retraction_reason IS NULL OR length(retraction_reason) <= 500),
    -- the label of the token that retracted it
    retracted_by TEXT,
    CHECK ((retracted_at IS NULL) = (retraction_reason IS NULL)
           AND (retracted_at IS NULL) = (retracted_by IS NULL))
) STRICT;
INSERT INTO samples (id, accession, patient_id, collected_at, received_at, assay, status, error,
                     created_at, updated_at)
SELECT id, accession, patient_id, collected_at, received_at, assay, status, error, created_at,
       updated_at
FROM temp.copy_samples;
DROP TABLE temp.copy_samples;
CREATE INDEX samples_patient ON samples (patient_id, collected_at);
CREATE INDEX samples_status ON samples (status);

-- ---------------------------------------------------------------- treatments
CREATE TEMP TABLE copy_treatments AS SELECT * FROM treatments;
DROP TABLE treatments;
-- Treatment lines; chemotherapy windows decide which alert rule applies to a draw.
CREATE TABLE treatments (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    patient_id INTEGER NOT NULL REFERENCES patients (id),
    kind TEXT NOT NULL CHECK (kind IN ('surgery', 'chemotherapy', 'endocrine', 'radiotherapy',
                                        'targeted', 'other')),
    regimen TEXT CHECK (regimen IS NULL OR length(regimen) <= 200),
    start_date TEXT NOT NULL CHECK (date(start_date, '+0 days') IS start_date),
    end_date TEXT CHECK (end_date IS NULL
                         OR (date(end_date, '+0 days') IS end_date AND end_date >= start_date)),
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    -- the client's own id of the treatment (e.g. the EHR's): a POST resent with it answers the
    -- stored record (200) or 409 when its content differs; NULL when not given
    external_id TEXT CHECK (external_id IS NULL OR length(external_id) BETWEEN 1 AND 64)
) STRICT;
INSERT INTO treatments (id, patient_id, kind, regimen, start_date, end_date, created_at,
                        updated_at)
SELECT id, patient_id, kind, regimen, start_date, end_date, created_at, updated_at
FROM temp.copy_treatments;
DROP TABLE temp.copy_treatments;
CREATE INDEX treatments_patient ON treatments (patient_id, start_date);
-- the idempotency key of POST /patients/{id}/treatments
CREATE UNIQUE INDEX treatments_external ON treatments (patient_id, external_id)
    WHERE external_id IS NOT NULL;

-- ---------------------------------------------------------------- clinical events
CREATE TEMP TABLE copy_events AS SELECT * FROM clinical_events;
DROP TABLE clinical_events;
-- Clinical facts the monitoring is judged against (lead time = relapse date - first alert).
CREATE TABLE clinical_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    patient_id INTEGER NOT NULL REFERENCES patients (id),
    date TEXT NOT NULL CHECK (date(date, '+0 days') IS date),
    kind TEXT NOT NULL
        CHECK (kind IN ('clinical_relapse', 'imaging_progression', 'death', 'other')),
    note TEXT CHECK (note IS NULL OR length(note) <= 2000),
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    -- the client's own id of the event: idempotency key of POST /patients/{id}/events
    external_id TEXT CHECK (external_id IS NULL OR length(external_id) BETWEEN 1 AND 64)
) STRICT;
INSERT INTO clinical_events (id, patient_id, date, kind, note, created_at, updated_at)
SELECT id, patient_id, date, kind, note, created_at, updated_at
FROM temp.copy_events;
DROP TABLE temp.copy_events;
CREATE INDEX clinical_events_patient ON clinical_events (patient_id, date);
CREATE UNIQUE INDEX clinical_events_external ON clinical_events (patient_id, external_id)
    WHERE external_id IS NOT NULL;

-- ---------------------------------------------------------------- jobs
CREATE TEMP TABLE copy_jobs AS SELECT * FROM jobs;
DROP TABLE jobs;
-- The job queue (003): workers claim the oldest queued job atomically.
CREATE TABLE jobs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    sample_id INTEGER NOT NULL REFERENCES samples (id),
    kind TEXT NOT NULL CHECK (kind IN ('analyse', 'recall')),
    state TEXT NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'running', 'done', 'failed')),
    progress INTEGER NOT NULL DEFAULT 0 CHECK (progress BETWEEN 0 AND 100),
    error TEXT,
    attempts INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    started_at TEXT,
    finished_at TEXT
) STRICT;
INSERT INTO jobs (id, sample_id, kind, state, progress, error, attempts, created_at, started_at,
                  finished_at)
SELECT id, sample_id, kind, state, progress, error, attempts, created_at, started_at, finished_at
FROM temp.copy_jobs;
DROP TABLE temp.copy_jobs;
CREATE INDEX jobs_state ON jobs (state, id);
CREATE INDEX jobs_sample ON jobs (sample_id, id);

-- ---------------------------------------------------------------- alerts
CREATE TEMP TABLE copy_alerts AS SELECT * FROM alerts;
DROP TABLE alerts;
-- Every alert the engine has raised (004). Its identity is now (patient_id, sample_id, kind,
-- rule): a draw moved to another patient (POST /samples/{accession}/move) raises new alerts
-- there, while the ones the first patient's clinicians were shown stay with her, retracted.
CREATE TABLE alerts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    patient_id INTEGER NOT NULL REFERENCES patients (id),
    kind TEXT NOT NULL
        CHECK (kind IN ('early_relapse', 'emerging_chemoresistance', 'responding')),
    rule TEXT NOT NULL,
    fired_on TEXT NOT NULL CHECK (date(fired_on, '+0 days') IS fired_on),
    sample_id INTEGER NOT NULL REFERENCES samples (id),
    evidence TEXT NOT NULL CHECK (json_valid(evidence)),
    closed_by TEXT,
    closed_on TEXT,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    retracted_at TEXT,
    acknowledged_at TEXT,
    acknowledged_by TEXT,
    ack_comment TEXT CHECK (ack_comment IS NULL OR length(ack_comment) <= 2000),
    CHECK ((acknowledged_at IS NULL) = (acknowledged_by IS NULL))
) STRICT;
INSERT INTO alerts (id, patient_id, kind, rule, fired_on, sample_id, evidence, closed_by,
                    closed_on, created_at, retracted_at, acknowledged_at, acknowledged_by,
                    ack_comment)
SELECT id, patient_id, kind, rule, fired_on, sample_id, evidence, closed_by, closed_on,
       created_at, retracted_at, acknowledged_at, acknowledged_by, ack_comment
FROM temp.copy_alerts;
DROP TABLE temp.copy_alerts;
-- the identity of an alert across recomputes (the upsert's conflict target)
CREATE UNIQUE INDEX alerts_identity ON alerts (patient_id, sample_id, kind, rule);
CREATE INDEX alerts_patient ON alerts (patient_id, fired_on);
CREATE INDEX alerts_open ON alerts (fired_on) WHERE retracted_at IS NULL AND acknowledged_at IS NULL;
-- erasing a patient finds the alerts of her draws (some may be another patient's, retracted)
CREATE INDEX alerts_sample ON alerts (sample_id);

-- ---------------------------------------------------------------- never reuse an id
-- Each sequence starts above the highest id its table holds or the audit trail ever named.
DELETE FROM sqlite_sequence
WHERE name IN ('patients', 'samples', 'treatments', 'clinical_events', 'jobs', 'alerts');
INSERT INTO sqlite_sequence (name, seq)
SELECT t.name, max(coalesce((SELECT max(a.entity_id) FROM audit_log a
                             WHERE a.entity_type = t.entity), 0), t.top)
FROM (SELECT 'patients' AS name, 'patient' AS entity,
             coalesce((SELECT max(id) FROM patients), 0) AS top
      UNION ALL SELECT 'samples', 'sample', coalesce((SELECT max(id) FROM samples), 0)
      UNION ALL SELECT 'treatments', 'treatment', coalesce((SELECT max(id) FROM treatments), 0)
      UNION ALL SELECT 'clinical_events', 'clinical_event',
                       coalesce((SELECT max(id) FROM clinical_events), 0)
      UNION ALL SELECT 'jobs', 'job', coalesce((SELECT max(id) FROM jobs), 0)
      UNION ALL SELECT 'alerts', 'alert', coalesce((SELECT max(id) FROM alerts), 0)) AS t;

-- ---------------------------------------------------------------- new tables

-- The Idempotency-Key header of a POST (server/idempotency.c): the answer given to the first
-- request with a key, replayed for a resend of the same request for 24 hours. Rows older than
-- that are deleted when a new key is stored.
CREATE TABLE idempotency_keys (
    id INTEGER PRIMARY KEY,
    -- who sent it: a key is scoped to the caller (its token id and label), so two clients'
    -- keys never collide
    caller TEXT NOT NULL,
    key TEXT NOT NULL CHECK (length(key) BETWEEN 1 AND 255),
    -- lowercase hex SHA-256 of the method, the path and the body: a resend with another body
    -- is refused (422)
    request_hash TEXT NOT NULL CHECK (length(request_hash) = 64),
    -- the route template, for reading the table (never the raw path, which holds identifiers)
    route TEXT NOT NULL,
    -- the first answer's status and JSON body; NULL while the first request is running
    status INTEGER,
    body TEXT,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    UNIQUE (caller, key)
) STRICT;
CREATE INDEX idempotency_keys_age ON idempotency_keys (created_at);

-- Files in the data folder whose rows are gone (an erased patient's inputs and counts, a
-- replaced input): written in the transaction that dropped the rows, removed from the disk
-- after its COMMIT, and swept at start-up when the daemon stopped in between.
CREATE TABLE file_removals (
    -- relative to the data folder: a file, or a sample's folder (removed once empty)
    path TEXT PRIMARY KEY,
    queued_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
) STRICT;
