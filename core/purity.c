/* core/purity.c: placeholder until implemented. */
