/* Readiness checks behind /api/v1/health and the gauges of /metrics (server/readiness.h). */
#include "server/readiness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "server/datadir.h"
#include "server/db.h"
#include "server/log.h"
#include "server/metrics.h"
#include "server/options.h"

/* Reads a table, not just the header, so a corrupt or vanished file shows up; also the queue. */
static int probe_database(sqlite3 *conn, srv_readiness *r)
{
    sqlite3_stmt *st = srv_db_prepare(conn, "SELECT (SELECT count(*) FROM schema_migrations), "
                                            "count(*), coalesce(CAST(strftime('%s', 'now') AS "
                                            "INTEGER) - min(CAST(strftime('%s', created_at) AS "
                                            "INTEGER)), 0) FROM jobs WHERE state = 'queued'");
    int ok = st && sqlite3_step(st) == SQLITE_ROW;
    if (ok) {
        r->jobs_queued = sqlite3_column_int64(st, 1);
        r->oldest_queued_age = sqlite3_column_int64(st, 2);
    }
    sqlite3_finalize(st);
    if (!ok)
        srv_log(SRV_LOG_ERROR, "health check failed: %s", sqlite3_errmsg(conn));
    return ok;
}

/* Creates and removes a file where uploads land: a folder that vanished, went read-only or is
 * out of inodes fails here before an upload does. */
static int probe_data_dir(const char *data_dir)
{
    char path[4096];
    if (srv_datadir_path(data_dir, "tmp/.health.XXXXXX", path, sizeof path))
        return 0;
    int fd = mkstemp(path);
    if (fd < 0)
        return 0;
    close(fd);
    unlink(path);
    return 1;
}

static int64_t disk_free(const char *data_dir)
{
    struct statvfs vfs;
    if (statvfs(data_dir, &vfs))
        return -1;
    return (int64_t)vfs.f_bavail * (int64_t)vfs.f_frsize;
}

int srv_readiness_probe(sqlite3 *conn, const srv_config *cfg, srv_readiness *r)
{
    memset(r, 0, sizeof *r);
    r->jobs_queued = -1;
    r->database_ok = probe_database(conn, r);
    r->workers_configured = cfg->workers;
    r->workers_alive = srv_metrics_workers_alive();
    r->data_writable = probe_data_dir(cfg->data_dir);
    r->disk_free = disk_free(cfg->data_dir);
    r->disk_reserve = cfg->disk_reserve;
    if (!r->database_ok)
        snprintf(r->reason, sizeof r->reason, "the database does not answer");
    else if (r->workers_alive < r->workers_configured || r->workers_configured == 0)
        snprintf(r->reason, sizeof r->reason, "job workers: %d of %d alive (at least 1 needed)",
                 r->workers_alive, r->workers_configured);
    else if (!r->data_writable)
        snprintf(r->reason, sizeof r->reason, "the data folder does not take new files");
    else if (r->disk_free < r->disk_reserve)
        snprintf(r->reason, sizeof r->reason,
                 "free disk under the reserve (%lld of %lld bytes free)", (long long)r->disk_free,
                 (long long)r->disk_reserve);
    r->ready = r->reason[0] == '\0';
    return r->ready;
}

json_t *srv_readiness_json_new(const srv_readiness *r)
{
    json_t *o = json_pack(
        "{s:s, s:s, s:{s:i, s:i}, s:{s:I, s:I}, s:{s:b, s:I, s:I}}", "status",
        r->ready ? "ok" : "unavailable", "database", r->database_ok ? "ok" : "error", "workers",
        "configured", r->workers_configured, "alive", r->workers_alive, "queue", "queued",
        (json_int_t)r->jobs_queued, "oldest_age_seconds", (json_int_t)r->oldest_queued_age, "disk",
        "data_dir_writable", r->data_writable, "free_bytes", (json_int_t)r->disk_free,
        "reserve_bytes", (json_int_t)r->disk_reserve);
    if (o && !r->ready)
        json_object_set_new(o, "error",
                            json_pack("{s:s, s:s}", "code", "unavailable", "message", r->reason));
    return o;
}
