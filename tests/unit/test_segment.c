/* Unit tests of core/segment: synthetic steps with known breakpoints, arms, options, speed, and
 * the real array-CGH data of DNAcopy (coriell) against known karyotypes and DNAcopy's own CBS. */

/* the .c itself, to reach the static search routines */
#include "core/segment.c"
#include "harness.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* SEG_VERBOSE=1 lists the segments of each run. */
static void dump(const rw_segments *s)
{
    if (!getenv("SEG_VERBOSE"))
        return;
    for (size_t i = 0; i < s->n; i++)
        printf("  seg chrom %d arm %d [%zu, %zu] n %zu %lld-%lld mean %.3f\n", s->a[i].chrom,
               s->a[i].arm, s->a[i].first, s->a[i].last, s->a[i].n, (long long)s->a[i].start,
               (long long)s->a[i].end, s->a[i].mean);
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* Deterministic normal draws for the synthetic series (Box-Muller over splitmix64). */
static uint64_t rs = 12345;
static double unif(void)
{
    uint64_t z = (rs += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    z ^= z >> 31;
    return ((z >> 11) + 0.5) / 9007199254740992.0;
}
static double gauss(void)
{
    return sqrt(-2.0 * log(unif())) * cos(2.0 * M_PI * unif());
}

/* ------------------------------------------------------------------ internals */

/* The block-bounded search finds exactly the arc that the exhaustive scan finds. */
static void test_arc_max_exact(void)
{
    rng r;
    rng_seed(&r, 7, 1, 2, 3);
    work wk = {0};
    int bad = 0;
    for (int rep = 0; rep < 100; rep++) {
        int n = 64 + (int)rng_below(&r, 2000);
        double *x = malloc((size_t)n * sizeof *x), *cum = malloc((size_t)(n + 1) * sizeof *cum);
        int a = (int)rng_below(&r, (size_t)n), b = (int)rng_below(&r, (size_t)n);
        double m = 0;
        for (int i = 0; i < n; i++) {
            x[i] = gauss() + ((i >= a && i < b) ? 0.5 * (rep % 3) : 0);
            m += x[i];
        }
        for (int i = 0; i < n; i++)
            x[i] -= m / n;
        cumsum(x, n, cum);
        CHECK(work_reserve(&wk, (size_t)n) == 0);
        int bi, bj, ci = -1, cj = -1;
        double best = -1, z = arc_max(&wk, cum, n, 2, &bi, &bj);
        arc_scan(cum, n, 2, 0, n, 0, n, &best, &ci, &cj);
        if (fabs(z - best) > 1e-9 * best || bi != ci || bj != cj)
            bad++;
        free(x);
        free(cum);
    }
    work_free(&wk);
    CHECK(bad == 0);
    /* the tail probability falls with the statistic and rises with the number of points */
    CHECK(cbs_tail_prob(4.0, 26.0 / 1000, 1000) > cbs_tail_prob(5.0, 26.0 / 1000, 1000));
    CHECK(cbs_tail_prob(5.0, 26.0 / 10000, 10000) > cbs_tail_prob(5.0, 26.0 / 1000, 1000));
    CHECK(cbs_tail_prob(6.0, 26.0 / 1000, 1000) < 1e-3);
    CHECK(cbs_tail_prob(2.0, 26.0 / 1000, 1000) > 0.5);
}

/* ------------------------------------------------------------------ synthetic */

static void test_steps(void)
{
    /* chrom 0: 0 | 0.4 on [100, 180) | 0; chrom 1: flat; chrom 2: -0.8 from 250 to the end */
    enum { N0 = 300, N1 = 200, N2 = 400, N = N0 + N1 + N2 };
    int chrom[N];
    int64_t pos[N];
    double val[N];
    for (int i = 0; i < N; i++) {
        int c = i < N0 ? 0 : i < N0 + N1 ? 1 : 2;
        int k = c == 0 ? i : c == 1 ? i - N0 : i - N0 - N1;
        double mu = 0;
        if (c == 0 && k >= 100 && k < 180)
            mu = 0.4;
        if (c == 2 && k >= 250)
            mu = -0.8;
        chrom[i] = c;
        pos[i] = (int64_t)k * 1000;
        val[i] = mu + 0.2 * gauss();
    }
    val[N0 + 50] = NAN; /* a masked point is skipped */
    rw_segment_opts o;
    rw_segment_opts_init(&o);
    rw_segments s;
    rw_error err;
    double t0 = now();
    CHECK(rw_segment_run(N, chrom, pos, NULL, val, &o, &s, &err) == RW_OK);
    printf("synthetic steps: %zu segments in %.1f ms\n", s.n, (now() - t0) * 1e3);
    dump(&s);
    CHECK(s.n == 6);
    if (s.n == 6) {
        /* a step of 2 SDs is placed within a point or two of the truth */
        CHECK(s.a[0].chrom == 0 && s.a[0].first == 0 && labs((long)s.a[0].last - 99) <= 2);
        CHECK(labs((long)s.a[1].last - 179) <= 2 && s.a[1].call == RW_SEG_GAIN);
        CHECK_NEAR(s.a[1].mean, 0.4, 0.1);
        CHECK(s.a[2].last == N0 - 1 && s.a[2].call == RW_SEG_NEUTRAL);
        CHECK(s.a[3].chrom == 1 && s.a[3].n == N1 - 1);
        CHECK(s.a[4].chrom == 2 && s.a[4].first == N0 + N1);
        CHECK(labs((long)s.a[5].first - (N0 + N1 + 250)) <= 1 && s.a[5].call == RW_SEG_LOSS);
    }
    rw_segments_free(&s);

    /* determinism: same options, same bytes */
    rw_segments s1, s2;
    CHECK(rw_segment_run(N, chrom, pos, NULL, val, &o, &s1, &err) == RW_OK);
    CHECK(rw_segment_run(N, chrom, pos, NULL, val, &o, &s2, &err) == RW_OK);
    CHECK(s1.n == s2.n && memcmp(s1.a, s2.a, s1.n * sizeof *s1.a) == 0);
    rw_segments_free(&s1);
    rw_segments_free(&s2);

    o.alpha = 0;
    CHECK(rw_segment_run(N, chrom, pos, NULL, val, &o, &s, &err) == RW_ERR_USAGE);
}

/* One change in a stretch longer than nmin: the hybrid test (tail probability + short arcs). */
static void test_end_change(void)
{
    enum { N = 400 };
    int chrom[N];
    int64_t pos[N];
    double val[N];
    for (int i = 0; i < N; i++) {
        chrom[i] = 0;
        pos[i] = i;
        val[i] = (i >= 250 ? -0.8 : 0.0) + 0.2 * gauss();
    }
    rw_segment_opts o;
    rw_segment_opts_init(&o);
    rw_segments s;
    CHECK(rw_segment_run(N, chrom, pos, NULL, val, &o, &s, NULL) == RW_OK);
    CHECK(s.n == 2);
    if (s.n == 2) {
        CHECK(s.a[0].last == 249 && s.a[1].first == 250);
        CHECK(s.a[1].call == RW_SEG_LOSS);
    }
    rw_segments_free(&s);
}

static void test_arms_and_undo(void)
{
    /* chr1 (index 0) at 1 Mb bins in hg38: the p/q boundary at 123.4 Mb splits a flat chromosome
     * into two segments; a 1q gain gives the q arm its own mean. */
    rw_bins *b = rw_bins_new(RW_BUILD_HG38, 1000000, 0, NULL);
    CHECK(b != NULL);
    if (!b)
        return;
    double *v = malloc(b->n * sizeof *v);
    for (size_t i = 0; i < b->n; i++) {
        int c = rw_bins_chrom(b, i);
        double mu = (c == 0 && rw_bins_start(b, i) >= 123400000) ? 0.3 : 0.0;
        v[i] = mu + 0.05 * gauss();
    }
    rw_segment_opts o;
    rw_segment_opts_init(&o);
    o.build = RW_BUILD_HG38;
    rw_segments s;
    double t0 = now();
    CHECK(rw_segment_bins(b, v, &o, &s, NULL) == RW_OK);
    double ms = (now() - t0) * 1e3;
    size_t nchr1 = 0, ngain = 0;
    for (size_t k = 0; k < s.n; k++) {
        if (s.a[k].chrom == 0)
            nchr1++;
        if (s.a[k].call != RW_SEG_NEUTRAL)
            ngain++;
    }
    printf("hg38 1 Mb genome (%zu bins, arms split): %zu segments in %.1f ms\n", b->n, s.n, ms);
    CHECK(nchr1 == 2);
    CHECK(ngain == 1);
    CHECK(s.a[1].chrom == 0 && s.a[1].arm == 1 && s.a[1].start == 124000000 &&
          s.a[1].call == RW_SEG_GAIN);
    /* 2 arms per chromosome with a centromere inside, at least 1 per chromosome */
    CHECK(s.n >= 23 && s.n <= 48);
    rw_segments_free(&s);

    /* undo: a tiny 0.1 step is kept at default options but undone by undo_sd = 3 */
    enum { N = 600 };
    int chrom[N];
    int64_t pos[N];
    double x[N];
    for (int i = 0; i < N; i++) {
        chrom[i] = 0;
        pos[i] = i;
        x[i] = (i >= 300 ? 0.12 : 0) + 0.05 * gauss();
    }
    rw_segment_opts_init(&o);
    CHECK(rw_segment_run(N, chrom, pos, NULL, x, &o, &s, NULL) == RW_OK);
    CHECK(s.n == 2);
    rw_segments_free(&s);
    o.undo_sd = 3;
    CHECK(rw_segment_run(N, chrom, pos, NULL, x, &o, &s, NULL) == RW_OK);
    dump(&s);
    CHECK(s.n == 1);
    rw_segments_free(&s);
    /* min_bins merges short segments: a 3-point spike joins a neighbour with min_bins = 5, and
     * the two flat sides join too when undo_sd is set */
    for (int i = 0; i < N; i++)
        x[i] = 0.05 * gauss() + (i >= 200 && i < 203 ? 2.0 : 0);
    rw_segment_opts_init(&o);
    o.smooth_region = 0;
    CHECK(rw_segment_run(N, chrom, pos, NULL, x, &o, &s, NULL) == RW_OK);
    CHECK(s.n == 3);
    rw_segments_free(&s);
    o.min_bins = 5;
    CHECK(rw_segment_run(N, chrom, pos, NULL, x, &o, &s, NULL) == RW_OK);
    CHECK(s.n == 2 && s.a[0].n >= 5 && s.a[1].n >= 5);
    rw_segments_free(&s);
    o.undo_sd = 3;
    CHECK(rw_segment_run(N, chrom, pos, NULL, x, &o, &s, NULL) == RW_OK);
    CHECK(s.n == 1);
    rw_segments_free(&s);

    CHECK(strcmp(rw_seg_call_name(rw_segment_call(0.7, &o)), "amplification") == 0);
    CHECK(strcmp(rw_seg_call_name(rw_segment_call(-0.5, &o)), "loss") == 0);
    CHECK(rw_segment_arm_boundary(RW_BUILD_HG19, 0) == 125000000);
    free(v);
    rw_bins_free(b);
}

/* 243k points (1 kb bins of chr2 scale) with a few changes: seconds, not minutes. */
static void test_speed_large(void)
{
    size_t n = 243000;
    int *chrom = malloc(n * sizeof *chrom);
    int64_t *pos = malloc(n * sizeof *pos);
    double *x = malloc(n * sizeof *x);
    for (size_t i = 0; i < n; i++) {
        chrom[i] = 1;
        pos[i] = (int64_t)i * 1000;
        double mu = (i >= 50000 && i < 90000) ? 0.4 : (i >= 200000 ? -0.5 : 0);
        x[i] = mu + 0.3 * gauss();
    }
    rw_segment_opts o;
    rw_segment_opts_init(&o);
    rw_segments s;
    double t0 = now();
    CHECK(rw_segment_run(n, chrom, pos, NULL, x, &o, &s, NULL) == RW_OK);
    double sec = now() - t0;
    printf("243,000 points, 3 changes: %zu segments in %.2f s\n", s.n, sec);
    dump(&s);
    int found = 0;
    for (size_t k = 0; k + 1 < s.n; k++) {
        size_t b = s.a[k].last + 1;
        if ((b >= 49990 && b <= 50010) || (b >= 89990 && b <= 90010) ||
            (b >= 199990 && b <= 200010))
            found++;
    }
    CHECK(found == 3);
    CHECK(s.n <= 8); /* at alpha 0.01 a few spurious splits are possible, not dozens */
    CHECK(sec < 30); /* generous for ASan on a shared machine; ~1 s without sanitisers */
    rw_segments_free(&s);
    free(chrom);
    free(pos);
    free(x);
}

/* ------------------------------------------------------------------ coriell */

typedef struct clones {
    size_t n;
    int chrom[2400];
    int64_t pos[2400];
    double val[2][2400];
} clones;

static int read_coriell(const char *path, clones *c)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    char line[512];
    c->n = 0;
    if (!fgets(line, sizeof line, f)) {
        fclose(f);
        return -1;
    }
    while (fgets(line, sizeof line, f) && c->n < 2400) {
        char name[128], a[64], b[64];
        int ch;
        long long p;
        if (sscanf(line, "%127[^\t]\t%d\t%lld\t%63s\t%63s", name, &ch, &p, a, b) != 5)
            continue;
        c->chrom[c->n] = ch;
        c->pos[c->n] = p;
        c->val[0][c->n] = strcmp(a, "NA") ? atof(a) : NAN;
        c->val[1][c->n] = strcmp(b, "NA") ? atof(b) : NAN;
        c->n++;
    }
    fclose(f);
    return 0;
}

typedef struct dseg {
    int sample, chrom;
    int64_t start, end;
    int nmark;
    double mean;
    int first, last; /* ordinals among the sample's non-missing clones */
} dseg;

static int read_dnacopy(const char *path, dseg *d, int max)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    char line[256];
    int n = 0, ord[2] = {0, 0};
    if (!fgets(line, sizeof line, f)) {
        fclose(f);
        return -1;
    }
    while (fgets(line, sizeof line, f) && n < max) {
        char id[32];
        long long s, e;
        if (sscanf(line, "%31s %d %lld %lld %d %lf", id, &d[n].chrom, &s, &e, &d[n].nmark,
                   &d[n].mean) != 6)
            continue;
        d[n].sample = strcmp(id, "c05296") == 0 ? 0 : 1;
        d[n].start = s;
        d[n].end = e;
        d[n].first = ord[d[n].sample];
        ord[d[n].sample] += d[n].nmark;
        d[n].last = ord[d[n].sample] - 1;
        n++;
    }
    fclose(f);
    return n;
}

typedef struct known {
    int sample, chrom;
    int64_t from, to; /* kb; to = -1: to the end */
    int sign;
} known;

static const known changes[] = {
    {0, 10, 65000, 110000, +1},
    {0, 11, 35400, 39600, -1},
    {1, 1, 156700, -1, +1},
    {1, 4, 177300, -1, -1},
};

/* Outer ordinals [*lo, *hi] of the segments of `sample` on k's chromosome whose mean has k's sign,
 * beyond 0.2, and that overlap k's region. Returns the number of such segments. */
static int change_span(const int *sample, const int *chrom, const int64_t *st, const int64_t *en,
                       const double *mean, const int *first, const int *last, int n, const known *k,
                       int *lo, int *hi)
{
    int cnt = 0;
    for (int i = 0; i < n; i++) {
        if (sample[i] != k->sample || chrom[i] != k->chrom || mean[i] * k->sign <= 0.2)
            continue;
        if (en[i] < k->from || (k->to >= 0 && st[i] > k->to))
            continue;
        if (!cnt || first[i] < *lo)
            *lo = first[i];
        if (!cnt || last[i] > *hi)
            *hi = last[i];
        cnt++;
    }
    return cnt;
}

static void test_coriell(void)
{
    static clones c;
    static dseg d[200];
    char path[1024];
    snprintf(path, sizeof path, "%s/coriell/coriell.tsv", RW_TEST_DATA);
    CHECK(read_coriell(path, &c) == 0);
    printf("coriell: %zu clones\n", c.n);
    CHECK(c.n == 2271);
    snprintf(path, sizeof path, "%s/coriell/coriell_dnacopy_cbs_default.tsv", RW_TEST_DATA);
    int nd = read_dnacopy(path, d, 200);
    CHECK(nd > 40);
    if (c.n != 2271 || nd <= 40)
        return;

    /* ours, both samples, in the same flat layout as DNAcopy's table */
    enum { MAXS = 400 };
    static int o_sample[MAXS], o_chrom[MAXS], o_first[MAXS], o_last[MAXS], o_n[MAXS];
    static int64_t o_start[MAXS], o_end[MAXS];
    static double o_mean[MAXS];
    int no = 0;
    rw_segment_opts opt;
    rw_segment_opts_init(&opt); /* DNAcopy defaults, whole chromosomes, seed 25 */
    double total = 0;
    for (int smp = 0; smp < 2; smp++) {
        static int ord[2400];
        int k = 0;
        for (size_t i = 0; i < c.n; i++)
            ord[i] = isfinite(c.val[smp][i]) ? k++ : k;
        rw_segments s;
        double t0 = now();
        rw_status st = rw_segment_run(c.n, c.chrom, c.pos, NULL, c.val[smp], &opt, &s, NULL);
        total += now() - t0;
        CHECK(st == RW_OK);
        if (st != RW_OK)
            return;
        for (size_t i = 0; i < s.n && no < MAXS; i++, no++) {
            o_sample[no] = smp;
            o_chrom[no] = s.a[i].chrom;
            o_start[no] = s.a[i].start;
            o_end[no] = s.a[i].end;
            o_mean[no] = s.a[i].mean;
            o_first[no] = ord[s.a[i].first];
            o_last[no] = ord[s.a[i].last];
            o_n[no] = (int)s.a[i].n;
            CHECK(o_last[no] - o_first[no] + 1 == o_n[no]);
        }
        rw_segments_free(&s);
    }
    printf("coriell: %d segments (DNAcopy %d) in %.1f ms for both samples\n", no, nd, total * 1e3);

    int d_sample[200], d_chrom[200], d_first[200], d_last[200];
    int64_t d_start[200], d_end[200];
    double d_mean[200];
    for (int i = 0; i < nd; i++) {
        d_sample[i] = d[i].sample;
        d_chrom[i] = d[i].chrom;
        d_start[i] = d[i].start;
        d_end[i] = d[i].end;
        d_mean[i] = d[i].mean;
        d_first[i] = d[i].first;
        d_last[i] = d[i].last;
    }
    /* every known change found, outer breakpoints within 2 clones of DNAcopy's */
    for (size_t k = 0; k < sizeof changes / sizeof *changes; k++) {
        int dlo = 0, dhi = 0, olo = 0, ohi = 0;
        int nd_k = change_span(d_sample, d_chrom, d_start, d_end, d_mean, d_first, d_last, nd,
                               &changes[k], &dlo, &dhi);
        int no_k = change_span(o_sample, o_chrom, o_start, o_end, o_mean, o_first, o_last, no,
                               &changes[k], &olo, &ohi);
        printf("known change %zu (sample %d chr%d): DNAcopy clones %d-%d, ours %d-%d\n", k,
               changes[k].sample, changes[k].chrom, dlo, dhi, olo, ohi);
        CHECK(nd_k > 0);
        CHECK(no_k > 0);
        CHECK(abs(dlo - olo) <= 2);
        CHECK(abs(dhi - ohi) <= 2);
    }
    /* no extra segment beyond |0.2| over more than 5 clones (X of GM05296 is known) */
    int extra = 0;
    for (int i = 0; i < no; i++) {
        if (fabs(o_mean[i]) <= 0.2 || o_n[i] <= 5)
            continue;
        if (o_sample[i] == 0 && o_chrom[i] == 23)
            continue;
        int explained = 0;
        for (size_t k = 0; k < sizeof changes / sizeof *changes; k++) {
            const known *kk = &changes[k];
            if (kk->sample == o_sample[i] && kk->chrom == o_chrom[i] && o_mean[i] * kk->sign > 0 &&
                o_end[i] >= kk->from && (kk->to < 0 || o_start[i] <= kk->to))
                explained = 1;
        }
        if (!explained) {
            extra++;
            printf("extra segment: sample %d chr%d %lld-%lld n=%d mean %.3f\n", o_sample[i],
                   o_chrom[i], (long long)o_start[i], (long long)o_end[i], o_n[i], o_mean[i]);
        }
    }
    CHECK(extra == 0);

    /* agreement with DNAcopy: breakpoints (segment ends inside a chromosome) within 2 clones */
    int dbp = 0, dmatched = 0, obp = 0, omatched = 0, exact = 0;
    for (int i = 0; i + 1 < nd; i++) {
        if (d_sample[i] != d_sample[i + 1] || d_chrom[i] != d_chrom[i + 1])
            continue;
        dbp++;
        int best = 1 << 30;
        for (int j = 0; j + 1 < no; j++)
            if (o_sample[j] == d_sample[i] && o_chrom[j] == d_chrom[i] &&
                o_chrom[j + 1] == o_chrom[j] && o_sample[j + 1] == o_sample[j] &&
                abs(o_last[j] - d_last[i]) < best)
                best = abs(o_last[j] - d_last[i]);
        if (best <= 2)
            dmatched++;
        if (best == 0)
            exact++;
    }
    for (int j = 0; j + 1 < no; j++) {
        if (o_sample[j] != o_sample[j + 1] || o_chrom[j] != o_chrom[j + 1])
            continue;
        obp++;
        for (int i = 0; i + 1 < nd; i++)
            if (d_sample[i] == o_sample[j] && d_chrom[i] == o_chrom[j] &&
                d_chrom[i + 1] == d_chrom[i] && d_sample[i + 1] == d_sample[i] &&
                abs(o_last[j] - d_last[i]) <= 2) {
                omatched++;
                break;
            }
    }
    printf("agreement: %d of DNAcopy's %d breakpoints matched within 2 clones (%d exactly); "
           "%d of our %d breakpoints matched\n",
           dmatched, dbp, exact, omatched, obp);
    CHECK(dmatched * 10 >= dbp * 7); /* most of DNAcopy's breakpoints are ours too */
}

int main(void)
{
    test_arc_max_exact();
    test_steps();
    test_end_change();
    test_arms_and_undo();
    test_speed_large();
    test_coriell();
    DONE();
}
