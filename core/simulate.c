/* core/simulate.c: placeholder until implemented. */
