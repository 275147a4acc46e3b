/* The delivery thread: turns the events the schema's triggers write into `outbox_events`
 * (schema/009_interop.sql: alert.raised, alert.closed, alert.acknowledged, result.ready,
 * job.failed) into deliveries, and sends them: a signed JSON POST to each webhook subscribed to
 * the event (server/webhooks.h), and an HL7 v2 ORU^R01 over MLLP to --hl7-mllp for each result
 * and each raised alert (server/hl7.h). A failed attempt is tried again after
 * --outbox-retry-base seconds, doubling each time (at most 6 h), up to --outbox-max-attempts;
 * everything lives in SQLite, so a restart goes on where it stopped. HL7 messages leave in
 * order (the oldest pending one blocks the others); webhooks each on their own.
 * DESIGN: one thread with its own SQLite connection polls twice a second (the triggers cannot
 * wake it, and an event waits at most that long); it sends outside any transaction and records
 * each attempt in a short transaction of its own. */
#ifndef SRV_OUTBOX_H
#define SRV_OUTBOX_H

#include <stddef.h>

struct srv_config;

typedef struct srv_outbox srv_outbox;

/* Loads (or creates) the webhook key, opens a connection to cfg->db_path (already migrated) and
 * starts the thread. NULL with a message in err on failure. Stop with srv_outbox_stop(). */
srv_outbox *srv_outbox_start(const struct srv_config *cfg, char *err, size_t errlen);
/* Asks the thread to stop, waits for the attempt in flight (at most --delivery-timeout), joins
 * and frees. NULL-safe. */
void srv_outbox_stop(srv_outbox *o);

#endif
