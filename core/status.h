/* Status codes and error messages of the core: a code goes up the stack, words are added at the
 * edge (CLI, daemon). The core never prints and never exits. */
#ifndef RW_STATUS_H
#define RW_STATUS_H

typedef enum rw_status {
    RW_OK = 0,
    RW_ERR_USAGE,    /* a caller passed impossible options (programming or CLI usage error) */
    RW_ERR_INPUT,    /* the input is malformed: bad file, bad value, truncated data */
    RW_ERR_BUILD,    /* genome build unknown, or not the one asked for */
    RW_ERR_MISMATCH, /* two inputs that must agree do not (sample vs PoN: build, bin size, filters)
                      */
    RW_ERR_IO,       /* the operating system failed a read or write */
    RW_ERR_NOMEM,    /* allocation failed */
    RW_ERR_INTERNAL  /* a bug: an invariant did not hold */
} rw_status;

/* Optional out-parameter carrying a message; every function that takes one may be given NULL. */
typedef struct rw_error {
    rw_status status;
    char msg[512];
} rw_error;

/* Progress of a long computation: fraction in [0, 1]. Called from the computing thread; the core
 * calls it at most about a hundred times per run. */
typedef void (*rw_progress_fn)(void *ctx, double fraction);

/* Short English name of a status ("bad input", ...); static string. */
const char *rw_strerror(rw_status st);

/* Records status and a printf-style message in err (if non-NULL); returns st, so that
 * `return rw_error_set(err, RW_ERR_INPUT, "...")` reads naturally. */
rw_status rw_error_set(rw_error *err, rw_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
