/* Small robust statistics shared by the core modules (medians, MAD): see core/stats.h. */
#include "core/stats.h"

#include <math.h>
#include <stdlib.h>

int rw_stats_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double rw_stats_median_sorted(const double *v, size_t n)
{
    if (n == 0)
        return NAN;
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* Moves the non-NaN values of v to its front, sorted; returns how many there are. */
static size_t sort_non_nan(double *v, size_t n)
{
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (!isnan(v[i]))
            v[m++] = v[i];
    if (m)
        qsort(v, m, sizeof *v, rw_stats_cmp_double);
    return m;
}

double rw_stats_median(double *v, size_t n)
{
    return rw_stats_median_sorted(v, sort_non_nan(v, n));
}

double rw_stats_mad(double *v, size_t n, double *median)
{
    size_t m = sort_non_nan(v, n);
    double med = rw_stats_median_sorted(v, m);
    if (median)
        *median = med;
    for (size_t i = 0; i < m; i++)
        v[i] = fabs(v[i] - med);
    return rw_stats_median(v, m);
}
