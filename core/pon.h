/* core/pon.h: placeholder until implemented. */
