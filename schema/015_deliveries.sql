-- 015_deliveries: what an HL7 message is about, and how long messages are kept.
--
-- 1. deliveries.record names the record an HL7 message carries: "result <sample id> <patient
--    id>" (a draw's result under one patient: a moved draw's is another record under each) or
--    "alert <id>"; NULL for webhooks. The HL7 fan-out reads it to know what a receiver already
--    has (a correction is C or W, never a second F; server/outbox.c), and a retry refuses a
--    message that a later one about the same record superseded (server/api_deliveries.c).
--    Filled in here for the HL7 deliveries made before (results and raised alerts).
ALTER TABLE deliveries ADD COLUMN record TEXT;
UPDATE deliveries SET record = (
    SELECT CASE WHEN e.type LIKE 'alert.%' THEN 'alert ' || e.alert_id
                ELSE 'result ' || e.sample_id || ' ' || e.patient_id END
    FROM outbox_events e WHERE e.id = deliveries.event_id)
WHERE channel = 'hl7';
CREATE INDEX deliveries_record ON deliveries (record, id) WHERE record IS NOT NULL;

-- 2. Settled deliveries keep their message for --outbox-keep-days (default 90), then lose it
--    (server/outbox.c): the body becomes {"pruned":true} while the delivery, its attempts and
--    its event stay, ids and all, so the delivery log and the webhook cursors hold. A webhook's
--    body can carry an alert's whole evidence and an HL7 message a patient's result: kept for
--    ever they would grow the store by gigabytes over years of a large cohort, and the
--    receivers have them. This partial index holds exactly the deliveries a pruning may still
--    touch, by age, so each pass reads only those.
CREATE INDEX deliveries_unpruned ON deliveries (created_at)
WHERE state <> 'pending' AND body <> '{"pruned":true}';
