/* core/trend.h: placeholder until implemented. */
