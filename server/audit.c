/* Audit log: one audit_log row per write, in the same transaction as the write, so the log and
 * the data can never disagree. */
#include "server/audit.h"

#include <stdlib.h>
#include <time.h>

#include "server/db.h"
#include "server/log.h"

int srv_audit_write(sqlite3 *conn, const char *actor, int64_t token_id, const char *action,
                    const char *entity_type, int64_t entity_id, json_t *details)
{
    char at[32], *text = NULL;
    int rc = -1;
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(at, sizeof at, "%Y-%m-%dT%H:%M:%SZ", &tm);
    sqlite3_stmt *st = srv_db_prepare(conn, "INSERT INTO audit_log (actor, token_id, action, "
                                            "entity_type, entity_id, at, details) "
                                            "VALUES (?, ?, ?, ?, ?, ?, ?)");
    if (!st)
        goto fail;
    if (details && !(text = json_dumps(details, JSON_COMPACT | JSON_SORT_KEYS)))
        goto fail;
    sqlite3_bind_text(st, 1, actor, -1, SQLITE_STATIC);
    if (token_id > 0)
        sqlite3_bind_int64(st, 2, token_id);
    else
        sqlite3_bind_null(st, 2);
    sqlite3_bind_text(st, 3, action, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, entity_type, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, entity_id);
    sqlite3_bind_text(st, 6, at, -1, SQLITE_STATIC);
    if (text)
        sqlite3_bind_text(st, 7, text, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, 7);
    if (sqlite3_step(st) != SQLITE_DONE) {
        srv_log(SRV_LOG_ERROR, "audit insert failed: %s", sqlite3_errmsg(conn));
        goto fail;
    }
    rc = 0;
fail:
    sqlite3_finalize(st);
    free(text);
    return rc;
}

int srv_audit(srv_request *req, const char *action, const char *entity_type, int64_t entity_id,
              json_t *details)
{
    const char *actor = req->caller.name[0] ? req->caller.name : "anonymous";
    return srv_audit_write(req->db, actor, req->caller.token_id, action, entity_type, entity_id,
                           details);
}
