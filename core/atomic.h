/* Atomic output files: an output is written under "<path>.tmp.<pid>" and renamed onto path only
 * once it is complete, so a failed run never leaves a partial file under the real name (readers
 * see the old file or the new one, never half of one). The pid keeps concurrent writers apart. */
#ifndef RW_ATOMIC_H
#define RW_ATOMIC_H

#include <stdio.h>

#include "core/status.h"

/* Size of the buffer that receives a temporary name. */
#define RW_ATOMIC_TMP_MAX 4096

/* Writes the temporary name of path into tmp (RW_ATOMIC_TMP_MAX bytes, owned by the caller).
 * RW_ERR_USAGE (and tmp = "") when path is too long. For writers that open the file themselves
 * (htslib): they finish with rw_atomic_commit(NULL, ...). */
rw_status rw_atomic_tmpname(const char *path, char *tmp, rw_error *err)
    __attribute__((warn_unused_result));

/* Creates the temporary file of path for writing: fills tmp (RW_ATOMIC_TMP_MAX bytes) and sets
 * *f to the new stream, which the caller hands to rw_atomic_commit() or rw_atomic_abort(). The
 * message names path, not the temporary name. */
rw_status rw_atomic_open(const char *path, char *tmp, FILE **f, rw_error *err)
    __attribute__((warn_unused_result));

/* Finishes a write: closes f (NULL when the caller has closed the file already) and renames tmp
 * onto path if no write, flush or close failed; otherwise removes tmp and reports
 * "<path>: <reason>" (RW_ERR_IO). */
rw_status rw_atomic_commit(FILE *f, const char *tmp, const char *path, rw_error *err)
    __attribute__((warn_unused_result));

/* Abandons a write: closes f (if not NULL) and removes tmp (if not NULL or ""). */
void rw_atomic_abort(FILE *f, const char *tmp);

#endif
