/* core/score.c: placeholder until implemented. */
