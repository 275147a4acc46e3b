/* server/log.c: placeholder until implemented. */
