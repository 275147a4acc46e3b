/* core/count.c: placeholder until implemented. */
