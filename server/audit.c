/* server/audit.c: placeholder until implemented. */
