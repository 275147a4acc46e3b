/* server/migrate.c: placeholder until implemented. */
