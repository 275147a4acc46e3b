-- 009_interop: what the daemon pushes out (docs/api-interop.md): webhook subscriptions, the
-- transactional outbox of events, and one delivery per event and destination (webhook or HL7
-- v2 over MLLP) with its attempts. Applied by server/migrate.c inside one transaction (no
-- BEGIN/COMMIT here).
-- Events are written by TRIGGERS on alerts, results and jobs, inside the transaction that
-- changed them: an event is never lost (it commits with its cause) and never sent for a
-- rolled-back write (it rolls back with it), whatever code path made the change. A migration
-- that rebuilds alerts, results or jobs after this one drops these triggers with the table and
-- must create them again (tests/integration/test_webhooks.sh fails when an event stops coming).

-- Subscriptions registered by admins (POST /api/v1/webhooks). The signing secret is shown once,
-- at creation; the row keeps it sealed (libsodium secretbox) under the daemon's webhook key
-- (--webhook-key-file), so a copy of the database alone does not give the secrets away.
CREATE TABLE webhooks (
    id INTEGER PRIMARY KEY,
    -- where deliveries are POSTed: http[s]://host[:port]/path
    url TEXT NOT NULL CHECK (length(url) BETWEEN 8 AND 2000
                             AND (substr(url, 1, 7) = 'http://' OR substr(url, 1, 8) = 'https://')),
    -- JSON array of the event types subscribed to (docs/api-interop.md)
    events TEXT NOT NULL CHECK (json_valid(events) AND json_type(events) = 'array'),
    -- free text from the admin ("LIMS production"); NULL when not given
    description TEXT CHECK (description IS NULL OR length(description) <= 200),
    -- 24-byte nonce followed by the secretbox of the secret (server/webhooks.c)
    secret_box BLOB NOT NULL,
    -- the subscription receives the events after this outbox id (those after its creation)
    after_event_id INTEGER NOT NULL DEFAULT 0,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    -- DELETE /api/v1/webhooks/{id}: no new deliveries; the row and its log stay for the trail
    deleted_at TEXT
) STRICT;

-- The outbox: one row per event, written by the triggers below. The sender thread
-- (server/outbox.c) fans each one out into deliveries and marks it done.
CREATE TABLE outbox_events (
    id INTEGER PRIMARY KEY,
    type TEXT NOT NULL CHECK (type IN ('alert.raised', 'alert.closed', 'alert.acknowledged',
                                       'result.ready', 'job.failed')),
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
-- the sender looks for events not yet fanned out, oldest first
CREATE INDEX outbox_events_pending ON outbox_events (id) WHERE fanned_out = 0;

-- One message for one destination. The body is rendered once, at fan-out, so every retry sends
-- the same bytes (a webhook's signature is made at each attempt, over its own timestamp).
CREATE TABLE deliveries (
    id INTEGER PRIMARY KEY,
    event_id INTEGER NOT NULL REFERENCES outbox_events (id),
    channel TEXT NOT NULL CHECK (channel IN ('webhook', 'hl7')),
    -- the subscription (channel 'webhook'); NULL for HL7
    webhook_id INTEGER REFERENCES webhooks (id),
    -- the URL or MLLP HOST:PORT at fan-out time
    destination TEXT NOT NULL,
    -- webhook: the JSON envelope; hl7: the ER7 message (segments separated by CR)
    body TEXT NOT NULL,
    -- pending: waiting for (another) attempt; delivered: 2xx / AA; failed: given up (attempts
    -- exhausted, an HL7 AE, or the subscription deleted)
    state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    -- unix seconds of the next attempt (exponential backoff after each failure)
    next_attempt_at INTEGER NOT NULL DEFAULT (unixepoch()),
    -- the last answer: HTTP status ("500") or ACK code ("AR"); NULL before the first attempt
    last_status TEXT,
    last_error TEXT,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    delivered_at TEXT,
    CHECK ((channel = 'webhook') = (webhook_id IS NOT NULL))
) STRICT;
-- the sender's work list: pending deliveries by due time
CREATE INDEX deliveries_due ON deliveries (next_attempt_at, id) WHERE state = 'pending';
-- GET /api/v1/webhooks/{id}/deliveries
CREATE INDEX deliveries_webhook ON deliveries (webhook_id, id);

-- Every attempt of a delivery: the delivery log of the API.
CREATE TABLE delivery_attempts (
    id INTEGER PRIMARY KEY,
    delivery_id INTEGER NOT NULL REFERENCES deliveries (id),
    at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    -- delivered, retry (will try again) or failed (gave up)
    outcome TEXT NOT NULL CHECK (outcome IN ('delivered', 'retry', 'failed')),
    -- HTTP status or ACK code; NULL when no answer came (connection refused, timeout)
    status TEXT,
    error TEXT,
    duration_ms INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE INDEX delivery_attempts_delivery ON delivery_attempts (delivery_id, id);

-- ---------------------------------------------------------------- the event triggers

-- A new alert, or one a recompute raises again after having retracted it.
CREATE TRIGGER outbox_alert_raised AFTER INSERT ON alerts
BEGIN
    INSERT INTO outbox_events (type, patient_id, sample_id, alert_id, data)
    VALUES ('alert.raised', NEW.patient_id, NEW.sample_id, NEW.id,
            json_object('kind', NEW.kind, 'rule', NEW.rule, 'fired_on', NEW.fired_on));
END;
CREATE TRIGGER outbox_alert_raised_again AFTER UPDATE OF retracted_at ON alerts
WHEN OLD.retracted_at IS NOT NULL AND NEW.retracted_at IS NULL
BEGIN
    INSERT INTO outbox_events (type, patient_id, sample_id, alert_id, data)
    VALUES ('alert.raised', NEW.patient_id, NEW.sample_id, NEW.id,
            json_object('kind', NEW.kind, 'rule', NEW.rule, 'fired_on', NEW.fired_on,
                        'again', json('true')));
END;
-- Closed: the engine re-armed it later in the series (closed_by), or a recompute no longer
-- raises it (retracted).
CREATE TRIGGER outbox_alert_closed AFTER UPDATE OF closed_by, retracted_at ON alerts
WHEN (OLD.closed_by IS NULL AND NEW.closed_by IS NOT NULL)
  OR (OLD.retracted_at IS NULL AND NEW.retracted_at IS NOT NULL)
BEGIN
    INSERT INTO outbox_events (type, patient_id, sample_id, alert_id, data)
    VALUES ('alert.closed', NEW.patient_id, NEW.sample_id, NEW.id,
            json_object('kind', NEW.kind, 'rule', NEW.rule,
                        'reason', CASE WHEN NEW.retracted_at IS NOT NULL AND OLD.retracted_at IS NULL
                                       THEN 'retracted' ELSE NEW.closed_by END,
                        'closed_on', NEW.closed_on, 'retracted_at', NEW.retracted_at));
END;
CREATE TRIGGER outbox_alert_acknowledged AFTER UPDATE OF acknowledged_at ON alerts
WHEN OLD.acknowledged_at IS NULL AND NEW.acknowledged_at IS NOT NULL
BEGIN
    INSERT INTO outbox_events (type, patient_id, sample_id, alert_id, data)
    VALUES ('alert.acknowledged', NEW.patient_id, NEW.sample_id, NEW.id,
            json_object('kind', NEW.kind, 'acknowledged_at', NEW.acknowledged_at,
                        'acknowledged_by', NEW.acknowledged_by, 'comment', NEW.ack_comment));
END;
-- A sample's result stored: its first, or a re-run's (the upsert changes job_id).
CREATE TRIGGER outbox_result_ready AFTER INSERT ON results
BEGIN
    INSERT INTO outbox_events (type, patient_id, sample_id, job_id, data)
    VALUES ('result.ready', (SELECT patient_id FROM samples WHERE id = NEW.sample_id),
            NEW.sample_id, NEW.job_id, json_object('call', NEW.call));
END;
CREATE TRIGGER outbox_result_rerun AFTER UPDATE OF job_id ON results
WHEN NEW.job_id IS NOT OLD.job_id
BEGIN
    INSERT INTO outbox_events (type, patient_id, sample_id, job_id, data)
    VALUES ('result.ready', (SELECT patient_id FROM samples WHERE id = NEW.sample_id),
            NEW.sample_id, NEW.job_id, json_object('call', NEW.call));
END;
CREATE TRIGGER outbox_job_failed AFTER UPDATE OF state ON jobs
WHEN NEW.state = 'failed' AND OLD.state IS NOT 'failed'
BEGIN
    INSERT INTO outbox_events (type, patient_id, sample_id, job_id, data)
    VALUES ('job.failed', (SELECT patient_id FROM samples WHERE id = NEW.sample_id),
            NEW.sample_id, NEW.id, json_object('kind', NEW.kind, 'error', NEW.error,
                                               'attempts', NEW.attempts));
END;
