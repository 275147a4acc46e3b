/* core/gc.c: placeholder until implemented. */
