/* server/router.c: placeholder until implemented. */
