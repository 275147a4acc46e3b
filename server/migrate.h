/* Schema migrations: the numbered files of schema/ embedded at build time (schema_sql.c), applied
 * in order at start-up, each in its own transaction with its schema_migrations row; PRAGMA
 * user_version mirrors the highest number. A database newer than the binary is refused. */
#ifndef SRV_MIGRATE_H
#define SRV_MIGRATE_H

#include <sqlite3.h>
#include <stddef.h>

typedef struct srv_migration {
    int number;       /* 1 for schema/001_init.sql */
    const char *name; /* "001_init" */
    const char *sql;
} srv_migration;

extern const srv_migration srv_migrations[];
extern const int srv_migrations_count;

/* Before srv_migrate(): a database that already holds a schema is copied into a new folder
 * <dir>/pre-migration-<NNN>-<UTC time> (server/backup.h) before a pending migration is applied;
 * a failed copy stops the migration. dir is borrowed (must live until srv_migrate returns);
 * NULL (the default) takes no copy. */
void srv_migrate_backup_to(const char *dir);
/* Applies pending migrations. 0 on success; -1 with a message in err otherwise. */
int srv_migrate(sqlite3 *conn, char *err, size_t errlen);

#endif
