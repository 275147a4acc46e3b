/* core/cli_trend.c: placeholder until implemented. */
