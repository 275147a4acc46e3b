/* Small robust statistics shared by the core modules: the qsort comparator of doubles, medians and
 * the median absolute deviation. Pure functions; none allocates. */
#ifndef RW_STATS_H
#define RW_STATS_H

#include <stddef.h>

/* MAD of a normal sample times this estimates its standard deviation (1 / Phi^-1(3/4)). */
#define RW_MAD_TO_SD 1.482602218505602

/* qsort comparator: ascending doubles (no NaN expected: NaN compares equal to everything). */
int rw_stats_cmp_double(const void *a, const void *b);

/* Median of the n values v, already sorted ascending; NaN when n == 0. The mean of the two middle
 * values when n is even. */
double rw_stats_median_sorted(const double *v, size_t n);

/* Median of the non-NaN values of v[0, n); NaN when there is none. v is reordered (NaN dropped,
 * the rest sorted into v[0, k)), so pass a copy when the order matters. */
double rw_stats_median(double *v, size_t n);

/* Median absolute deviation (unscaled: multiply by RW_MAD_TO_SD for a normal SD) of the non-NaN
 * values of v[0, n); NaN when there is none. Their median goes to *median when it is not NULL.
 * v is overwritten (with the absolute deviations). */
double rw_stats_mad(double *v, size_t n, double *median);

#endif
