/* Storage: a small pool of SQLite connections (WAL, foreign_keys=ON, busy timeout) shared by the
 * HTTP threads and the job workers, and transaction helpers. Every request's writes happen inside
 * one srv_db_begin() ... srv_db_commit() (or rollback). */
#ifndef SRV_DB_H
#define SRV_DB_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

typedef struct srv_db srv_db;

/* Opens (creating if needed) the database at path, applies pending migrations, and prepares a
 * pool of `size` connections. NULL with a message in err on failure (newer schema, I/O...). */
srv_db *srv_db_open(const char *path, int size, char *err, size_t errlen);
/* Closes every connection. NULL-safe. */
void srv_db_close(srv_db *db);
/* Borrows a connection (blocks while all are lent); give it back with srv_db_release(). */
sqlite3 *srv_db_acquire(srv_db *db);
void srv_db_release(srv_db *db, sqlite3 *conn);

/* BEGIN IMMEDIATE / COMMIT / ROLLBACK; 0 on success. */
int srv_db_begin(sqlite3 *conn);
int srv_db_commit(sqlite3 *conn);
void srv_db_rollback(sqlite3 *conn);

/* Prepares sql, or returns NULL after logging the SQLite error. On a connection of a pool the
 * statement comes from that connection's cache when the same text was prepared before (parsing
 * and planning cost more than most of our queries run): end it with sqlite3_finalize() as
 * usual, which the macro below turns into srv_db_finalize(). */
sqlite3_stmt *srv_db_prepare(sqlite3 *conn, const char *sql);
/* Ends st: a cached statement is reset, its bindings cleared and kept for the next
 * srv_db_prepare() of its text; any other is finalized. Returns what sqlite3_finalize() would
 * (the error of the last step, or SQLITE_OK). NULL-safe. */
int srv_db_finalize(sqlite3_stmt *st);
/* Every file that prepares through srv_db_prepare() includes this header, so its
 * sqlite3_finalize() calls end statements through the cache (db.c itself opts out). */
#ifndef SRV_DB_NO_FINALIZE_MACRO
#define sqlite3_finalize(st) srv_db_finalize(st)
#endif
/* The version of the credentials (the tokens and users tables) in the database of conn's pool
 * (*pool): it moves when a transaction of any of the pool's connections changes one of their
 * rows and again once that transaction commits, so an in-memory cache of callers (auth.c) filled
 * after reading version v is current while the version is still v. 0 (and *pool NULL) for a
 * connection of no pool: nothing tells its changes, cache nothing. */
uint64_t srv_db_credentials_version(sqlite3 *conn, const srv_db **pool);
/* Runs the write statement sql with id bound to its parameter (a statement without one ignores
 * it): 0 on success, -1 (logged). */
int srv_db_exec_id(sqlite3 *conn, const char *sql, int64_t id);

#endif
