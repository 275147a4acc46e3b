/* Backups and restores of the store: the SQLite database (copied with the online backup API, so
 * a daemon may keep serving it) and the data folder, with a manifest of SHA-256 sums.
 *
 * A backup folder holds:
 *   relapsewatch.db   the database as of one instant (one read snapshot)
 *   data/...          the data folder's files (its tmp/ excepted); absent in a database-only
 *                     backup (the one taken before a migration)
 *   SHA256SUMS        "<sha256>  <path>" per file, `sha256sum -c SHA256SUMS` checks it
 *   backup.json       {"format": 1, "created_at", "relapsewatchd", "schema", "with_data",
 *                      "files", "bytes", "missing": [paths the database names but the data
 *                      folder lost between the snapshot and the copy]}
 * A restore checks every sum first and writes nothing when one is wrong. */
#ifndef SRV_BACKUP_H
#define SRV_BACKUP_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

struct srv_config;

typedef struct srv_backup_info {
    char path[4096];     /* the backup folder */
    char created_at[32]; /* ISO 8601 UTC */
    int schema;          /* user_version of the copied database */
    int with_data;       /* the data folder was copied */
    int64_t files;       /* files in SHA256SUMS (the database included) */
    int64_t bytes;       /* their total size */
    int64_t missing;     /* files named by the database but gone from the data folder */
} srv_backup_info;

/* The folder backups go to: --backup-dir, or "backups" beside the data folder. */
void srv_backup_default_dir(const struct srv_config *cfg, char *out, size_t n);
/* Creates parent (and its parents) and a new empty folder <parent>/<prefix>-<UTC time>[-k] in
 * out. 0, or -1 with a message in err. */
int srv_backup_new_dir(const char *parent, const char *prefix, char *out, size_t n, char *err,
                       size_t errlen);

/* Backs up the database open on src (borrowed; not inside a transaction) and, when data_dir is
 * non-NULL, the data folder into the existing empty folder dir. 0 with info filled, or -1 with
 * a message in err (the partial folder is left for inspection). */
int srv_backup_create(sqlite3 *src, const char *data_dir, const char *dir, srv_backup_info *info,
                      char *err, size_t errlen);
/* The same from a database path (its own read-only connection): `relapsewatchd --backup DIR`. */
int srv_backup_create_path(const char *db_path, const char *data_dir, const char *dir,
                           srv_backup_info *info, char *err, size_t errlen);
/* info as the API shows it (new). */
json_t *srv_backup_info_json_new(const srv_backup_info *info);

/* Checks every sum of the backup in dir: 0 with *files counted, or -1 with the first wrong or
 * missing file in err. */
int srv_backup_check(const char *dir, int64_t *files, char *err, size_t errlen);
/* Restores the backup in dir into db_path and data_dir after checking it. A store that is not
 * empty (a database with tables, or a data folder holding a file) is refused unless force, which
 * first moves it aside to <path>.before-restore-<UTC time>. A database-only backup (no data/)
 * restores the database and leaves data_dir alone. The daemon must not be running on db_path.
 * 0, or -1 with a message in err. */
int srv_backup_restore(const char *dir, const char *db_path, const char *data_dir, int force,
                       char *err, size_t errlen);

#endif
