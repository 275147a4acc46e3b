/* core/cli_pon.c: placeholder until implemented. */
