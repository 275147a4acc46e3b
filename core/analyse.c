/* core/analyse.c: placeholder until implemented. */
