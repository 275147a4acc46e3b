/* Operational metrics: in-process counters (requests by route template, method and status; a
 * latency histogram; upload bytes; job workers alive) and their Prometheus text exposition,
 * together with what the database and the data folder say at scrape time (jobs by state, queue
 * age, job durations, sizes, free disk). Counters live for the process (a restart resets them,
 * as Prometheus expects of a counter); everything is thread-safe. */
#ifndef SRV_METRICS_H
#define SRV_METRICS_H

#include <sqlite3.h>

#include "server/http.h"

struct srv_config;

/* Counts a finished request: its method, route template (req->log_path, never the raw path),
 * status and duration since req->started; for a streamed body (uploads) answered 2xx, its
 * Content-Length too. Called once per request from the HTTP completion callback. */
void srv_metrics_request_done(const srv_request *req);

/* A job worker thread began / is about to end (server/jobs.c): the health check and the
 * metrics compare the live count with --workers. */
void srv_metrics_worker_started(void);
void srv_metrics_worker_stopped(void);
int srv_metrics_workers_alive(void);

/* The whole exposition (text/plain; version=0.0.4) as a new string, free with free(); conn is
 * used for the gauges read from the database. NULL when out of memory. */
char *srv_metrics_render(sqlite3 *conn, const struct srv_config *cfg);

#endif
