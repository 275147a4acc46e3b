/* relapsewatch trend: placeholder until implemented. */
#include "core/cli.h"

int rw_cli_trend(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    return rw_cli_fail("trend", RW_ERR_USAGE, "not implemented yet");
}
