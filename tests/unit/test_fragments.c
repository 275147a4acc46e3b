/* Fragment-length modes compared on REALISTIC simulated paired-end samples (issue 10 part 4):
 * all fragments, the 90-150 bp window and the per-fragment weights of core/count.h
 * (rw_frag_weights: the normal length distribution learnt from the panel's normals, the tumour
 * model 15 bp shorter). hg38, 0.1x, 500 kb bins, CN 6 at 1q21.3, the rest of 1q neutral; the
 * simulator's tumour fragments are 17 bp shorter (a 90-150 window enriches them ~2-fold, as in
 * Mouliere et al. 2018), its normals carry the realistic profile (GC strength, waves,
 * overdispersion). Each sample is drawn once (rw_sim_bins_weighted) and counted in the three
 * modes from the same fragments, so the modes are compared on identical samples.
 *
 * For each mode: a panel of PANEL_N normals (with the simulator's GC, as `pon build
 * --gc-simulated`), NULL_N held-apart normals give the threshold at <= 1% false calls (the
 * smallest z that at most 1% of them reach), and the detection at f = 1, 2, 3, 5, 10% is the share
 * of samples above it. The check (fast) asserts, with statistical margins, the ordering found by
 * the full run: weighted >= window >= all in separation of f = 5% from the normals (the mean z
 * shift over the SD of the null z), and the weights keep the normals' expected count. The full
 * run (RW_FRAGMENTS_FULL=1, bench/fragments.sh) prints the detection table. */
#include "core/analyse.h"
#include "core/count.h"
#include "core/simulate.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/harness.h"

enum { M_ALL, M_WINDOW, M_WEIGHTED, N_MODES };
static const char *const mode_name[N_MODES] = {"all", "window 90-150", "weighted"};
static const double fractions[] = {0.01, 0.02, 0.03, 0.05, 0.10}; /* the full run */
static const double fast_fractions[] = {0.05};                    /* the check */
#define N_F 5
#define H   (RW_FRAG_HIST_MAX + 1)

typedef struct setup {
    int panel_n, null_n, tumour_n;
    double depth;
    double window[H], weight[H], hist[H]; /* hist: the panel normals' lengths */
    const double *tables[N_MODES];
    double *gc;
    rw_pon *pon[N_MODES];
    char filters[N_MODES][128]; /* as rw_bins.filters */
    rw_analyse_opts ao;
} setup;

/* One sample in the three modes; hist (may be NULL) gets its fragment lengths. */
static int draw(const setup *s, uint64_t seed, double f, rw_bins **out, double *hist)
{
    rw_sim_opts o;
    rw_sim_opts_init(&o); /* realistic */
    o.paired = 1, o.seed = seed, o.depth = s->depth, o.tumour_fraction = f;
    const rw_region *r = rw_region_find(RW_BUILD_HG38, RW_REGION_1Q213);
    rw_sim_event ev = {r->chrom, r->start, r->end, 6.0};
    o.events = f > 0 ? &ev : NULL, o.n_events = f > 0;
    rw_error e;
    if (rw_sim_bins_weighted(&o, RW_BIN_SIZE_DEFAULT, s->tables, N_MODES, out, hist, &e)) {
        fprintf(stderr, "simulate: %s\n", e.msg);
        return -1;
    }
    for (int m = 0; m < N_MODES; m++)
        snprintf(out[m]->filters, sizeof out[m]->filters, "%s", s->filters[m]);
    return 0;
}

static void free_modes(rw_bins **b)
{
    for (int m = 0; m < N_MODES; m++)
        rw_bins_free(b[m]), b[m] = NULL;
}

/* The panels: the normals are drawn twice, first for their length histogram (the weights are
 * learnt from it), then counted in every mode, as `pon build --frag-mode weighted` reads BAMs. */
static int build_panels(setup *s)
{
    rw_bins *gcb = NULL;
    if (rw_sim_gc(RW_BUILD_HG38, RW_BIN_SIZE_DEFAULT, &gcb, NULL) != RW_OK)
        return -1;
    s->gc = malloc(gcb->n * sizeof *s->gc);
    memcpy(s->gc, gcb->count, gcb->n * sizeof *s->gc);
    rw_bins_free(gcb);
    for (int l = 0; l < H; l++)
        s->window[l] = l >= 90 && l <= 150;
    s->tables[M_ALL] = NULL, s->tables[M_WINDOW] = s->window, s->tables[M_WEIGHTED] = NULL;
    rw_count_opts co;
    rw_count_opts_init(&co);
    rw_count_filters(&co, s->filters[M_ALL], sizeof s->filters[M_ALL]);
    co.frag_min = 90, co.frag_max = 150;
    rw_count_filters(&co, s->filters[M_WINDOW], sizeof s->filters[M_WINDOW]);

    double one[H];
    rw_bins *b[N_MODES];
    for (int j = 0; j < s->panel_n; j++) {
        if (draw(s, 1000 + (uint64_t)j, 0, b, one))
            return -1;
        free_modes(b);
        for (int l = 0; l < H; l++)
            s->hist[l] += one[l];
    }
    rw_error e;
    if (rw_frag_weights(s->hist, RW_FRAG_TUMOUR_SHIFT, s->weight, &e) != RW_OK) {
        fprintf(stderr, "weights: %s\n", e.msg);
        return -1;
    }
    s->tables[M_WEIGHTED] = s->weight;
    co.frag_min = co.frag_max = 0, co.frag_weights = s->weight;
    rw_count_filters(&co, s->filters[M_WEIGHTED], sizeof s->filters[M_WEIGHTED]);

    rw_bins **nb[N_MODES];
    for (int m = 0; m < N_MODES; m++)
        nb[m] = calloc((size_t)s->panel_n, sizeof *nb[m]);
    int rc = 0;
    for (int j = 0; !rc && j < s->panel_n; j++) {
        rc = draw(s, 1000 + (uint64_t)j, 0, b, NULL);
        for (int m = 0; !rc && m < N_MODES; m++)
            nb[m][j] = b[m];
    }
    for (int m = 0; !rc && m < N_MODES; m++) {
        rw_pon_opts po;
        rw_pon_opts_init(&po);
        po.gc = s->gc, po.filters = s->filters[m], po.frag_hist = s->hist;
        if (rw_pon_build(nb[m], (size_t)s->panel_n, &po, &s->pon[m], &e) != RW_OK) {
            fprintf(stderr, "pon: %s\n", e.msg);
            rc = -1;
        }
    }
    for (int m = 0; m < N_MODES; m++) {
        for (int j = 0; j < s->panel_n; j++)
            rw_bins_free(nb[m][j]);
        free(nb[m]);
    }
    return rc;
}

/* What the product itself answered, per mode: shares of amplified and of no-calls
 * (insufficient_quality, the quality gate). */
typedef struct calls {
    double amplified[N_MODES], nocall[N_MODES];
} calls;

/* z of 1q21.3 of n samples at f (seeds seed0 + i) in every mode: z[m * n + i]. */
static int score(const setup *s, double f, int n, uint64_t seed0, double *z, calls *called)
{
    memset(called, 0, sizeof *called);
    for (int i = 0; i < n; i++) {
        rw_bins *b[N_MODES];
        if (draw(s, seed0 + (uint64_t)i, f, b, NULL))
            return -1;
        for (int m = 0; m < N_MODES; m++) {
            rw_result *r = NULL;
            rw_error e;
            rw_analyse_opts ao = s->ao;
            ao.filters = s->filters[m];
            if (rw_analyse(b[m], s->pon[m], &ao, &r, &e) != RW_OK) {
                fprintf(stderr, "analyse: %s\n", e.msg);
                free_modes(b);
                return -1;
            }
            z[m * n + i] = isfinite(r->z) ? r->z : -INFINITY;
            called->amplified[m] += (r->call == RW_CALL_AMPLIFIED) / (double)n;
            called->nocall[m] += (r->call == RW_CALL_INSUFFICIENT_QUALITY) / (double)n;
            rw_result_free(r);
        }
        free_modes(b);
    }
    return 0;
}

/* An environment override of the full run, else def. */
static double env_or(const char *name, double def)
{
    const char *v = getenv(name);
    return v && *v ? atof(v) : def;
}

static int cmp_desc(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x < y) - (x > y);
}

/* The smallest threshold that at most 1% of the null z reach (strictly above the next). */
static double threshold_1pct(const double *z, int n)
{
    double *v = malloc((size_t)n * sizeof *v);
    memcpy(v, z, (size_t)n * sizeof *v);
    qsort(v, (size_t)n, sizeof *v, cmp_desc);
    int allowed = n / 100; /* how many normals may reach it */
    double t = nextafter(v[allowed], INFINITY);
    free(v);
    return t;
}

static void mean_sd(const double *v, int n, double *mean, double *sd)
{
    double s = 0, ss = 0;
    for (int i = 0; i < n; i++)
        s += v[i];
    *mean = s / n;
    for (int i = 0; i < n; i++)
        ss += (v[i] - *mean) * (v[i] - *mean);
    *sd = sqrt(ss / (n - 1));
}

/* The weighted panel keeps its mode and the normals' lengths through its file: the weights
 * learnt again from the file are those of its filters; a sample counted in another mode is
 * refused. */
static void check_panel_file(const setup *s)
{
    const char *dir = getenv("RW_BUILDDIR");
    char path[1024];
    snprintf(path, sizeof path, "%s/test_fragments.pon", dir ? dir : ".");
    rw_error e;
    rw_pon *p = NULL;
    CHECK(rw_pon_write(s->pon[M_WEIGHTED], path, &e) == RW_OK);
    CHECK(rw_pon_read(path, &p, &e) == RW_OK);
    remove(path);
    if (!p)
        return;
    static double w[H];
    CHECK(p->frag_hist && !memcmp(p->frag_hist, s->hist, sizeof s->hist));
    CHECK(p->frag_hist && rw_frag_weights(p->frag_hist, RW_FRAG_TUMOUR_SHIFT, w, &e) == RW_OK);
    rw_count_opts co;
    rw_count_opts_init(&co);
    co.frag_weights = w;
    char f[256];
    CHECK(!strcmp(rw_count_filters(&co, f, sizeof f), p->filters));
    CHECK(strstr(p->filters, "frag=weighted:") != NULL);
    rw_bins *b[N_MODES];
    if (draw(s, 99, 0, b, NULL) == 0) {
        CHECK(rw_pon_check(p, b[M_ALL], b[M_ALL]->filters, &e) == RW_ERR_MISMATCH);
        CHECK(rw_pon_check(p, b[M_WINDOW], b[M_WINDOW]->filters, &e) == RW_ERR_MISMATCH);
        CHECK(rw_pon_check(p, b[M_WEIGHTED], b[M_WEIGHTED]->filters, &e) == RW_OK);
        free_modes(b);
    }
    rw_pon_free(p);
}

int main(void)
{
    int full = getenv("RW_FRAGMENTS_FULL") && !strcmp(getenv("RW_FRAGMENTS_FULL"), "1");
    setup s = {0};
    s.panel_n = full ? (int)env_or("RW_FRAGMENTS_PANEL", 30) : 20;
    s.null_n = full ? (int)env_or("RW_FRAGMENTS_NULL", 500) : 80;
    s.tumour_n = full ? (int)env_or("RW_FRAGMENTS_TUMOUR", 100) : 30;
    const double *fr = full ? fractions : fast_fractions;
    size_t nf = full ? N_F : 1;
    s.depth = full ? env_or("RW_FRAGMENTS_DEPTH", 0.1) : 0.1;
    if (full && (s.panel_n < 5 || s.null_n < 100 || s.tumour_n < 1 || !(s.depth > 0))) {
        CHECK(!"bad RW_FRAGMENTS_* option (panel >= 5, null >= 100, tumour >= 1, depth > 0)");
        DONE();
    }
    rw_analyse_opts_init(&s.ao);
    s.ao.segment = 0;
    if (build_panels(&s)) {
        CHECK(!"panels");
        DONE();
    }
    check_panel_file(&s);
    /* The weights keep a normal fragment's expected count (1 on average over the panel). */
    double pn[H], mean_w = 0, var_w = 0;
    rw_sim_opts so;
    rw_sim_opts_init(&so);
    rw_sim_frag_pmf(so.frag_mode_normal, pn);
    for (int l = 0; l < H; l++)
        mean_w += pn[l] * s.weight[l], var_w += pn[l] * s.weight[l] * s.weight[l];
    CHECK_NEAR(mean_w, 1, 0.01);
    var_w -= mean_w * mean_w;
    CHECK(var_w > 0.2 && var_w < 1.5); /* the variance the weights add to each fragment */

    double *z0 = malloc((size_t)N_MODES * s.null_n * sizeof *z0);
    double *zt = malloc((size_t)N_MODES * s.tumour_n * sizeof *zt);
    calls called0, called;
    double thr[N_MODES], m0[N_MODES], sd0[N_MODES];
    if (score(&s, 0, s.null_n, 500000, z0, &called0)) {
        CHECK(!"null series");
        DONE();
    }
    printf("fragment modes, realistic %gx paired-end, CN 6 at 1q21.3: panel %d normals, "
           "threshold at <= 1%% false calls from %d held-apart normals, %d samples per f\n",
           s.depth, s.panel_n, s.null_n, s.tumour_n);
    printf("%-14s %9s %7s %7s", "mode", "threshold", "call@0", "nocall0");
    for (size_t k = 0; k < nf; k++)
        printf("  f=%-4g", 100 * fr[k]);
    printf("  (detection %% at the threshold; in brackets the product's own call, z >= 3 and the "
           "quality gate)\n");
    double sep5[N_MODES] = {0}, det[N_MODES][N_F];
    char line[N_MODES][512];
    for (int m = 0; m < N_MODES; m++) {
        thr[m] = threshold_1pct(z0 + m * s.null_n, s.null_n);
        mean_sd(z0 + m * s.null_n, s.null_n, &m0[m], &sd0[m]);
        snprintf(line[m], sizeof line[m], "%-14s %9.2f %6.1f%% %6.1f%%", mode_name[m], thr[m],
                 100 * called0.amplified[m], 100 * called0.nocall[m]);
    }
    for (size_t k = 0; k < nf; k++) {
        if (score(&s, fr[k], s.tumour_n, 700000 + 10000 * k, zt, &called)) {
            CHECK(!"tumour series");
            DONE();
        }
        for (int m = 0; m < N_MODES; m++) {
            int hit = 0;
            for (int i = 0; i < s.tumour_n; i++)
                hit += zt[m * s.tumour_n + i] >= thr[m];
            det[m][k] = (double)hit / s.tumour_n;
            size_t len = strlen(line[m]);
            snprintf(line[m] + len, sizeof line[m] - len, " %3.0f (%3.0f)", 100 * det[m][k],
                     100 * called.amplified[m]);
            if (fr[k] == 0.05) {
                double mt, sdt;
                mean_sd(zt + m * s.tumour_n, s.tumour_n, &mt, &sdt);
                sep5[m] = (mt - m0[m]) / sd0[m];
            }
        }
    }
    for (int m = 0; m < N_MODES; m++)
        printf("%s\n", line[m]);
    printf("separation at f = 5%% ((mean z - mean null z) / SD null z):");
    for (int m = 0; m < N_MODES; m++)
        printf(" %s %.2f;", mode_name[m], sep5[m]);
    printf("\n");
    if (!full) {
        /* Margins: the SE of a separation of ~3-6 from 30 samples and 100 normals is ~0.3-0.5;
         * the modes share their samples, so their differences vary less. */
        CHECK(sep5[M_WINDOW] > sep5[M_ALL] - 0.5);
        CHECK(sep5[M_WEIGHTED] > sep5[M_WINDOW] - 0.5);
        CHECK(sep5[M_WEIGHTED] > sep5[M_ALL]);
        for (int m = 0; m < N_MODES; m++)
            CHECK(called0.amplified[m] <=
                  0.03); /* the product's own call stays calibrated in every mode */
    }
    free(z0), free(zt), free(s.gc);
    for (int m = 0; m < N_MODES; m++)
        rw_pon_free(s.pon[m]);
    DONE();
}
