/* Tangent normalisation by the panel's principal components: see core/denoise.h. */
#include "core/denoise.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/genome.h"
#include "core/stats.h"

void rw_denoise_fit_bins(const rw_bins *b, const uint8_t *mask, uint8_t *fit)
{
    size_t n_auto = b->first[RW_CHROM_X];
    for (size_t i = 0; i < b->n; i++)
        fit[i] = i < n_auto && i >= b->first[1] && (!mask || mask[i] == 0);
}

static double val(const double *row, size_t i)
{
    return isfinite(row[i]) ? row[i] : 0.0;
}

void rw_denoise_gram(const double *const *rows, size_t n_rows, size_t n, const uint8_t *fit,
                     double *G)
{
    for (size_t a = 0; a < n_rows; a++)
        for (size_t c = a; c < n_rows; c++) {
            double s = 0;
            for (size_t i = 0; i < n; i++)
                if (fit[i])
                    s += val(rows[a], i) * val(rows[c], i);
            G[a * n_rows + c] = G[c * n_rows + a] = s;
        }
}

/* Cyclic Jacobi on the symmetric m x m matrix a (destroyed): eigenvalues d, eigenvectors the
 * columns of v. Converges quadratically; m is the number of normals (tens). */
static void jacobi(size_t m, double *a, double *d, double *v)
{
    for (size_t i = 0; i < m; i++)
        for (size_t j = 0; j < m; j++)
            v[i * m + j] = i == j;
    double scale = 0;
    for (size_t i = 0; i < m * m; i++)
        scale += a[i] * a[i];
    for (int sweep = 0; sweep < 60; sweep++) {
        double off = 0;
        for (size_t p = 0; p < m; p++)
            for (size_t q = p + 1; q < m; q++)
                off += a[p * m + q] * a[p * m + q];
        if (!(off > 1e-24 * scale))
            break;
        for (size_t p = 0; p < m; p++)
            for (size_t q = p + 1; q < m; q++) {
                double apq = a[p * m + q];
                if (apq == 0)
                    continue;
                double th = (a[q * m + q] - a[p * m + p]) / (2 * apq);
                double t = (th >= 0 ? 1.0 : -1.0) / (fabs(th) + sqrt(th * th + 1));
                double c = 1 / sqrt(t * t + 1), s = t * c;
                for (size_t k = 0; k < m; k++) { /* columns p, q */
                    double x = a[k * m + p], y = a[k * m + q];
                    a[k * m + p] = c * x - s * y;
                    a[k * m + q] = s * x + c * y;
                }
                for (size_t k = 0; k < m; k++) { /* rows p, q */
                    double x = a[p * m + k], y = a[q * m + k];
                    a[p * m + k] = c * x - s * y;
                    a[q * m + k] = s * x + c * y;
                }
                for (size_t k = 0; k < m; k++) {
                    double x = v[k * m + p], y = v[k * m + q];
                    v[k * m + p] = c * x - s * y;
                    v[k * m + q] = s * x + c * y;
                }
            }
    }
    for (size_t i = 0; i < m; i++)
        d[i] = a[i * m + i];
}

rw_status rw_denoise_components(const double *const *rows, size_t n_rows, size_t n,
                                const uint8_t *fit, const double *G, size_t skip, int max_k,
                                double min_ratio, double *pcs, int *k, double *eig, rw_error *err)
{
    *k = 0;
    size_t m = n_rows - (skip < n_rows);
    size_t *idx = malloc((m ? m : 1) * sizeof *idx);
    double *a = malloc((m ? m * m : 1) * sizeof *a);
    double *v = malloc((m ? m * m : 1) * sizeof *v);
    double *d = malloc((m ? m : 1) * sizeof *d);
    double *sorted = malloc((m ? m : 1) * sizeof *sorted);
    size_t *ord = malloc((m ? m : 1) * sizeof *ord);
    rw_status st = RW_OK;
    if (!idx || !a || !v || !d || !sorted || !ord) {
        st = rw_error_set(err, RW_ERR_NOMEM, "out of memory computing the panel's components");
        goto done;
    }
    for (size_t r = 0, j = 0; r < n_rows; r++)
        if (r != skip)
            idx[j++] = r;
    for (size_t x = 0; x < m; x++)
        for (size_t y = 0; y < m; y++)
            a[x * m + y] = G[idx[x] * n_rows + idx[y]];
    jacobi(m, a, d, v);
    for (size_t x = 0; x < m; x++) { /* order by eigenvalue, descending (insertion sort) */
        size_t y = x;
        for (; y > 0 && d[ord[y - 1]] < d[x]; y--)
            ord[y] = ord[y - 1];
        ord[y] = x;
    }
    for (size_t x = 0; x < m; x++)
        sorted[x] = d[x];
    double med = rw_stats_median(sorted, m);
    for (size_t x = 0; eig && x < n_rows; x++)
        eig[x] = x < m ? d[ord[x]] : NAN;
    for (size_t x = 0; x < m && *k < max_k; x++) {
        double lam = d[ord[x]];
        if (!(lam > min_ratio * med && lam > 0))
            break;
        double *pc = pcs + (size_t)*k * n, s = 1 / sqrt(lam);
        for (size_t i = 0; i < n; i++) {
            double t = 0;
            for (size_t y = 0; y < m; y++)
                t += v[y * m + ord[x]] * val(rows[idx[y]], i);
            pc[i] = t * s;
        }
        (*k)++;
    }
done:
    free(idx);
    free(a);
    free(v);
    free(d);
    free(sorted);
    free(ord);
    return st;
}

void rw_denoise_apply(const double *pcs, int k, size_t n, const uint8_t *fit, double *lr)
{
    for (int c = 0; c < k; c++) {
        const double *pc = pcs + (size_t)c * n;
        double coef = 0;
        for (size_t i = 0; i < n; i++)
            if (fit[i] && isfinite(lr[i]))
                coef += lr[i] * pc[i];
        for (size_t i = 0; i < n; i++)
            if (isfinite(lr[i]))
                lr[i] -= coef * pc[i];
    }
}
