/* Operational metrics in the Prometheus text format (server/metrics.h).
 *
 * DESIGN. Request counters are kept per (method, route template, status) in a small table under
 * one mutex: route templates are static strings of the route tables (or fixed labels such as
 * "(static)"), so the table's size is bounded by the API, not by the traffic; a row that does
 * not fit goes to route="(other)". The latency histogram has fixed buckets and is updated under
 * the same mutex (one short critical section per request). Gauges that belong to the database
 * or the disk are read at scrape time, so they are exact and cost nothing between scrapes. */
#include "server/metrics.h"

#include <ftw.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <config.h> /* autoconf's PACKAGE_VERSION */

#include "core/version.h"
#include "server/db.h"
#include "server/options.h"
#include "server/readiness.h"
#include "server/router.h"

#define MAX_SERIES 512

static const double latency_bounds[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
#define NLATENCY (sizeof latency_bounds / sizeof latency_bounds[0])
static const double job_bounds[] = {1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600};
#define NJOB (sizeof job_bounds / sizeof job_bounds[0])

typedef struct series {
    const char *method; /* one of methods[] */
    const char *route;  /* static: a route template or a fixed label */
    unsigned status;
    unsigned long long count;
} series;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static series table[MAX_SERIES];
static int nseries;
static unsigned long long latency_counts[NLATENCY + 1]; /* the last is +Inf */
static double latency_sum;
static atomic_ullong upload_bytes, uploads;
static atomic_int workers_alive;

/* MHD's method string is borrowed from the connection; keep a static copy of the known ones. */
static const char *static_method(const char *m)
{
    static const char *const methods[] = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"};
    for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++)
        if (m && strcmp(m, methods[i]) == 0)
            return methods[i];
    return "OTHER";
}

static double now_mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* The row for (method, route, status), created when missing; "(other)" once the table is full.
 * Under lock. */
static series *series_of(const char *method, const char *route, unsigned status)
{
    for (int i = 0; i < nseries; i++)
        if (table[i].status == status && table[i].method == method && table[i].route == route)
            return &table[i];
    if (nseries < MAX_SERIES - 1 || (nseries == MAX_SERIES - 1 && strcmp(route, "(other)") == 0)) {
        table[nseries] = (series){method, route, status, 0};
        return &table[nseries++];
    }
    return series_of("OTHER", "(other)", 0);
}

void srv_metrics_request_done(const srv_request *req)
{
    double seconds = now_mono() - req->started;
    size_t b = 0;
    while (b < NLATENCY && seconds > latency_bounds[b])
        b++;
    const char *route = req->log_path ? req->log_path : "(unrouted)";
    pthread_mutex_lock(&lock);
    series_of(static_method(req->method), route, req->status)->count++;
    latency_counts[b]++;
    latency_sum += seconds;
    pthread_mutex_unlock(&lock);

    if (req->route && req->route->body == SRV_BODY_STREAM && req->status / 100 == 2) {
        const char *cl =
            MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        atomic_fetch_add(&uploads, 1);
        if (cl)
            atomic_fetch_add(&upload_bytes, strtoull(cl, NULL, 10));
    }
}

void srv_metrics_worker_started(void)
{
    atomic_fetch_add(&workers_alive, 1);
}

void srv_metrics_worker_stopped(void)
{
    atomic_fetch_sub(&workers_alive, 1);
}

int srv_metrics_workers_alive(void)
{
    return atomic_load(&workers_alive);
}

/* ---------------------------------------------------------------- exposition */

/* Writes a label value with the format's escapes (\\, \", \n). */
static void put_label(FILE *f, const char *v)
{
    for (; *v; v++) {
        if (*v == '\\' || *v == '"')
            fprintf(f, "\\%c", *v);
        else if (*v == '\n')
            fputs("\\n", f);
        else
            fputc(*v, f);
    }
}

static void head(FILE *f, const char *name, const char *type, const char *help)
{
    fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void histogram(FILE *f, const char *name, const double *bounds, size_t n,
                      const unsigned long long *counts, double sum)
{
    unsigned long long cumulative = 0;
    for (size_t i = 0; i < n; i++) {
        cumulative += counts[i];
        fprintf(f, "%s_bucket{le=\"%g\"} %llu\n", name, bounds[i], cumulative);
    }
    cumulative += counts[n];
    fprintf(f, "%s_bucket{le=\"+Inf\"} %llu\n%s_sum %.6f\n%s_count %llu\n", name, cumulative, name,
            sum, name, cumulative);
}

static void requests_section(FILE *f)
{
    series copy[MAX_SERIES];
    unsigned long long lat[NLATENCY + 1];
    pthread_mutex_lock(&lock);
    int n = nseries;
    memcpy(copy, table, (size_t)n * sizeof *copy);
    memcpy(lat, latency_counts, sizeof lat);
    double sum = latency_sum;
    pthread_mutex_unlock(&lock);

    head(f, "relapsewatch_http_requests_total", "counter",
         "HTTP requests answered, by method, route template and status.");
    for (int i = 0; i < n; i++) {
        fprintf(f, "relapsewatch_http_requests_total{method=\"%s\",route=\"", copy[i].method);
        put_label(f, copy[i].route);
        fprintf(f, "\",status=\"%u\"} %llu\n", copy[i].status, copy[i].count);
    }
    head(f, "relapsewatch_http_request_duration_seconds", "histogram",
         "Time from a request's headers to its completion.");
    histogram(f, "relapsewatch_http_request_duration_seconds", latency_bounds, NLATENCY, lat, sum);
    head(f, "relapsewatch_uploads_total", "counter", "Uploads (streamed bodies) answered 2xx.");
    fprintf(f, "relapsewatch_uploads_total %llu\n", (unsigned long long)atomic_load(&uploads));
    head(f, "relapsewatch_upload_bytes_total", "counter",
         "Bytes of the uploads answered 2xx (their Content-Length).");
    fprintf(f, "relapsewatch_upload_bytes_total %llu\n",
            (unsigned long long)atomic_load(&upload_bytes));
}

/* Jobs by state (the four of schema 003 always shown, any other state the table holds too) and
 * the durations of finished jobs. */
static void jobs_section(FILE *f, sqlite3 *conn)
{
    static const char *const states[] = {"queued", "running", "done", "failed"};
    long long by_state[4] = {0};
    head(f, "relapsewatch_jobs", "gauge", "Jobs in the queue table, by state.");
    sqlite3_stmt *st = srv_db_prepare(conn, "SELECT state, count(*) FROM jobs GROUP BY state");
    while (st && sqlite3_step(st) == SQLITE_ROW) {
        const char *s = (const char *)sqlite3_column_text(st, 0);
        long long c = sqlite3_column_int64(st, 1);
        int known = 0;
        for (int i = 0; i < 4; i++)
            if (s && strcmp(s, states[i]) == 0) {
                by_state[i] = c;
                known = 1;
            }
        if (!known && s) {
            fputs("relapsewatch_jobs{state=\"", f);
            put_label(f, s);
            fprintf(f, "\"} %lld\n", c);
        }
    }
    sqlite3_finalize(st);
    for (int i = 0; i < 4; i++)
        fprintf(f, "relapsewatch_jobs{state=\"%s\"} %lld\n", states[i], by_state[i]);

    unsigned long long counts[NJOB + 1] = {0};
    double sum = 0;
    st = srv_db_prepare(conn, "SELECT (julianday(finished_at) - julianday(started_at)) * 86400 "
                              "FROM jobs WHERE state = 'done' AND started_at IS NOT NULL AND "
                              "finished_at IS NOT NULL");
    while (st && sqlite3_step(st) == SQLITE_ROW) {
        double d = sqlite3_column_double(st, 0);
        size_t b = 0;
        while (b < NJOB && d > job_bounds[b])
            b++;
        counts[b]++;
        sum += d;
    }
    sqlite3_finalize(st);
    head(f, "relapsewatch_job_duration_seconds", "histogram",
         "Run time of the jobs done (from the queue table; second resolution).");
    histogram(f, "relapsewatch_job_duration_seconds", job_bounds, NJOB, counts, sum);
}

/* Outgoing webhook and HL7 deliveries by channel and state (schema 009), when the table exists. */
static void deliveries_section(FILE *f, sqlite3 *conn)
{
    sqlite3_stmt *st = NULL;
    /* Prepared directly: a database without the table is not an error worth a log line. */
    if (sqlite3_prepare_v2(
            conn, "SELECT channel, state, count(*) FROM deliveries GROUP BY channel, state", -1,
            &st, NULL) != SQLITE_OK) {
        sqlite3_finalize(st);
        return;
    }
    head(f, "relapsewatch_deliveries", "gauge",
         "Outgoing webhook and HL7 deliveries, by channel and state.");
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *channel = (const char *)sqlite3_column_text(st, 0);
        const char *state = (const char *)sqlite3_column_text(st, 1);
        fputs("relapsewatch_deliveries{channel=\"", f);
        put_label(f, channel ? channel : "");
        fputs("\",state=\"", f);
        put_label(f, state ? state : "");
        fprintf(f, "\"} %lld\n", (long long)sqlite3_column_int64(st, 2));
    }
    sqlite3_finalize(st);
}

static long long file_size(const char *path)
{
    struct stat s;
    return stat(path, &s) ? 0 : (long long)s.st_size;
}

static long long tree_bytes;
static pthread_mutex_t tree_lock = PTHREAD_MUTEX_INITIALIZER;

static int add_file(const char *path, const struct stat *s, int type, struct FTW *ftw)
{
    if (type == FTW_F)
        tree_bytes += (long long)s->st_size;
    return 0;
}

/* Bytes of the regular files under dir (nftw keeps its total in a static: one walk at a time). */
static long long folder_bytes(const char *dir)
{
    pthread_mutex_lock(&tree_lock);
    tree_bytes = 0;
    nftw(dir, add_file, 16, FTW_PHYS);
    long long n = tree_bytes;
    pthread_mutex_unlock(&tree_lock);
    return n;
}

static void storage_section(FILE *f, const srv_config *cfg, const srv_readiness *r)
{
    char wal[4096];
    snprintf(wal, sizeof wal, "%s-wal", cfg->db_path);
    head(f, "relapsewatch_database_bytes", "gauge", "Size of the SQLite file and its WAL.");
    fprintf(f, "relapsewatch_database_bytes %lld\n", file_size(cfg->db_path) + file_size(wal));
    head(f, "relapsewatch_data_dir_bytes", "gauge", "Bytes of the files in the data folder.");
    fprintf(f, "relapsewatch_data_dir_bytes %lld\n", folder_bytes(cfg->data_dir));
    head(f, "relapsewatch_disk_free_bytes", "gauge",
         "Bytes available on the data folder's disk (-1: unknown).");
    fprintf(f, "relapsewatch_disk_free_bytes %lld\n", (long long)r->disk_free);
    head(f, "relapsewatch_disk_reserve_bytes", "gauge", "--disk-reserve: health fails below it.");
    fprintf(f, "relapsewatch_disk_reserve_bytes %lld\n", (long long)r->disk_reserve);
}

static void readiness_section(FILE *f, const srv_readiness *r)
{
    head(f, "relapsewatch_ready", "gauge", "1 when /api/v1/health answers 200.");
    fprintf(f, "relapsewatch_ready %d\n", r->ready);
    head(f, "relapsewatch_workers", "gauge", "Job worker threads configured (--workers).");
    fprintf(f, "relapsewatch_workers %d\n", r->workers_configured);
    head(f, "relapsewatch_workers_alive", "gauge", "Job worker threads running.");
    fprintf(f, "relapsewatch_workers_alive %d\n", r->workers_alive);
    head(f, "relapsewatch_queue_oldest_age_seconds", "gauge",
         "Age of the oldest queued job (0 when none is queued).");
    fprintf(f, "relapsewatch_queue_oldest_age_seconds %lld\n", (long long)r->oldest_queued_age);
    head(f, "relapsewatch_build_info", "gauge", "Versions of this daemon.");
    fprintf(f, "relapsewatch_build_info{version=\"%s\",core=\"%s\"} 1\n", PACKAGE_VERSION,
            RW_CORE_VERSION);
}

char *srv_metrics_render(sqlite3 *conn, const srv_config *cfg)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f)
        return NULL;
    srv_readiness r;
    srv_readiness_probe(conn, cfg, &r);
    requests_section(f);
    jobs_section(f, conn);
    deliveries_section(f, conn);
    storage_section(f, cfg, &r);
    readiness_section(f, &r);
    if (fclose(f)) {
        free(text);
        return NULL;
    }
    return text;
}
