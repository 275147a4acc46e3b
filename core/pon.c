/* core/pon.c: placeholder until implemented. */
