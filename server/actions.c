/* The one-shot actions of relapsewatchd (see actions.h). */
#include "server/actions.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <sqlite3.h>

#include "server/audit.h"
#include "server/backup.h"
#include "server/options.h"

int srv_action_extract(int *argc, char **argv, srv_action *a, char *err, size_t errlen)
{
    int out = 1;
    memset(a, 0, sizeof *a);
    for (int i = 1; i < *argc; i++) {
        const char *s = argv[i];
        int kind = !strcmp(s, "--backup")         ? SRV_ACTION_BACKUP
                   : !strcmp(s, "--restore")      ? SRV_ACTION_RESTORE
                   : !strcmp(s, "--verify-audit") ? SRV_ACTION_VERIFY_AUDIT
                                                  : SRV_ACTION_NONE;
        if (!strcmp(s, "--force")) {
            a->force = 1;
            continue;
        }
        if (kind == SRV_ACTION_NONE) {
            argv[out++] = argv[i];
            continue;
        }
        if (a->kind) {
            snprintf(err, errlen, "only one of --backup, --restore and --verify-audit at a time");
            return -1;
        }
        a->kind = kind;
        if (kind != SRV_ACTION_VERIFY_AUDIT) {
            if (i + 1 >= *argc || !argv[i + 1][0]) {
                snprintf(err, errlen, "option %s needs a folder", s);
                return -1;
            }
            a->dir = argv[++i];
        }
    }
    if (a->force && a->kind != SRV_ACTION_RESTORE) {
        snprintf(err, errlen, "--force goes with --restore only");
        return -1;
    }
    argv[out] = NULL;
    *argc = out;
    return 0;
}

static int run_backup(const srv_action *a, const srv_config *cfg)
{
    char err[1024];
    srv_backup_info info;
    /* The folder may exist if empty (a mount point); it is never merged into. */
    if (mkdir(a->dir, 0750) && errno != EEXIST) {
        fprintf(stderr, "relapsewatchd: cannot create %s: %s\n", a->dir, strerror(errno));
        return 1;
    }
    DIR *d = opendir(a->dir);
    struct dirent *e;
    int used = 0;
    while (d && (e = readdir(d)))
        used |= strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
    if (d)
        closedir(d);
    if (used) {
        fprintf(stderr, "relapsewatchd: %s is not empty: a backup goes into a new folder\n",
                a->dir);
        return 1;
    }
    if (srv_backup_create_path(cfg->db_path, cfg->data_dir, a->dir, &info, err, sizeof err)) {
        fprintf(stderr, "relapsewatchd: backup failed: %s\n", err);
        return 1;
    }
    printf("backup of %lld files (%lld bytes, schema %d) in %s%s\n", (long long)info.files,
           (long long)info.bytes, info.schema, a->dir,
           info.missing ? " (some files were removed during the copy: see backup.json)" : "");
    return 0;
}

static int run_restore(const srv_action *a, const srv_config *cfg)
{
    char err[1024];
    if (srv_backup_restore(a->dir, cfg->db_path, cfg->data_dir, a->force, err, sizeof err)) {
        fprintf(stderr, "relapsewatchd: restore refused: %s\n", err);
        return 1;
    }
    printf("restored %s into %s and %s\n", a->dir, cfg->db_path, cfg->data_dir);
    return 0;
}

static int run_verify(const srv_config *cfg)
{
    srv_audit_check c;
    sqlite3 *conn = NULL;
    /* Read-only, and no migration: verifying must not change what it verifies. */
    int rc = sqlite3_open_v2(cfg->db_path, &conn, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK;
    if (!rc) {
        sqlite3_busy_timeout(conn, 10000);
        rc = srv_audit_verify(conn, &c);
    }
    if (rc)
        fprintf(stderr,
                "relapsewatchd: cannot read the audit trail of %s: %s (a database older than "
                "schema 7 gets its chain when the daemon first starts on it)\n",
                cfg->db_path, conn ? sqlite3_errmsg(conn) : "out of memory");
    sqlite3_close(conn);
    if (rc)
        return 1;
    if (!c.ok) {
        printf("audit trail BROKEN at row %lld: %s (%lld rows checked before it)\n",
               (long long)c.broken_id, c.reason, (long long)c.rows);
        return 1;
    }
    printf("audit trail ok: %lld rows, head row %lld hash %s\n", (long long)c.rows,
           (long long)c.head_id, c.head_hash);
    return 0;
}

int srv_action_run(const srv_action *a, const srv_config *cfg)
{
    switch (a->kind) {
    case SRV_ACTION_BACKUP:
        return run_backup(a, cfg);
    case SRV_ACTION_RESTORE:
        return run_restore(a, cfg);
    case SRV_ACTION_VERIFY_AUDIT:
        return run_verify(cfg);
    case SRV_ACTION_NONE:
        break;
    }
    return 0;
}
