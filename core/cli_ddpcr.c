/* core/cli_ddpcr.c: placeholder until implemented. */
