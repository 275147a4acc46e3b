/* core/segment.h: placeholder until implemented. */
