/* Minimal unit-test harness: CHECK() records a failure with file:line and goes on; DONE() prints
 * the closing "N passed, N failed" line and returns the exit status automake expects. */
#ifndef RW_TEST_HARNESS_H
#define RW_TEST_HARNESS_H
#include <math.h>
#include <stdio.h>

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

#endif
