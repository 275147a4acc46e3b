/* Tangent normalisation (GATK DenoiseReadCounts): the depth patterns that the normals of a panel
 * share beyond their per-bin median — above all a library's GC strength when the panel has no GC
 * fractions to correct it — are the panel's principal components; a sample's log2 ratios are
 * projected onto the top K and the projection is subtracted.
 *
 * ROWS are log2 ratios of the normals (each against the median of the others, exactly as a sample
 * is normalised, core/score.h). FIT BINS are the bins that define the components and the
 * projection: usable in the panel (mask 0), autosomal, finite, and NOT on chromosome 1, so that a
 * gain of 1q (the monitored 1q21.3 band, the arm) never loads on the coefficients and cannot be
 * "explained away"; the components' loadings still extend to every bin (chr1 and chrX too) through
 * the rows, so those bins are corrected with coefficients learnt elsewhere.
 *
 * COMPONENTS: the Gram matrix G = X X^T of the rows over the fit bins (n_rows x n_rows, small) is
 * diagonalised (cyclic Jacobi); component k has eigenvalue lambda_k and unit loading vector
 * v_k = X^T u_k / sqrt(lambda_k) (unit over the fit bins). K = the number of components whose
 * eigenvalue exceeds min_ratio times the median eigenvalue, at most max_k: with far more bins than
 * normals, components of pure noise have nearly equal eigenvalues, so the rule keeps only
 * patterns the normals really share (none on the simulator's ideal model, the GC strength on a
 * realistic panel without GC). Measured effect: bench/README.md "1q21.3 score". */
#ifndef RW_DENOISE_H
#define RW_DENOISE_H

#include <stddef.h>
#include <stdint.h>

#include "core/bins.h"
#include "core/status.h"

/* fit[i] = 1 for the fit bins of layout b under mask (rule above; mask NULL = none). */
void rw_denoise_fit_bins(const rw_bins *b, const uint8_t *mask, uint8_t *fit);

/* G (n_rows * n_rows, row-major) = rows . rows^T over the fit bins; non-finite values count 0. */
void rw_denoise_gram(const double *const *rows, size_t n_rows, size_t n, const uint8_t *fit,
                     double *G);

/* The components of the rows other than row `skip` ((size_t)-1 = none), from their Gram matrix G
 * (rw_denoise_gram of all rows): pcs receives *k loading vectors of n values each (caller's
 * array of max_k * n), *k <= max_k chosen by the ratio rule; eig (may be NULL; n_rows values)
 * the eigenvalues, descending. RW_ERR_NOMEM only. */
rw_status rw_denoise_components(const double *const *rows, size_t n_rows, size_t n,
                                const uint8_t *fit, const double *G, size_t skip, int max_k,
                                double min_ratio, double *pcs, int *k, double *eig, rw_error *err)
    __attribute__((warn_unused_result));

/* Subtracts from lr (n values; NaN stays NaN) its projection on the k components (k * n values,
 * loadings unit and orthogonal over the fit bins), coefficients from the fit bins. */
void rw_denoise_apply(const double *pcs, int k, size_t n, const uint8_t *fit, double *lr);

#endif
