/* relapsewatch pon: placeholder until implemented. */
#include "core/cli.h"

int rw_cli_pon(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    return rw_cli_fail("pon", RW_ERR_USAGE, "not implemented yet");
}
