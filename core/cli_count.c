/* core/cli_count.c: placeholder until implemented. */
