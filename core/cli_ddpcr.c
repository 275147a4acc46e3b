/* relapsewatch ddpcr: placeholder until implemented. */
#include "core/cli.h"

int rw_cli_ddpcr(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    return rw_cli_fail("ddpcr", RW_ERR_USAGE, "not implemented yet");
}
