/* Sign-in sessions: server-side rows named by a random cookie (32 bytes from randombytes_buf,
 * hex), stored only as its SHA-256, each with a CSRF token, an idle and an absolute expiry. A
 * session ends on sign-out, on a password change or reset, and when its user is disabled. */
#ifndef SRV_SESSION_H
#define SRV_SESSION_H

#include <stdint.h>

#include "server/http.h"

#define SRV_SESSION_COOKIE "rw_session"

struct srv_config;

/* Opens a session for user_id from address (in the caller's transaction). Writes the cookie
 * value and the CSRF token (64 hex digits each; size >= 65) and the row id. 0 or -1. */
int srv_session_create(sqlite3 *conn, int64_t user_id, const char *address, char *cookie,
                       char *csrf, int64_t *id);
/* Looks the cookie value up: an open session of an enabled user, within cfg's idle and absolute
 * limits. Fills who (session_id, user_id, role, name, must_change) and csrf (size >= 65), and
 * records the request as the session's last activity. 0, or -1 (no such live session). */
int srv_session_check(sqlite3 *conn, const struct srv_config *cfg, const char *cookie,
                      srv_caller *who, char *csrf);
/* 1 when session id is still open, its user enabled and still of `role`; 0 when not; -1 on an
 * SQL error (used to re-check a caller just before a commit). */
int srv_session_alive(sqlite3 *conn, int64_t id, unsigned role);
/* Ends one session (0 or -1). */
int srv_session_end(sqlite3 *conn, int64_t id);
/* Ends every open session of user_id except `keep` (0 for none). 0 or -1. */
int srv_session_end_user(sqlite3 *conn, int64_t user_id, int64_t keep);
/* Adds the session cookie to req's parked answer: value with max_age seconds, or an expired empty
 * cookie when value is NULL (sign-out). HttpOnly, SameSite=Strict, Path=/, Secure under TLS. */
void srv_session_set_cookie(srv_request *req, const char *value, int max_age);
/* The client's address as text ("127.0.0.1", "::1") into buf; "unknown" when MHD has none. */
void srv_client_address(srv_request *req, char *buf, size_t len);

#endif
