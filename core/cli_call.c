/* core/cli_call.c: placeholder until implemented. */
