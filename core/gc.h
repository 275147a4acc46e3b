/* core/gc.h: placeholder until implemented. */
