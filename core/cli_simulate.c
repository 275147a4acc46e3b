/* relapsewatch simulate: placeholder until implemented. */
#include "core/cli.h"

int rw_cli_simulate(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    return rw_cli_fail("simulate", RW_ERR_USAGE, "not implemented yet");
}
