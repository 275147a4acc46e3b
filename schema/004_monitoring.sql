-- 004_monitoring: what the longitudinal engine (core/trend.h) concluded for each patient, and the
-- alert history clinicians acknowledge. Both tables are derived data: server/monitor.c rewrites
-- them from results, treatments, clinical events and the patient's primary status inside the
-- transaction that changed those inputs, so they never disagree with them. Only the
-- acknowledgement columns of alerts are facts of their own (who read the alert, when, and why).
-- Applied by server/migrate.c inside one transaction (no BEGIN/COMMIT here).

-- The patient's monitoring state after her last result. A patient without a row has never been
-- computed: read as 'not_detected'.
CREATE TABLE patient_state (
    patient_id INTEGER PRIMARY KEY REFERENCES patients (id),
    -- the engine's state after the last draw (rw_trend_state_name)
    state TEXT NOT NULL CHECK (state IN ('not_detected', 'stable', 'early_relapse',
                                         'emerging_chemoresistance', 'responding')),
    -- first clinical_relapse date minus the day of the first early_relapse alert (negative when
    -- the alert came after the clinic); NULL unless both exist
    lead_time_days INTEGER,
    -- the first clinical_relapse event's date, NULL when there is none
    relapse_date TEXT,
    -- results the engine read (draws without a result are not part of the series)
    n_results INTEGER NOT NULL DEFAULT 0 CHECK (n_results >= 0),
    computed_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    -- JSON of every threshold and rule switch the engine ran with (srv_monitor_config), so a
    -- state can be explained and recomputed after the defaults change
    trend_config TEXT NOT NULL CHECK (json_valid(trend_config))
) STRICT;
-- the cohort page filters and counts patients by state
CREATE INDEX patient_state_state ON patient_state (state);

-- Every alert the engine has raised. An alert is identified by (sample_id, kind, rule): the draw
-- that raised it, its kind and its first rule. A recompute that raises it again keeps its row
-- (id, acknowledgement) and refreshes its evidence; one that no longer raises it sets
-- retracted_at (the row stays: the history of what clinicians were shown is kept), and clears it
-- again if the alert comes back.
CREATE TABLE alerts (
    id INTEGER PRIMARY KEY,
    patient_id INTEGER NOT NULL REFERENCES patients (id),
    kind TEXT NOT NULL
        CHECK (kind IN ('early_relapse', 'emerging_chemoresistance', 'responding')),
    -- the first rule met at the draw (rw_trend_rule_name); evidence lists every rule met there
    rule TEXT NOT NULL,
    -- collection date of the draw that raised the alert
    fired_on TEXT NOT NULL CHECK (date(fired_on, '+0 days') IS fired_on),
    -- the draw that raised the alert
    sample_id INTEGER NOT NULL REFERENCES samples (id),
    -- JSON {"rules": [{rule, reference, thresholds, draws: [...]}], "closed_by", ...}: the
    -- draws, values, references and thresholds that met each rule, enough to recompute it
    evidence TEXT NOT NULL CHECK (json_valid(evidence)),
    -- why the engine re-armed the alert later in the series ('clear_draws', 'new_surgery',
    -- 'new_course', 'course_end'), NULL while the signal persists at the last draw
    closed_by TEXT,
    -- collection date of the draw at which it re-armed; NULL while the signal persists
    closed_on TEXT,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    -- when a recompute (new result, treatment or event change, PoN change) stopped raising it;
    -- NULL while the engine raises it
    retracted_at TEXT,
    -- when a clinician acknowledged it (POST /alerts/{id}/acknowledge), NULL while unread
    acknowledged_at TEXT,
    -- the label of the token that acknowledged it
    acknowledged_by TEXT,
    -- what the clinician decided (required when acknowledging)
    ack_comment TEXT CHECK (ack_comment IS NULL OR length(ack_comment) <= 2000),
    CHECK ((acknowledged_at IS NULL) = (acknowledged_by IS NULL))
) STRICT;
-- the identity of an alert across recomputes (the upsert's conflict target)
CREATE UNIQUE INDEX alerts_identity ON alerts (sample_id, kind, rule);
-- a patient's alerts (trend page, recompute)
CREATE INDEX alerts_patient ON alerts (patient_id, fired_on);
-- the open-alert worklist: neither retracted nor acknowledged
CREATE INDEX alerts_open ON alerts (fired_on) WHERE retracted_at IS NULL AND acknowledged_at IS NULL;
