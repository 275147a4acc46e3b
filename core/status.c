/* Status codes and error messages of the core. */
#include "core/status.h"

#include <stdarg.h>
#include <stdio.h>

const char *rw_strerror(rw_status st)
{
    switch (st) {
    case RW_OK:
        return "ok";
    case RW_ERR_USAGE:
        return "bad usage";
    case RW_ERR_INPUT:
        return "bad input";
    case RW_ERR_BUILD:
        return "wrong genome build";
    case RW_ERR_MISMATCH:
        return "inputs do not match";
    case RW_ERR_IO:
        return "input/output error";
    case RW_ERR_NOMEM:
        return "out of memory";
    case RW_ERR_INTERNAL:
        return "internal error";
    }
    return "unknown error";
}

rw_status rw_error_set(rw_error *err, rw_status st, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        err->status = st;
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
    }
    return st;
}
