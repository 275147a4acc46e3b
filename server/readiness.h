/* Readiness: whether this daemon can do its work right now. The database must answer, every
 * configured job worker must be alive (and there must be at least one, or uploads would wait
 * forever), the data folder must take a new file, and the disk holding it must keep more than
 * --disk-reserve bytes free. /api/v1/health answers 503 when any of these fails; /metrics shows
 * the same figures. */
#ifndef SRV_READINESS_H
#define SRV_READINESS_H

#include <sqlite3.h>
#include <stdint.h>

#include <jansson.h>

struct srv_config;

typedef struct srv_readiness {
    int database_ok;
    int workers_configured, workers_alive;
    int64_t jobs_queued;       /* -1 when the database does not answer */
    int64_t oldest_queued_age; /* seconds since the oldest queued job was created; 0 when none */
    int data_writable;         /* a file could be created (and removed) in <data-dir>/tmp */
    int64_t disk_free;         /* bytes available to the daemon on the data folder's disk; -1 */
    int64_t disk_reserve;      /* --disk-reserve */
    int ready;
    char reason[160]; /* why not ready (the first failing check), "" when ready */
} srv_readiness;

/* Runs every check (conn: a pooled connection) and fills r. Returns r->ready. */
int srv_readiness_probe(sqlite3 *conn, const struct srv_config *cfg, srv_readiness *r);

/* The health answer as a new object: {"status", "database", "workers": {"configured", "alive"},
 * "queue": {"queued", "oldest_age_seconds"}, "disk": {"data_dir_writable", "free_bytes",
 * "reserve_bytes"}}; when not ready also "error": {"code": "unavailable", "message": reason}. */
json_t *srv_readiness_json_new(const srv_readiness *r);

#endif
