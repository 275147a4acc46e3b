/* core/plot.h: placeholder until implemented. */
