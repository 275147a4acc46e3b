/* core/count.h: placeholder until implemented. */
