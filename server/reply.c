/* server/reply.c: placeholder until implemented. */
