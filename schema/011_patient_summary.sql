-- 011_patient_summary: what the cohort list and the cohort summary show, kept up to date by
-- triggers in the transaction of every write that changes it, so that a page of the list and
-- the summary cost the same at 100,000 patients as at 10 (before, both scanned the cohort).
--   patient_summary: one row per patient: the monitoring state, open alerts (by kind), the
--     last open alert and draw, draw and result counts, and the list's sort keys (indexed);
--     and `version`, raised by every change to anything a patient's trend shows (her record,
--     state, draws, results, alerts, treatments, events): the trend answer is cached under it;
--   cohort_counts: totals over the cohort (patients, samples, results, patients with results,
--     patients by state, open alerts by kind), adjusted from each patient_summary change.
-- A table rebuilt by a later migration loses its triggers: recreate them there.

CREATE TABLE patient_summary (
    patient_id INTEGER PRIMARY KEY,
    external_id TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'not_detected',
    open_alerts INTEGER NOT NULL DEFAULT 0,
    open_early_relapse INTEGER NOT NULL DEFAULT 0,
    open_emerging_chemoresistance INTEGER NOT NULL DEFAULT 0,
    open_responding INTEGER NOT NULL DEFAULT 0,
    last_alert TEXT,       -- fired_on of the latest open alert
    last_sample_date TEXT, -- collected_at of the latest draw
    n_samples INTEGER NOT NULL DEFAULT 0,
    n_results INTEGER NOT NULL DEFAULT 0,
    -- sort keys of GET /patients?sort=alerts (open alerts first, then the most serious state,
    -- the latest open alert first) and ?sort=last_sample (latest draw first, none last)
    alerts_key1 REAL NOT NULL DEFAULT 0,
    alerts_key2 REAL NOT NULL DEFAULT 0,
    last_sample_key REAL NOT NULL DEFAULT 1e9,
    version INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE INDEX patient_summary_alerts ON patient_summary (alerts_key1, alerts_key2, external_id, patient_id);
CREATE INDEX patient_summary_last ON patient_summary (last_sample_key, external_id, patient_id);
CREATE INDEX patient_summary_external ON patient_summary (external_id, patient_id);
CREATE INDEX patient_summary_state ON patient_summary (state, patient_id);

-- The summary's lead times read only the patients that have one.
CREATE INDEX patient_state_lead ON patient_state (patient_id) WHERE lead_time_days IS NOT NULL;

CREATE TABLE cohort_counts (
    key TEXT PRIMARY KEY,
    n INTEGER NOT NULL DEFAULT 0
) STRICT, WITHOUT ROWID;
INSERT INTO cohort_counts (key) VALUES ('patients'), ('samples'), ('results'),
    ('patients_with_results'), ('state:not_detected'), ('state:stable'), ('state:early_relapse'),
    ('state:emerging_chemoresistance'), ('state:responding'), ('open:early_relapse'),
    ('open:emerging_chemoresistance'), ('open:responding');

-- The one recompute of a patient's row: INSERT INTO patient_summary_refresh VALUES (id) is the
-- procedure call every trigger below makes (a patient that no longer exists loses its row).
CREATE VIEW patient_summary_refresh (patient_id) AS SELECT NULL;
CREATE TRIGGER patient_summary_refresh_row INSTEAD OF INSERT ON patient_summary_refresh
BEGIN
    DELETE FROM patient_summary WHERE patient_id = NEW.patient_id
        AND NOT EXISTS (SELECT 1 FROM patients WHERE id = NEW.patient_id);
    -- (not INSERT OR IGNORE: an outer statement's conflict policy, e.g. an upsert's, would
    -- override it)
    INSERT INTO patient_summary (patient_id, external_id)
        SELECT id, external_id FROM patients WHERE id = NEW.patient_id
        AND NOT EXISTS (SELECT 1 FROM patient_summary WHERE patient_id = NEW.patient_id);
    UPDATE patient_summary SET
        external_id = (SELECT external_id FROM patients WHERE id = NEW.patient_id),
        state = coalesce((SELECT state FROM patient_state WHERE patient_id = NEW.patient_id),
                         'not_detected'),
        open_early_relapse = (SELECT count(*) FROM alerts WHERE patient_id = NEW.patient_id
            AND kind = 'early_relapse' AND retracted_at IS NULL AND acknowledged_at IS NULL),
        open_emerging_chemoresistance = (SELECT count(*) FROM alerts
            WHERE patient_id = NEW.patient_id AND kind = 'emerging_chemoresistance'
            AND retracted_at IS NULL AND acknowledged_at IS NULL),
        open_responding = (SELECT count(*) FROM alerts WHERE patient_id = NEW.patient_id
            AND kind = 'responding' AND retracted_at IS NULL AND acknowledged_at IS NULL),
        last_alert = (SELECT max(fired_on) FROM alerts WHERE patient_id = NEW.patient_id
            AND retracted_at IS NULL AND acknowledged_at IS NULL),
        last_sample_date = (SELECT max(collected_at) FROM samples
                            WHERE patient_id = NEW.patient_id),
        n_samples = (SELECT count(*) FROM samples WHERE patient_id = NEW.patient_id),
        n_results = (SELECT count(*) FROM samples s JOIN results r ON r.sample_id = s.id
                     WHERE s.patient_id = NEW.patient_id)
    WHERE patient_id = NEW.patient_id;
    UPDATE patient_summary SET
        open_alerts = open_early_relapse + open_emerging_chemoresistance + open_responding,
        alerts_key1 = -(open_early_relapse + open_emerging_chemoresistance + open_responding),
        alerts_key2 = (CASE state WHEN 'early_relapse' THEN 0 WHEN 'emerging_chemoresistance'
                       THEN 1 WHEN 'responding' THEN 2 WHEN 'stable' THEN 3 ELSE 4 END) * 1e7
                      + coalesce(-julianday(last_alert), 0),
        last_sample_key = coalesce(-julianday(last_sample_date), 1e9),
        version = version + 1
    WHERE patient_id = NEW.patient_id;
END;

-- What changes a patient's row (and her trend: every change raises `version`).
CREATE TRIGGER patient_summary_patient_insert AFTER INSERT ON patients
BEGIN INSERT INTO patient_summary_refresh VALUES (NEW.id); END;
CREATE TRIGGER patient_summary_patient_update AFTER UPDATE ON patients
BEGIN INSERT INTO patient_summary_refresh VALUES (NEW.id); END;
CREATE TRIGGER patient_summary_patient_delete AFTER DELETE ON patients
BEGIN INSERT INTO patient_summary_refresh VALUES (OLD.id); END;
CREATE TRIGGER patient_summary_state_insert AFTER INSERT ON patient_state
BEGIN INSERT INTO patient_summary_refresh VALUES (NEW.patient_id); END;
CREATE TRIGGER patient_summary_state_update AFTER UPDATE ON patient_state
BEGIN INSERT INTO patient_summary_refresh VALUES (NEW.patient_id); END;
CREATE TRIGGER patient_summary_state_delete AFTER DELETE ON patient_state
BEGIN INSERT INTO patient_summary_refresh VALUES (OLD.patient_id); END;
CREATE TRIGGER patient_summary_sample_insert AFTER INSERT ON samples
BEGIN INSERT INTO patient_summary_refresh VALUES (NEW.patient_id); END;
CREATE TRIGGER patient_summary_sample_update AFTER UPDATE ON samples
BEGIN
    INSERT INTO patient_summary_refresh VALUES (OLD.patient_id);
    INSERT INTO patient_summary_refresh SELECT NEW.patient_id WHERE NEW.patient_id IS NOT OLD.patient_id;
END;
CREATE TRIGGER patient_summary_sample_delete AFTER DELETE ON samples
BEGIN INSERT INTO patient_summary_refresh VALUES (OLD.patient_id); END;
CREATE TRIGGER patient_summary_result_insert AFTER INSERT ON results
BEGIN
    INSERT INTO patient_summary_refresh SELECT patient_id FROM samples WHERE id = NEW.sample_id;
END;
CREATE TRIGGER patient_summary_result_update AFTER UPDATE ON results
BEGIN
    INSERT INTO patient_summary_refresh SELECT patient_id FROM samples WHERE id = NEW.sample_id;
END;
CREATE TRIGGER patient_summary_result_delete AFTER DELETE ON results
BEGIN
    INSERT INTO patient_summary_refresh SELECT patient_id FROM samples WHERE id = OLD.sample_id;
END;
CREATE TRIGGER patient_summary_alert_insert AFTER INSERT ON alerts
BEGIN INSERT INTO patient_summary_refresh VALUES (NEW.patient_id); END;
CREATE TRIGGER patient_summary_alert_update AFTER UPDATE ON alerts
BEGIN
    INSERT INTO patient_summary_refresh VALUES (OLD.patient_id);
    INSERT INTO patient_summary_refresh SELECT NEW.patient_id WHERE NEW.patient_id IS NOT OLD.patient_id;
END;
CREATE TRIGGER patient_summary_alert_delete AFTER DELETE ON alerts
BEGIN INSERT INTO patient_summary_refresh VALUES (OLD.patient_id); END;
CREATE TRIGGER patient_summary_treatment_insert AFTER INSERT ON treatments
BEGIN INSERT INTO patient_summary_refresh VALUES (NEW.patient_id); END;
CREATE TRIGGER patient_summary_treatment_update AFTER UPDATE ON treatments
BEGIN
    INSERT INTO patient_summary_refresh VALUES (OLD.patient_id);
    INSERT INTO patient_summary_refresh SELECT NEW.patient_id WHERE NEW.patient_id IS NOT OLD.patient_id;
END;
CREATE TRIGGER patient_summary_treatment_delete AFTER DELETE ON treatments
BEGIN INSERT INTO patient_summary_refresh VALUES (OLD.patient_id); END;
CREATE TRIGGER patient_summary_event_insert AFTER INSERT ON clinical_events
BEGIN INSERT INTO patient_summary_refresh VALUES (NEW.patient_id); END;
CREATE TRIGGER patient_summary_event_update AFTER UPDATE ON clinical_events
BEGIN
    INSERT INTO patient_summary_refresh VALUES (OLD.patient_id);
    INSERT INTO patient_summary_refresh SELECT NEW.patient_id WHERE NEW.patient_id IS NOT OLD.patient_id;
END;
CREATE TRIGGER patient_summary_event_delete AFTER DELETE ON clinical_events
BEGIN INSERT INTO patient_summary_refresh VALUES (OLD.patient_id); END;

-- The cohort's totals follow the rows: what a row adds on insert, it takes away on delete.
CREATE VIEW patient_summary_delta (sign, state, early, chemo, resp, n_samples, n_results) AS
    SELECT NULL, NULL, NULL, NULL, NULL, NULL, NULL;
CREATE TRIGGER patient_summary_delta_apply INSTEAD OF INSERT ON patient_summary_delta
BEGIN
    UPDATE cohort_counts SET n = n + NEW.sign * (CASE key
        WHEN 'patients' THEN 1
        WHEN 'samples' THEN NEW.n_samples
        WHEN 'results' THEN NEW.n_results
        WHEN 'patients_with_results' THEN NEW.n_results > 0
        WHEN 'state:' || NEW.state THEN 1
        WHEN 'open:early_relapse' THEN NEW.early
        WHEN 'open:emerging_chemoresistance' THEN NEW.chemo
        WHEN 'open:responding' THEN NEW.resp
        ELSE 0 END);
END;
CREATE TRIGGER patient_summary_counts_insert AFTER INSERT ON patient_summary
BEGIN
    INSERT INTO patient_summary_delta VALUES (1, NEW.state, NEW.open_early_relapse,
        NEW.open_emerging_chemoresistance, NEW.open_responding, NEW.n_samples, NEW.n_results);
END;
CREATE TRIGGER patient_summary_counts_update AFTER UPDATE ON patient_summary
BEGIN
    INSERT INTO patient_summary_delta VALUES (-1, OLD.state, OLD.open_early_relapse,
        OLD.open_emerging_chemoresistance, OLD.open_responding, OLD.n_samples, OLD.n_results);
    INSERT INTO patient_summary_delta VALUES (1, NEW.state, NEW.open_early_relapse,
        NEW.open_emerging_chemoresistance, NEW.open_responding, NEW.n_samples, NEW.n_results);
END;
CREATE TRIGGER patient_summary_counts_delete AFTER DELETE ON patient_summary
BEGIN
    INSERT INTO patient_summary_delta VALUES (-1, OLD.state, OLD.open_early_relapse,
        OLD.open_emerging_chemoresistance, OLD.open_responding, OLD.n_samples, OLD.n_results);
END;

-- The store as it is now.
INSERT INTO patient_summary_refresh SELECT id FROM patients;
