/* Admin endpoints for people's accounts: create (the admin sets or the daemon generates a first
 * password, which must be changed at the first sign-in), list, get, update (role, disabled),
 * reset the password (also unlocks a locked name). Disabling, a role change and a reset end the
 * user's sessions at once; the account of the last enabled admin cannot be disabled or demoted.
 * Every write is audited in its own transaction, never with a password. */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "server/api.h"
#include "server/auth.h"
#include "server/options.h"
#include "server/query.h"
#include "server/rows.h"
#include "server/session.h"
#include "server/users.h"

static const char *const user_roles[] = {"clinician", "viewer", "admin", NULL};

/* The public columns of users u (never the hash); `locked` needs the lock-out threshold bound as
 * the first parameter. */
#define USER_SELECT                                                                                \
    "SELECT u.id, u.name, u.role, u.must_change AS must_change_password, u.disabled, "             \
    "coalesce(f.failures, 0) >= ?1 AS locked, u.created_at, u.updated_at, u.last_signin_at "       \
    "FROM users u LEFT JOIN signin_failures f ON f.kind = 'name' AND f.key = u.name "

/* The 0/1 columns of USER_SELECT, answered as JSON booleans. */
static const char *const user_booleans[] = {"must_change_password", "disabled", "locked", NULL};

/* The user `id` as a new object, or NULL (none, or an SQL error: *failed set). */
static json_t *user_get_new(srv_request *req, int64_t id, int *failed)
{
    json_t *args = json_pack("[iI]", req->cfg->signin_max_failures, (json_int_t)id);
    json_t *rows = args ? srv_rows_query_new(req->db, USER_SELECT "WHERE u.id = ?2", args) : NULL;
    json_t *row = NULL;
    json_decref(args);
    *failed = rows == NULL;
    if (rows && json_array_size(rows) == 1) {
        srv_rows_booleans(rows, user_booleans);
        row = json_incref(json_array_get(rows, 0));
    }
    json_decref(rows);
    return row;
}

/* In id order, a page at a time (limit, cursor). */
static enum MHD_Result list_users(srv_request *req)
{
    srv_cursor after;
    long limit;
    if (srv_query_int(req, "limit", 1, 1000, 100, &limit) || srv_query_cursor(req, &after))
        return srv_validate_done(req);
    json_t *args = json_pack("[i, I, i]", req->cfg->signin_max_failures,
                             (json_int_t)(after.present ? after.id : 0), (int)limit + 1);
    json_t *rows = args ? srv_rows_query_new(
                              req->db, USER_SELECT "WHERE u.id > ?2 ORDER BY u.id LIMIT ?3", args)
                        : NULL;
    json_decref(args);
    srv_rows_booleans(rows, user_booleans);
    return srv_reply_page(req, "users", rows, limit, "id", NULL);
}

static enum MHD_Result get_user(srv_request *req)
{
    int64_t id;
    int failed;
    if (srv_param_id(req, 0, &id))
        return srv_validate_done(req);
    json_t *row = user_get_new(req, id, &failed);
    return srv_reply_lookup(req, row ? SRV_OK : failed ? SRV_INTERNAL : SRV_NOT_FOUND, row, "user");
}

/* The password of a create or reset: the body's (checked against the policy) or a generated one
 * written into generated (then *chosen points there). 0, or -1 after answering 422. */
static int first_password(srv_request *req, const char *name, const char **chosen, char *generated)
{
    const char *given, *why;
    if (srv_get_string(req, req->json, "password", 0, 0, &given))
        return -1;
    if (!given) {
        srv_password_generate(generated);
        *chosen = generated;
        return 0;
    }
    if ((why = srv_password_policy(name, given))) {
        srv_reply_error(req, 422, "weak_password", "password", "%s", why);
        return -1;
    }
    *chosen = given;
    return 0;
}

/* Answers the written user `id` (status), adding the generated password when there is one,
 * after committing; on any failure rolls back and answers 500/401. */
static enum MHD_Result commit_user(srv_request *req, int64_t id, unsigned status,
                                   const char *generated)
{
    int failed;
    json_t *row = user_get_new(req, id, &failed);
    if (!row) {
        srv_db_rollback(req->db);
        return srv_reply_internal(req, "cannot read a written user");
    }
    if (srv_auth_commit(req)) {
        json_decref(row);
        return MHD_YES;
    }
    if (generated && *generated)
        json_object_set_new(row, "initial_password", json_string(generated));
    return srv_reply_json(req, status, row);
}

static enum MHD_Result create_user(srv_request *req)
{
    static const char *const fields[] = {"name", "role", "password", NULL};
    const char *name, *role, *password;
    char generated[SRV_PASSWORD_CHARS + 1] = "";
    int64_t id = 0;
    if (srv_check_fields(req, req->json, fields) ||
        srv_get_string(req, req->json, "name", 1, 63, &name) ||
        srv_get_enum(req, req->json, "role", 1, user_roles, &role))
        return srv_validate_done(req);
    if (!srv_user_name_valid(name))
        return srv_reply_error(req, 422, "invalid_value", "name",
                               "a user name is 1-63 characters of a-z 0-9 . _ - (lowercase), "
                               "starting with a letter or a digit");
    if (first_password(req, name, &password, generated))
        return srv_validate_done(req);
    if (srv_db_begin(req->db))
        return srv_reply_internal(req, "begin failed");
    int rc = srv_user_create(req->db, name, role, password, &id);
    json_t *details = json_pack("{s:s, s:s}", "name", name, "role", role);
    if (rc == 0 && srv_audit(req, "create", "user", id, details))
        rc = -1;
    json_decref(details);
    if (rc) {
        srv_db_rollback(req->db);
        return rc == 1 ? srv_reply_error(req, MHD_HTTP_CONFLICT, "conflict", "name",
                                         "a user with this name exists")
                       : srv_reply_internal(req, "cannot create a user");
    }
    enum MHD_Result ret = commit_user(req, id, MHD_HTTP_CREATED, generated);
    sodium_memzero(generated, sizeof generated);
    return ret;
}

/* Enabled admin accounts other than id; -1 on an SQL error. */
static int other_admins(sqlite3 *db, int64_t id)
{
    return srv_auth_count(
        db, "SELECT count(*) FROM users WHERE role = 'admin' AND disabled = 0 AND id <> ?", id);
}

/* Applies role/disabled changes to `have` (the stored row) inside the open transaction: 0, or -1
 * after answering (rolled back). Ends the user's sessions when either changes. */
static int apply_update(srv_request *req, int64_t id, json_t *have, const char *role, int disabled,
                        int has_disabled)
{
    const char *old_role = json_string_value(json_object_get(have, "role"));
    int was_disabled = json_is_true(json_object_get(have, "disabled"));
    int demoted = role && strcmp(old_role, "admin") == 0 && strcmp(role, "admin") != 0;
    int disabling = has_disabled && disabled && !was_disabled;
    int changed =
        (role && strcmp(role, old_role) != 0) || (has_disabled && disabled != was_disabled);
    if (strcmp(old_role, "admin") == 0 && !was_disabled && (demoted || disabling)) {
        int others = other_admins(req->db, id);
        if (others <= 0) {
            srv_db_rollback(req->db);
            if (others < 0)
                srv_reply_internal(req, "cannot count admins");
            else
                srv_reply_error(req, MHD_HTTP_CONFLICT, "last_admin", NULL,
                                "this is the last enabled admin account: make another first");
            return -1;
        }
    }
    json_t *values = json_object(), *details = NULL;
    if (role)
        json_object_set_new(values, "role", json_string(role));
    if (has_disabled)
        json_object_set_new(values, "disabled", json_integer(disabled));
    int bad = !values || (changed && (srv_row_update(req->db, "users", id, values) ||
                                      srv_session_end_user(req->db, id, 0)));
    if (!bad && changed) {
        details = srv_row_changes_new(have, values);
        bad = srv_audit(req, "update", "user", id, details) != 0;
    }
    json_decref(values);
    json_decref(details);
    if (bad) {
        srv_db_rollback(req->db);
        srv_reply_internal(req, "cannot update a user");
        return -1;
    }
    return 0;
}

/* Loads user `id` (path parameter 0) after BEGIN: the row, or NULL after answering. */
static json_t *begin_on_user(srv_request *req, int64_t *id)
{
    int failed;
    json_t *have;
    if (srv_param_id(req, 0, id))
        return NULL;
    if (srv_db_begin(req->db)) {
        srv_reply_internal(req, "begin failed");
        return NULL;
    }
    if (!(have = user_get_new(req, *id, &failed))) {
        srv_db_rollback(req->db);
        if (failed)
            srv_reply_internal(req, "cannot read a user");
        else
            srv_reply_error(req, MHD_HTTP_NOT_FOUND, "not_found", NULL, "no such user");
    }
    return have;
}

static enum MHD_Result update_user(srv_request *req)
{
    static const char *const fields[] = {"role", "disabled", NULL};
    const char *role;
    int disabled = 0, has_disabled = 0;
    int64_t id;
    if (srv_check_fields(req, req->json, fields) ||
        srv_get_enum(req, req->json, "role", 0, user_roles, &role) ||
        srv_get_bool(req, req->json, "disabled", 0, &disabled, &has_disabled))
        return srv_validate_done(req);
    json_t *have = begin_on_user(req, &id);
    if (!have)
        return srv_validate_done(req);
    int bad = apply_update(req, id, have, role, disabled, has_disabled);
    json_decref(have);
    return bad ? srv_validate_done(req) : commit_user(req, id, MHD_HTTP_OK, NULL);
}

static enum MHD_Result reset_password(srv_request *req)
{
    static const char *const fields[] = {"password", NULL};
    const char *password;
    char generated[SRV_PASSWORD_CHARS + 1] = "";
    int64_t id;
    if (srv_check_fields(req, req->json, fields))
        return srv_validate_done(req);
    json_t *have = begin_on_user(req, &id);
    if (!have)
        return srv_validate_done(req);
    const char *name = json_string_value(json_object_get(have, "name"));
    if (first_password(req, name, &password, generated)) {
        srv_db_rollback(req->db);
        json_decref(have);
        return srv_validate_done(req);
    }
    /* A reset unlocks the name and ends every session of the user. */
    int bad = srv_user_set_password(req->db, id, password, 1) || srv_signin_clear(req->db, name) ||
              srv_session_end_user(req->db, id, 0) ||
              srv_audit(req, "reset_password", "user", id, NULL);
    json_decref(have);
    enum MHD_Result ret;
    if (bad) {
        srv_db_rollback(req->db);
        ret = srv_reply_internal(req, "cannot reset a password");
    } else {
        ret = commit_user(req, id, MHD_HTTP_OK, generated);
    }
    sodium_memzero(generated, sizeof generated);
    return ret;
}

const srv_route srv_users_routes[] = {
    {.method = "POST",
     .path = "/api/v1/users",
     .handler = create_user,
     .roles = SRV_ROLE_ADMIN,
     .body = SRV_BODY_JSON},
    {.method = "GET",
     .path = "/api/v1/users",
     .handler = list_users,
     .roles = SRV_ROLE_ADMIN,
     .query = (const char *const[]){"limit", "cursor", NULL}},
    {.method = "GET", .path = "/api/v1/users/{id}", .handler = get_user, .roles = SRV_ROLE_ADMIN},
    {.method = "PATCH",
     .path = "/api/v1/users/{id}",
     .handler = update_user,
     .roles = SRV_ROLE_ADMIN,
     .body = SRV_BODY_JSON},
    {.method = "POST",
     .path = "/api/v1/users/{id}/password",
     .handler = reset_password,
     .roles = SRV_ROLE_ADMIN,
     .body = SRV_BODY_JSON},
    {0},
};
