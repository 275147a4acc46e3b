/* server/db.c: placeholder until implemented. */
