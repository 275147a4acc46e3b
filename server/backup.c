/* Backups and restores of the store (see backup.h).
 *
 * DESIGN. The database is copied first, with sqlite3_backup_step(-1): one step under one read
 * snapshot, which in WAL mode does not block the writers of a daemon serving the same file. The
 * data folder is copied after, file by file, each hashed as it is written and fsynced. Files are
 * named by their checksum and never rewritten, so the copy holds every file the snapshot names,
 * except one removed in between (the replaced input of a failed sample): those are listed as
 * `missing` in backup.json. A file added in between is copied too; nothing in the snapshot names
 * it. The manifest is written last, through a temporary name: a folder without SHA256SUMS is an
 * unfinished backup and a restore refuses it. */
#include "server/backup.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <config.h> /* PACKAGE_VERSION */

#include "server/datadir.h"
#include "server/log.h"
#include "server/options.h"
#include "server/sha256.h"

#define DB_NAME   "relapsewatch.db"
#define SUMS_NAME "SHA256SUMS"

/* ---------------------------------------------------------------- file helpers */

static int mkdir_p(const char *path)
{
    char p[PATH_MAX];
    if (snprintf(p, sizeof p, "%s", path) >= (int)sizeof p)
        return -1;
    for (char *s = p + 1; *s; s++) {
        if (*s != '/')
            continue;
        *s = '\0';
        if (mkdir(p, 0700) && errno != EEXIST)
            return -1;
        *s = '/';
    }
    return mkdir(p, 0700) && errno != EEXIST ? -1 : 0;
}

/* Makes the parent folders of file path. */
static int mkdir_parent(const char *path)
{
    char p[PATH_MAX];
    snprintf(p, sizeof p, "%s", path);
    char *slash = strrchr(p, '/');
    if (!slash || slash == p)
        return 0;
    *slash = '\0';
    return mkdir_p(p);
}

/* Every file and folder written under dir reaches the disk (the names too). */
static int sync_tree(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc = syncfs(fd);
    close(fd);
    return rc;
}

/* SHA-256 and size of src, copied to dst (fsynced) when dst is non-NULL. 0, or -1 with errno. */
static int hash_copy(const char *src, const char *dst, char hex[65], int64_t *size)
{
    char buf[1 << 16];
    int in = open(src, O_RDONLY | O_CLOEXEC), out = -1, rc = -1;
    srv_sha256 s;
    srv_sha256_init(&s);
    *size = 0;
    if (in < 0)
        return -1;
    if (dst && (mkdir_parent(dst) ||
                (out = open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) < 0))
        goto out;
    for (;;) {
        ssize_t n = read(in, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            goto out;
        if (n == 0)
            break;
        srv_sha256_update(&s, buf, (size_t)n);
        *size += n;
        for (ssize_t off = 0; out >= 0 && off < n;) {
            ssize_t w = write(out, buf + off, (size_t)(n - off));
            if (w < 0 && errno == EINTR)
                continue;
            if (w <= 0)
                goto out;
            off += w;
        }
    }
    if (out >= 0 && fsync(out))
        goto out;
    uint8_t d[32];
    srv_sha256_final(&s, d);
    srv_sha256_to_hex(d, hex);
    rc = 0;
out:
    if (out >= 0 && close(out))
        rc = -1;
    close(in);
    return rc;
}

static void now_iso(char *buf, size_t n, const char *fmt)
{
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, n, fmt, &tm);
}

void srv_backup_default_dir(const srv_config *cfg, char *out, size_t n)
{
    if (cfg->backup_dir && *cfg->backup_dir) {
        snprintf(out, n, "%s", cfg->backup_dir);
        return;
    }
    /* "var/data" -> "var/backups"; "data" -> "backups". */
    const char *d = cfg->data_dir;
    size_t l = strlen(d);
    while (l > 1 && d[l - 1] == '/')
        l--;
    const char *slash = memrchr(d, '/', l);
    if (!slash)
        snprintf(out, n, "backups");
    else if (slash == d)
        snprintf(out, n, "/backups");
    else
        snprintf(out, n, "%.*s/backups", (int)(slash - d), d);
}

int srv_backup_new_dir(const char *parent, const char *prefix, char *out, size_t n, char *err,
                       size_t errlen)
{
    char stamp[32];
    now_iso(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ");
    if (mkdir_p(parent)) {
        snprintf(err, errlen, "cannot create %s: %s", parent, strerror(errno));
        return -1;
    }
    for (int k = 0; k < 1000; k++) {
        int w = k ? snprintf(out, n, "%s/%s-%s-%d", parent, prefix, stamp, k)
                  : snprintf(out, n, "%s/%s-%s", parent, prefix, stamp);
        if (w < 0 || (size_t)w >= n) {
            snprintf(err, errlen, "backup path too long");
            return -1;
        }
        if (mkdir(out, 0700) == 0)
            return 0;
        if (errno != EEXIST) {
            snprintf(err, errlen, "cannot create %s: %s", out, strerror(errno));
            return -1;
        }
    }
    snprintf(err, errlen, "too many backups named %s-%s in %s", prefix, stamp, parent);
    return -1;
}

/* ---------------------------------------------------------------- creating */

typedef struct sums {
    FILE *f; /* SHA256SUMS.tmp */
    srv_backup_info *info;
} sums;

static int sums_add(sums *m, const char *hex, const char *rel, int64_t size)
{
    m->info->files++;
    m->info->bytes += size;
    return fprintf(m->f, "%s  %s\n", hex, rel) < 0 ? -1 : 0;
}

/* Copies data_dir/rel (a folder) into dir/data/rel, recursively; tmp/ at the top is skipped. */
static int copy_tree(const char *data_dir, const char *rel, const char *dir, sums *m, char *err,
                     size_t errlen)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s%s%s", data_dir, *rel ? "/" : "", rel);
    DIR *d = opendir(path);
    if (!d) {
        snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
        return -1;
    }
    struct dirent *e;
    int rc = 0;
    while (!rc && (e = readdir(d))) {
        char sub[PATH_MAX], src[PATH_MAX], dst[PATH_MAX], hex[65];
        struct stat sb;
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") ||
            (!*rel && !strcmp(e->d_name, "tmp")))
            continue;
        if (snprintf(sub, sizeof sub, "%s%s%s", rel, *rel ? "/" : "", e->d_name) >=
                (int)sizeof sub ||
            snprintf(src, sizeof src, "%s/%s", data_dir, sub) >= (int)sizeof src ||
            snprintf(dst, sizeof dst, "%s/data/%s", dir, sub) >= (int)sizeof dst) {
            snprintf(err, errlen, "path too long in %s", path);
            rc = -1;
            break;
        }
        if (lstat(src, &sb))
            continue; /* removed meanwhile */
        if (S_ISDIR(sb.st_mode)) {
            rc = copy_tree(data_dir, sub, dir, m, err, errlen);
            continue;
        }
        if (!S_ISREG(sb.st_mode))
            continue;
        int64_t size;
        if (hash_copy(src, dst, hex, &size)) {
            if (errno == ENOENT && access(src, F_OK))
                continue; /* removed meanwhile: `missing` says whether it mattered */
            snprintf(err, errlen, "cannot copy %s: %s", src, strerror(errno));
            rc = -1;
            break;
        }
        char name[PATH_MAX + 8];
        snprintf(name, sizeof name, "data/%s", sub);
        if (sums_add(m, hex, name, size)) {
            snprintf(err, errlen, "cannot write the manifest");
            rc = -1;
        }
    }
    closedir(d);
    return rc;
}

/* The files the snapshot names that the copy lacks: counted, and listed in missing. */
static int64_t find_missing(const char *dir, json_t *missing)
{
    char db[PATH_MAX];
    sqlite3 *c = NULL;
    sqlite3_stmt *st = NULL;
    int64_t n = 0;
    snprintf(db, sizeof db, "%s/" DB_NAME, dir);
    if (sqlite3_open_v2(db, &c, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(c,
                           "SELECT path FROM sample_inputs WHERE path IS NOT NULL UNION "
                           "SELECT counts_path FROM sample_inputs WHERE counts_path IS NOT NULL "
                           "UNION SELECT path FROM pons",
                           -1, &st, NULL) != SQLITE_OK)
        goto out;
    while (sqlite3_step(st) == SQLITE_ROW) {
        char f[PATH_MAX];
        snprintf(f, sizeof f, "%s/data/%s", dir, (const char *)sqlite3_column_text(st, 0));
        if (access(f, F_OK) == 0)
            continue;
        n++;
        json_array_append_new(missing, json_string((const char *)sqlite3_column_text(st, 0)));
    }
out:
    sqlite3_finalize(st);
    sqlite3_close(c);
    return n;
}

/* The database snapshot into dir/relapsewatch.db (fsynced). */
static int copy_database(sqlite3 *src, const char *dir, char *err, size_t errlen)
{
    char path[PATH_MAX];
    sqlite3 *dst = NULL;
    snprintf(path, sizeof path, "%s/" DB_NAME, dir);
    if (sqlite3_open_v2(path, &dst, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
        SQLITE_OK) {
        snprintf(err, errlen, "cannot create %s: %s", path, dst ? sqlite3_errmsg(dst) : "?");
        sqlite3_close(dst);
        return -1;
    }
    sqlite3_backup *b = sqlite3_backup_init(dst, "main", src, "main");
    int rc = b ? SQLITE_OK : sqlite3_errcode(dst);
    for (int tries = 0; b && tries < 100; tries++) {
        /* All pages in one step: one consistent snapshot. Busy or locked: wait and retry. */
        rc = sqlite3_backup_step(b, -1);
        if (rc != SQLITE_BUSY && rc != SQLITE_LOCKED)
            break;
        sqlite3_sleep(100);
    }
    if (b)
        sqlite3_backup_finish(b);
    if (rc != SQLITE_DONE) {
        snprintf(err, errlen, "copying the database: %s", sqlite3_errstr(rc));
        sqlite3_close(dst);
        return -1;
    }
    /* A backup is one self-contained file: no WAL beside it. */
    sqlite3_exec(dst, "PRAGMA journal_mode=DELETE", NULL, NULL, NULL);
    sqlite3_close(dst);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    int bad = fd < 0 || fsync(fd);
    if (fd >= 0)
        close(fd);
    if (bad) {
        snprintf(err, errlen, "cannot flush %s: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

static int schema_of(sqlite3 *c)
{
    sqlite3_stmt *st = NULL;
    int v = 0;
    if (sqlite3_prepare_v2(c, "PRAGMA user_version", -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return v;
}

/* backup.json, then SHA256SUMS renamed into place (the mark of a finished backup). */
static int write_manifest(const char *dir, sums *m, json_t *missing, char *err, size_t errlen)
{
    char tmp[PATH_MAX], final[PATH_MAX], meta[PATH_MAX];
    srv_backup_info *info = m->info;
    json_t *j = srv_backup_info_json_new(info);
    json_object_set(j, "missing", missing);
    snprintf(meta, sizeof meta, "%s/backup.json", dir);
    int bad = !j || json_dump_file(j, meta, JSON_INDENT(2) | JSON_SORT_KEYS);
    json_decref(j);
    snprintf(tmp, sizeof tmp, "%s/" SUMS_NAME ".tmp", dir);
    snprintf(final, sizeof final, "%s/" SUMS_NAME, dir);
    bad |= fflush(m->f) != 0 || fsync(fileno(m->f)) != 0;
    bad |= fclose(m->f) != 0;
    m->f = NULL;
    /* The copies and their folders first, then the manifest that marks the backup finished. */
    if (bad || sync_tree(dir) || srv_publish_file(tmp, final)) {
        snprintf(err, errlen, "cannot write the manifest in %s: %s", dir, strerror(errno));
        return -1;
    }
    return 0;
}

int srv_backup_create(sqlite3 *src, const char *data_dir, const char *dir, srv_backup_info *info,
                      char *err, size_t errlen)
{
    char path[PATH_MAX], hex[65];
    int64_t size;
    json_t *missing = json_array();
    sums m = {.info = info};
    int rc = -1;
    memset(info, 0, sizeof *info);
    snprintf(info->path, sizeof info->path, "%s", dir);
    now_iso(info->created_at, sizeof info->created_at, "%Y-%m-%dT%H:%M:%SZ");
    info->with_data = data_dir != NULL;
    info->schema = schema_of(src);
    snprintf(path, sizeof path, "%s/" SUMS_NAME ".tmp", dir);
    if (!missing || !(m.f = fopen(path, "w"))) {
        snprintf(err, errlen, "cannot write in %s: %s", dir, strerror(errno));
        goto out;
    }
    if (copy_database(src, dir, err, errlen))
        goto out;
    snprintf(path, sizeof path, "%s/" DB_NAME, dir);
    if (hash_copy(path, NULL, hex, &size) || sums_add(&m, hex, DB_NAME, size)) {
        snprintf(err, errlen, "cannot hash %s", path);
        goto out;
    }
    if (data_dir) {
        if (copy_tree(data_dir, "", dir, &m, err, errlen))
            goto out;
        info->missing = find_missing(dir, missing);
        if (info->missing)
            srv_log(SRV_LOG_WARN,
                    "backup %s: %lld files the database names were removed "
                    "before they could be copied (listed in backup.json)",
                    dir, (long long)info->missing);
    }
    rc = write_manifest(dir, &m, missing, err, errlen);
out:
    if (m.f)
        fclose(m.f);
    json_decref(missing);
    return rc;
}

int srv_backup_create_path(const char *db_path, const char *data_dir, const char *dir,
                           srv_backup_info *info, char *err, size_t errlen)
{
    sqlite3 *c = NULL;
    if (access(db_path, R_OK)) {
        snprintf(err, errlen, "cannot read the database %s: %s", db_path, strerror(errno));
        return -1;
    }
    /* Read-only, yet it may need to read the WAL of the daemon serving the file. */
    if (sqlite3_open_v2(db_path, &c, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "cannot open %s: %s", db_path, c ? sqlite3_errmsg(c) : "?");
        sqlite3_close(c);
        return -1;
    }
    sqlite3_busy_timeout(c, 10000);
    int rc = srv_backup_create(c, data_dir, dir, info, err, errlen);
    sqlite3_close(c);
    return rc;
}

json_t *srv_backup_info_json_new(const srv_backup_info *info)
{
    const char *slash = strrchr(info->path, '/');
    return json_pack("{s:i, s:s, s:s, s:s, s:s, s:i, s:b, s:I, s:I, s:I}", "format", 1, "name",
                     slash ? slash + 1 : info->path, "path", info->path, "created_at",
                     info->created_at, "relapsewatchd", PACKAGE_VERSION, "schema", info->schema,
                     "with_data", info->with_data, "files", (json_int_t)info->files, "bytes",
                     (json_int_t)info->bytes, "missing_files", (json_int_t)info->missing);
}

/* ---------------------------------------------------------------- checking, restoring */

/* Calls each(ctx, hex, rel) for every line of dir/SHA256SUMS. 0, or -1 with err. */
static int each_sum(const char *dir, int (*each)(void *ctx, const char *hex, const char *rel),
                    void *ctx, char *err, size_t errlen)
{
    char path[PATH_MAX], line[PATH_MAX + 80];
    snprintf(path, sizeof path, "%s/" SUMS_NAME, dir);
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen, "%s: %s (not a finished backup)", path, strerror(errno));
        return -1;
    }
    int rc = 0, lineno = 0;
    while (!rc && fgets(line, sizeof line, f)) {
        lineno++;
        line[strcspn(line, "\n")] = '\0';
        if (strlen(line) < 67 || line[64] != ' ' || line[65] != ' ' || strstr(line, "..")) {
            snprintf(err, errlen, "%s:%d: malformed line", path, lineno);
            rc = -1;
            break;
        }
        line[64] = '\0';
        if ((rc = each(ctx, line, line + 66)))
            snprintf(err, errlen, "%s: %s", line + 66,
                     rc == 1 ? "checksum mismatch (changed or corrupt)" : strerror(errno));
    }
    fclose(f);
    return rc ? -1 : 0;
}

typedef struct check_ctx {
    const char *dir;
    int64_t files;
} check_ctx;

static int check_one(void *p, const char *hex, const char *rel)
{
    check_ctx *c = p;
    char path[PATH_MAX], got[65];
    int64_t size;
    snprintf(path, sizeof path, "%s/%s", c->dir, rel);
    if (hash_copy(path, NULL, got, &size))
        return -1;
    c->files++;
    return strcmp(got, hex) ? 1 : 0;
}

int srv_backup_check(const char *dir, int64_t *files, char *err, size_t errlen)
{
    check_ctx c = {.dir = dir};
    int rc = each_sum(dir, check_one, &c, err, errlen);
    *files = c.files;
    if (!rc && c.files == 0) {
        snprintf(err, errlen, "%s/" SUMS_NAME " lists no file", dir);
        rc = -1;
    }
    return rc;
}

/* A folder that holds a regular file somewhere below it. */
static int holds_files(const char *path)
{
    DIR *d = opendir(path);
    struct dirent *e;
    int found = 0;
    while (d && !found && (e = readdir(d))) {
        char sub[PATH_MAX];
        struct stat sb;
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
        if (lstat(sub, &sb))
            continue;
        found = S_ISDIR(sb.st_mode) ? holds_files(sub) : 1;
    }
    if (d)
        closedir(d);
    return found;
}

static int db_has_tables(const char *db_path)
{
    sqlite3 *c = NULL;
    sqlite3_stmt *st = NULL;
    int n = 0;
    struct stat sb;
    if (stat(db_path, &sb) || sb.st_size == 0)
        return 0;
    if (sqlite3_open_v2(db_path, &c, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
        sqlite3_prepare_v2(c, "SELECT count(*) FROM sqlite_master", -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int(st, 0);
    else
        n = 1; /* unreadable: not ours to overwrite silently */
    sqlite3_finalize(st);
    sqlite3_close(c);
    return n > 0;
}

/* Moves path (and the database's -wal/-shm when db) aside to <path>.before-restore-<stamp>. */
static int move_aside(const char *path, const char *stamp, int db, char *err, size_t errlen)
{
    static const char *const sfx[] = {"", "-wal", "-shm"};
    for (int i = 0; i < (db ? 3 : 1); i++) {
        char from[PATH_MAX], to[PATH_MAX];
        snprintf(from, sizeof from, "%s%s", path, sfx[i]);
        snprintf(to, sizeof to, "%s.before-restore-%s%s", path, stamp, sfx[i]);
        if (rename(from, to) && errno != ENOENT) {
            snprintf(err, errlen, "cannot move %s aside: %s", from, strerror(errno));
            return -1;
        }
        if (i == 0 && errno != ENOENT)
            srv_log(SRV_LOG_WARN, "the previous store %s was moved to %s", from, to);
    }
    return 0;
}

typedef struct restore_ctx {
    const char *dir, *db_path, *data_dir;
} restore_ctx;

static int restore_one(void *p, const char *hex, const char *rel)
{
    restore_ctx *r = p;
    char src[PATH_MAX], dst[PATH_MAX], got[65];
    int64_t size;
    snprintf(src, sizeof src, "%s/%s", r->dir, rel);
    if (!strcmp(rel, DB_NAME))
        snprintf(dst, sizeof dst, "%s.restoring", r->db_path);
    else if (!strncmp(rel, "data/", 5))
        snprintf(dst, sizeof dst, "%s/%s", r->data_dir, rel + 5);
    else
        return 0;
    if (hash_copy(src, dst, got, &size))
        return -1;
    return strcmp(got, hex) ? 1 : 0;
}

int srv_backup_restore(const char *dir, const char *db_path, const char *data_dir, int force,
                       char *err, size_t errlen)
{
    int64_t files;
    char stamp[32], tmp[PATH_MAX];
    if (srv_backup_check(dir, &files, err, errlen))
        return -1;
    /* A database-only backup (the one before a migration) leaves the data folder as it is. */
    char sub[PATH_MAX];
    snprintf(sub, sizeof sub, "%s/data", dir);
    int with_data = access(sub, F_OK) == 0;
    int full_db = db_has_tables(db_path), full_data = with_data && holds_files(data_dir);
    if ((full_db || full_data) && !force) {
        snprintf(err, errlen,
                 "%s is not empty: restoring would overwrite it (stop the daemon, then use "
                 "--force to move the current store aside)",
                 full_db ? db_path : data_dir);
        return -1;
    }
    now_iso(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ");
    if (force && (move_aside(db_path, stamp, 1, err, errlen) ||
                  (full_data && move_aside(data_dir, stamp, 0, err, errlen))))
        return -1;
    /* The -wal/-shm of an empty database would be read with the restored file: remove them. */
    for (int i = 0; i < 2; i++) {
        snprintf(tmp, sizeof tmp, "%s%s", db_path, i ? "-shm" : "-wal");
        unlink(tmp);
    }
    if (mkdir_p(data_dir) || mkdir_parent(db_path)) {
        snprintf(err, errlen, "cannot create %s: %s", data_dir, strerror(errno));
        return -1;
    }
    restore_ctx r = {dir, db_path, data_dir};
    if (each_sum(dir, restore_one, &r, err, errlen))
        return -1;
    snprintf(tmp, sizeof tmp, "%s.restoring", db_path);
    if (sync_tree(data_dir) || srv_publish_file(tmp, db_path)) {
        snprintf(err, errlen, "cannot move the database into place: %s", strerror(errno));
        return -1;
    }
    srv_log(SRV_LOG_INFO, "restored %lld files from %s", (long long)files, dir);
    return 0;
}
