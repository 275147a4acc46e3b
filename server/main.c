/* relapsewatchd: reads the configuration, opens (and migrates) the database, creates the first
 * admin token, serves HTTP until SIGTERM/SIGINT, then shuts down cleanly. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <config.h> /* autoconf's PACKAGE_VERSION */

#include "core/version.h"
#include "server/actions.h"
#include "server/audit.h"
#include "server/auth.h"
#include "server/backup.h"
#include "server/corrections.h"
#include "server/datadir.h"
#include "server/db.h"
#include "server/http.h"
#include "server/jobs.h"
#include "server/log.h"
#include "server/migrate.h"
#include "server/options.h"
#include "server/outbox.h"
#include "server/router.h"
#include "server/users.h"
#include "server/validate.h"

/* Writes the port to path through a temporary file, so a reader never sees a partial file. */
static int write_port_file(const char *path, int port)
{
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f)
        return -1;
    int bad = fprintf(f, "%d\n", port) < 0;
    bad |= fclose(f) != 0;
    if (bad || srv_publish_file(tmp, path)) { /* rename + fsync of the folder */
        unlink(tmp);
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    srv_config cfg;
    srv_db *db = NULL;
    srv_http *http = NULL;
    srv_jobs *jobs = NULL;
    srv_outbox *outbox = NULL;
    char err[1024], secret[65];
    int port = 0, status = 1;

    if (argc == 2 && strcmp(argv[1], "--list-routes") == 0) {
        srv_routes_print(stdout); /* the compiled route table, for the role-matrix test */
        return 0;
    }
    srv_action action;
    if (srv_action_extract(&argc, argv, &action, err, sizeof err)) {
        fprintf(stderr, "relapsewatchd: %s\nTry 'relapsewatchd --help'.\n", err);
        return 2;
    }
    int rc = srv_config_load(&cfg, argc, argv);
    if (rc)
        return rc > 0 ? 0 : 2;
    if (action.kind) { /* --backup, --restore, --verify-audit: run it instead of serving */
        rc = srv_action_run(&action, &cfg);
        srv_config_free(&cfg);
        return rc;
    }
    srv_log_threshold = (srv_log_level)cfg.log_level;
    srv_log_route_htslib();
    /* Every file and folder the daemon creates (database, WAL, uploads, log) is its user's only. */
    umask(077);
    srv_log_setup_stderr();
    if (*cfg.log_file && srv_log_open(cfg.log_file, err, sizeof err)) {
        fprintf(stderr, "relapsewatchd: %s\n", err);
        srv_config_free(&cfg);
        return 1;
    }
    if (srv_time_zone_set(cfg.time_zone, err, sizeof err)) { /* before any thread: sets TZ */
        fprintf(stderr, "relapsewatchd: --time-zone: %s\n", err);
        srv_config_free(&cfg);
        return 2;
    }

    /* Block the stop signals before any thread exists, so every thread inherits the mask and
     * only sigwait() below sees them. */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGHUP); /* reopens the --log-file (logrotate) */
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    signal(SIGPIPE, SIG_IGN);

    srv_log(SRV_LOG_INFO, "relapsewatchd %s (core %s) starting", PACKAGE_VERSION, RW_CORE_VERSION);
    /* One connection per HTTP thread and job worker, plus one for start-up work and one for the
     * audit trail's writer of reads. */
    char backups[4096]; /* where the copy taken before a schema migration goes */
    srv_backup_default_dir(&cfg, backups, sizeof backups);
    srv_migrate_backup_to(backups);
    if (!(db = srv_db_open(cfg.db_path, cfg.threads + cfg.workers + 2, err, sizeof err))) {
        srv_log(SRV_LOG_ERROR, "%s", err);
        goto done;
    }
    /* Read rows of the audit trail, written behind by one thread (its own connection: + 2). */
    if (srv_audit_queue_start(db)) {
        srv_log(SRV_LOG_ERROR, "cannot start the audit trail's writer");
        goto done;
    }
    /* Workers first: the data folder must exist before an upload arrives. */
    if (!(jobs = srv_jobs_start(&cfg, db, err, sizeof err))) {
        srv_log(SRV_LOG_ERROR, "%s", err);
        goto done;
    }
    /* Webhook and HL7 deliveries (server/outbox.h): after the jobs, which make the data folder. */
    if (!(outbox = srv_outbox_start(&cfg, err, sizeof err))) {
        srv_log(SRV_LOG_ERROR, "%s", err);
        goto done;
    }
    { /* files of inputs erased or replaced just before the last stop (server/corrections.h) */
        sqlite3 *sweep = srv_db_acquire(db);
        srv_corr_remove_files(sweep, cfg.data_dir);
        srv_db_release(db, sweep);
    }
    /* Listen before creating the first token, so a port already in use cannot leave a printed
     * token behind a daemon that never ran; until the token exists requests simply get 401. */
    if (!(http = srv_http_start(&cfg, db, &port, err, sizeof err))) {
        srv_log(SRV_LOG_ERROR, "%s", err);
        goto done;
    }
    sqlite3 *c = srv_db_acquire(db);
    rc = srv_auth_bootstrap(c, secret);
    srv_db_release(db, c);
    if (rc < 0) {
        srv_log(SRV_LOG_ERROR, "cannot create the initial admin token");
        goto done;
    }
    if (rc == 1) {
        /* Shown once, on stdout and never in the log: only its hash is kept. */
        printf("admin token: %s\n", secret);
        fflush(stdout);
        memset(secret, 0, sizeof secret);
    }
    /* The first person's account: "admin", a random password that must be changed at the first
     * sign-in; shown once, like the token. */
    c = srv_db_acquire(db);
    rc = srv_users_bootstrap(c, secret);
    srv_db_release(db, c);
    if (rc < 0) {
        srv_log(SRV_LOG_ERROR, "cannot create the initial admin account");
        goto done;
    }
    if (rc == 1) {
        printf("admin account: admin password: %s (change it at the first sign-in)\n", secret);
        fflush(stdout);
        memset(secret, 0, sizeof secret);
    }

    if (*cfg.port_file && write_port_file(cfg.port_file, port)) {
        srv_log(SRV_LOG_ERROR, "cannot write the port file %s: %s", cfg.port_file, strerror(errno));
        goto done;
    }
    srv_log(SRV_LOG_INFO, "listening on %s (port %d), %d HTTP threads", cfg.listen, port,
            cfg.threads);

    int sig = 0;
    while (sigwait(&stop, &sig) != 0 || sig == SIGHUP) {
        if (sig == SIGHUP)
            srv_log_reopen();
        sig = 0;
    }
    srv_log(SRV_LOG_INFO, "%s received: finishing requests in progress and stopping",
            sig == SIGTERM ? "SIGTERM" : "SIGINT");
    status = 0;
done:
    srv_http_stop(http);
    /* After HTTP: writes the reads still queued. */
    srv_audit_queue_stop();
    srv_jobs_stop(jobs); /* after HTTP: no upload can queue a job any more */
    srv_outbox_stop(outbox);
    srv_db_close(db);
    if (status == 0)
        srv_log(SRV_LOG_INFO, "stopped cleanly");
    srv_config_free(&cfg);
    return status;
}
