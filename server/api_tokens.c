/* Admin endpoints for API tokens (machines): create (the secret is in the answer, once; an
 * optional expiry; the creating user as owner), list (never a secret nor a hash; last use),
 * revoke. Every write is audited in its own transaction. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "server/api.h"
#include "server/auth.h"
#include "server/query.h"
#include "server/rows.h"

static const char *const role_names[] = {"lims", "clinician", "viewer", "admin", NULL};

/* One token row as JSON (new reference). Columns: TOKEN_COLUMNS. */
static json_t *token_json(sqlite3_stmt *st)
{
    static const char *const optional[] = {"expires_at", "last_used_at"};
    json_t *o = json_pack("{s:I, s:s, s:s, s:s}", "id", (json_int_t)sqlite3_column_int64(st, 0),
                          "role", (const char *)sqlite3_column_text(st, 1), "label",
                          (const char *)sqlite3_column_text(st, 2), "created_at",
                          (const char *)sqlite3_column_text(st, 3));
    if (o)
        json_object_set_new(o, "revoked_at",
                            sqlite3_column_type(st, 4) == SQLITE_NULL
                                ? json_null()
                                : json_string((const char *)sqlite3_column_text(st, 4)));
    for (int i = 0; o && i < 2; i++)
        json_object_set_new(o, optional[i], srv_col_text_new(st, 5 + i));
    if (o)
        json_object_set_new(o, "owner", srv_col_text_new(st, 7)); /* the user's name, or null */
    return o;
}

#define TOKEN_COLUMNS                                                                              \
    "id, role, label, created_at, revoked_at, expires_at, last_used_at, "                          \
    "(SELECT name FROM users u WHERE u.id = owner_user_id)"

/* The optional "expires_at" of a new token: "YYYY-MM-DDTHH:MM:SSZ", a real instant in the
 * future. 0 (*out NULL when absent), or -1 after answering 422. */
static int get_expiry(srv_request *req, const char **out)
{
    int y, mo, d, h, mi, sec, n = 0;
    if (srv_get_string(req, req->json, "expires_at", 0, 20, out) || !*out)
        return *out ? -1 : 0;
    struct tm tm = {0};
    if (sscanf(*out, "%4d-%2d-%2dT%2d:%2d:%2dZ%n", &y, &mo, &d, &h, &mi, &sec, &n) == 6 &&
        n == 20) {
        tm = (struct tm){.tm_year = y - 1900,
                         .tm_mon = mo - 1,
                         .tm_mday = d,
                         .tm_hour = h,
                         .tm_min = mi,
                         .tm_sec = sec};
        time_t t = timegm(&tm);
        struct tm back;
        gmtime_r(&t, &back);
        if (back.tm_mday == d && back.tm_mon == mo - 1 && back.tm_hour == h && t > time(NULL))
            return 0;
    }
    srv_reply_error(req, 422, "invalid_value", "expires_at",
                    "expires_at must be a future instant, YYYY-MM-DDTHH:MM:SSZ (UTC)");
    return -1;
}

static enum MHD_Result create_token(srv_request *req)
{
    static const char *const fields[] = {"role", "label", "expires_at", NULL};
    const char *role, *label, *expires = NULL;
    char secret[65];
    int64_t id;
    if (srv_check_fields(req, req->json, fields) ||
        srv_get_enum(req, req->json, "role", 1, role_names, &role) ||
        srv_get_string(req, req->json, "label", 1, 63, &label) || get_expiry(req, &expires))
        return srv_validate_done(req);
    if (srv_db_begin(req->db))
        return srv_reply_internal(req, "begin failed");
    json_t *details = json_pack("{s:s, s:s}", "role", role, "label", label);
    if (details && expires)
        json_object_set_new(details, "expires_at", json_string(expires));
    /* The owner is the signed-in user (or the owner of the admin token used): disabling them
     * stops the token too. */
    if (srv_auth_create_owned(req->db, role, label, req->caller.user_id, expires, secret, &id) ||
        srv_audit(req, "create", "token", id, details)) {
        json_decref(details);
        srv_db_rollback(req->db);
        memset(secret, 0, sizeof secret);
        return srv_reply_internal(req, "token creation failed");
    }
    json_decref(details);
    if (srv_auth_commit(req)) {
        memset(secret, 0, sizeof secret);
        return MHD_YES;
    }
    json_t *body = json_pack("{s:I, s:s, s:s, s:s}", "id", (json_int_t)id, "role", role, "label",
                             label, "token", secret);
    if (body)
        json_object_set_new(body, "expires_at", expires ? json_string(expires) : json_null());
    memset(secret, 0, sizeof secret);
    return srv_reply_json(req, MHD_HTTP_CREATED, body);
}

/* GET /api/v1/tokens?limit=&cursor=: in id order, paged (server/query.h). */
static enum MHD_Result list_tokens(srv_request *req)
{
    long limit;
    srv_cursor after;
    if (srv_query_int(req, "limit", 1, 1000, 500, &limit) || srv_query_cursor(req, &after))
        return srv_validate_done(req);
    sqlite3_stmt *st = srv_db_prepare(req->db, "SELECT " TOKEN_COLUMNS
                                               " FROM tokens WHERE id > ? ORDER BY id LIMIT ?");
    json_t *arr = json_array();
    int rc;
    if (!st || !arr)
        goto fail;
    sqlite3_bind_int64(st, 1, after.id);
    sqlite3_bind_int64(st, 2, limit + 1);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        if (json_array_append_new(arr, token_json(st)))
            goto fail;
    if (rc != SQLITE_DONE)
        goto fail;
    sqlite3_finalize(st);
    return srv_reply_page(req, "tokens", arr, limit, "id", NULL);
fail:
    sqlite3_finalize(st);
    json_decref(arr);
    return srv_reply_internal(req, "listing tokens failed");
}

/* Active admin tokens other than `id` (-1 on an SQL error): revoking the last one would lock
 * every admin out. */
static int other_admins(sqlite3 *db, int64_t id)
{
    return srv_auth_count(db,
                          "SELECT count(*) FROM tokens WHERE role = 'admin' AND "
                          "revoked_at IS NULL AND id <> ?",
                          id);
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
    if (srv_auth_commit(req)) {
        json_decref(row);
        return MHD_YES;
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
    {.method = "GET",
     .path = "/api/v1/tokens",
     .handler = list_tokens,
     .roles = SRV_ROLE_ADMIN,
     .query = (const char *const[]){"limit", "cursor", NULL}},
    {.method = "DELETE",
     .path = "/api/v1/tokens/{id}",
     .handler = revoke_token,
     .roles = SRV_ROLE_ADMIN},
    {0},
};
