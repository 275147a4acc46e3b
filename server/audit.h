/* Audit trail: one row per write, inside the write's own transaction, and one per read of a
 * patient's data; every row is chained to the previous one by a SHA-256 (schema/007), so an edit
 * or a deletion is found by srv_audit_verify(). */
#ifndef SRV_AUDIT_H
#define SRV_AUDIT_H

#include "server/http.h"

/* Records that req's caller did `action` ("create", "update", "delete", "acknowledge", ...) on
 * entity_type/entity_id, from the request's client address; details (borrowed, may be NULL) is
 * stored as JSON text. Inside the caller's transaction when one is open, else in its own.
 * 0 on success. */
int srv_audit(srv_request *req, const char *action, const char *entity_type, int64_t entity_id,
              json_t *details);
/* The same without a request (start-up, job workers): actor is a free label such as "system",
 * token_id 0 for none. Runs on conn inside the caller's transaction (or its own). 0 on success. */
int srv_audit_write(sqlite3 *conn, const char *actor, int64_t token_id, const char *action,
                    const char *entity_type, int64_t entity_id, json_t *details);

/* Records that req's caller read entity_type/entity_id ("patient" id, "sample" id, "alert" id)
 * of a patient: action "read", the route template and method in details (and "count" for a row
 * that stands for several identical reads of the same second). Call it from a GET
 * handler once the data is found and before answering:
 *     if (srv_audit_read(req, "patient", id)) return MHD_YES;
 * Queues the row (see srv_audit_queue_start), or writes it on req->db when the queue is not
 * running. 0 when recorded; -1 after answering 500 itself: a read that cannot be traced (the
 * queue stayed full) is not served. */
int srv_audit_read(srv_request *req, const char *entity_type, int64_t entity_id);

/* The usual end of a read handler: records the read, then answers 200 with body (stolen; a
 * "patient_id" member of it goes into the row's details, so the trail can be filtered by
 * patient), or 500 when it cannot be recorded:
 *     return srv_audit_read_reply(req, "sample", sample_id, row); */
enum MHD_Result srv_audit_read_reply(srv_request *req, const char *entity_type, int64_t entity_id,
                                     json_t *body);
/* The same for a list: 200 {key: rows} (rows stolen; NULL answers 500 as srv_reply_list). */
enum MHD_Result srv_audit_read_list(srv_request *req, const char *entity_type, int64_t entity_id,
                                    const char *key, json_t *rows);

/* Read rows written behind (DESIGN in audit.c): srv_audit_read() queues the row (or counts the
 * read into a queued row of the same read in the same second: "count" in its details), one
 * thread appends the queue in batches every SRV_AUDIT_FLUSH_MS. Those commits do not wait for the
 * disk (synchronous = NORMAL): a crash of the daemon keeps every committed row, a power cut may
 * lose the newest read rows (the next write's FULL commit makes everything before it durable),
 * never a write, and never breaks the chain (the WAL replays whole commits only). Besides, a crash
 * loses the rows still queued: the reads of the last SRV_AUDIT_FLUSH_MS or so. Without a
 * started queue (tools, unit tests) each read's row is written at once. */
#define SRV_AUDIT_FLUSH_MS 20
/* Starts the flusher on db (it keeps one connection of the pool until the stop). 0, or -1. */
int srv_audit_queue_start(struct srv_db *db);
/* Writes every queued row, then stops the flusher. Call after the HTTP server has stopped and
 * before the pool is closed. NULL-safe in spirit: does nothing when the queue is not running. */
void srv_audit_queue_stop(void);
/* Returns once every read row queued before the call is written (the trail's readers call it
 * first, so they see every read served before them). 0, or -1 after 10 s without progress. */
int srv_audit_flush(void);

/* The result of a verification of the whole chain. */
typedef struct srv_audit_check {
    int ok;            /* 1 when every row and the head agree */
    int64_t rows;      /* rows checked */
    int64_t broken_id; /* first row found wrong (or missing); 0 when ok */
    char reason[200];  /* why, for the operator */
    int64_t head_id;   /* newest row and its hash (pin it elsewhere to detect a rewrite) */
    char head_hash[65];
} srv_audit_check;

/* Recomputes every row's hash in a read snapshot of conn. 0 with *out filled (out->ok says
 * whether the chain holds), -1 on a database error. */
int srv_audit_verify(sqlite3 *conn, srv_audit_check *out);

/* Migration 007: gives the rows written before the chain existed their prev_hash and hash, in
 * id order, and fills audit_head. Runs inside the migration's transaction. 0, or -1. */
int srv_audit_chain_existing(sqlite3 *conn);

#endif
