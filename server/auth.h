/* API tokens (machines): random secrets shown once, stored only as SHA-256 hashes, each with a
 * role, an optional owner and expiry. Also the re-check of any caller before a commit. */
#ifndef SRV_AUTH_H
#define SRV_AUTH_H

#include <stddef.h>
#include <stdint.h>

#include "server/http.h"

/* Checks "Authorization: Bearer <token>" against the tokens table: revoked, expired tokens and
 * tokens of a disabled owner are refused. Returns 0 and fills caller (token_id, role, label as
 * name, owner as user_id) and records the use (last_used_at, once a minute), or -1. */
int srv_auth_check(sqlite3 *conn, const char *authorization_header, srv_caller *caller);
/* Creates a token with a role name ("lims", "clinician", "viewer", "admin") and a label. Writes
 * the clear secret (shown once, never stored) into secret (size >= 65) and its id into *id. 0 on
 * success. srv_auth_create_owned also records the owner (users.id, 0 for none) and an expiry
 * (ISO 8601 UTC "YYYY-MM-DDTHH:MM:SSZ", NULL for none). */
int srv_auth_create(sqlite3 *conn, const char *role, const char *label, char *secret, int64_t *id);
int srv_auth_create_owned(sqlite3 *conn, const char *role, const char *label, int64_t owner,
                          const char *expires_at, char *secret, int64_t *id);
/* Just before a request commits: is its caller (token, or session and user) still valid? A token
 * revoked or a user disabled while the request ran must write nothing. 0 = still valid; else
 * req has been answered (401, or 500 on an SQL error) and the caller must roll back. Runs on
 * req->db inside the open transaction; 0 for public routes. */
int srv_auth_recheck(srv_request *req);
/* srv_auth_recheck(), then COMMIT: 0 when committed; else rolled back and answered (401/500). */
int srv_auth_commit(srv_request *req);
/* At first start (no token at all): creates an admin token and returns 1 with its secret, so
 * main can print it once; 0 when tokens already exist; -1 on error. */
int srv_auth_bootstrap(sqlite3 *conn, char *secret);
/* A lims caller reads only its own jobs: 1 when sample_id's input was uploaded (an "upload"
 * audit row) by token_id or a token of the same label (the same LIMS, so a rotated token keeps
 * its jobs), 0 when not, -1 on an SQL error. */
int srv_auth_uploaded_by(sqlite3 *conn, int64_t sample_id, int64_t token_id);
/* The count(*) of sql run with id bound to its one parameter; -1 on an SQL error (the "last
 * admin" guards of tokens and users). */
int srv_auth_count(sqlite3 *conn, const char *sql, int64_t id);
/* "lims" -> SRV_ROLE_LIMS, "viewer" -> SRV_ROLE_VIEWER ...; 0 for an unknown name. */
unsigned srv_role_parse(const char *name);
const char *srv_role_name(unsigned role);

#endif
