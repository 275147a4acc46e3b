/* core/cli_simulate.c: placeholder until implemented. */
