/* server/validate.c: placeholder until implemented. */
