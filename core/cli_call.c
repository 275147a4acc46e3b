/* relapsewatch call: placeholder until implemented. */
#include "core/cli.h"

int rw_cli_call(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    return rw_cli_fail("call", RW_ERR_USAGE, "not implemented yet");
}
