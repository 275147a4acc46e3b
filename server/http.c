/* server/http.c: placeholder until implemented. */
