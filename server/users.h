/* People's accounts: Argon2id password hashes (libsodium), the password policy, account rows,
 * sign-in throttling and lock-out, and the first admin account. Machines use tokens (auth.h).
 * Every function that writes runs on conn inside the caller's transaction unless it says so. */
#ifndef SRV_USERS_H
#define SRV_USERS_H

#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#define SRV_PASSWORD_MIN   12   /* characters (UTF-8 code points) */
#define SRV_PASSWORD_MAX   1024 /* bytes: Argon2 would hash more, nobody types more */
#define SRV_PASSWORD_CHARS 20   /* length of generated passwords (~100 bits) */

/* Calls sodium_init() once (thread-safe). 0 on success; every function below calls it. */
int srv_users_init(void);

/* 1 when name is a valid user name: 1-63 characters of [a-z0-9._-], starting with a letter or
 * a digit. */
int srv_user_name_valid(const char *name);
/* NULL when password may be used by user `name`, else why not (a static English sentence):
 * shorter than SRV_PASSWORD_MIN characters, longer than SRV_PASSWORD_MAX bytes, containing the
 * user name (of 3 characters or more), one character repeated, or one of the most common
 * passwords. */
const char *srv_password_policy(const char *name, const char *password);
/* Writes a random password of SRV_PASSWORD_CHARS characters (no look-alikes) into out (size >=
 * SRV_PASSWORD_CHARS + 1). */
void srv_password_generate(char *out);
/* Argon2id hash (crypto_pwhash_str, interactive limits) of password into out (size >= 128).
 * 0 on success, -1 (out of memory). */
int srv_password_hash(const char *password, char *out, size_t outlen);
/* 0 when password matches hash (crypto_pwhash_str_verify), -1 otherwise. A NULL hash runs a
 * dummy verification of the same cost and fails, so an unknown name takes as long as a wrong
 * password. */
int srv_password_verify(const char *hash, const char *password);

/* Inserts a user with a password that must be changed at first sign-in (must_change 1). Returns
 * 0 with *id, 1 when the name is taken, -1 on error. */
int srv_user_create(sqlite3 *conn, const char *name, const char *role, const char *password,
                    int64_t *id);
/* Sets user id's password; must_change as given. Ends no session (see session.h). 0 or -1. */
int srv_user_set_password(sqlite3 *conn, int64_t id, const char *password, int must_change);

/* At first start (no user at all): in its own transaction, creates the account "admin" with a
 * random password written into password (size >= SRV_PASSWORD_CHARS + 1), audited. 1 created, 0
 * users exist already, -1 on error. */
int srv_users_bootstrap(sqlite3 *conn, char *password);

/* ---------------------------------------------------------------- sign-in throttling */

/* What the failure counters allow for a sign-in by name from address. */
typedef enum srv_signin_gate {
    SRV_SIGNIN_GO = 0, /* verify the password */
    SRV_SIGNIN_WAIT,   /* too soon after the last failures: 429, Retry-After *retry_after */
    SRV_SIGNIN_LOCKED, /* the name reached max_failures: 423 until an admin resets it */
    SRV_SIGNIN_ERROR   /* SQL error */
} srv_signin_gate;

/* The first SRV_SIGNIN_FREE consecutive failures of a name cost nothing; then the next attempt
 * must wait 1 s after the last failure, then 2, 4, 8 ... s (at most 5 min). An address gets
 * SRV_SIGNIN_FREE_ADDRESS free failures over all names then the same doubling (at most 15 min), and
 * is forgotten an hour after its last failure. */
#define SRV_SIGNIN_FREE         3
#define SRV_SIGNIN_FREE_ADDRESS 20

srv_signin_gate srv_signin_gate_check(sqlite3 *conn, const char *name, const char *address,
                                      int max_failures, int *retry_after);
/* Counts one failure for name and for address; returns the name's consecutive failures now, or
 * -1 on error. */
int srv_signin_failed(sqlite3 *conn, const char *name, const char *address);
/* Forgets the name's failures (a success, or an admin's password reset). 0 or -1. */
int srv_signin_clear(sqlite3 *conn, const char *name);

#endif
