/* core/purity.h: placeholder until implemented. */
