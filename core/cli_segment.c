/* relapsewatch segment: placeholder until implemented. */
#include "core/cli.h"

int rw_cli_segment(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    return rw_cli_fail("segment", RW_ERR_USAGE, "not implemented yet");
}
