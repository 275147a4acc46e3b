/* API tokens: random secrets shown once, stored only as SHA-256 hashes, each with a role. */
#ifndef SRV_AUTH_H
#define SRV_AUTH_H

#include <stddef.h>
#include <stdint.h>

#include "server/http.h"

/* Checks "Authorization: Bearer <token>" against the tokens table (revoked ones refused).
 * Returns 0 and fills caller, or -1 (no/invalid token). */
int srv_auth_check(sqlite3 *conn, const char *authorization_header, srv_caller *caller);
/* Creates a token with a role name ("lims", "clinician", "admin") and a label. Writes the clear
 * secret (shown once, never stored) into secret (size >= 65) and its id into *id. 0 on success. */
int srv_auth_create(sqlite3 *conn, const char *role, const char *label, char *secret, int64_t *id);
/* At first start (no token at all): creates an admin token and returns 1 with its secret, so
 * main can print it once; 0 when tokens already exist; -1 on error. */
int srv_auth_bootstrap(sqlite3 *conn, char *secret);
/* "lims" -> SRV_ROLE_LIMS ...; 0 for an unknown name. */
unsigned srv_role_parse(const char *name);
const char *srv_role_name(unsigned role);

#endif
