/* Audit trail: one audit_log row per write, in the same transaction as the write, so the log and
 * the data can never disagree; one row per read of a patient's data; every row chained to the
 * previous one (schema/007_audit_chain.sql describes the hash).
 *
 * DESIGN. Appending needs the previous row's hash, so it must happen under the write lock:
 * every writer here already runs inside BEGIN IMMEDIATE (srv_db_begin), which serialises
 * writers in SQLite, and an append outside a transaction opens its own. The unique index on
 * prev_hash is the safety net: two appends that read the same head cannot both commit. The new
 * row's id is chosen here (max + 1) because the id is part of what is hashed.
 *
 * Reads are written behind (srv_audit_queue_start): a read's row is queued with its time, actor
 * and client when the read is served, and one thread appends the queued rows in batches, each
 * batch one transaction, every SRV_AUDIT_FLUSH_MS or sooner when the queue fills. A read thus
 * costs a copy into the queue instead of a serialised write transaction. A read identical to a
 * queued one of the same second (same actor, token, client, method, route, record: same_read())
 * is counted into that row instead ("count" in its details): the trail's times are to the second,
 * so it loses nothing it could tell apart, and a client polling thousands of times a second
 * costs one row a second, not thousands (with a row per read the one writer was the ceiling of
 * the trend's throughput, and the full queue stalled reads: issue 14). The rows keep their
 * order and the chain; a crash of the daemon loses at most the rows still queued (the reads of
 * the last few milliseconds), a clean stop writes them all, and requests under /api/v1/admin/
 * (the trail's listing, its verification, backups) first wait until the reads served before
 * them are written. A full queue (the database cannot take them) makes reads wait, then refuse
 * with 500: a read that cannot be traced is not served. Writes keep their row in their own
 * transaction. */
#include "server/audit.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "server/answer_cache.h" /* srv_fnv1a */
#include "server/db.h"
#include "server/deadline.h"
#include "server/log.h"
#include "server/reply.h"
#include "server/router.h"
#include "server/sha256.h"

#define GENESIS "0000000000000000000000000000000000000000000000000000000000000000"

/* One row as it is hashed; NULL pointers (and has_* = 0) are SQL NULLs. */
typedef struct audit_row {
    int64_t id;
    const char *actor;
    int has_token;
    int64_t token_id;
    const char *action, *entity_type;
    int has_entity;
    int64_t entity_id;
    const char *at, *details, *client;
} audit_row;

static json_t *text_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

/* hash = SHA-256(prev || [id, actor, token_id, action, entity_type, entity_id, at, details,
 * client]) as compact JSON. 0, or -1 when out of memory. */
static int row_hash(const char *prev, const audit_row *r, char out[65])
{
    json_t *a = json_pack("[I, o, o, o, o, o, o, o, o]", (json_int_t)r->id, text_or_null(r->actor),
                          r->has_token ? json_integer(r->token_id) : json_null(),
                          text_or_null(r->action), text_or_null(r->entity_type),
                          r->has_entity ? json_integer(r->entity_id) : json_null(),
                          text_or_null(r->at), text_or_null(r->details), text_or_null(r->client));
    char *text = a ? json_dumps(a, JSON_COMPACT) : NULL;
    json_decref(a);
    if (!text)
        return -1;
    srv_sha256 s;
    uint8_t d[32];
    srv_sha256_init(&s);
    srv_sha256_update(&s, prev, strlen(prev));
    srv_sha256_update(&s, text, strlen(text));
    srv_sha256_final(&s, d);
    srv_sha256_to_hex(d, out);
    free(text);
    return 0;
}

static void bind_text_or_null(sqlite3_stmt *st, int i, const char *s)
{
    if (s)
        sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, i);
}

/* The head of the chain: the next id and the hash to chain to. 0, or -1. */
static int read_head(sqlite3 *c, int64_t *next_id, char prev[65])
{
    sqlite3_stmt *st =
        srv_db_prepare(c, "SELECT (SELECT coalesce(max(id), 0) + 1 FROM audit_log), "
                          "coalesce((SELECT hash FROM audit_head WHERE one = 1), '" GENESIS "')");
    if (!st)
        return -1;
    int rc = sqlite3_step(st) == SQLITE_ROW ? 0 : -1;
    if (!rc) {
        *next_id = sqlite3_column_int64(st, 0);
        snprintf(prev, 65, "%s", (const char *)sqlite3_column_text(st, 1));
    }
    sqlite3_finalize(st);
    return rc;
}

#define INSERT_ROW                                                                                 \
    "INSERT INTO audit_log (id, actor, token_id, action, entity_type, entity_id, at, details, "    \
    "client, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"

/* Inserts r chained to prev with st (INSERT_ROW), writing its hash into hash; st is reset for
 * the next row. 0, or -1 (logged). */
static int insert_row(sqlite3 *c, sqlite3_stmt *st, const audit_row *r, const char *prev,
                      char hash[65])
{
    if (row_hash(prev, r, hash))
        return -1;
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    sqlite3_bind_int64(st, 1, r->id);
    bind_text_or_null(st, 2, r->actor);
    if (r->has_token)
        sqlite3_bind_int64(st, 3, r->token_id);
    bind_text_or_null(st, 4, r->action);
    bind_text_or_null(st, 5, r->entity_type);
    if (r->has_entity)
        sqlite3_bind_int64(st, 6, r->entity_id);
    bind_text_or_null(st, 7, r->at);
    bind_text_or_null(st, 8, r->details);
    bind_text_or_null(st, 9, r->client);
    sqlite3_bind_text(st, 10, prev, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 11, hash, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
    sqlite3_reset(st);
    if (rc)
        srv_log(SRV_LOG_ERROR, "audit insert failed: %s", sqlite3_errmsg(c));
    return rc;
}

/* Moves the head to row last_id (hash), n rows further. Inside a transaction. 0, or -1. */
static int move_head(sqlite3 *c, int64_t last_id, const char *hash, int64_t n)
{
    sqlite3_stmt *st = srv_db_prepare(
        c, "INSERT INTO audit_head (one, last_id, hash, rows) VALUES (1, ?1, ?2, ?3) "
           "ON CONFLICT (one) DO UPDATE SET last_id = ?1, hash = ?2, "
           "rows = rows + ?3");
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, last_id);
    sqlite3_bind_text(st, 2, hash, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, n);
    int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
    sqlite3_finalize(st);
    return rc;
}

/* Appends r (its id chosen here) after the head, and moves the head. Inside a transaction. */
static int append_in_tx(sqlite3 *c, audit_row *r)
{
    char prev[65], hash[65];
    if (read_head(c, &r->id, prev))
        return -1;
    sqlite3_stmt *st = srv_db_prepare(c, INSERT_ROW);
    int rc = !st || insert_row(c, st, r, prev, hash) ? -1 : 0;
    sqlite3_finalize(st);
    return rc ? rc : move_head(c, r->id, hash, 1);
}

/* Appends r in the open transaction, or in one of its own. */
static int append(sqlite3 *c, audit_row *r)
{
    int own = sqlite3_get_autocommit(c);
    if (own && srv_db_begin(c))
        return -1;
    int rc = append_in_tx(c, r);
    if (own) {
        if (!rc)
            rc = srv_db_commit(c);
        if (rc)
            srv_db_rollback(c);
    }
    return rc;
}

static void iso_time(time_t t, char at[32])
{
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(at, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* The client's address ("127.0.0.1", "::1") into buf, or NULL when unknown (no connection:
 * unit tests). */
static const char *client_address(srv_request *req, char *buf, size_t n)
{
    if (!req->conn)
        return NULL;
    srv_connection_address(req->conn, buf, n); /* http.c: the one reading of the peer */
    return strcmp(buf, "unknown") ? buf : NULL;
}

static int write_row(sqlite3 *conn, const char *actor, int64_t token_id, const char *client,
                     const char *action, const char *entity_type, int64_t entity_id,
                     json_t *details)
{
    char at[32], *text = NULL;
    iso_time(time(NULL), at);
    if (details && !(text = json_dumps(details, JSON_COMPACT | JSON_SORT_KEYS)))
        return -1;
    audit_row r = {.actor = actor,
                   .has_token = token_id > 0,
                   .token_id = token_id,
                   .action = action,
                   .entity_type = entity_type,
                   .has_entity = 1,
                   .entity_id = entity_id,
                   .at = at,
                   .details = text,
                   .client = client};
    int rc = append(conn, &r);
    free(text);
    return rc;
}

int srv_audit_write(sqlite3 *conn, const char *actor, int64_t token_id, const char *action,
                    const char *entity_type, int64_t entity_id, json_t *details)
{
    return write_row(conn, actor, token_id, NULL, action, entity_type, entity_id, details);
}

int srv_audit(srv_request *req, const char *action, const char *entity_type, int64_t entity_id,
              json_t *details)
{
    char addr[64];
    const char *actor = req->caller.name[0] ? req->caller.name : "anonymous";
    return write_row(req->db, actor, req->caller.token_id, client_address(req, addr, sizeof addr),
                     action, entity_type, entity_id, details);
}

/* Read rows commit without waiting for the disk (srv_audit_queue_start() says why): lowers
 * conn's PRAGMA synchronous from FULL (or EXTRA) to NORMAL and returns the level to give back to
 * restore_sync(); -1 when it was NORMAL or lower already (nothing to restore). */
static int relax_sync(sqlite3 *conn)
{
    sqlite3_stmt *st = srv_db_prepare(conn, "PRAGMA synchronous");
    int level = st && sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
    sqlite3_finalize(st);
    if (level <= 1)
        return -1;
    sqlite3_exec(conn, "PRAGMA synchronous = NORMAL", NULL, NULL, NULL);
    return level;
}

static void restore_sync(sqlite3 *conn, int level)
{
    if (level < 0)
        return;
    char sql[48];
    snprintf(sql, sizeof sql, "PRAGMA synchronous = %d", level);
    sqlite3_exec(conn, sql, NULL, NULL, NULL);
}

/* ---------------------------------------------------------------- reads, written behind */

/* A read's row as taken when the read is served; hashed and written later. Identical reads
 * (same_read()) queued while the row waits are counted in it instead of queued again. */
typedef struct queued_read {
    int64_t token_id, entity_id, patient_id; /* patient_id 0: none */
    const char *route;                       /* the route template (static), "" for none */
    char entity_type[16], method[16], actor[64], client[48];
    int has_client;
    uint64_t key;   /* hash of the fields above: the coalescing index's */
    uint32_t count; /* reads this row stands for (>= 1) */
    time_t at;      /* when (the trail's resolution: a second) */
} queued_read;

#define QUEUE_ROWS   8192 /* bound of the queue: at ~20,000 reads a second, 0.4 s of them */
#define BATCH_ROWS   1024 /* rows a transaction at most; a queue this full is flushed at once */
#define FULL_WAIT_MS 2000 /* a read waits this long for room before it is refused */
#define INDEX_SLOTS  4096 /* the coalescing index: key -> ring slot (power of 2; lossy) */

static struct {
    pthread_mutex_t lock;
    pthread_cond_t work;    /* the flusher: rows to write, a flush asked for, or the stop */
    pthread_cond_t room;    /* readers waiting for room in a full queue */
    pthread_cond_t written; /* srv_audit_flush(): rows written */
    pthread_t thread;
    srv_db *db;
    queued_read *ring; /* QUEUE_ROWS slots; rows at head .. head + count - 1 (mod QUEUE_ROWS) */
    size_t head, count;
    size_t writing; /* the oldest rows the flusher is writing (lock out): left as they are */
    int32_t index[INDEX_SLOTS]; /* a queued row of each key (ring slot), or stale: checked */
    uint64_t queued, done;      /* rows ever queued, rows ever written */
    int started, stopping, flush_now;
} q = {.lock = PTHREAD_MUTEX_INITIALIZER,
       .work = PTHREAD_COND_INITIALIZER,
       .room = PTHREAD_COND_INITIALIZER,
       .written = PTHREAD_COND_INITIALIZER};

/* The details column of a read's row: {"method", "route", "patient_id" when known}, and for a
 * row standing for several identical reads of the same second their "count". New. */
static json_t *read_details_new(const queued_read *r)
{
    json_t *d = json_pack("{s:s, s:s}", "method", r->method, "route", r->route);
    int bad = !d;
    if (d && r->patient_id > 0)
        bad |= json_object_set_new(d, "patient_id", json_integer(r->patient_id));
    if (d && r->count > 1)
        bad |= json_object_set_new(d, "count", json_integer(r->count));
    if (bad) {
        json_decref(d);
        return NULL;
    }
    return d;
}

/* The audit_row of r, its time into at, its details text into *text (free() it). 0, or -1 out
 * of memory. */
static int read_row_of(const queued_read *r, audit_row *row, char at[32], char **text)
{
    json_t *d = read_details_new(r);
    *text = d ? json_dumps(d, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(d);
    iso_time(r->at, at);
    *row = (audit_row){.actor = r->actor,
                       .has_token = r->token_id > 0,
                       .token_id = r->token_id,
                       .action = "read",
                       .entity_type = r->entity_type,
                       .has_entity = 1,
                       .entity_id = r->entity_id,
                       .at = at,
                       .details = *text,
                       .client = r->has_client ? r->client : NULL};
    return *text ? 0 : -1;
}

/* Appends rows[0..n) after the head in one transaction on c. 0, or -1 (rolled back). */
static int write_batch(sqlite3 *c, const queued_read *rows, size_t n)
{
    char prev[65], hash[65];
    int64_t id;
    if (srv_db_begin(c))
        return -1;
    sqlite3_stmt *st = NULL;
    int rc = read_head(c, &id, prev) || !(st = srv_db_prepare(c, INSERT_ROW)) ? -1 : 0;
    for (size_t i = 0; i < n && !rc; i++) {
        audit_row row;
        char at[32], *text;
        rc = read_row_of(&rows[i], &row, at, &text);
        row.id = id + (int64_t)i;
        if (!rc && !(rc = insert_row(c, st, &row, prev, hash)))
            memcpy(prev, hash, sizeof prev);
        free(text);
    }
    sqlite3_finalize(st);
    if (!rc && n)
        rc = move_head(c, id + (int64_t)n - 1, prev, (int64_t)n);
    if (!rc)
        rc = srv_db_commit(c);
    if (rc)
        srv_db_rollback(c);
    return rc;
}

/* Writes the oldest queued rows (at most BATCH_ROWS, not across the ring's end) and drops them
 * from the queue once committed. Called and returns with q.lock held. 0, or -1. */
static int flush_some(sqlite3 *c)
{
    size_t n = q.count < BATCH_ROWS ? q.count : BATCH_ROWS;
    if (n > QUEUE_ROWS - q.head)
        n = QUEUE_ROWS - q.head;
    const queued_read *rows = &q.ring[q.head];
    /* Readers fill free slots and count reads into rows after these (enqueue()), so these rows
     * stay as they are while the lock is out. */
    q.writing = n;
    pthread_mutex_unlock(&q.lock);
    int rc = write_batch(c, rows, n);
    pthread_mutex_lock(&q.lock);
    q.writing = 0;
    if (rc)
        return -1;
    q.head = (q.head + n) % QUEUE_ROWS;
    q.count -= n;
    q.done += n;
    pthread_cond_broadcast(&q.room);
    pthread_cond_broadcast(&q.written);
    return 0;
}

/* The flusher: waits for a row, lets a batch gather for SRV_AUDIT_FLUSH_MS (unless a flush is
 * asked for or the queue is half full), writes; at the stop, writes what is left. */
static void *flusher(void *unused)
{
    (void)unused;
    sqlite3 *c = srv_db_acquire(q.db);
    int level = relax_sync(c);
    int failures = 0;
    pthread_mutex_lock(&q.lock);
    for (;;) {
        while (!q.count && !q.stopping)
            pthread_cond_wait(&q.work, &q.lock);
        if (!q.count)
            break; /* stopping, nothing left */
        if (!q.stopping && !q.flush_now && q.count < QUEUE_ROWS / 2) {
            struct timespec ts;
            srv_deadline_in(&ts, SRV_AUDIT_FLUSH_MS);
            pthread_cond_timedwait(&q.work, &q.lock, &ts);
        }
        if (!flush_some(c)) {
            failures = 0;
            q.flush_now = q.count > 0 && q.flush_now;
            continue;
        }
        if (failures++ % 50 == 0)
            srv_log(SRV_LOG_ERROR, "cannot write %zu read rows of the audit trail: %s (retrying)",
                    q.count, sqlite3_errmsg(c));
        if (q.stopping && failures > 20) {
            srv_log(SRV_LOG_ERROR, "stopping with %zu read rows of the audit trail unwritten",
                    q.count);
            break;
        }
        struct timespec ts;
        srv_deadline_in(&ts, 100);
        pthread_cond_timedwait(&q.work, &q.lock, &ts);
    }
    pthread_mutex_unlock(&q.lock);
    restore_sync(c, level);
    srv_db_release(q.db, c);
    return NULL;
}

int srv_audit_queue_start(srv_db *db)
{
    pthread_mutex_lock(&q.lock);
    int rc = -1;
    if (!q.started && (q.ring = calloc(QUEUE_ROWS, sizeof q.ring[0]))) {
        q.db = db;
        q.head = q.count = q.writing = 0;
        q.stopping = q.flush_now = 0;
        memset(q.index, 0xff, sizeof q.index); /* -1: none */
        if (pthread_create(&q.thread, NULL, flusher, NULL) == 0) {
            q.started = 1;
            rc = 0;
        } else {
            free(q.ring);
            q.ring = NULL;
        }
    }
    pthread_mutex_unlock(&q.lock);
    return rc;
}

void srv_audit_queue_stop(void)
{
    pthread_mutex_lock(&q.lock);
    if (!q.started) {
        pthread_mutex_unlock(&q.lock);
        return;
    }
    q.stopping = 1;
    pthread_cond_broadcast(&q.work);
    pthread_cond_broadcast(&q.room);
    pthread_mutex_unlock(&q.lock);
    pthread_join(q.thread, NULL);
    pthread_mutex_lock(&q.lock);
    q.started = 0;
    free(q.ring);
    q.ring = NULL;
    q.count = 0;
    pthread_cond_broadcast(&q.written);
    pthread_mutex_unlock(&q.lock);
}

int srv_audit_flush(void)
{
    int rc = 0;
    pthread_mutex_lock(&q.lock);
    uint64_t target = q.queued;
    if (q.started && q.done < target) {
        q.flush_now = 1;
        pthread_cond_signal(&q.work);
    }
    while (rc == 0 && q.started && q.done < target) {
        struct timespec ts;
        srv_deadline_in(&ts, 10000);
        if (pthread_cond_timedwait(&q.written, &q.lock, &ts) == ETIMEDOUT)
            rc = -1;
    }
    pthread_mutex_unlock(&q.lock);
    return rc;
}

/* Whether a and b are the same read (who, from where, what, by which route). */
static int same_read(const queued_read *a, const queued_read *b)
{
    return a->key == b->key && a->token_id == b->token_id && a->entity_id == b->entity_id &&
           a->patient_id == b->patient_id && a->has_client == b->has_client &&
           strcmp(a->route, b->route) == 0 && strcmp(a->entity_type, b->entity_type) == 0 &&
           strcmp(a->method, b->method) == 0 && strcmp(a->actor, b->actor) == 0 &&
           (!a->has_client || strcmp(a->client, b->client) == 0);
}

/* Counts r into a queued row of the same read in the same second that is not being written yet:
 * 1 when counted, 0 when there is none. Under q.lock. */
static int coalesce(const queued_read *r)
{
    int32_t slot = q.index[r->key & (INDEX_SLOTS - 1)];
    if (slot < 0)
        return 0;
    size_t age = ((size_t)slot + QUEUE_ROWS - q.head) % QUEUE_ROWS; /* 0: the oldest row */
    queued_read *row = &q.ring[slot];
    if (age < q.writing || age >= q.count || row->at != r->at || !same_read(row, r))
        return 0;
    row->count++;
    return 1;
}

/* Queues r, or counts it into a queued row of the same read: 1 when queued, 0 when the queue is
 * not running (write it now), -1 when it stayed full for FULL_WAIT_MS or is stopping. */
static int enqueue(const queued_read *r)
{
    pthread_mutex_lock(&q.lock);
    if (!q.started) {
        pthread_mutex_unlock(&q.lock);
        return 0;
    }
    if (!q.stopping && coalesce(r)) {
        pthread_mutex_unlock(&q.lock);
        return 1;
    }
    struct timespec ts;
    srv_deadline_in(&ts, FULL_WAIT_MS);
    while (q.count == QUEUE_ROWS && !q.stopping)
        if (pthread_cond_timedwait(&q.room, &q.lock, &ts) == ETIMEDOUT)
            break;
    int rc = -1;
    if (q.count < QUEUE_ROWS && !q.stopping) {
        size_t slot = (q.head + q.count) % QUEUE_ROWS;
        q.ring[slot] = *r;
        q.index[r->key & (INDEX_SLOTS - 1)] = (int32_t)slot;
        q.count++;
        q.queued++;
        if (q.count == 1 || q.count == QUEUE_ROWS / 2)
            pthread_cond_signal(&q.work);
        rc = 1;
    }
    pthread_mutex_unlock(&q.lock);
    return rc;
}

/* A read's row written now, in its own transaction (the queue is not running: tools, unit
 * tests), committed without waiting for the disk as the queue's are. 0, or -1. */
static int write_read_now(sqlite3 *c, const queued_read *r)
{
    if (!sqlite3_get_autocommit(c)) { /* inside the caller's transaction */
        audit_row row;
        char at[32], *text;
        int rc = read_row_of(r, &row, at, &text) || append(c, &row) ? -1 : 0;
        free(text);
        return rc;
    }
    int level = relax_sync(c);
    int rc = write_batch(c, r, 1);
    restore_sync(c, level);
    return rc;
}

/* The coalescing key of r: a hash of what same_read() compares. */
static uint64_t read_key(const queued_read *r)
{
    const int64_t ids[3] = {r->token_id, r->entity_id, r->patient_id};
    const char *texts[5] = {r->route, r->entity_type, r->method, r->actor,
                            r->has_client ? r->client : ""};
    uint64_t h = srv_fnv1a(SRV_FNV_SEED, ids, sizeof ids);
    for (size_t i = 0; i < 5; i++)
        h = srv_fnv1a(h, texts[i], strlen(texts[i]) + 1); /* with its NUL: a separator */
    return h;
}

/* A read's row; patient_id (0: none) lets the trail be filtered by patient. 0, or -1 after
 * answering 500. */
static int record_read(srv_request *req, const char *entity_type, int64_t entity_id,
                       int64_t patient_id)
{
    queued_read r = {.token_id = req->caller.token_id,
                     .entity_id = entity_id,
                     .patient_id = patient_id,
                     .route = req->route ? req->route->path : "",
                     .count = 1,
                     .at = time(NULL)};
    snprintf(r.entity_type, sizeof r.entity_type, "%s", entity_type);
    snprintf(r.method, sizeof r.method, "%s", req->method ? req->method : "GET");
    snprintf(r.actor, sizeof r.actor, "%s", req->caller.name[0] ? req->caller.name : "anonymous");
    r.has_client = client_address(req, r.client, sizeof r.client) != NULL;
    r.key = read_key(&r);
    int queued = enqueue(&r);
    if (queued < 0 || (queued == 0 && write_read_now(req->db, &r))) {
        srv_reply_internal(req, "cannot record a read in the audit trail");
        return -1;
    }
    return 0;
}

int srv_audit_read(srv_request *req, const char *entity_type, int64_t entity_id)
{
    return record_read(req, entity_type, entity_id, 0);
}

enum MHD_Result srv_audit_read_reply(srv_request *req, const char *entity_type, int64_t entity_id,
                                     json_t *body)
{
    json_t *pid = json_object_get(body, "patient_id");
    if (record_read(req, entity_type, entity_id,
                    json_is_integer(pid) ? json_integer_value(pid) : 0)) {
        json_decref(body);
        return MHD_YES;
    }
    return srv_reply_json(req, 200, body);
}

enum MHD_Result srv_audit_read_list(srv_request *req, const char *entity_type, int64_t entity_id,
                                    const char *key, json_t *rows)
{
    if (rows && srv_audit_read(req, entity_type, entity_id)) {
        json_decref(rows);
        return MHD_YES;
    }
    return srv_reply_list(req, key, rows);
}

/* ---------------------------------------------------------------- verification */

/* The row at the cursor of st (columns as in VERIFY_COLUMNS). */
#define VERIFY_COLUMNS                                                                             \
    "id, actor, token_id, action, entity_type, entity_id, at, details, client, prev_hash, hash"

static void row_of(sqlite3_stmt *st, audit_row *r)
{
    r->id = sqlite3_column_int64(st, 0);
    r->actor = (const char *)sqlite3_column_text(st, 1);
    r->has_token = sqlite3_column_type(st, 2) != SQLITE_NULL;
    r->token_id = sqlite3_column_int64(st, 2);
    r->action = (const char *)sqlite3_column_text(st, 3);
    r->entity_type = (const char *)sqlite3_column_text(st, 4);
    r->has_entity = sqlite3_column_type(st, 5) != SQLITE_NULL;
    r->entity_id = sqlite3_column_int64(st, 5);
    r->at = (const char *)sqlite3_column_text(st, 6);
    r->details = (const char *)sqlite3_column_text(st, 7);
    r->client = (const char *)sqlite3_column_text(st, 8);
}

static void broken(srv_audit_check *out, int64_t id, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void broken(srv_audit_check *out, int64_t id, const char *fmt, ...)
{
    va_list ap;
    out->ok = 0;
    out->broken_id = id;
    va_start(ap, fmt);
    vsnprintf(out->reason, sizeof out->reason, fmt, ap);
    va_end(ap);
}

/* Walks the rows in id order; stops at the first one that is wrong. 0, or -1 on SQL error. */
static int walk_chain(sqlite3 *c, srv_audit_check *out, int64_t *last_id, char last[65])
{
    sqlite3_stmt *st = srv_db_prepare(c, "SELECT " VERIFY_COLUMNS " FROM audit_log ORDER BY id");
    int rc;
    if (!st)
        return -1;
    snprintf(last, 65, "%s", GENESIS);
    *last_id = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        audit_row r;
        char want[65];
        row_of(st, &r);
        const char *prev = (const char *)sqlite3_column_text(st, 9);
        const char *hash = (const char *)sqlite3_column_text(st, 10);
        if ((!prev || strcmp(prev, last)) && r.id != *last_id + 1) {
            broken(out, *last_id + 1,
                   "row %lld is missing (deleted): row %lld does not chain to "
                   "row %lld",
                   (long long)(*last_id + 1), (long long)r.id, (long long)*last_id);
            break;
        }
        if (!prev || strcmp(prev, last)) {
            broken(out, r.id, "row %lld does not chain to row %lld (prev_hash changed)",
                   (long long)r.id, (long long)*last_id);
            break;
        }
        if (row_hash(prev, &r, want)) {
            sqlite3_finalize(st);
            return -1;
        }
        if (!hash || strcmp(hash, want)) {
            broken(out, r.id, "row %lld was changed (its content does not match its hash)",
                   (long long)r.id);
            break;
        }
        out->rows++;
        *last_id = r.id;
        snprintf(last, 65, "%s", hash);
    }
    sqlite3_finalize(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -1;
}

/* The walk ended at the newest row: does the head name it? */
static int check_head(sqlite3 *c, srv_audit_check *out, int64_t last_id, const char *last)
{
    sqlite3_stmt *st =
        srv_db_prepare(c, "SELECT last_id, hash, rows FROM audit_head WHERE one = 1");
    if (!st)
        return -1;
    int rc = sqlite3_step(st);
    int64_t head_id = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    const char *head = rc == SQLITE_ROW ? (const char *)sqlite3_column_text(st, 1) : GENESIS;
    int64_t rows = rc == SQLITE_ROW ? sqlite3_column_int64(st, 2) : 0;
    if (head_id != last_id || strcmp(head, last) || rows != out->rows)
        broken(out, last_id + 1,
               "the chain's head names row %lld (%lld rows) but the log ends at row %lld (%lld "
               "rows): the newest rows were deleted or the head was changed",
               (long long)head_id, (long long)rows, (long long)last_id, (long long)out->rows);
    sqlite3_finalize(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -1;
}

int srv_audit_verify(sqlite3 *conn, srv_audit_check *out)
{
    memset(out, 0, sizeof out[0]);
    out->ok = 1;
    srv_audit_flush(); /* the reads served so far are part of the chain checked */
    int64_t last_id = 0;
    char last[65] = GENESIS;
    /* One read snapshot: appends that commit meanwhile are not half seen. */
    if (sqlite3_exec(conn, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
        return -1;
    int rc = walk_chain(conn, out, &last_id, last);
    if (!rc && out->ok)
        rc = check_head(conn, out, last_id, last);
    sqlite3_exec(conn, "COMMIT", NULL, NULL, NULL);
    out->head_id = last_id;
    snprintf(out->head_hash, sizeof out->head_hash, "%s", last);
    return rc;
}

int srv_audit_chain_existing(sqlite3 *conn)
{
    sqlite3_stmt *st = srv_db_prepare(conn, "SELECT " VERIFY_COLUMNS
                                            " FROM audit_log WHERE hash IS NULL ORDER BY id");
    sqlite3_stmt *up = srv_db_prepare(conn, "UPDATE audit_log SET prev_hash = ?, hash = ? "
                                            "WHERE id = ?");
    char prev[65] = GENESIS, hash[65];
    int64_t last_id = 0, rows = 0;
    int rc = st && up ? SQLITE_ROW : SQLITE_ERROR;
    /* Ids are renumbered nowhere: a gap left by an old deletion is chained over, as found. */
    while (rc == SQLITE_ROW && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        audit_row r;
        row_of(st, &r);
        if (row_hash(prev, &r, hash)) {
            rc = SQLITE_NOMEM;
            break;
        }
        sqlite3_bind_text(up, 1, prev, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(up, 2, hash, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(up, 3, r.id);
        if (sqlite3_step(up) != SQLITE_DONE) {
            rc = SQLITE_ERROR;
            break;
        }
        sqlite3_reset(up);
        snprintf(prev, sizeof prev, "%s", hash);
        last_id = r.id;
        rows++;
    }
    sqlite3_finalize(st);
    sqlite3_finalize(up);
    if (rc != SQLITE_DONE)
        return -1;
    st = srv_db_prepare(conn, "INSERT OR REPLACE INTO audit_head (one, last_id, hash, rows) "
                              "VALUES (1, ?, ?, ?)");
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, last_id);
    sqlite3_bind_text(st, 2, prev, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, rows);
    rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
    sqlite3_finalize(st);
    return rc;
}
