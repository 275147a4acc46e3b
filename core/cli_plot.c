/* relapsewatch plot: placeholder until implemented. */
#include "core/cli.h"

int rw_cli_plot(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    return rw_cli_fail("plot", RW_ERR_USAGE, "not implemented yet");
}
