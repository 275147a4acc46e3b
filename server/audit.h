/* Audit log: one row per write, inside the write's own transaction. */
#ifndef SRV_AUDIT_H
#define SRV_AUDIT_H

#include "server/http.h"

/* Records that req's caller did `action` ("create", "update", "delete", "acknowledge", ...) on
 * entity_type/entity_id; details (borrowed, may be NULL) is stored as JSON text. 0 on success. */
int srv_audit(srv_request *req, const char *action, const char *entity_type, int64_t entity_id,
              json_t *details);
/* The same without a request (start-up, job workers): actor is a free label such as "system",
 * token_id 0 for none. Runs on conn inside the caller's transaction. 0 on success. */
int srv_audit_write(sqlite3 *conn, const char *actor, int64_t token_id, const char *action,
                    const char *entity_type, int64_t entity_id, json_t *details);

#endif
