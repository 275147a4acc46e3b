-- 015_outbox_retention: settled deliveries keep their message for --outbox-keep-days (default
-- 90), then lose it (server/outbox.c): the body becomes {"pruned":true} while the delivery, its
-- attempts and its event stay, ids and all, so the delivery log and the webhook cursors hold.
-- A webhook's body can carry an alert's whole evidence and an HL7 message a patient's result:
-- kept for ever they would grow the store by gigabytes over years of a large cohort, and the
-- receivers have them. This partial index holds exactly the deliveries a pruning may still
-- touch, by age, so each pass reads only those.
CREATE INDEX deliveries_unpruned ON deliveries (created_at)
WHERE state <> 'pending' AND body <> '{"pruned":true}';
