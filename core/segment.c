/* Circular binary segmentation of log2 ratios (Olshen et al. 2004; Venkatraman & Olshen 2007).
 *
 * DESIGN. Each chromosome (or arm) is cut recursively. For a stretch of n centred points with
 * partial sums S, the statistic of the arc (i, j] is Z = n (S_j - S_i)^2 / (k (n - k)), k = j - i,
 * turned into a t^2 with the residual variance; the arc of largest Z is the candidate. Its maximum
 * is found exactly with a block bound: partial sums are cut into ~sqrt(n) blocks, every block pair
 * gets an upper bound from the blocks' extreme sums and lengths, and pairs are visited from the
 * largest bound down until the bound falls below the best statistic found (DNAcopy's tmaxo idea).
 * Significance, as in DNAcopy's "hybrid" method: for stretches longer than nmin, arcs longer than
 * kmax get Siegmund's analytic tail probability and short arcs a permutation test with what is
 * left of alpha; shorter stretches get a permutation test of the whole maximum. Permutations stop
 * early once the verdict is clear (a binomial boundary with error eta, like DNAcopy's sbdry).
 * An arc strictly inside the stretch gives two change points; each is kept only if the two sides
 * it separates differ (two-sample permutation test), as DNAcopy does. Every permutation stream is
 * seeded from the options' seed and the stretch tested, so results do not depend on the order of
 * work. Outliers can be pulled back first (DNAcopy smooth.CNA), and splits undone afterwards. */

#include "core/segment.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/settings.h"
#include "core/stats.h"

void rw_segment_opts_init(rw_segment_opts *o)
{
    memset(o, 0, sizeof *o);
    o->alpha = 0.01;
    o->nperm = 10000;
    o->min_width = 2;
    o->kmax = 25;
    o->nmin = 200;
    o->eta = 0.05;
    o->seed = 25;
    o->smooth_region = 10;
    o->outlier_sd = 4.0;
    o->smooth_sd = 2.0;
    o->min_bins = 0;
    o->undo_sd = 0.0;
    o->build = RW_BUILD_UNKNOWN;
    rw_settings_defaults(RW_SET_SEGMENT, o); /* the calls' thresholds: analysis settings */
}

void rw_segments_free(rw_segments *s)
{
    if (!s)
        return;
    free(s->a);
    s->a = NULL;
    s->n = s->m = 0;
}

rw_seg_call rw_segment_call(double mean, const rw_segment_opts *o)
{
    if (mean > o->amp_above)
        return RW_SEG_AMP;
    if (mean > o->gain_above)
        return RW_SEG_GAIN;
    if (mean < o->loss_below)
        return RW_SEG_LOSS;
    return RW_SEG_NEUTRAL;
}

const char *rw_seg_call_name(rw_seg_call c)
{
    switch (c) {
    case RW_SEG_LOSS:
        return "loss";
    case RW_SEG_GAIN:
        return "gain";
    case RW_SEG_AMP:
        return "amplification";
    case RW_SEG_NEUTRAL:
        break;
    }
    return "neutral";
}

/* p/q boundaries: end of the last "p11.1" acen band of UCSC cytoBand (ideogram npm 1.53.0),
 * chr1..chr22, chrX, chrY. */
static const int64_t arm_hg38[RW_NCHROM] = {
    123400000, 93900000, 90900000, 50000000, 48800000, 59800000, 60100000, 45200000,
    43000000,  39800000, 53400000, 35500000, 17700000, 17200000, 19000000, 36800000,
    25100000,  18500000, 26200000, 28100000, 12000000, 15000000, 61000000, 10400000};
static const int64_t arm_hg19[RW_NCHROM] = {
    125000000, 93300000, 91000000, 50400000, 48400000, 61000000, 59900000, 45600000,
    49000000,  40200000, 53700000, 35800000, 17900000, 17600000, 19000000, 36600000,
    24000000,  17200000, 26500000, 27500000, 13200000, 14700000, 60600000, 12500000};

int64_t rw_segment_arm_boundary(rw_build b, int chrom)
{
    if (chrom < 0 || chrom >= RW_NCHROM)
        return 0;
    if (b == RW_BUILD_HG38)
        return arm_hg38[chrom];
    if (b == RW_BUILD_HG19)
        return arm_hg19[chrom];
    return 0;
}

/* ------------------------------------------------------------------ small maths */

static double norm_cdf(double x)
{
    return 0.5 * erfc(-x / M_SQRT2);
}

static double norm_pdf(double x)
{
    return exp(-0.5 * x * x) / sqrt(2.0 * M_PI);
}

/* Upper quantile: x with 1 - Phi(x) = p, by bisection (called rarely). */
static double norm_upper_quantile(double p)
{
    double lo = -40.0, hi = 40.0;
    for (int it = 0; it < 200; it++) {
        double mid = 0.5 * (lo + hi);
        if (1.0 - norm_cdf(mid) > p)
            lo = mid;
        else
            hi = mid;
    }
    return 0.5 * (lo + hi);
}

double rw_segment_trimmed_sd(size_t n, const double *x, double trim)
{
    double *d = malloc((n ? n : 1) * sizeof *d);
    if (!d)
        return NAN;
    size_t nd = 0;
    double prev = NAN;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(x[i]))
            continue;
        if (isfinite(prev))
            d[nd++] = fabs(x[i] - prev);
        prev = x[i];
    }
    if (nd < 2) {
        free(d);
        return NAN;
    }
    qsort(d, nd, sizeof *d, rw_stats_cmp_double);
    size_t keep = (size_t)floor((1.0 - 2.0 * trim) * (double)nd + 0.5);
    if (keep < 1)
        keep = 1;
    if (keep > nd)
        keep = nd;
    double ss = 0;
    for (size_t i = 0; i < keep; i++)
        ss += d[i] * d[i];
    free(d);
    /* Differences of iid points have twice the variance; dropping the largest 2*trim of them
     * shrinks it by the variance of a normal truncated to +-a: 1 - 2 a phi(a) / (1 - 2 trim). */
    double infl = 1.0;
    if (trim > 0 && trim < 0.5) {
        double a = norm_upper_quantile(trim);
        infl = 1.0 / (1.0 - 2.0 * a * norm_pdf(a) / (1.0 - 2.0 * trim));
    }
    return sqrt(infl * ss / (2.0 * (double)keep));
}

/* ------------------------------------------------------------------ random numbers */

typedef struct rng {
    uint64_t s;
} rng;

static uint64_t rng_next(rng *r)
{
    uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* Uniform integer in [0, m). The modulo bias is below 2^-40 for the sizes used here. */
static size_t rng_below(rng *r, size_t m)
{
    return (size_t)(rng_next(r) % (uint64_t)m);
}

static void rng_seed(rng *r, uint64_t seed, uint64_t unit, uint64_t lo, uint64_t hi)
{
    r->s = seed;
    r->s = rng_next(r) ^ unit;
    r->s = rng_next(r) ^ lo;
    r->s = rng_next(r) ^ hi;
}

static void shuffle(double *x, size_t n, rng *r)
{
    for (size_t i = n; i > 1; i--) {
        size_t j = rng_below(r, i);
        double t = x[i - 1];
        x[i - 1] = x[j];
        x[j] = t;
    }
}

/* ------------------------------------------------------------------ maximal arc */

/* Bounds depend only on (alpha, nperm, eta): tests at the full alpha (all but the hybrid ones)
 * share one table, kept by the caller. */
typedef struct bound_cache {
    double alpha;
    int *b;
    int n;
} bound_cache;

typedef struct work {
    double *x;   /* centred copy of the stretch */
    double *px;  /* permuted copy */
    double *cum; /* partial sums, n + 1 */
    double *bmin, *bmax;
    struct bpair {
        double bound;
        int a, b;
    } * pairs;
    size_t cap, pcap;
    bound_cache bc; /* early-stopping bounds at the full alpha */
} work;

static void cumsum(const double *x, int n, double *cum)
{
    cum[0] = 0;
    for (int i = 0; i < n; i++)
        cum[i + 1] = cum[i] + x[i];
}

/* Exact search over arcs (i, j] with both the arc and its complement of w points or more, among
 * i in [ilo, ihi], j in [jlo, jhi]. Updates *best, *bi, *bj. */
static void arc_scan(const double *cum, int n, int w, int ilo, int ihi, int jlo, int jhi,
                     double *best, int *bi, int *bj)
{
    double rn = n;
    for (int i = ilo; i <= ihi; i++) {
        int j0 = jlo > i + w ? jlo : i + w;
        int j1 = jhi < i + n - w ? jhi : i + n - w;
        double ci = cum[i];
        for (int j = j0; j <= j1; j++) {
            double s = cum[j] - ci;
            double k = j - i;
            double z = rn * s * s / (k * (rn - k));
            if (z > *best) {
                *best = z;
                *bi = i;
                *bj = j;
            }
        }
    }
}

/* Largest Z over all admissible arcs; cum has n + 1 partial sums. Block-bounded for large n. */
static double arc_max(work *wk, const double *cum, int n, int w, int *bi, int *bj)
{
    double best = -1;
    *bi = 0;
    *bj = n;
    if (n < 2 * w)
        return 0;
    if (n < 64) {
        arc_scan(cum, n, w, 0, n, 0, n, &best, bi, bj);
        return best < 0 ? 0 : best;
    }
    int np = n + 1;
    int bs = (int)ceil(sqrt((double)np));
    int nb = (np + bs - 1) / bs;
    for (int a = 0; a < nb; a++) {
        int lo = a * bs, hi = lo + bs - 1 < n ? lo + bs - 1 : n;
        double mn = cum[lo], mx = cum[lo];
        for (int i = lo + 1; i <= hi; i++) {
            if (cum[i] < mn)
                mn = cum[i];
            if (cum[i] > mx)
                mx = cum[i];
        }
        wk->bmin[a] = mn;
        wk->bmax[a] = mx;
    }
    size_t npairs = 0;
    double rn = n;
    for (int a = 0; a < nb; a++) {
        int alo = a * bs, ahi = alo + bs - 1 < n ? alo + bs - 1 : n;
        for (int b = a; b < nb; b++) {
            int blo = b * bs, bhi = blo + bs - 1 < n ? blo + bs - 1 : n;
            int kmin = blo - ahi, kmx = bhi - alo;
            if (kmin < w)
                kmin = w;
            if (kmx > n - w)
                kmx = n - w;
            if (kmin > kmx)
                continue;
            double d1 = wk->bmax[b] - wk->bmin[a], d2 = wk->bmax[a] - wk->bmin[b];
            double d = d1 > d2 ? d1 : d2;
            double den1 = (double)kmin * (rn - kmin), den2 = (double)kmx * (rn - kmx);
            double den = den1 < den2 ? den1 : den2;
            wk->pairs[npairs].bound = rn * d * d / den;
            wk->pairs[npairs].a = a;
            wk->pairs[npairs].b = b;
            npairs++;
        }
    }
    /* visit the pair of largest bound first, then every pair whose bound beats the best so far:
     * no sort needed (this runs once per permutation) */
    size_t top = 0;
    for (size_t p = 1; p < npairs; p++)
        if (wk->pairs[p].bound > wk->pairs[top].bound)
            top = p;
    for (size_t q = 0; q <= npairs; q++) {
        size_t p = q == 0 ? top : q - 1;
        if ((q > 0 && p == top) || wk->pairs[p].bound <= best)
            continue;
        int a = wk->pairs[p].a, b = wk->pairs[p].b;
        int alo = a * bs, ahi = alo + bs - 1 < n ? alo + bs - 1 : n;
        int blo = b * bs, bhi = blo + bs - 1 < n ? blo + bs - 1 : n;
        arc_scan(cum, n, w, alo, ahi, blo, bhi, &best, bi, bj);
    }
    return best < 0 ? 0 : best;
}

/* Largest Z among arcs of at most kmax points (or whose complement has at most kmax points). */
static double arc_max_short(const double *cum, int n, int w, int kmax)
{
    double best = 0, rn = n;
    for (int k = w; k <= kmax && k <= n - w; k++) {
        double den = (double)k * (rn - k);
        for (int pass = 0; pass < 2; pass++) {
            int kk = pass ? n - k : k;
            if (pass && kk <= kmax)
                break; /* already scanned as a short arc */
            double smax = 0;
            for (int i = 0; i + kk <= n; i++) {
                double s = fabs(cum[i + kk] - cum[i]);
                if (s > smax)
                    smax = s;
            }
            double z = rn * smax * smax / den;
            if (z > best)
                best = z;
        }
    }
    return best;
}

/* ------------------------------------------------------------------ p-values */

/* Siegmund's nu(x), in the closed approximation of Siegmund & Yakir (2007). */
static double siegmund_nu(double x)
{
    if (x < 1e-6)
        return 1.0;
    double h = 0.5 * x;
    return (2.0 / x) * (norm_cdf(h) - 0.5) / (h * norm_cdf(h) + norm_pdf(h));
}

/* Primitive of 1 / (t (1 - t))^2 on (0, 1). */
static double prim_inv_t1t_sq(double t)
{
    return -1.0 / t + 1.0 / (1.0 - t) + 2.0 * log(t) - 2.0 * log(1.0 - t);
}

/* Two-sided tail probability that the maximal arc statistic (as a t) exceeds b among m points,
 * counting arcs of relative length in [delta, 1 - delta] (Siegmund 1988). */
static double cbs_tail_prob(double b, double delta, int m)
{
    const int ngrid = 100;
    if (delta >= 0.5)
        return 0;
    double step = (0.5 - delta) / ngrid, sum = 0;
    for (int g = 0; g < ngrid; g++) {
        double t0 = delta + g * step, t1 = t0 + step, t = 0.5 * (t0 + t1);
        double x = b / sqrt((double)m * t * (1.0 - t));
        double nu = siegmund_nu(x);
        sum += nu * nu * (prim_inv_t1t_sq(t1) - prim_inv_t1t_sq(t0));
    }
    return b * b * b * norm_pdf(b) * 0.5 * sum;
}

/* Early stopping of a permutation test: after np permutations with r exceedances, the test is
 * called significant once a p-value of alpha would have given r or fewer exceedances with
 * probability below eta. bound(r) is that np; computed on demand by bisection. */
typedef struct seqtest {
    double alpha, eta;
    int nperm, nrejc, r, bound;
    int *cache; /* bound(r) for r = 0..nrejc once computed (-1 = not yet), or NULL */
} seqtest;

static double binom_cdf(int r, int np, double p)
{
    /* P(X <= r), X ~ Bin(np, p), summed in log space */
    double lp = log(p), lq = log1p(-p), s = 0;
    double lc = 0; /* log C(np, k) */
    for (int k = 0; k <= r && k <= np; k++) {
        if (k > 0)
            lc += log((double)(np - k + 1)) - log((double)k);
        s += exp(lc + k * lp + (np - k) * lq);
    }
    return s;
}

static int seq_bound(const seqtest *s, int r)
{
    int lo = r + 1, hi = s->nperm;
    if (binom_cdf(r, hi, s->alpha) > s->eta)
        return s->nperm;
    while (lo < hi) {
        int mid = lo + (hi - lo) / 2;
        if (binom_cdf(r, mid, s->alpha) <= s->eta)
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

static int cached_bound(seqtest *s, int r)
{
    if (!s->cache)
        return seq_bound(s, r);
    if (s->cache[r] < 0)
        s->cache[r] = seq_bound(s, r);
    return s->cache[r];
}

static void seq_init(seqtest *s, double alpha, int nperm, double eta, bound_cache *bc)
{
    s->alpha = alpha;
    s->eta = eta;
    s->nperm = nperm;
    s->nrejc = (int)floor(alpha * nperm);
    s->r = 0;
    s->cache = NULL;
    if (bc && bc->alpha == alpha) {
        if (!bc->b && (bc->b = malloc((size_t)(s->nrejc + 1) * sizeof *bc->b)) != NULL) {
            bc->n = s->nrejc + 1;
            for (int i = 0; i < bc->n; i++)
                bc->b[i] = -1;
        }
        s->cache = bc->b;
    }
    s->bound = cached_bound(s, 0);
}

/* Records permutation np (1-based). Returns 1 significant, 0 not significant, -1 go on. */
static int seq_step(seqtest *s, int np, int exceeded)
{
    if (exceeded) {
        s->r++;
        if (s->r > s->nrejc)
            return 0;
        s->bound = cached_bound(s, s->r);
    }
    if (np >= s->bound)
        return 1;
    return np >= s->nperm ? 1 : -1;
}

/* Two-sample permutation test that y[0, n1) and y[n1, n) differ in mean. 1 = significant. */
static int two_sample_test(const double *y, int n1, int n, const rw_segment_opts *o, double *buf,
                           rng *r, bound_cache *bc)
{
    int n2 = n - n1;
    if (n1 <= 1 || n2 <= 1)
        return 0;
    double s1 = 0, s = 0, ss = 0;
    for (int i = 0; i < n; i++) {
        s += y[i];
        ss += y[i] * y[i];
        buf[i] = y[i];
    }
    for (int i = 0; i < n1; i++)
        s1 += y[i];
    double mean = s / n, tss = ss - n * mean * mean;
    int m = n1 <= n2 ? n1 : n2;
    double msum = n1 <= n2 ? s1 : s - s1;
    double obs = fabs(msum / m - mean);
    double z = obs * obs * m * (double)n / (double)(n - m);
    if (tss - z <= 1e-12 * (tss > 0 ? tss : 1))
        return obs > 0;
    double t2 = z / ((tss - z) / (n - 2));
    if (t2 > 25.0 && m >= 10)
        return 1;
    obs *= 0.99999; /* ties count as exceedances, as in DNAcopy */
    seqtest st;
    seq_init(&st, o->alpha, o->nperm, o->eta, bc);
    for (int np = 1;; np++) {
        /* partial Fisher-Yates: the last m slots become a random subset */
        double ps = 0;
        for (int i = n; i > n - m; i--) {
            size_t j = rng_below(r, (size_t)i);
            double t = buf[i - 1];
            buf[i - 1] = buf[j];
            buf[j] = t;
            ps += buf[i - 1];
        }
        int v = seq_step(&st, np, fabs(ps / m - mean) >= obs);
        if (v >= 0)
            return v;
    }
}

/* ------------------------------------------------------------------ one stretch */

/* Resizes *p to n doubles; on failure *p stays as it was (freed by work_free). 0 on success. */
static int grow(double **p, size_t n)
{
    double *q = realloc(*p, n * sizeof *q);
    if (!q)
        return -1;
    *p = q;
    return 0;
}

static int work_reserve(work *wk, size_t n)
{
    if (n + 1 <= wk->cap)
        return 0;
    size_t cap = n + 1;
    size_t nb = (size_t)ceil(sqrt((double)cap)) + 2;
    size_t pcap = nb * (nb + 1) / 2 + 1;
    /* wk->cap grows only when every array did */
    int bad = grow(&wk->x, cap) | grow(&wk->px, cap) | grow(&wk->cum, cap + 1) |
              grow(&wk->bmin, nb) | grow(&wk->bmax, nb);
    struct bpair *pairs = realloc(wk->pairs, pcap * sizeof *pairs);
    if (pairs)
        wk->pairs = pairs;
    if (bad || !pairs)
        return -1;
    wk->cap = cap;
    wk->pcap = pcap;
    return 0;
}

static void work_free(work *wk)
{
    free(wk->x);
    free(wk->px);
    free(wk->cum);
    free(wk->bmin);
    free(wk->bmax);
    free(wk->pairs);
    free(wk->bc.b);
}

/* Tests the stretch v[0, n). Returns the number of change points (0..2) written to cp[]
 * (offsets in the stretch, increasing), or -1 when out of memory. */
static int find_changes(work *wk, const double *v, int n, const rw_segment_opts *o, rng *r,
                        int cp[2])
{
    int w = o->min_width;
    if (n < 2 * w || work_reserve(wk, (size_t)n) < 0)
        return n < 2 * w ? 0 : -1;
    double mean = 0, tss = 0;
    for (int i = 0; i < n; i++)
        mean += v[i];
    mean /= n;
    for (int i = 0; i < n; i++) {
        wk->x[i] = v[i] - mean;
        tss += wk->x[i] * wk->x[i];
    }
    if (tss <= 1e-300)
        return 0;
    cumsum(wk->x, n, wk->cum);
    int bi, bj;
    double z = arc_max(wk, wk->cum, n, w, &bi, &bj);
    double t2 = tss - z > 1e-12 * tss ? z / ((tss - z) / (n - 2)) : DBL_MAX;
    double t = sqrt(t2);
    int k = bj - bi, shortest = k < n - k ? k : n - k;
    int significant;
    if (t <= 0.1) {
        significant = 0;
    } else if (t >= 7.0 && shortest >= 10) {
        significant = 1;
    } else {
        int hybrid = n > o->nmin;
        double alpha = o->alpha;
        if (hybrid) {
            double p1 = cbs_tail_prob(t, (double)(o->kmax + 1) / n, n);
            if (p1 > alpha)
                return 0;
            alpha -= p1;
        }
        double zobs = z * 0.99999;
        seqtest st;
        seq_init(&st, alpha, o->nperm, o->eta, &wk->bc);
        memcpy(wk->px, wk->x, (size_t)n * sizeof *wk->px);
        significant = -1;
        for (int np = 1; significant < 0; np++) {
            shuffle(wk->px, (size_t)n, r);
            cumsum(wk->px, n, wk->cum);
            int pi, pj;
            double pz = hybrid ? arc_max_short(wk->cum, n, w, o->kmax)
                               : arc_max(wk, wk->cum, n, w, &pi, &pj);
            significant = seq_step(&st, np, pz >= zobs);
        }
    }
    if (!significant)
        return 0;
    if (bj == n) {
        cp[0] = bi;
        return 1;
    }
    if (bi == 0) {
        cp[0] = bj;
        return 1;
    }
    int nc = 0;
    if (two_sample_test(v, bi, bj, o, wk->px, r, &wk->bc))
        cp[nc++] = bi;
    if (two_sample_test(v + bi, bj - bi, n - bi, o, wk->px, r, &wk->bc))
        cp[nc++] = bj;
    return nc;
}

/* ------------------------------------------------------------------ one chromosome or arm */

typedef struct span {
    int lo, hi; /* [lo, hi) in the compacted values of the unit */
} span;

static int cmp_span(const void *a, const void *b)
{
    const span *x = a, *y = b;
    return (x->lo > y->lo) - (x->lo < y->lo);
}

static double span_mean(const double *v, span s)
{
    double m = 0;
    for (int i = s.lo; i < s.hi; i++)
        m += v[i];
    return m / (s.hi - s.lo);
}

/* Pulls outliers back towards their neighbourhood (DNAcopy smooth.CNA): v is modified. */
static int smooth_outliers(double *v, int n, const rw_segment_opts *o, double sd)
{
    int k = o->smooth_region;
    if (k <= 0 || n < 2 || !(sd > 0))
        return 0;
    double *orig = malloc((size_t)n * sizeof *orig), *nb = malloc((size_t)(2 * k + 1) * sizeof *nb);
    if (!orig || !nb) {
        free(orig);
        free(nb);
        return -1;
    }
    memcpy(orig, v, (size_t)n * sizeof *orig);
    double osd = o->outlier_sd * sd, ssd = o->smooth_sd * sd;
    for (int i = 0; i < n; i++) {
        int lo = i - k < 0 ? 0 : i - k, hi = i + k >= n ? n - 1 : i + k;
        double mn = INFINITY, mx = -INFINITY;
        for (int j = lo; j <= hi; j++) {
            if (j == i)
                continue;
            if (orig[j] < mn)
                mn = orig[j];
            if (orig[j] > mx)
                mx = orig[j];
        }
        int above = orig[i] > mx + osd, below = orig[i] < mn - osd;
        if (!above && !below)
            continue;
        int m = 0;
        for (int j = lo; j <= hi; j++)
            nb[m++] = orig[j];
        qsort(nb, (size_t)m, sizeof *nb, rw_stats_cmp_double);
        double med = rw_stats_median_sorted(nb, (size_t)m);
        v[i] = above ? med + ssd : med - ssd;
    }
    free(orig);
    free(nb);
    return 0;
}

/* Segments the values v[0, n) of one unit; *out receives a new array of spans, sorted. */
static rw_status segment_unit(work *wk, const double *v, int n, const rw_segment_opts *o,
                              uint64_t unit, double sd, span **out, int *nout, rw_error *err)
{
    span *stack = NULL, *done = NULL;
    int nstack = 0, ndone = 0;
    rw_status st = RW_OK;
    /* every split adds at most one span, so n spans bound both arrays */
    stack = malloc((size_t)(n + 1) * sizeof *stack);
    done = malloc((size_t)(n + 1) * sizeof *done);
    if (!stack || !done) {
        st = rw_error_set(err, RW_ERR_NOMEM, "out of memory segmenting %d points", n);
        goto fail;
    }
    stack[nstack++] = (span){0, n};
    while (nstack > 0) {
        span s = stack[--nstack];
        int cp[2];
        rng r;
        rng_seed(&r, o->seed, unit, (uint64_t)s.lo, (uint64_t)s.hi);
        int nc = find_changes(wk, v + s.lo, s.hi - s.lo, o, &r, cp);
        if (nc < 0) {
            st = rw_error_set(err, RW_ERR_NOMEM, "out of memory segmenting %d points", n);
            goto fail;
        }
        if (nc == 0) {
            done[ndone++] = s;
            continue;
        }
        int prev = s.lo;
        for (int c = 0; c < nc; c++) {
            stack[nstack++] = (span){prev, s.lo + cp[c]};
            prev = s.lo + cp[c];
        }
        stack[nstack++] = (span){prev, s.hi};
    }
    qsort(done, (size_t)ndone, sizeof *done, cmp_span);

    /* merge segments shorter than min_bins into the neighbour of closer mean */
    while (o->min_bins > 0 && ndone > 1) {
        int small = -1;
        for (int c = 0; c < ndone; c++)
            if (done[c].hi - done[c].lo < o->min_bins &&
                (small < 0 || done[c].hi - done[c].lo < done[small].hi - done[small].lo))
                small = c;
        if (small < 0)
            break;
        double m = span_mean(v, done[small]);
        int into;
        if (small == 0)
            into = 1;
        else if (small == ndone - 1)
            into = small - 1;
        else
            into =
                fabs(span_mean(v, done[small - 1]) - m) <= fabs(span_mean(v, done[small + 1]) - m)
                    ? small - 1
                    : small + 1;
        int a = into < small ? into : small;
        done[a].lo = done[a].lo < done[a + 1].lo ? done[a].lo : done[a + 1].lo;
        done[a].hi = done[a + 1].hi;
        memmove(done + a + 1, done + a + 2, (size_t)(ndone - a - 2) * sizeof *done);
        ndone--;
    }
    /* undo splits whose sides differ by less than undo_sd robust SDs (smallest first) */
    if (o->undo_sd > 0 && sd > 0) {
        while (ndone > 1) {
            int bestc = -1;
            double bestd = INFINITY;
            for (int c = 0; c + 1 < ndone; c++) {
                double d = fabs(span_mean(v, done[c + 1]) - span_mean(v, done[c]));
                if (d < bestd) {
                    bestd = d;
                    bestc = c;
                }
            }
            if (bestd >= o->undo_sd * sd)
                break;
            done[bestc].hi = done[bestc + 1].hi;
            memmove(done + bestc + 1, done + bestc + 2, (size_t)(ndone - bestc - 2) * sizeof *done);
            ndone--;
        }
    }
    free(stack);
    *out = done;
    *nout = ndone;
    return RW_OK;
fail:
    free(stack);
    free(done);
    return st;
}

/* ------------------------------------------------------------------ driver */

static int push_segment(rw_segments *s, const rw_segment *seg)
{
    if (s->n == s->m) {
        size_t m = s->m ? 2 * s->m : 64;
        rw_segment *a = realloc(s->a, m * sizeof *a);
        if (!a)
            return -1;
        s->a = a;
        s->m = m;
    }
    s->a[s->n++] = *seg;
    return 0;
}

rw_status rw_segment_run(size_t n, const int *chrom, const int64_t *start, const int64_t *end,
                         const double *value, const rw_segment_opts *o, rw_segments *out,
                         rw_error *err)
{
    rw_status st = RW_OK;
    work wk = {0};
    wk.bc.alpha = o ? o->alpha : 0;
    double *v = NULL;
    size_t *idx = NULL;
    span *spans = NULL;
    memset(out, 0, sizeof *out);
    if (!o || !chrom || !start || !value)
        return rw_error_set(err, RW_ERR_USAGE, "segment: missing input");
    if (!(o->alpha > 0 && o->alpha < 1) || o->nperm < 1 || o->min_width < 1 || o->min_width > 5 ||
        o->kmax < 1 || !(o->eta > 0 && o->eta < 1) || o->smooth_region < 0 || o->min_bins < 0 ||
        !(o->undo_sd >= 0))
        return rw_error_set(err, RW_ERR_USAGE,
                            "segment: bad options (alpha in (0,1), nperm >= 1, min_width 1..5, "
                            "kmax >= 1, eta in (0,1), others >= 0)");
    if (n > (size_t)(1u << 30))
        return rw_error_set(err, RW_ERR_INPUT, "segment: too many points (%zu)", n);
    v = malloc((n ? n : 1) * sizeof *v);
    idx = malloc((n ? n : 1) * sizeof *idx);
    if (!v || !idx) {
        st = rw_error_set(err, RW_ERR_NOMEM, "out of memory");
        goto fail;
    }
    double sd = rw_segment_trimmed_sd(n, value, 0.025);
    int split_arms = o->build != RW_BUILD_UNKNOWN;
    uint64_t unit = 0;
    size_t i = 0;
    while (i < n) {
        /* one unit: a chromosome, or one arm of it */
        int c = chrom[i];
        int64_t boundary = split_arms ? rw_segment_arm_boundary(o->build, c) : 0;
        int arm = boundary > 0 && start[i] >= boundary;
        size_t j = i;
        int m = 0;
        while (j < n && chrom[j] == c && (boundary <= 0 || (start[j] >= boundary) == arm)) {
            if (isfinite(value[j])) {
                v[m] = value[j];
                idx[m] = j;
                m++;
            }
            j++;
        }
        if (m > 0) {
            if (smooth_outliers(v, m, o, sd) < 0) {
                st = rw_error_set(err, RW_ERR_NOMEM, "out of memory");
                goto fail;
            }
            int ns = 0;
            st = segment_unit(&wk, v, m, o, unit, sd, &spans, &ns, err);
            if (st != RW_OK)
                goto fail;
            for (int s = 0; s < ns; s++) {
                rw_segment seg = {0};
                seg.chrom = c;
                seg.arm = arm;
                seg.first = idx[spans[s].lo];
                seg.last = idx[spans[s].hi - 1];
                seg.start = start[seg.first];
                seg.end = end ? end[seg.last] : start[seg.last];
                seg.n = (size_t)(spans[s].hi - spans[s].lo);
                seg.mean = span_mean(v, spans[s]);
                seg.call = rw_segment_call(seg.mean, o);
                if (push_segment(out, &seg) < 0) {
                    st = rw_error_set(err, RW_ERR_NOMEM, "out of memory");
                    goto fail;
                }
            }
            free(spans);
            spans = NULL;
        }
        unit++;
        i = j;
    }
    free(v);
    free(idx);
    work_free(&wk);
    return RW_OK;
fail:
    free(v);
    free(idx);
    free(spans);
    work_free(&wk);
    rw_segments_free(out);
    return st;
}

rw_status rw_segment_bins(const rw_bins *b, const double *value, const rw_segment_opts *o,
                          rw_segments *out, rw_error *err)
{
    rw_status st;
    int *chrom = malloc((b->n ? b->n : 1) * sizeof *chrom);
    int64_t *start = malloc((b->n ? b->n : 1) * sizeof *start);
    int64_t *end = malloc((b->n ? b->n : 1) * sizeof *end);
    if (!chrom || !start || !end) {
        st = rw_error_set(err, RW_ERR_NOMEM, "out of memory");
        goto done;
    }
    for (int c = 0; c < b->nchrom; c++) {
        for (size_t i = b->first[c]; i < b->first[c + 1]; i++) {
            chrom[i] = c;
            start[i] = rw_bins_start(b, i);
            end[i] = rw_bins_end(b, i);
        }
    }
    st = rw_segment_run(b->n, chrom, start, end, value, o, out, err);
done:
    free(chrom);
    free(start);
    free(end);
    return st;
}
