/* Atomic output files (temporary name + rename): see core/atomic.h. */
#include "core/atomic.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

rw_status rw_atomic_tmpname(const char *path, char *tmp, rw_error *err)
{
    if (snprintf(tmp, RW_ATOMIC_TMP_MAX, "%s.tmp.%ld", path, (long)getpid()) >= RW_ATOMIC_TMP_MAX) {
        tmp[0] = '\0'; /* never leave a cut name that a clean-up could unlink */
        return rw_error_set(err, RW_ERR_USAGE, "path too long: %s", path);
    }
    return RW_OK;
}

rw_status rw_atomic_open(const char *path, char *tmp, FILE **f, rw_error *err)
{
    *f = NULL;
    rw_status st = rw_atomic_tmpname(path, tmp, err);
    if (st != RW_OK)
        return st;
    *f = fopen(tmp, "w");
    if (!*f)
        return rw_error_set(err, RW_ERR_IO, "%s: %s", path, strerror(errno));
    return RW_OK;
}

rw_status rw_atomic_commit(FILE *f, const char *tmp, const char *path, rw_error *err)
{
    errno = 0;
    int bad = f && ferror(f);
    if ((f && fclose(f)) || bad || rename(tmp, path)) {
        /* errno is 0 when only the stream's error flag was set (the failing call is long gone) */
        int e = errno;
        unlink(tmp);
        return rw_error_set(err, RW_ERR_IO, "%s: %s", path, e ? strerror(e) : "write failed");
    }
    return RW_OK;
}

void rw_atomic_abort(FILE *f, const char *tmp)
{
    if (f)
        fclose(f);
    if (tmp && tmp[0])
        unlink(tmp);
}
