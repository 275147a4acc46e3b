/* core/segment.c: placeholder until implemented. */
