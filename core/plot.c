/* core/plot.c: placeholder until implemented. */
