/* core/cli.h: placeholder */
