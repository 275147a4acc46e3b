/* Storage: a fixed pool of SQLite connections handed out under a mutex. Each connection is used
 * by one thread at a time, so SQLite runs without its own per-connection mutex. WAL lets readers
 * go on while one writer commits; the busy timeout queues concurrent writers.
 *
 * Checkpoints (copying the WAL's pages into the database file, then syncing it) run on a thread
 * of the pool's own (checkpointer()), never on the connection that committed: SQLite's automatic
 * checkpoint would make whichever request, job or audit batch crossed 1,000 WAL pages pay the
 * copy and an fsync of the whole database file (tens to hundreds of milliseconds on a big store:
 * the read-audit writer stalled and its queue filled, issue 14). Durability is the WAL's and is
 * unchanged: a commit is on disk once its WAL frames are synced (synchronous=FULL). */
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

/* What a pool connection's hooks need: its pool, and whether its open transaction changed the
 * credentials (srv_db_credentials_version). */
typedef struct conn_hooks {
    struct srv_db *db;
    int credentials_changed;
} conn_hooks;

#define CHECKPOINT_PAGES 1000 /* WAL pages that call for a checkpoint (SQLite's default) */
/* WAL pages past which the committing connection checkpoints itself, as SQLite does by default:
 * writers that outrun the checkpointer slow down instead of growing the WAL without bound. */
#define CHECKPOINT_INLINE_PAGES 10000

struct srv_db {
    pthread_mutex_t lock;
    pthread_cond_t freed;
    int size;
    int nfree;
    sqlite3 **all;      /* every connection, for closing */
    sqlite3 **free;     /* stack of idle connections */
    stmt_cache *caches; /* one per connection of all[] */
    conn_hooks *hooks;  /* one per connection of all[] */
    _Atomic uint64_t credentials_version;
    /* the checkpointer: its own connection, woken by a commit that leaves a long WAL */
    pthread_mutex_t ckpt_lock;
    pthread_cond_t ckpt_wake;
    pthread_t ckpt_thread;
    sqlite3 *ckpt_conn;
    int ckpt_started, ckpt_wanted, ckpt_stop;
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

/* Update hook: a row of tokens or users (what authenticates a caller) changes in conn's open
 * transaction. The version moves now and again at the commit (on_wal), so a cache filled from a
 * snapshot taken in between is stale too. */
static void on_update(void *arg, int op, const char *dbname, const char *table, sqlite3_int64 id)
{
    conn_hooks *h = arg;
    (void)op, (void)dbname, (void)id;
    if (strcmp(table, "tokens") == 0 || strcmp(table, "users") == 0) {
        h->credentials_changed = 1;
        atomic_fetch_add(&h->db->credentials_version, 1);
    }
}

static void on_rollback(void *arg)
{
    ((conn_hooks *)arg)->credentials_changed = 0;
}

/* WAL hook: called once a commit is in the WAL and the write lock released. */
static int on_wal(void *arg, sqlite3 *conn, const char *dbname, int pages)
{
    conn_hooks *h = arg;
    if (h->credentials_changed) {
        h->credentials_changed = 0;
        atomic_fetch_add(&h->db->credentials_version, 1);
    }
    if (pages >= CHECKPOINT_PAGES) {
        pthread_mutex_lock(&h->db->ckpt_lock);
        h->db->ckpt_wanted = 1;
        pthread_cond_signal(&h->db->ckpt_wake);
        pthread_mutex_unlock(&h->db->ckpt_lock);
    }
    if (pages >= CHECKPOINT_INLINE_PAGES)
        sqlite3_wal_checkpoint_v2(conn, dbname, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
    return SQLITE_OK;
}

/* The checkpointer: a PASSIVE checkpoint (it waits for no reader or writer; what a reader still
 * uses is copied next time) whenever a commit left CHECKPOINT_PAGES in the WAL. */
static void *checkpointer(void *arg)
{
    srv_db *db = arg;
    pthread_mutex_lock(&db->ckpt_lock);
    for (;;) {
        while (!db->ckpt_wanted && !db->ckpt_stop)
            pthread_cond_wait(&db->ckpt_wake, &db->ckpt_lock);
        if (db->ckpt_stop)
            break;
        db->ckpt_wanted = 0;
        pthread_mutex_unlock(&db->ckpt_lock);
        int rc =
            sqlite3_wal_checkpoint_v2(db->ckpt_conn, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
        if (rc != SQLITE_OK && rc != SQLITE_BUSY)
            srv_log(SRV_LOG_WARN, "checkpoint failed: %s", sqlite3_errmsg(db->ckpt_conn));
        pthread_mutex_lock(&db->ckpt_lock);
    }
    pthread_mutex_unlock(&db->ckpt_lock);
    return NULL;
}

/* Opens the checkpointer's connection, starts it, and hooks every connection of the pool to it
 * (which turns SQLite's automatic checkpoint off: the WAL hook replaces it). 0, or -1. */
static int checkpointer_start(srv_db *db, const char *path, char *err, size_t errlen)
{
    if (!(db->ckpt_conn = open_one(path, err, errlen)))
        return -1;
    if (pthread_create(&db->ckpt_thread, NULL, checkpointer, db)) {
        snprintf(err, errlen, "cannot start the checkpointer thread");
        return -1;
    }
    db->ckpt_started = 1;
    for (int i = 0; i < db->size; i++) {
        db->hooks[i].db = db;
        sqlite3_update_hook(db->all[i], on_update, &db->hooks[i]);
        sqlite3_rollback_hook(db->all[i], on_rollback, &db->hooks[i]);
        sqlite3_wal_hook(db->all[i], on_wal, &db->hooks[i]);
    }
    return 0;
}

static void checkpointer_stop(srv_db *db)
{
    if (db->ckpt_started) {
        pthread_mutex_lock(&db->ckpt_lock);
        db->ckpt_stop = 1;
        pthread_cond_signal(&db->ckpt_wake);
        pthread_mutex_unlock(&db->ckpt_lock);
        pthread_join(db->ckpt_thread, NULL);
        db->ckpt_started = 0;
    }
    sqlite3_close(db->ckpt_conn);
    db->ckpt_conn = NULL;
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
    pthread_mutex_init(&db->ckpt_lock, NULL);
    pthread_cond_init(&db->ckpt_wake, NULL);
    atomic_init(&db->credentials_version, 1);
    if (!(db->caches = calloc((size_t)size, sizeof *db->caches)) ||
        !(db->hooks = calloc((size_t)size, sizeof *db->hooks))) {
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
    /* After the migration, whose own commits checkpoint as SQLite does by default. */
    if (checkpointer_start(db, path, err, errlen))
        goto fail;
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
        checkpointer_stop(db);
        for (int i = 0; i < db->size; i++) {
            if (db->caches)
                cache_clear(&db->caches[i]);
            /* The last connection to close checkpoints the WAL into the main file. */
            if (sqlite3_close(db->all[i]) != SQLITE_OK)
                srv_log(SRV_LOG_ERROR, "closing connection %d: %s", i, sqlite3_errmsg(db->all[i]));
        }
        pthread_mutex_destroy(&db->lock);
        pthread_cond_destroy(&db->freed);
        pthread_mutex_destroy(&db->ckpt_lock);
        pthread_cond_destroy(&db->ckpt_wake);
    }
    free(db->all);
    free(db->free);
    free(db->caches);
    free(db->hooks);
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

uint64_t srv_db_credentials_version(sqlite3 *conn, const srv_db **pool)
{
    for (int p = 0; p < MAX_POOLS; p++) {
        srv_db *db = atomic_load(&pools[p]);
        for (int i = 0; db && i < db->size; i++)
            if (db->all[i] == conn) {
                *pool = db;
                return atomic_load(&db->credentials_version);
            }
    }
    *pool = NULL;
    return 0;
}
