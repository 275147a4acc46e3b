/* server/auth.c: placeholder until implemented. */
