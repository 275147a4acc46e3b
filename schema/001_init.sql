-- 001_init: the clinical store (patients, treatments, clinical events, samples) and the audit log.
-- Applied by server/migrate.c inside one transaction together with its schema_migrations row, so
-- this file holds no BEGIN/COMMIT.
-- Conventions: dates are ISO 'YYYY-MM-DD' text (they sort and compare as text); instants are
-- ISO 8601 UTC text 'YYYY-MM-DDTHH:MM:SSZ'. Tables are STRICT, enums are CHECK constraints, and
-- each CHECK repeats a rule the API validates first, so a bug in a handler cannot store nonsense.
-- `date(x, '+0 days') IS x` holds only for a real calendar day: SQLite normalises '2021-02-29'
-- to '2021-03-01' when a modifier is applied (plain date(x) would echo it back).

-- One row per monitored patient. The hospital's pseudonymous id is stored but never logged.
CREATE TABLE patients (
    id INTEGER PRIMARY KEY,
    -- the hospital's pseudonymous patient id; the idempotency key of POST /patients
    external_id TEXT NOT NULL UNIQUE CHECK (length(external_id) BETWEEN 1 AND 64),
    -- the subtype: oestrogen receptor, progesterone receptor and HER2 status of the primary
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
    -- absolute copy number of 1q21.3 in the primary when measured (tumour-informed f estimate)
    primary_1q213_cn REAL CHECK (primary_1q213_cn IS NULL OR primary_1q213_cn BETWEEN 0 AND 100),
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
) STRICT;

-- Treatment lines; chemotherapy windows decide which alert rule applies to a draw.
CREATE TABLE treatments (
    id INTEGER PRIMARY KEY,
    patient_id INTEGER NOT NULL REFERENCES patients (id),
    kind TEXT NOT NULL CHECK (kind IN ('surgery', 'chemotherapy', 'endocrine', 'radiotherapy',
                                        'targeted', 'other')),
    -- free text, e.g. 'EC-T' or 'letrozole'; NULL when not given
    regimen TEXT CHECK (regimen IS NULL OR length(regimen) <= 200),
    start_date TEXT NOT NULL CHECK (date(start_date, '+0 days') IS start_date),
    -- NULL while the treatment is ongoing
    end_date TEXT CHECK (end_date IS NULL
                         OR (date(end_date, '+0 days') IS end_date AND end_date >= start_date)),
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
) STRICT;
-- GET /patients/{id}/treatments lists a patient's treatments by start date
CREATE INDEX treatments_patient ON treatments (patient_id, start_date);

-- Clinical facts the monitoring is judged against (lead time = relapse date - first alert).
CREATE TABLE clinical_events (
    id INTEGER PRIMARY KEY,
    patient_id INTEGER NOT NULL REFERENCES patients (id),
    date TEXT NOT NULL CHECK (date(date, '+0 days') IS date),
    kind TEXT NOT NULL
        CHECK (kind IN ('clinical_relapse', 'imaging_progression', 'death', 'other')),
    note TEXT CHECK (note IS NULL OR length(note) <= 2000),
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
) STRICT;
-- GET /patients/{id}/events lists a patient's events by date
CREATE INDEX clinical_events_patient ON clinical_events (patient_id, date);

-- Blood draws (cfDNA) registered by the LIMS; results arrive later by upload (jobs).
CREATE TABLE samples (
    id INTEGER PRIMARY KEY,
    -- the LIMS's sample id; the idempotency key of POST /patients/{id}/samples; never logged
    accession TEXT NOT NULL UNIQUE CHECK (length(accession) BETWEEN 1 AND 64),
    patient_id INTEGER NOT NULL REFERENCES patients (id),
    -- the day blood was drawn: the time axis of the patient's series
    collected_at TEXT NOT NULL CHECK (date(collected_at, '+0 days') IS collected_at),
    -- the day the laboratory received the tube (defaults to the registration day, UTC)
    received_at TEXT NOT NULL DEFAULT (date('now'))
        CHECK (date(received_at, '+0 days') IS received_at AND received_at >= collected_at),
    assay TEXT NOT NULL CHECK (assay IN ('swgs', 'bins', 'ddpcr')),
    -- processing state, moved on by the job queue
    status TEXT NOT NULL DEFAULT 'received'
        CHECK (status IN ('received', 'queued', 'processing', 'done', 'failed')),
    -- why processing failed (status 'failed'); NULL otherwise
    error TEXT,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
) STRICT;
-- GET /patients/{id}/samples lists a patient's draws by collection date
CREATE INDEX samples_patient ON samples (patient_id, collected_at);
-- the job queue looks for samples by state
CREATE INDEX samples_status ON samples (status);

-- One row per write, written in the write's own transaction (server/audit.c). No foreign keys:
-- the trail must outlive the rows and tokens it names.
CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY,
    -- the label of the token that made the change
    actor TEXT NOT NULL,
    -- tokens.id (schema 002) of that token; NULL for the daemon's own actions
    token_id INTEGER,
    -- 'create', 'update', 'delete', 'acknowledge', ...
    action TEXT NOT NULL,
    -- 'patient', 'treatment', 'clinical_event', 'sample', 'token', ...
    entity_type TEXT NOT NULL,
    entity_id INTEGER,
    at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    -- JSON text: the created/deleted record, or the before/after values of an update
    details TEXT CHECK (details IS NULL OR json_valid(details))
) STRICT;
-- the history of one record
CREATE INDEX audit_log_entity ON audit_log (entity_type, entity_id);
