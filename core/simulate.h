/* core/simulate.h: placeholder until implemented. */
