/* Tests of core/pon: hand-made normals with exact medians, MADs and masks; the leave-one-out
 * region statistics; the file round trip; checksum corruption; sample/PoN mismatches. */
#include "core/pon.h"
#include "core/simulate.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/unit/harness.h"

#define NN  5
#define BIN 5000000 /* 5 Mb bins: a few hundred bins, every one checkable by hand */

static const double scale[NN] = {100, 200, 300, 400, 500};

/* Normal j's normalised value v in bin i becomes the count scale[j] * v. */
static void set(rw_bins **nb, size_t i, const double v[NN])
{
    for (int j = 0; j < NN; j++)
        nb[j]->count[i] = isnan(v[j]) ? NAN : scale[j] * v[j];
}

static void free_normals(rw_bins **nb)
{
    for (int j = 0; j < NN; j++)
        rw_bins_free(nb[j]);
}

/* Every bin of normal j is rot[(i + j) % 5]: per bin the five values {0.9 .. 1.1} (median 1,
 * MAD 0.05, robust CV 1.4826 * 0.05 = 0.0741), and per normal each value about equally often,
 * so each normal's median is exactly 1 and its scale exactly scale[j]. Special bins on chr2:
 *   A  {0.8, 0.9, 1.0, 1.1, 1.3}: median 1.0, MAD 0.1, CV 0.148 < 3 * 0.0741: kept
 *   B  {0.1, 0.1, 0.15, 0.2, 0.1}: median 0.1 < 0.2: LOW
 *   C  {0.5, 1.0, 1.5, 2.0, 0.6}: median 1.0, MAD 0.5, CV 0.741 > 0.5: SPREAD (absolute rule)
 *   D  {0.6, 0.8, 1.0, 1.2, 1.4}: median 1.0, MAD 0.2, CV 0.297 > 0.222: SPREAD (adaptive rule)
 *   E  one normal NaN: 4 values < 5 normals: NODATA
 * and the chr1 centromere mask (hg38 121.7-143.2 Mb) covers the five bins 120-145 Mb. */
static void test_build_masks(void)
{
    static const double rot[5] = {0.9, 0.95, 1.0, 1.05, 1.1};
    rw_bins *nb[NN];
    for (int j = 0; j < NN; j++) {
        nb[j] = rw_bins_new(RW_BUILD_HG38, BIN, 0, NULL);
        for (size_t i = 0; i < nb[j]->n; i++)
            nb[j]->count[i] = scale[j] * rot[(i + (size_t)j) % 5];
    }
    size_t c2 = nb[0]->first[1];
    size_t A = c2 + 3, B = c2 + 5, C = c2 + 7, D = c2 + 9, E = c2 + 11;
    set(nb, A, (const double[NN]){0.8, 0.9, 1.0, 1.1, 1.3});
    set(nb, B, (const double[NN]){0.1, 0.1, 0.15, 0.2, 0.1});
    set(nb, C, (const double[NN]){0.5, 1.0, 1.5, 2.0, 0.6});
    set(nb, D, (const double[NN]){0.6, 0.8, 1.0, 1.2, 1.4});
    set(nb, E, (const double[NN]){1.0, NAN, 1.0, 1.0, 1.0});

    rw_pon_opts o;
    rw_pon_opts_init(&o);
    CHECK(o.min_normals == 5 && o.recommended_normals == 10 && o.min_median == 0.2 &&
          o.max_cv == 0.5 && o.max_cv_factor == 3.0);
    o.filters = "mapq=20;flags=0xF04;mode=fragments;frag=0-0";
    rw_pon *p = NULL;
    rw_error e;
    CHECK(rw_pon_build(nb, NN, &o, &p, &e) == RW_OK);
    if (!p) {
        free_normals(nb);
        return;
    }
    CHECK(p->n_normals == NN && p->low_normals == 1); /* 5 < 10 recommended */
    CHECK(!strcmp(p->filters, o.filters));
    CHECK(!strncmp(p->id, "pon-hg38-5000kb-n5-", 19));
    size_t plain = c2 + 20;
    CHECK_NEAR(p->median->count[plain], 1.0, 1e-12);
    CHECK_NEAR(p->mad[plain], 0.05, 1e-12);
    CHECK(p->mask[plain] == 0);
    CHECK_NEAR(p->median->count[A], 1.0, 1e-12);
    CHECK_NEAR(p->mad[A], 0.1, 1e-12);
    CHECK(p->mask[A] == 0);
    CHECK_NEAR(p->median->count[B], 0.1, 1e-12);
    CHECK(p->mask[B] == RW_PON_MASK_LOW);
    CHECK_NEAR(p->mad[C], 0.5, 1e-12);
    CHECK(p->mask[C] == RW_PON_MASK_SPREAD);
    CHECK_NEAR(p->mad[D], 0.2, 1e-12);
    CHECK(p->mask[D] == RW_PON_MASK_SPREAD);
    CHECK(p->mask[E] == RW_PON_MASK_NODATA);
    size_t cen = 0;
    for (size_t i = 0; i < p->median->first[1]; i++)
        if (p->mask[i] & RW_PON_MASK_REGION) {
            cen++;
            CHECK(i >= 24 && i <= 28); /* chr1 bins 120-125 .. 140-145 Mb */
        }
    CHECK(cen == 5);
    CHECK(rw_pon_usable(p) == p->median->n - 9);
    for (size_t i = 0; i < p->median->n; i++)
        if (!isnan(p->gc[i]))
            CHECK(!"gc must be NaN until the GC module fills it");
    rw_pon_free(p);

    /* the adaptive rule is an option: with a factor of 5, D (CV 0.297 < 0.37) is kept */
    o.max_cv_factor = 5.0;
    CHECK(rw_pon_build(nb, NN, &o, &p, &e) == RW_OK);
    CHECK(p && p->mask[D] == 0 && p->mask[C] == RW_PON_MASK_SPREAD);
    rw_pon_free(p);
    free_normals(nb);
}

/* Flat normals (every normalised value 1) except the 1q21.3 bin chr1:150-155 Mb, where the
 * normals read {1, 1, 1, 1.2, 0.8}. Leave-one-out, each normal is compared with the median of
 * the other four in that bin:
 *   normals 0-2: others {1, 1, 1.2, 0.8} -> median 1 -> score log2(1/1) = 0
 *   normal 3:    others {1, 1, 1, 0.8}   -> median 1 -> score log2(1.2) = 0.2630344
 *   normal 4:    others {1, 1, 1, 1.2}   -> median 1 -> score log2(0.8) = -0.3219281
 *   mean = (0.2630344 - 0.3219281) / 5 = -0.01177874
 *   SD = sqrt(sum (s - mean)^2 / 4) = sqrt((3 * 1.38739e-4 + 0.0755223 + 0.0961926) / 4)
 *      = sqrt(0.1721311 / 4) = 0.2074434
 * S100A7-9 (100 kb) lies inside that one bin (the fallback rule), so it has the same statistics.
 * 1q (123.4 Mb to the end): bins 125-245 Mb, of which 125-145 are masked: 21 usable bins, one of
 * which carries the signal, so each 1q score is the 1q21.3 score / 21. */
static rw_pon *build_flat(rw_bins **nb, rw_build build, const char *filters)
{
    for (int j = 0; j < NN; j++) {
        nb[j] = rw_bins_new(build, BIN, 0, NULL);
        for (size_t i = 0; i < nb[j]->n; i++)
            nb[j]->count[i] = scale[j];
    }
    set(nb, 30, (const double[NN]){1, 1, 1, 1.2, 0.8});
    rw_pon_opts o;
    rw_pon_opts_init(&o);
    o.filters = filters;
    rw_pon *p = NULL;
    if (rw_pon_build(nb, NN, &o, &p, NULL) != RW_OK)
        return NULL;
    return p;
}

static void test_leave_one_out(void)
{
    rw_bins *nb[NN];
    rw_pon *p = build_flat(nb, RW_BUILD_HG38, "f1");
    CHECK(p != NULL);
    if (!p) {
        free_normals(nb);
        return;
    }
    CHECK(p->n_regions == 3);
    const rw_pon_region *r = rw_pon_region_find(p, "1q21.3");
    CHECK(r && r->n_bins == 1 && r->n_scored == 5);
    if (r) {
        CHECK_NEAR(r->loo_mean, -0.01177874, 1e-7);
        CHECK_NEAR(r->loo_sd, 0.2074434, 1e-6);
    }
    const rw_pon_region *s = rw_pon_region_find(p, "S100A7-9");
    CHECK(s && r && s->n_bins == 1 && s->loo_sd == r->loo_sd);
    const rw_pon_region *q = rw_pon_region_find(p, "1q");
    CHECK(q && q->n_bins == 21);
    if (q && r) {
        CHECK_NEAR(q->loo_mean, r->loo_mean / 21, 1e-9);
        CHECK_NEAR(q->loo_sd, r->loo_sd / 21, 1e-9);
    }
    CHECK(rw_pon_region_find(p, "chr1-centromere") == NULL);
    /* the bin itself: median 1, MAD 0 (three of five normals read exactly 1) */
    CHECK(p->mask[30] == 0 && p->median->count[30] == 1.0 && p->mad[30] == 0.0);
    rw_pon_free(p);
    free_normals(nb);
}

static char tmpdir[256];

static void test_file_round_trip(void)
{
    rw_bins *nb[NN];
    rw_pon *p = build_flat(nb, RW_BUILD_HG38, "mapq=20;flags=0xF04;mode=fragments;frag=0-0");
    CHECK(p != NULL);
    if (!p) {
        free_normals(nb);
        return;
    }
    p->gc[7] = 0.41; /* the GC module's column survives the trip */
    char path[512];
    snprintf(path, sizeof path, "%s/pon.tsv", tmpdir);
    rw_error e;
    CHECK(rw_pon_write(p, path, &e) == RW_OK);
    rw_pon *q = NULL;
    CHECK(rw_pon_read(path, &q, &e) == RW_OK);
    if (q) {
        CHECK(!strcmp(q->id, p->id) && !strcmp(q->filters, p->filters));
        CHECK(!strcmp(q->options, p->options) && !strcmp(q->core_version, p->core_version));
        CHECK(q->n_normals == 5 && q->low_normals == 1);
        CHECK(rw_bins_same_layout(q->median, p->median));
        int same = 1;
        for (size_t i = 0; i < p->median->n; i++) {
            same &= q->mask[i] == p->mask[i];
            same &= fabs(q->median->count[i] - p->median->count[i]) < 1e-9;
            same &= fabs(q->mad[i] - p->mad[i]) < 1e-9;
            same &= isnan(p->gc[i]) ? isnan(q->gc[i]) : fabs(q->gc[i] - p->gc[i]) < 1e-12;
        }
        CHECK(same);
        CHECK(q->n_regions == p->n_regions);
        for (size_t r = 0; r < p->n_regions && r < q->n_regions; r++) {
            CHECK(!strcmp(q->regions[r].name, p->regions[r].name));
            CHECK_NEAR(q->regions[r].loo_mean, p->regions[r].loo_mean, 1e-9);
            CHECK_NEAR(q->regions[r].loo_sd, p->regions[r].loo_sd, 1e-9);
            CHECK(q->regions[r].n_bins == p->regions[r].n_bins);
        }
        /* writing it again gives the same bytes: the format is stable */
        char path2[600];
        snprintf(path2, sizeof path2, "%s/pon2.tsv", tmpdir);
        CHECK(rw_pon_write(q, path2, &e) == RW_OK);
        char cmd[1400];
        snprintf(cmd, sizeof cmd, "cmp -s '%s' '%s'", path, path2);
        CHECK(system(cmd) == 0);
        unlink(path2);
    }
    rw_pon_free(q);

    /* corruption: change one digit of one bin line; the checksum catches it */
    FILE *f = fopen(path, "r+");
    char buf[1 << 16];
    size_t len = fread(buf, 1, sizeof buf, f);
    char *line = strstr(buf, "\nchr2\t0\t5000000\t");
    CHECK(line != NULL && len > 0);
    if (line) {
        char *digit = line + strlen("\nchr2\t0\t5000000\t");
        *digit = *digit == '1' ? '2' : '1';
        fseek(f, 0, SEEK_SET);
        fwrite(buf, 1, len, f);
    }
    fclose(f);
    q = NULL;
    CHECK(rw_pon_read(path, &q, &e) == RW_ERR_INPUT);
    CHECK(q == NULL && strstr(e.msg, "checksum mismatch") && strstr(e.msg, "corrupted"));

    /* truncation: the checksum line is gone */
    CHECK(truncate(path, 4000) == 0);
    CHECK(rw_pon_read(path, &q, &e) == RW_ERR_INPUT);
    CHECK(strstr(e.msg, "truncated") != NULL);
    /* not a PoN at all, empty, missing */
    f = fopen(path, "w");
    fputs("chrom\tstart\tend\tcount\n", f);
    fclose(f);
    CHECK(rw_pon_read(path, &q, &e) == RW_ERR_INPUT);
    CHECK(strstr(e.msg, "not a relapsewatch panel") != NULL);
    f = fopen(path, "w");
    fclose(f);
    CHECK(rw_pon_read(path, &q, &e) == RW_ERR_INPUT);
    CHECK(strstr(e.msg, "empty") != NULL);
    unlink(path);
    CHECK(rw_pon_read(path, &q, &e) == RW_ERR_IO);
    rw_pon_free(p);
    free_normals(nb);
}

static void test_mismatch(void)
{
    rw_bins *nb[NN];
    rw_pon *p = build_flat(nb, RW_BUILD_HG19, "mapq=20;flags=0xF04;mode=fragments;frag=0-0");
    CHECK(p != NULL);
    if (!p) {
        free_normals(nb);
        return;
    }
    rw_error e;
    rw_bins *s19 = rw_bins_new(RW_BUILD_HG19, BIN, 0, NULL);
    rw_bins *s38 = rw_bins_new(RW_BUILD_HG38, BIN, 0, NULL);
    rw_bins *s1m = rw_bins_new(RW_BUILD_HG19, 1000000, 0, NULL);
    rw_bins *sy = rw_bins_new(RW_BUILD_HG19, BIN, 1, NULL);
    CHECK(rw_pon_check(p, s19, p->filters, &e) == RW_OK);
    CHECK(rw_pon_check(p, s19, NULL, &e) == RW_OK);
    CHECK(rw_pon_check(p, s38, p->filters, &e) == RW_ERR_MISMATCH);
    CHECK(strstr(e.msg, "hg38") && strstr(e.msg, "hg19"));
    CHECK(rw_pon_check(p, s1m, p->filters, &e) == RW_ERR_MISMATCH);
    CHECK(strstr(e.msg, "1000000") && strstr(e.msg, "5000000"));
    CHECK(rw_pon_check(p, sy, p->filters, &e) == RW_ERR_MISMATCH);
    CHECK(strstr(e.msg, "chrY") != NULL);
    CHECK(rw_pon_check(p, s19, "mapq=30;flags=0xF04;mode=fragments;frag=0-0", &e) ==
          RW_ERR_MISMATCH);
    CHECK(strstr(e.msg, "mapq=30") && strstr(e.msg, "filters"));
    /* the canonical filters string of the default counting options */
    rw_count_opts co;
    rw_count_opts_init(&co);
    char fs[128];
    CHECK(
        !strcmp(rw_pon_filters(&co, fs, sizeof fs), "mapq=20;flags=0xF04;mode=fragments;frag=0-0"));
    co.frag_min = 90;
    co.frag_max = 150;
    co.mode = RW_COUNT_READS;
    CHECK(
        !strcmp(rw_pon_filters(&co, fs, sizeof fs), "mapq=20;flags=0xF04;mode=reads;frag=90-150"));
    rw_bins_free(s19);
    rw_bins_free(s38);
    rw_bins_free(s1m);
    rw_bins_free(sy);
    rw_pon_free(p);
    free_normals(nb);
}

static void test_bad_build_input(void)
{
    rw_bins *nb[NN];
    for (int j = 0; j < NN; j++) {
        nb[j] = rw_bins_new(RW_BUILD_HG38, BIN, 0, NULL);
        for (size_t i = 0; i < nb[j]->n; i++)
            nb[j]->count[i] = 10;
    }
    rw_pon *p = NULL;
    rw_error e;
    CHECK(rw_pon_build(nb, 4, NULL, &p, &e) == RW_ERR_INPUT && p == NULL);
    CHECK(strstr(e.msg, "at least 5") != NULL);
    rw_bins *other = nb[2];
    nb[2] = rw_bins_new(RW_BUILD_HG19, BIN, 0, NULL);
    CHECK(rw_pon_build(nb, NN, NULL, &p, &e) == RW_ERR_MISMATCH && p == NULL);
    CHECK(strstr(e.msg, "normal 3") != NULL);
    rw_bins_free(nb[2]);
    nb[2] = other;
    for (size_t i = 0; i < nb[4]->n; i++)
        nb[4]->count[i] = 0;
    CHECK(rw_pon_build(nb, NN, NULL, &p, &e) == RW_ERR_INPUT && p == NULL);
    CHECK(strstr(e.msg, "normal 5 has no reads") != NULL);
    free_normals(nb);
}

/* The file's text with its checksum line recomputed (FNV-1a 64 over everything before it), as
 * an older relapsewatch would have written it. */
static void write_with_checksum(const char *path, const char *text)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (const unsigned char *c = (const unsigned char *)text; *c; c++) {
        h ^= *c;
        h *= 0x100000001b3ULL;
    }
    FILE *f = fopen(path, "w");
    if (!f)
        return;
    fprintf(f, "%s#checksum\tfnv1a64=%016llx\n", text, (unsigned long long)h);
    fclose(f);
}

/* Reads path into a new string without its checksum line (NULL on failure). */
static char *slurp_body(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    char *buf = calloc(1, 1 << 22);
    size_t len = buf ? fread(buf, 1, (1 << 22) - 1, f) : 0;
    fclose(f);
    char *ck = buf && len ? strstr(buf, "#checksum\t") : NULL;
    if (ck)
        *ck = 0;
    return buf;
}

/* Format version 2: the panel's principal components (realistic simulated normals without GC
 * fractions carry a strong shared GC pattern) survive the trip; a version-1 file (no
 * #components, no pc columns) still loads as a panel without components; an unknown version and
 * a bin line with the wrong number of component values are refused. */
static void test_components_file(void)
{
    enum { N = 8 };
    rw_bins *nb[N] = {0};
    int ok = 1;
    for (int j = 0; j < N; j++) {
        rw_sim_opts o;
        rw_sim_opts_init(&o);
        o.seed = 77 + (uint64_t)j;
        ok &= rw_sim_bins(&o, 500000, &nb[j], NULL) == RW_OK;
    }
    rw_pon *p = NULL;
    rw_error e;
    CHECK(ok && rw_pon_build(nb, N, NULL, &p, &e) == RW_OK);
    for (int j = 0; j < N; j++)
        rw_bins_free(nb[j]);
    if (!p)
        return;
    CHECK(p->n_components >= 1 && p->n_components <= 5 && p->pc != NULL);
    CHECK(strstr(p->options, "max_components=5;component_ratio=1.5") != NULL);
    char path[512];
    snprintf(path, sizeof path, "%s/pon_pc.tsv", tmpdir);
    CHECK(rw_pon_write(p, path, &e) == RW_OK);
    rw_pon *q = NULL;
    CHECK(rw_pon_read(path, &q, &e) == RW_OK);
    if (q) {
        CHECK(q->n_components == p->n_components);
        double worst = 0;
        for (size_t i = 0; i < (size_t)p->n_components * p->median->n; i++)
            if (fabs(q->pc[i] - p->pc[i]) > worst)
                worst = fabs(q->pc[i] - p->pc[i]);
        CHECK(worst < 1e-9);
    }
    rw_pon_free(q);
    q = NULL;
    char *body = slurp_body(path);
    CHECK(body && strstr(body, "version=2\n") && strstr(body, "\n#components\t"));
    char *bad = body ? strstr(body, "\nchr2\t0\t500000\t") : NULL;
    if (bad) { /* one component value fewer on one line */
        char *eol = strchr(bad + 1, '\n'), *tab = eol;
        while (tab > bad && *tab != '\t')
            tab--;
        memmove(tab, eol, strlen(eol) + 1);
        write_with_checksum(path, body);
        CHECK(rw_pon_read(path, &q, &e) == RW_ERR_INPUT && strstr(e.msg, "component values"));
    }
    free(body);
    rw_pon_free(p);

    /* a version-1 panel: the flat panel written, then stripped of what version 2 added */
    rw_bins *fb[NN];
    p = build_flat(fb, RW_BUILD_HG38, "F");
    CHECK(p && p->n_components == 0 && p->pc == NULL);
    if (p && rw_pon_write(p, path, &e) == RW_OK && (body = slurp_body(path))) {
        char *v = strstr(body, "version=2");
        char *c = strstr(body, "#components\t0\n");
        CHECK(v && c);
        if (v && c) {
            v[8] = '1';
            memmove(c, c + strlen("#components\t0\n"), strlen(c + strlen("#components\t0\n")) + 1);
            write_with_checksum(path, body);
            CHECK(rw_pon_read(path, &q, &e) == RW_OK);
            CHECK(q && q->n_components == 0 && q->pc == NULL && q->n_regions == p->n_regions);
            rw_pon_free(q);
            q = NULL;
            v[8] = '3';
            write_with_checksum(path, body);
            CHECK(rw_pon_read(path, &q, &e) == RW_ERR_INPUT);
            CHECK(strstr(e.msg, "unsupported panel format version 3") != NULL);
        }
        free(body);
    }
    unlink(path);
    rw_pon_free(p);
    free_normals(fb);
}

int main(void)
{
    snprintf(tmpdir, sizeof tmpdir, "%s/test_pon.XXXXXX", RW_BUILD_DIR);
    if (!mkdtemp(tmpdir)) {
        snprintf(tmpdir, sizeof tmpdir, "/tmp/test_pon.XXXXXX");
        if (!mkdtemp(tmpdir))
            return 1;
    }
    test_build_masks();
    test_leave_one_out();
    test_file_round_trip();
    test_mismatch();
    test_bad_build_input();
    test_components_file();
    rmdir(tmpdir);
    DONE();
}
