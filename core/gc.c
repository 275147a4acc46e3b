/* GC content of bins from a reference FASTA, and correction of bin counts for GC and mappability
 * bias by robust local regression.
 *
 * DESIGN. The correction follows HMMcopy's correctReadcount (used by ichorCNA and TitanCNA):
 * fit on "ideal" bins (well mappable, not in the top 1% of counts nor the GC tails) a local
 * quadratic regression of count on GC with a narrow span (0.03), evaluate it on a fine GC grid,
 * smooth that curve again with a wide span (0.3), and divide each count by the curve at its GC;
 * then divide by a lowess of the GC-corrected depth on mappability. Local fits are computed only
 * at grid points (a few hundred to a thousand) over the bins sorted by x, each from a sliding
 * window of its ceil(span * n) nearest bins, and bins read the curve by linear interpolation:
 * O(n log n + grid * span * n) rather than one fit per bin. Robustness iterations (Cleveland's
 * bisquare on residuals / 6 MAD) make the GC fit resistant to amplified or deleted regions. */

#include "core/gc.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <htslib/faidx.h>

#include "core/genome.h"

/* ------------------------------------------------------------------ reference FASTA */

struct rw_gc_ref {
    faidx_t *fai;
};

static int file_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

rw_status rw_gc_ref_open(const char *fasta, const char *index_dir, rw_gc_ref **out, rw_error *err)
{
    rw_status st = RW_OK;
    char *fai_path = NULL, *gzi_path = NULL;
    rw_gc_ref *ref = NULL;
    *out = NULL;
    if (!fasta)
        return rw_error_set(err, RW_ERR_USAGE, "no reference FASTA given");
    if (!file_exists(fasta))
        return rw_error_set(err, RW_ERR_INPUT, "reference %s: %s", fasta, strerror(errno));
    size_t len = strlen(fasta) + 8;
    if (index_dir)
        len += strlen(index_dir) + 1;
    fai_path = malloc(len);
    gzi_path = malloc(len);
    ref = calloc(1, sizeof *ref);
    if (!fai_path || !gzi_path || !ref) {
        st = rw_error_set(err, RW_ERR_NOMEM, "out of memory");
        goto fail;
    }
    snprintf(fai_path, len, "%s.fai", fasta);
    if (file_exists(fai_path)) {
        ref->fai = fai_load3(fasta, NULL, NULL, 0);
    } else if (!index_dir) {
        if (fai_build3(fasta, NULL, NULL) != 0) {
            st = rw_error_set(err, RW_ERR_IO,
                              "reference %s has no .fai and none could be built next to it (is "
                              "the folder writable? give an index folder, or run samtools faidx)",
                              fasta);
            goto fail;
        }
        ref->fai = fai_load3(fasta, NULL, NULL, 0);
    } else {
        const char *base = strrchr(fasta, '/');
        base = base ? base + 1 : fasta;
        snprintf(fai_path, len, "%s/%s.fai", index_dir, base);
        snprintf(gzi_path, len, "%s/%s.gzi", index_dir, base);
        if (!file_exists(fai_path) && fai_build3(fasta, fai_path, gzi_path) != 0) {
            st = rw_error_set(err, RW_ERR_IO, "cannot build the index of %s in %s", fasta,
                              index_dir);
            goto fail;
        }
        ref->fai = fai_load3(fasta, fai_path, gzi_path, 0);
    }
    if (!ref->fai) {
        st = rw_error_set(err, RW_ERR_INPUT, "cannot load the index of reference %s", fasta);
        goto fail;
    }
    free(fai_path);
    free(gzi_path);
    *out = ref;
    return RW_OK;
fail:
    free(fai_path);
    free(gzi_path);
    free(ref);
    return st;
}

void rw_gc_ref_close(rw_gc_ref *ref)
{
    if (!ref)
        return;
    if (ref->fai)
        fai_destroy(ref->fai);
    free(ref);
}

/* Counts G/C, A/T and other bases of s[0, n). */
static void count_bases(const char *s, size_t n, size_t *gc, size_t *at)
{
    size_t g = 0, a = 0;
    for (size_t i = 0; i < n; i++) {
        switch (s[i]) {
        case 'G':
        case 'C':
        case 'g':
        case 'c':
            g++;
            break;
        case 'A':
        case 'T':
        case 'a':
        case 't':
            a++;
            break;
        default:
            break;
        }
    }
    *gc = g;
    *at = a;
}

static void fractions(const char *s, size_t n, double *gc, double *nfrac)
{
    size_t g, a;
    count_bases(s, n, &g, &a);
    *gc = g + a ? (double)g / (double)(g + a) : NAN;
    *nfrac = n ? (double)(n - g - a) / (double)n : 1.0;
}

/* The bases [s0, s1) of contig `name` (0-based, new string); NULL when they cannot be read. */
static char *fetch(rw_gc_ref *ref, const char *name, int64_t s0, int64_t s1)
{
    hts_pos_t got = 0;
    char *s = faidx_fetch_seq64(ref->fai, name, s0, s1 - 1, &got);
    if (s && got != s1 - s0) {
        free(s);
        s = NULL;
    }
    return s;
}

rw_status rw_gc_interval(rw_gc_ref *ref, const char *contig, int64_t start, int64_t end, double *gc,
                         double *nfrac, rw_error *err)
{
    if (!ref || !contig || start < 0 || end <= start)
        return rw_error_set(err, RW_ERR_USAGE, "bad interval %s:%lld-%lld", contig ? contig : "?",
                            (long long)start, (long long)end);
    if (!faidx_has_seq(ref->fai, contig))
        return rw_error_set(err, RW_ERR_INPUT, "contig %s is not in the reference", contig);
    char *s = fetch(ref, contig, start, end);
    if (!s)
        return rw_error_set(err, RW_ERR_INPUT, "cannot read %s:%lld-%lld from the reference",
                            contig, (long long)start + 1, (long long)end);
    fractions(s, (size_t)(end - start), gc, nfrac);
    free(s);
    return RW_OK;
}

rw_status rw_gc_fill_bins(rw_gc_ref *ref, const rw_bins *b, double *gc, double *nfrac,
                          rw_error *err)
{
    int found = 0;
    for (int c = 0; c < b->nchrom; c++) {
        size_t i0 = b->first[c], i1 = b->first[c + 1];
        const char *name = rw_chrom_name(c);
        if (!faidx_has_seq(ref->fai, name))
            name += 3; /* "chr1" -> "1" */
        if (!faidx_has_seq(ref->fai, name)) {
            for (size_t i = i0; i < i1; i++) {
                gc[i] = NAN;
                nfrac[i] = 1.0;
            }
            continue;
        }
        found++;
        int64_t clen = faidx_seq_len(ref->fai, name);
        if (i1 > i0 && clen < rw_bins_end(b, i1 - 1))
            return rw_error_set(err, RW_ERR_MISMATCH,
                                "reference contig %s is %lld bp, the %s bins need %lld: another "
                                "build?",
                                name, (long long)clen, rw_build_name(b->build),
                                (long long)rw_bins_end(b, i1 - 1));
        /* fetch ~8 Mb at a time: few calls, bounded memory */
        size_t step = (size_t)(8000000 / b->bin_size) + 1;
        for (size_t i = i0; i < i1; i += step) {
            size_t j = i + step < i1 ? i + step : i1;
            int64_t s0 = rw_bins_start(b, i), s1 = rw_bins_end(b, j - 1);
            char *s = fetch(ref, name, s0, s1);
            if (!s)
                return rw_error_set(err, RW_ERR_INPUT, "cannot read %s:%lld-%lld of the reference",
                                    name, (long long)s0 + 1, (long long)s1);
            for (size_t k = i; k < j; k++) {
                int64_t a = rw_bins_start(b, k) - s0, e = rw_bins_end(b, k) - s0;
                fractions(s + a, (size_t)(e - a), &gc[k], &nfrac[k]);
            }
            free(s);
        }
    }
    if (!found)
        return rw_error_set(err, RW_ERR_MISMATCH,
                            "no chromosome of the bins (chr1 or 1, ...) is in the reference");
    return RW_OK;
}

/* ------------------------------------------------------------------ local regression */

void rw_gc_opts_init(rw_gc_opts *o)
{
    memset(o, 0, sizeof *o);
    o->max_n_frac = 0.1;
    o->gc_min = 0.25;
    o->gc_max = 0.75;
    o->map_min = 0;
    o->fit_map_min = 0.9;
    o->fit_top_quantile = 0.99;
    o->fit_gc_tail = 0.001;
    o->span = 0.03;
    o->span2 = 0.3;
    o->grid_step = 0.001;
    o->robust_iter = 2;
    o->map_correct = 1;
    o->map_span = 2.0 / 3.0;
    o->map_robust_iter = 3;
    o->map_top_quantile = 0.99;
    o->normalise = 1;
    o->fit_max_bins = 50000;
}

/* Weighted least squares of y on (x - x0) with polynomial degree <= 2 from sums; returns the
 * value at x0, lowering the degree when the design is singular. NaN if no weight at all. */
static double solve_local(const double s[5], const double t[3], int degree)
{
    if (s[0] <= 0)
        return NAN;
    if (degree >= 2) {
        /* | s0 s1 s2 | |a|   |t0|
         * | s1 s2 s3 | |b| = |t1|
         * | s2 s3 s4 | |c|   |t2|   Cramer's rule for a */
        double det = s[0] * (s[2] * s[4] - s[3] * s[3]) - s[1] * (s[1] * s[4] - s[3] * s[2]) +
                     s[2] * (s[1] * s[3] - s[2] * s[2]);
        double scale = s[0] * s[2] * s[4];
        if (scale > 0 && fabs(det) > 1e-10 * scale) {
            double da = t[0] * (s[2] * s[4] - s[3] * s[3]) - s[1] * (t[1] * s[4] - s[3] * t[2]) +
                        s[2] * (t[1] * s[3] - s[2] * t[2]);
            return da / det;
        }
    }
    if (degree >= 1) {
        double det = s[0] * s[2] - s[1] * s[1];
        if (s[2] > 0 && fabs(det) > 1e-10 * s[0] * s[2])
            return (t[0] * s[2] - s[1] * t[1]) / det;
    }
    return t[0] / s[0];
}

rw_status rw_gc_loess_grid(size_t n, const double *x, const double *y, const double *w, double span,
                           int degree, size_t ng, const double *grid, double *fit, rw_error *err)
{
    if (!(span > 0) || degree < 0 || degree > 2)
        return rw_error_set(err, RW_ERR_USAGE, "loess: span must be > 0 and degree 0..2");
    if (n == 0) {
        for (size_t g = 0; g < ng; g++)
            fit[g] = NAN;
        return RW_OK;
    }
    size_t q = (size_t)ceil(span * (double)n);
    if (q < (size_t)degree + 2)
        q = (size_t)degree + 2;
    if (q > n)
        q = n;
    size_t lo = 0;
    for (size_t g = 0; g < ng; g++) {
        double x0 = grid[g];
        /* slide the window [lo, lo + q) to the q points nearest x0 (monotone in x0) */
        while (lo + q < n && x[lo + q] - x0 < x0 - x[lo])
            lo++;
        double h = fmax(x0 - x[lo], x[lo + q - 1] - x0);
        if (span > 1)
            h *= span; /* R's loess widens the neighbourhood beyond all points */
        if (!(h > 0))
            h = 1e-12;
        /* points beyond the window at the same distance as its edge get weight 0 anyway */
        double s[5] = {0}, t[3] = {0};
        for (size_t i = lo; i < lo + q; i++) {
            double u = (x[i] - x0) / h, d = fabs(u);
            if (d >= 1)
                continue;
            double tw = 1 - d * d * d;
            double wi = tw * tw * tw * (w ? w[i] : 1.0);
            if (wi <= 0)
                continue;
            double u2 = u * u;
            s[0] += wi;
            s[1] += wi * u;
            s[2] += wi * u2;
            s[3] += wi * u2 * u;
            s[4] += wi * u2 * u2;
            t[0] += wi * y[i];
            t[1] += wi * u * y[i];
            t[2] += wi * u2 * y[i];
        }
        fit[g] = solve_local(s, t, degree);
    }
    return RW_OK;
}

/* Linear interpolation of (grid, fit) at x; NaN outside [grid[0], grid[ng-1]] or on NaN. */
static double interp(size_t ng, const double *grid, const double *fit, double x)
{
    if (!(x >= grid[0] && x <= grid[ng - 1]))
        return NAN;
    size_t lo = 0, hi = ng - 1;
    while (hi - lo > 1) {
        size_t mid = (lo + hi) / 2;
        if (grid[mid] <= x)
            lo = mid;
        else
            hi = mid;
    }
    if (hi == lo)
        return fit[lo];
    double f = (x - grid[lo]) / (grid[hi] - grid[lo]);
    return fit[lo] + f * (fit[hi] - fit[lo]);
}

/* k-th smallest of v[0, m) (0-based) by quickselect; v is reordered. O(m) on average. */
static double select_kth(double *v, size_t m, size_t k)
{
    size_t lo = 0, hi = m - 1;
    while (hi > lo) {
        /* median of three as pivot keeps sorted input linear */
        size_t mid = lo + (hi - lo) / 2;
        double a = v[lo], b = v[mid], c = v[hi];
        double piv = a < b ? (b < c ? b : (a < c ? c : a)) : (a < c ? a : (b < c ? c : b));
        size_t i = lo, j = hi;
        while (i <= j) {
            while (v[i] < piv)
                i++;
            while (v[j] > piv)
                j--;
            if (i <= j) {
                double t = v[i];
                v[i] = v[j];
                v[j] = t;
                i++;
                if (j == 0)
                    break;
                j--;
            }
        }
        if (k <= j)
            hi = j;
        else if (k >= i)
            lo = i;
        else
            return v[k];
    }
    return v[k];
}

/* Quantile (type 7, R's default) of the m values v (reordered). */
static double quantile(double *v, size_t m, double p)
{
    if (m == 0)
        return NAN;
    double h = (double)(m - 1) * p;
    size_t k = (size_t)floor(h);
    if (k + 1 >= m)
        return select_kth(v, m, m - 1);
    double a = select_kth(v, m, k);
    /* after selection, v[k+1 ..] holds the larger values: the next order statistic is their min */
    double b = v[k + 1];
    for (size_t i = k + 2; i < m; i++)
        if (v[i] < b)
            b = v[i];
    return a + (h - (double)k) * (b - a);
}

typedef struct xy {
    double x, y;
} xy;

static int cmp_xy(const void *a, const void *b)
{
    double u = ((const xy *)a)->x, v = ((const xy *)b)->x;
    return (u > v) - (u < v);
}

/* Keeps an evenly spaced subset of at most cap of the m points p (in place; cap 0 = all);
 * returns the new count. HMMcopy fits a random 50,000 bins; an even, seedless subset keeps
 * the output a pure function of the input. */
static size_t thin(xy *p, size_t m, size_t cap)
{
    if (cap == 0 || m <= cap)
        return m;
    for (size_t k = 0; k < cap; k++)
        p[k] = p[(size_t)((double)k * (double)m / (double)cap)];
    return cap;
}

/* Robust local regression of the m points p (sorted by x here) evaluated on ng grid points
 * spread over the range of x: fills grid[] and fit[]. Scratch arrays of m doubles: xs, ys, w. */
static rw_status robust_fit(xy *p, size_t m, double span, int degree, int iters, size_t ng,
                            double *grid, double *fit, double *xs, double *ys, double *w,
                            double *res, rw_error *err)
{
    qsort(p, m, sizeof *p, cmp_xy);
    for (size_t i = 0; i < m; i++) {
        xs[i] = p[i].x;
        ys[i] = p[i].y;
        w[i] = 1.0;
    }
    for (int it = 0;; it++) {
        rw_status st = rw_gc_loess_grid(m, xs, ys, it ? w : NULL, span, degree, ng, grid, fit, err);
        if (st != RW_OK)
            return st;
        if (it >= iters)
            return RW_OK;
        /* bisquare weights from residuals scaled by 6 median absolute residuals */
        for (size_t i = 0; i < m; i++)
            res[i] = fabs(ys[i] - interp(ng, grid, fit, xs[i]));
        memcpy(w, res, m * sizeof *w);
        double s6 = 6.0 * quantile(w, m, 0.5);
        for (size_t i = 0; i < m; i++) {
            double r = s6 > 0 ? res[i] / s6 : 0;
            w[i] = isfinite(r) && r < 1 ? (1 - r * r) * (1 - r * r) : 0;
        }
    }
}

/* Scratch of rw_gc_correct: the fit points and their columns (n each), the GC grid and the
 * curves on it (ng_max each). */
typedef struct gc_work {
    xy *p;
    double *xs, *ys, *w, *res, *tmp;
    double *grid, *fit1, *fit2, *g2, *f2in;
    size_t ng_max;
} gc_work;

static void gc_work_free(gc_work *wk)
{
    free(wk->p);
    free(wk->xs);
    free(wk->ys);
    free(wk->w);
    free(wk->res);
    free(wk->tmp);
    free(wk->grid);
    free(wk->fit1);
    free(wk->fit2);
    free(wk->g2);
    free(wk->f2in);
}

/* 0 on success; on failure what was allocated is still to be freed with gc_work_free(). */
static int gc_work_alloc(gc_work *wk, size_t n, double grid_step)
{
    memset(wk, 0, sizeof *wk);
    size_t nn = n ? n : 1;
    size_t ng_max = (size_t)ceil(1.0 / grid_step) + 2;
    if (ng_max < 102)
        ng_max = 102;
    wk->ng_max = ng_max;
    wk->p = malloc(nn * sizeof *wk->p);
    wk->xs = malloc(nn * sizeof *wk->xs);
    wk->ys = malloc(nn * sizeof *wk->ys);
    wk->w = malloc(nn * sizeof *wk->w);
    wk->res = malloc(nn * sizeof *wk->res);
    wk->tmp = malloc(nn * sizeof *wk->tmp);
    wk->grid = malloc(ng_max * sizeof *wk->grid);
    wk->fit1 = malloc(ng_max * sizeof *wk->fit1);
    wk->fit2 = malloc(ng_max * sizeof *wk->fit2);
    wk->g2 = malloc(ng_max * sizeof *wk->g2);
    wk->f2in = malloc(ng_max * sizeof *wk->f2in);
    return !(wk->p && wk->xs && wk->ys && wk->w && wk->res && wk->tmp && wk->grid && wk->fit1 &&
             wk->fit2 && wk->g2 && wk->f2in);
}

static int gc_opts_valid(const rw_gc_opts *o)
{
    return o->span > 0 && o->span2 > 0 && o->grid_step > 0 && o->grid_step < 0.5 &&
           o->fit_top_quantile > 0 && o->fit_top_quantile <= 1 && o->fit_gc_tail >= 0 &&
           o->fit_gc_tail < 0.5 && o->map_span > 0 && o->robust_iter >= 0 &&
           o->map_robust_iter >= 0;
}

/* Copies the values v[i] of the bins with mask[i] == 0 to out; returns how many. */
static size_t unmasked(size_t n, const double *v, const uint8_t *mask, double *out)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (!mask[i])
            out[k++] = v[i];
    return k;
}

/* 1. The output mask of every bin (corrected set to NaN). */
static void gc_mask(size_t n, const double *count, const double *gc, const double *nfrac,
                    const double *map, const rw_gc_opts *o, double *corrected, uint8_t *mask)
{
    for (size_t i = 0; i < n; i++) {
        uint8_t m = 0;
        if (!(isfinite(count[i]) && count[i] > 0))
            m |= RW_GC_MASK_COUNT;
        if (!(isfinite(gc[i]) && gc[i] >= 0 && gc[i] <= 1))
            m |= RW_GC_MASK_NOGC;
        else if (gc[i] < o->gc_min || gc[i] > o->gc_max)
            m |= RW_GC_MASK_GC;
        if (nfrac && !(nfrac[i] <= o->max_n_frac))
            m |= RW_GC_MASK_N;
        if (map && (!isfinite(map[i]) || map[i] < o->map_min))
            m |= RW_GC_MASK_MAP;
        mask[i] = m;
        corrected[i] = NAN;
    }
}

/* 2. The fit set in wk->p: unmasked, well mappable, not top counts, not GC tails; thinned.
 * Returns its size. */
static size_t gc_fit_set(size_t n, const double *count, const double *gc, const double *map,
                         const rw_gc_opts *o, const uint8_t *mask, gc_work *wk)
{
    double top = quantile(wk->tmp, unmasked(n, count, mask, wk->tmp), o->fit_top_quantile);
    size_t k = unmasked(n, gc, mask, wk->tmp);
    double glo = quantile(wk->tmp, k, o->fit_gc_tail);
    double ghi = quantile(wk->tmp, k, 1.0 - o->fit_gc_tail);
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        if (mask[i] || count[i] > top || gc[i] < glo || gc[i] > ghi)
            continue;
        if (map && map[i] < o->fit_map_min)
            continue;
        wk->p[m].x = gc[i];
        wk->p[m].y = count[i];
        m++;
    }
    return thin(wk->p, m, o->fit_max_bins);
}

/* The GC grid points (multiples of grid_step) inside the range of the m fit points; two
 * points around them when their GC values are (nearly) all equal. Returns how many. */
static size_t gc_grid(const xy *p, size_t m, const rw_gc_opts *o, size_t ng_max, double *grid)
{
    double xmin = p[0].x, xmax = p[0].x;
    for (size_t i = 1; i < m; i++) {
        xmin = fmin(xmin, p[i].x);
        xmax = fmax(xmax, p[i].x);
    }
    size_t ng = 0;
    for (size_t g = 0; g < ng_max; g++) {
        double x = (double)g * o->grid_step;
        if (x > 1.0 + 1e-12)
            break;
        if (x >= xmin - 1e-12 && x <= xmax + 1e-12)
            grid[ng++] = x;
    }
    if (ng < 2) {
        /* all GC values (nearly) equal: a flat curve is all one can fit */
        grid[0] = xmin;
        grid[1] = xmax > xmin ? xmax : xmin + o->grid_step;
        ng = 2;
    }
    return ng;
}

/* 3-4. The GC curve (a narrow robust loess on the grid, smoothed again by a wide loess) and
 * each unmasked count divided by it. */
static rw_status gc_curve_correct(size_t n, const double *count, const double *gc,
                                  const rw_gc_opts *o, size_t m, gc_work *wk, double *corrected,
                                  uint8_t *mask, rw_error *err)
{
    size_t ng = gc_grid(wk->p, m, o, wk->ng_max, wk->grid);
    rw_status st = robust_fit(wk->p, m, o->span, 2, o->robust_iter, ng, wk->grid, wk->fit1, wk->xs,
                              wk->ys, wk->w, wk->res, err);
    if (st != RW_OK)
        return st;
    size_t m2 = 0;
    for (size_t g = 0; g < ng; g++)
        if (isfinite(wk->fit1[g])) {
            wk->g2[m2] = wk->grid[g];
            wk->f2in[m2] = wk->fit1[g];
            m2++;
        }
    st = rw_gc_loess_grid(m2, wk->g2, wk->f2in, NULL, o->span2, 2, ng, wk->grid, wk->fit2, err);
    if (st != RW_OK)
        return st;
    for (size_t i = 0; i < n; i++) {
        if (mask[i])
            continue;
        double e = interp(ng, wk->grid, wk->fit2, gc[i]);
        if (!isfinite(e))
            mask[i] |= RW_GC_MASK_GC;
        else if (e <= 0)
            mask[i] |= RW_GC_MASK_NOFIT;
        else
            corrected[i] = count[i] / e;
    }
    return RW_OK;
}

/* 5. Mappability: a lowess of the GC-corrected depth on mappability divides it (nothing with
 * fewer than 50 usable bins). */
static rw_status map_correct(size_t n, const double *map, const rw_gc_opts *o, gc_work *wk,
                             double *corrected, uint8_t *mask, rw_error *err)
{
    xy *p = wk->p;
    double ctop = quantile(wk->tmp, unmasked(n, corrected, mask, wk->tmp), o->map_top_quantile);
    size_t mm = 0;
    for (size_t i = 0; i < n; i++)
        if (!mask[i] && corrected[i] < ctop) {
            p[mm].x = map[i];
            p[mm].y = corrected[i];
            mm++;
        }
    mm = thin(p, mm, o->fit_max_bins);
    if (mm < 50)
        return RW_OK;
    double lo = INFINITY, hi = -INFINITY;
    for (size_t i = 0; i < mm; i++) {
        lo = fmin(lo, p[i].x);
        hi = fmax(hi, p[i].x);
    }
    /* 101 points: lowess's own delta (1% of the range) skips the same detail */
    size_t mg = hi > lo ? 101 : 2;
    double *grid = wk->grid, *fit = wk->fit1;
    for (size_t g = 0; g < mg; g++)
        grid[g] = hi > lo ? lo + (hi - lo) * (double)g / (double)(mg - 1) : lo + (double)g;
    rw_status st = robust_fit(p, mm, o->map_span, 1, o->map_robust_iter, mg, grid, fit, wk->xs,
                              wk->ys, wk->w, wk->res, err);
    if (st != RW_OK)
        return st;
    for (size_t i = 0; i < n; i++) {
        if (mask[i])
            continue;
        double x = fmin(fmax(map[i], grid[0]), grid[mg - 1]);
        double e = interp(mg, grid, fit, x);
        if (!(e > 0)) {
            mask[i] |= RW_GC_MASK_NOFIT;
            corrected[i] = NAN;
        } else {
            corrected[i] /= e;
        }
    }
    return RW_OK;
}

/* 6. Median normalisation; masked bins NaN. */
static void gc_normalise(size_t n, const rw_gc_opts *o, double *tmp, double *corrected,
                         const uint8_t *mask, rw_gc_info *info)
{
    double med = quantile(tmp, unmasked(n, corrected, mask, tmp), 0.5);
    size_t nmask = 0;
    for (size_t i = 0; i < n; i++) {
        if (mask[i]) {
            corrected[i] = NAN;
            nmask++;
        } else if (o->normalise && med > 0) {
            corrected[i] /= med;
        }
    }
    if (info) {
        info->n_masked = nmask;
        info->median = med;
    }
}

rw_status rw_gc_correct(size_t n, const double *count, const double *gc, const double *nfrac,
                        const double *map, const rw_gc_opts *o, double *corrected, uint8_t *mask,
                        rw_gc_info *info, rw_error *err)
{
    if (!o || !count || !gc || !corrected || !mask)
        return rw_error_set(err, RW_ERR_USAGE, "gc: missing input");
    if (!gc_opts_valid(o))
        return rw_error_set(err, RW_ERR_USAGE, "gc: bad options");
    gc_work wk;
    rw_status st = RW_OK;
    if (gc_work_alloc(&wk, n, o->grid_step)) {
        st = rw_error_set(err, RW_ERR_NOMEM, "out of memory");
        goto done;
    }
    gc_mask(n, count, gc, nfrac, map, o, corrected, mask);
    size_t m = gc_fit_set(n, count, gc, map, o, mask, &wk);
    if (info) {
        info->n_fit = m;
        info->n_masked = 0;
        info->median = NAN;
    }
    if (m < 50) {
        st = rw_error_set(err, RW_ERR_INPUT,
                          "gc: only %zu bins usable for the GC fit (need 50): no GC correction", m);
        goto done;
    }
    if ((st = gc_curve_correct(n, count, gc, o, m, &wk, corrected, mask, err)) != RW_OK)
        goto done;
    if (map && o->map_correct && (st = map_correct(n, map, o, &wk, corrected, mask, err)) != RW_OK)
        goto done;
    gc_normalise(n, o, wk.tmp, corrected, mask, info);
done:
    gc_work_free(&wk);
    return st;
}
