/* core/trend.c: placeholder until implemented. */
