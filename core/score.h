/* core/score.h: placeholder until implemented. */
