/* core/cli_plot.c: placeholder until implemented. */
