/* server/config.c: placeholder until implemented. */
