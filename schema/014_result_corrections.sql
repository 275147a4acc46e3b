-- 014_result_corrections: a result the hospital has already received is corrected (issue 12's
-- corrections, told to the receivers of issue 13). A sample that has a result and whose draw is
-- retracted or reinstated, moved to another patient, or whose collection date, time or assay is
-- fixed writes a `result.corrected` event, in the transaction of the correction, like every
-- other event (009). Its data says what changed ("retracted", "reinstated", "moved", "edited")
-- and, for a move, the former patient's id, so the HL7 channel can post the result as wrong
-- under her (OBX-11 W) and send it under the right one; webhooks receive it as one more type.
-- The event types are a CHECK of outbox_events, so the table is rebuilt (as in 008: copied
-- aside, dropped, created again and refilled, ids kept; defer_foreign_keys lets deliveries
-- point at it meanwhile). The triggers of 009 that write it name it by name and stay valid.
-- Applied by server/migrate.c inside one transaction (no BEGIN/COMMIT here).

PRAGMA defer_foreign_keys = ON;

CREATE TEMP TABLE copy_outbox_events AS SELECT * FROM outbox_events;
DROP TABLE outbox_events;
CREATE TABLE outbox_events (
    id INTEGER PRIMARY KEY,
    type TEXT NOT NULL CHECK (type IN ('alert.raised', 'alert.closed', 'alert.acknowledged',
                                       'result.ready', 'result.corrected', 'job.failed')),
    patient_id INTEGER,
    sample_id INTEGER,
    -- alerts.id for alert events; NULL otherwise
    alert_id INTEGER,
    job_id INTEGER,
    -- JSON facts of the change itself (a closing reason, an acknowledgement's author); the
    -- sender adds the current record when it fans the event out
    data TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(data)),
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    -- 1 once its deliveries exist
    fanned_out INTEGER NOT NULL DEFAULT 0 CHECK (fanned_out IN (0, 1))
) STRICT;
INSERT INTO outbox_events SELECT * FROM temp.copy_outbox_events;
DROP TABLE temp.copy_outbox_events;
CREATE INDEX outbox_events_pending ON outbox_events (id) WHERE fanned_out = 0;

CREATE TRIGGER outbox_result_corrected
AFTER UPDATE OF retracted_at, patient_id, collected_at, collected_time, assay ON samples
WHEN EXISTS (SELECT 1 FROM results WHERE sample_id = NEW.id)
 AND ((OLD.retracted_at IS NULL) <> (NEW.retracted_at IS NULL)
      OR OLD.patient_id <> NEW.patient_id OR OLD.collected_at <> NEW.collected_at
      OR OLD.collected_time IS NOT NEW.collected_time OR OLD.assay <> NEW.assay)
BEGIN
    INSERT INTO outbox_events (type, patient_id, sample_id, data)
    VALUES ('result.corrected', NEW.patient_id, NEW.id,
            CASE
            WHEN OLD.retracted_at IS NULL AND NEW.retracted_at IS NOT NULL
            THEN json_object('change', 'retracted', 'retracted_at', NEW.retracted_at,
                             'reason', NEW.retraction_reason)
            WHEN OLD.retracted_at IS NOT NULL AND NEW.retracted_at IS NULL
            THEN json_object('change', 'reinstated')
            WHEN OLD.patient_id <> NEW.patient_id
            THEN json_object('change', 'moved', 'from_patient_id', OLD.patient_id)
            ELSE json_object('change', 'edited', 'before',
                             json_object('collected_at', OLD.collected_at, 'collected_time',
                                         OLD.collected_time, 'assay', OLD.assay))
            END);
END;
