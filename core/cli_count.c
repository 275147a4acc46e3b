/* relapsewatch count: placeholder until implemented. */
#include "core/cli.h"

int rw_cli_count(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    return rw_cli_fail("count", RW_ERR_USAGE, "not implemented yet");
}
