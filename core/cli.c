/* relapsewatch CLI: placeholder dispatcher until implemented (the shared helpers live here). */
#include "core/cli.h"

#include <stdarg.h>
#include <stdio.h>

int rw_cli_fail(const char *cmd, rw_status st, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "relapsewatch %s: ", cmd);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return st == RW_ERR_USAGE ? RW_EXIT_USAGE : RW_EXIT_INPUT;
}

int main(void)
{
    return RW_EXIT_USAGE;
}
