/* Admin endpoints for API tokens: create (the secret is in the answer, once), list (never a
 * secret nor a hash), revoke. Every write is audited in its own transaction. */
#include <string.h>

#include "server/api.h"
#include "server/auth.h"

static const char *const role_names[] = {"lims", "clinician", "admin", NULL};

/* One token row as JSON (new reference). Columns: id, role, label, created_at, revoked_at. */
static json_t *token_json(sqlite3_stmt *st)
{
    json_t *o = json_pack("{s:I, s:s, s:s, s:s}", "id", (json_int_t)sqlite3_column_int64(st, 0),
                          "role", (const char *)sqlite3_column_text(st, 1), "label",
                          (const char *)sqlite3_column_text(st, 2), "created_at",
                          (const char *)sqlite3_column_text(st, 3));
    if (o)
        json_object_set_new(o, "revoked_at",
                            sqlite3_column_type(st, 4) == SQLITE_NULL
                                ? json_null()
                                : json_string((const char *)sqlite3_column_text(st, 4)));
    return o;
}

#define TOKEN_COLUMNS "id, role, label, created_at, revoked_at"

static enum MHD_Result create_token(srv_request *req)
{
    static const char *const fields[] = {"role", "label", NULL};
    const char *role, *label;
    char secret[65];
    int64_t id;
    if (srv_check_fields(req, req->json, fields) ||
        srv_get_enum(req, req->json, "role", 1, role_names, &role) ||
        srv_get_string(req, req->json, "label", 1, 63, &label))
        return srv_validate_done(req);
    if (srv_db_begin(req->db))
        return srv_reply_internal(req, "begin failed");
    json_t *details = json_pack("{s:s, s:s}", "role", role, "label", label);
    if (srv_auth_create(req->db, role, label, secret, &id) ||
        srv_audit(req, "create", "token", id, details) || srv_db_commit(req->db)) {
        json_decref(details);
        srv_db_rollback(req->db);
        memset(secret, 0, sizeof secret);
        return srv_reply_internal(req, "token creation failed");
    }
    json_decref(details);
    json_t *body = json_pack("{s:I, s:s, s:s, s:s}", "id", (json_int_t)id, "role", role, "label",
                             label, "token", secret);
    memset(secret, 0, sizeof secret);
    return srv_reply_json(req, MHD_HTTP_CREATED, body);
}

static enum MHD_Result list_tokens(srv_request *req)
{
    sqlite3_stmt *st = srv_db_prepare(req->db, "SELECT " TOKEN_COLUMNS " FROM tokens ORDER BY id");
    json_t *arr = json_array();
    int rc;
    if (!st || !arr)
        goto fail;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        if (json_array_append_new(arr, token_json(st)))
            goto fail;
    if (rc != SQLITE_DONE)
        goto fail;
    sqlite3_finalize(st);
    return srv_reply_json(req, MHD_HTTP_OK, json_pack("{s:o}", "tokens", arr));
fail:
    sqlite3_finalize(st);
    json_decref(arr);
    return srv_reply_internal(req, "listing tokens failed");
}

/* Active admin tokens other than `id` (-1 on an SQL error): revoking the last one would lock
 * every admin out. */
static int other_admins(sqlite3 *db, int64_t id)
{
    int n = -1;
    sqlite3_stmt *st = srv_db_prepare(db, "SELECT count(*) FROM tokens WHERE role = 'admin' AND "
                                          "revoked_at IS NULL AND id <> ?");
    if (st) {
        sqlite3_bind_int64(st, 1, id);
        if (sqlite3_step(st) == SQLITE_ROW)
            n = sqlite3_column_int(st, 0);
    }
    sqlite3_finalize(st);
    return n;
}

static enum MHD_Result revoke_token(srv_request *req)
{
    int64_t id;
    sqlite3_stmt *st = NULL;
    json_t *row = NULL;
    if (srv_param_id(req, 0, &id))
        return srv_validate_done(req);
    if (srv_db_begin(req->db))
        return srv_reply_internal(req, "begin failed");
    st = srv_db_prepare(req->db, "SELECT " TOKEN_COLUMNS " FROM tokens WHERE id = ?");
    if (!st)
        goto fail;
    sqlite3_bind_int64(st, 1, id);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_DONE) {
        sqlite3_finalize(st);
        srv_db_rollback(req->db);
        return srv_reply_error(req, MHD_HTTP_NOT_FOUND, "not_found", NULL, "no such token");
    }
    if (rc != SQLITE_ROW)
        goto fail;
    int already = sqlite3_column_type(st, 4) != SQLITE_NULL;
    int is_admin = strcmp((const char *)sqlite3_column_text(st, 1), "admin") == 0;
    sqlite3_finalize(st);
    st = NULL;
    if (!already) {
        /* A failed count (-1) must not pass for "other admins exist". */
        int others = is_admin ? other_admins(req->db, id) : 1;
        if (others < 0)
            goto fail;
        if (others == 0) {
            srv_db_rollback(req->db);
            return srv_reply_error(req, MHD_HTTP_CONFLICT, "last_admin", NULL,
                                   "this is the last active admin token: create another first");
        }
        st = srv_db_prepare(req->db, "UPDATE tokens SET revoked_at = "
                                     "strftime('%Y-%m-%dT%H:%M:%SZ', 'now') WHERE id = ?");
        if (!st)
            goto fail;
        sqlite3_bind_int64(st, 1, id);
        if (sqlite3_step(st) != SQLITE_DONE)
            goto fail;
        sqlite3_finalize(st);
        st = NULL;
        if (srv_audit(req, "revoke", "token", id, NULL))
            goto fail;
    }
    /* Answer with the row as stored, revoked_at included; revoking twice changes nothing. */
    st = srv_db_prepare(req->db, "SELECT " TOKEN_COLUMNS " FROM tokens WHERE id = ?");
    if (!st)
        goto fail;
    sqlite3_bind_int64(st, 1, id);
    if (sqlite3_step(st) != SQLITE_ROW || !(row = token_json(st)))
        goto fail;
    sqlite3_finalize(st);
    if (srv_db_commit(req->db)) {
        json_decref(row);
        srv_db_rollback(req->db);
        return srv_reply_internal(req, "commit failed");
    }
    return srv_reply_json(req, MHD_HTTP_OK, row);
fail:
    sqlite3_finalize(st);
    json_decref(row);
    srv_db_rollback(req->db);
    return srv_reply_internal(req, "revoking a token failed");
}

const srv_route srv_tokens_routes[] = {
    {.method = "POST",
     .path = "/api/v1/tokens",
     .handler = create_token,
     .roles = SRV_ROLE_ADMIN,
     .body = SRV_BODY_JSON},
    {.method = "GET", .path = "/api/v1/tokens", .handler = list_tokens, .roles = SRV_ROLE_ADMIN},
    {.method = "DELETE",
     .path = "/api/v1/tokens/{id}",
     .handler = revoke_token,
     .roles = SRV_ROLE_ADMIN},
    {0},
};
