/* Minimal unit-test harness: CHECK() records a failure with file:line and goes on; DONE() prints
 * the closing "N passed, N failed" line and returns the exit status automake expects. */
#ifndef RW_TEST_HARNESS_H
#define RW_TEST_HARNESS_H
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

static int rw_test_passed, rw_test_failed;

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (cond) {                                                                                \
            rw_test_passed++;                                                                      \
        } else {                                                                                   \
            rw_test_failed++;                                                                      \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);               \
        }                                                                                          \
    } while (0)

/* Like CHECK, but prints both numbers when |got - want| > tol. */
#define CHECK_NEAR(got, want, tol)                                                                 \
    do {                                                                                           \
        double g_ = (got), w_ = (want);                                                            \
        if (fabs(g_ - w_) <= (tol)) {                                                              \
            rw_test_passed++;                                                                      \
        } else {                                                                                   \
            rw_test_failed++;                                                                      \
            fprintf(stderr, "%s:%d: CHECK_NEAR failed: %s = %.9g, want %.9g +- %g\n", __FILE__,    \
                    __LINE__, #got, g_, w_, (double)(tol));                                        \
        }                                                                                          \
    } while (0)

/* Exit 77 tells automake the test was skipped (missing optional tool or data). */
#define SKIP(why)                                                                                  \
    do {                                                                                           \
        printf("SKIP: %s\n", why);                                                                 \
        return 77;                                                                                 \
    } while (0)

#define DONE()                                                                                     \
    do {                                                                                           \
        printf("%d passed, %d failed\n", rw_test_passed, rw_test_failed);                          \
        return rw_test_failed ? 1 : 0;                                                             \
    } while (0)

/* The folders make check names in the environment (tests/local.mk): the test data and the build
 * tree, where tests write their tables and scratch files. */
static inline const char *rw_test_env(const char *var)
{
    const char *v = getenv(var);
    if (!v || !*v) {
        fprintf(stderr, "%s is not set: run the test through make check\n", var);
        exit(99); /* automake: hard error */
    }
    return v;
}
#define RW_TEST_DATA rw_test_env("RW_TEST_DATA")
#define RW_BUILD_DIR rw_test_env("RW_BUILDDIR")

/* "<folder>/<rel>" in one of 64 rotating buffers: a path stays valid for the next 63 calls. */
static inline const char *rw_test_path(const char *dir, const char *rel)
{
    static char buf[64][4096];
    static int next;
    char *b = buf[next++ % 64];
    snprintf(b, sizeof buf[0], "%s/%s", dir, rel);
    return b;
}

#endif
