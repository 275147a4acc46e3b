/* Storage: a fixed pool of SQLite connections handed out under a mutex. Each connection is used
 * by one thread at a time, so SQLite runs without its own per-connection mutex. WAL lets readers
 * go on while one writer commits; the busy timeout queues concurrent writers. */
#define SRV_DB_NO_FINALIZE_MACRO /* here sqlite3_finalize() is SQLite's own */
#include "server/db.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "server/log.h"
#include "server/migrate.h"

#define BUSY_TIMEOUT_MS 10000

/* Prepared statements kept per connection, found by their SQL text (srv_db_prepare). Only the
 * thread holding the connection touches its cache, so it needs no lock. */
#define STMT_CACHE 64
typedef struct cached_stmt {
    sqlite3_stmt *st;
    uint64_t hash; /* of the SQL text */
    int in_use;    /* handed out, not yet ended by srv_db_finalize() */
    uint64_t used; /* the cache's tick at the last hand-out: the least recent goes first */
} cached_stmt;
typedef struct stmt_cache {
    cached_stmt e[STMT_CACHE];
    uint64_t tick;
} stmt_cache;

struct srv_db {
    pthread_mutex_t lock;
    pthread_cond_t freed;
    int size;
    int nfree;
    sqlite3 **all;      /* every connection, for closing */
    sqlite3 **free;     /* stack of idle connections */
    stmt_cache *caches; /* one per connection of all[] */
};

/* The open pools, so a connection finds its cache (a daemon has one; unit tests a few). */
#define MAX_POOLS 8
static _Atomic(srv_db *) pools[MAX_POOLS];

static stmt_cache *cache_of(sqlite3 *conn)
{
    for (int p = 0; p < MAX_POOLS; p++) {
        srv_db *db = atomic_load(&pools[p]);
        for (int i = 0; db && db->caches && i < db->size; i++)
            if (db->all[i] == conn)
                return &db->caches[i];
    }
    return NULL;
}

static void pool_register(srv_db *db, int on)
{
    for (int p = 0; p < MAX_POOLS; p++) {
        srv_db *want = on ? NULL : db;
        if (atomic_compare_exchange_strong(&pools[p], &want, on ? db : NULL))
            return;
    }
}

static uint64_t text_hash(const char *s)
{
    uint64_t h = 14695981039346656037ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

static void cache_clear(stmt_cache *c)
{
    for (int i = 0; i < STMT_CACHE; i++)
        sqlite3_finalize(c->e[i].st);
    memset(c, 0, sizeof *c);
}

/* Creates the database's folder when missing (one level: "var/" of "var/relapsewatch.db"). */
static int make_parent(const char *path, char *err, size_t errlen)
{
    const char *slash = strrchr(path, '/');
    if (!slash || slash == path)
        return 0;
    char dir[4096];
    size_t n = (size_t)(slash - path);
    if (n >= sizeof dir) {
        snprintf(err, errlen, "database path too long");
        return -1;
    }
    memcpy(dir, path, n);
    dir[n] = '\0';
    if (mkdir(dir, 0700) && errno != EEXIST) {
        snprintf(err, errlen, "cannot create folder %s: %s", dir, strerror(errno));
        return -1;
    }
    return 0;
}

/* Waiting for the write lock: SQLite's own busy_timeout handler sleeps 1, 2, 5, 10, ... up to
 * 100 ms between attempts, so a writer that finds the lock taken for a millisecond waits tens
 * of milliseconds (the ingest's p99 of ~1 s and the job workers' idling, issue 14). This one
 * retries after 50 us doubling to 2 ms, for BUSY_TIMEOUT_MS in all. */
static int busy_wait(void *unused, int count)
{
    static _Thread_local struct timespec started;
    struct timespec now;
    (void)unused;
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (count == 0)
        started = now;
    long long waited_ms =
        (now.tv_sec - started.tv_sec) * 1000LL + (now.tv_nsec - started.tv_nsec) / 1000000LL;
    if (waited_ms >= BUSY_TIMEOUT_MS)
        return 0;
    long us = count < 6 ? 50L << count : 2000L;
    struct timespec ts = {0, us * 1000L};
    nanosleep(&ts, NULL);
    return 1;
}

static sqlite3 *open_one(const char *path, char *err, size_t errlen)
{
    sqlite3 *c = NULL;
    int rc = sqlite3_open_v2(
        path, &c, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        snprintf(err, errlen, "cannot open database %s: %s", path,
                 c ? sqlite3_errmsg(c) : sqlite3_errstr(rc));
        goto fail;
    }
    sqlite3_busy_handler(c, busy_wait, NULL);
    sqlite3_extended_result_codes(c, 1);
    /* journal_mode answers with a row; exec ignores it. synchronous=FULL syncs the WAL at every
     * commit: a commit the API answered survives a power cut, not only a crash of the process
     * (NORMAL could lose the last commits). Clinical records and the audit chain are worth the
     * cost (measured in SECURITY.md). */
    char *msg = NULL;
    if (sqlite3_exec(c, "PRAGMA journal_mode=WAL; PRAGMA foreign_keys=ON; PRAGMA synchronous=FULL;",
                     NULL, NULL, &msg) != SQLITE_OK) {
        snprintf(err, errlen, "cannot configure database %s: %s", path,
                 msg ? msg : sqlite3_errmsg(c));
        sqlite3_free(msg);
        goto fail;
    }
    /* A file that is not a database fails here, at start-up, with a clear message. */
    if (sqlite3_exec(c, "SELECT count(*) FROM sqlite_master", NULL, NULL, &msg) != SQLITE_OK) {
        snprintf(err, errlen, "cannot read database %s: %s", path, msg ? msg : "?");
        sqlite3_free(msg);
        goto fail;
    }
    return c;
fail:
    sqlite3_close(c);
    return NULL;
}

/* The database and its WAL and shared-memory files hold patient data: owner only, also when an
 * older version (or another umask) left them readable by others. SQLite gives the WAL and SHM
 * files the database file's mode when it creates them. */
static int restrict_files(const char *path, char *err, size_t errlen)
{
    static const char *const suffixes[] = {"", "-wal", "-shm", "-journal"};
    char f[4096 + 16];
    for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
        snprintf(f, sizeof f, "%s%s", path, suffixes[i]);
        if (chmod(f, 0600) && (errno != ENOENT || i == 0)) {
            snprintf(err, errlen, "cannot make %s private (chmod 0600): %s", f, strerror(errno));
            return -1;
        }
    }
    return 0;
}

srv_db *srv_db_open(const char *path, int size, char *err, size_t errlen)
{
    srv_db *db = calloc(1, sizeof *db);
    if (size < 1)
        size = 1;
    if (!db || !(db->all = calloc((size_t)size, sizeof *db->all)) ||
        !(db->free = calloc((size_t)size, sizeof *db->free))) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    pthread_mutex_init(&db->lock, NULL);
    pthread_cond_init(&db->freed, NULL);
    if (!(db->caches = calloc((size_t)size, sizeof *db->caches))) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    if (make_parent(path, err, errlen))
        goto fail;
    /* The first connection migrates before the others exist, so none sees a half schema. */
    for (int i = 0; i < size; i++) {
        if (!(db->all[i] = open_one(path, err, errlen)))
            goto fail;
        if (i == 0 && restrict_files(path, err, errlen))
            goto fail;
        db->size++;
        if (i == 0 && srv_migrate(db->all[0], err, errlen))
            goto fail;
        db->free[db->nfree++] = db->all[i];
    }
    pool_register(db, 1);
    return db;
fail:
    srv_db_close(db);
    return NULL;
}

void srv_db_close(srv_db *db)
{
    if (!db)
        return;
    pool_register(db, 0);
    if (db->all) {
        for (int i = 0; i < db->size; i++) {
            if (db->caches)
                cache_clear(&db->caches[i]);
            /* The last connection to close checkpoints the WAL into the main file. */
            if (sqlite3_close(db->all[i]) != SQLITE_OK)
                srv_log(SRV_LOG_ERROR, "closing connection %d: %s", i, sqlite3_errmsg(db->all[i]));
        }
        pthread_mutex_destroy(&db->lock);
        pthread_cond_destroy(&db->freed);
    }
    free(db->all);
    free(db->free);
    free(db->caches);
    free(db);
}

sqlite3 *srv_db_acquire(srv_db *db)
{
    pthread_mutex_lock(&db->lock);
    while (db->nfree == 0)
        pthread_cond_wait(&db->freed, &db->lock);
    sqlite3 *c = db->free[--db->nfree];
    pthread_mutex_unlock(&db->lock);
    return c;
}

void srv_db_release(srv_db *db, sqlite3 *conn)
{
    if (!conn)
        return;
    /* A handler that forgot to end its transaction must not hand it to the next borrower. */
    if (!sqlite3_get_autocommit(conn)) {
        srv_log(SRV_LOG_ERROR, "connection returned inside a transaction: rolled back");
        sqlite3_exec(conn, "ROLLBACK", NULL, NULL, NULL);
    }
    pthread_mutex_lock(&db->lock);
    db->free[db->nfree++] = conn;
    pthread_cond_signal(&db->freed);
    pthread_mutex_unlock(&db->lock);
}

static int exec_simple(sqlite3 *conn, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(conn, sql, NULL, NULL, &msg) != SQLITE_OK) {
        srv_log(SRV_LOG_ERROR, "%s: %s", sql, msg ? msg : sqlite3_errmsg(conn));
        sqlite3_free(msg);
        return -1;
    }
    return 0;
}

int srv_db_begin(sqlite3 *conn)
{
    /* IMMEDIATE takes the write lock now, so a busy database waits here (busy timeout) instead
     * of failing later at the first write with SQLITE_BUSY. */
    return exec_simple(conn, "BEGIN IMMEDIATE");
}

int srv_db_commit(sqlite3 *conn)
{
    return exec_simple(conn, "COMMIT");
}

void srv_db_rollback(sqlite3 *conn)
{
    if (!sqlite3_get_autocommit(conn))
        exec_simple(conn, "ROLLBACK");
}

static sqlite3_stmt *prepare_new(sqlite3 *conn, const char *sql, unsigned flags)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v3(conn, sql, -1, flags, &st, NULL) != SQLITE_OK) {
        srv_log(SRV_LOG_ERROR, "prepare failed: %s (%.80s)", sqlite3_errmsg(conn), sql);
        sqlite3_finalize(st);
        return NULL;
    }
    return st;
}

sqlite3_stmt *srv_db_prepare(sqlite3 *conn, const char *sql)
{
    stmt_cache *c = cache_of(conn);
    if (!c)
        return prepare_new(conn, sql, 0);
    uint64_t h = text_hash(sql);
    cached_stmt *victim = NULL;
    for (int i = 0; i < STMT_CACHE; i++) {
        cached_stmt *e = &c->e[i];
        if (e->st && !e->in_use && e->hash == h && strcmp(sqlite3_sql(e->st), sql) == 0) {
            e->in_use = 1;
            e->used = ++c->tick;
            return e->st;
        }
        if (!e->in_use && (!victim || !e->st || (victim->st && e->used < victim->used)))
            victim = e;
    }
    /* The same text busy (nested use), or a new one: a statement of its own, cached when an
     * idle slot can take it. */
    sqlite3_stmt *st = prepare_new(conn, sql, victim ? SQLITE_PREPARE_PERSISTENT : 0);
    if (st && victim) {
        sqlite3_finalize(victim->st);
        *victim = (cached_stmt){st, h, 1, ++c->tick};
    }
    return st;
}

int srv_db_finalize(sqlite3_stmt *st)
{
    stmt_cache *c = st ? cache_of(sqlite3_db_handle(st)) : NULL;
    for (int i = 0; c && i < STMT_CACHE; i++)
        if (c->e[i].st == st) {
            int rc = sqlite3_reset(st);
            sqlite3_clear_bindings(st);
            c->e[i].in_use = 0;
            return rc;
        }
    return sqlite3_finalize(st);
}

int srv_db_exec_id(sqlite3 *conn, const char *sql, int64_t id)
{
    sqlite3_stmt *st = srv_db_prepare(conn, sql);
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, id);
    int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
    if (rc)
        srv_log(SRV_LOG_ERROR, "write failed: %s", sqlite3_errmsg(conn));
    srv_db_finalize(st);
    return rc;
}
