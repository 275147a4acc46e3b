/* Core statuses onto the server's (see status.h). */
#include "server/status.h"

srv_status srv_status_of_core(rw_status st)
{
    switch (st) {
    case RW_OK:
        return SRV_OK;
    case RW_ERR_USAGE:
    case RW_ERR_INPUT:
    case RW_ERR_BUILD:
    case RW_ERR_MISMATCH:
        return SRV_CLIENT;
    case RW_ERR_IO:
    case RW_ERR_NOMEM:
    case RW_ERR_INTERNAL:
        break;
    }
    return SRV_INTERNAL;
}
