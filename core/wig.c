/* HMMcopy WIG files (fixedStep read counts, GC and mappability) into the core's bins.
 *
 * DESIGN. The file is parsed once into per-chromosome value arrays (at most a few thousand values
 * each: the bins are >= 50 kb), then the build is inferred from how many bins every chromosome
 * has, and the arrays are laid out on a rw_bins of that build. One parser serves counts and
 * tracks; they differ only in which values they accept. */
#include "core/wig.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WIG_LINE 1024

typedef enum wig_kind { WIG_COUNTS, WIG_TRACK } wig_kind;

typedef struct wig {
    long step;            /* 0 until the first fixedStep line */
    double *v[RW_NCHROM]; /* values of each chromosome's bins, from bin 0 */
    size_t n[RW_NCHROM];  /* bins read (the last one read + 1; gaps are NaN) */
    size_t cap[RW_NCHROM];
    int present[RW_NCHROM]; /* a block of this chromosome was read */
} wig;

static void wig_free(wig *w)
{
    for (int c = 0; c < RW_NCHROM; c++)
        free(w->v[c]);
}

int rw_wig_sniff(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    char line[WIG_LINE];
    int yes = 0;
    for (int k = 0; k < 16 && fgets(line, sizeof line, f); k++) {
        if (line[0] == '\n' || line[0] == '\r' || line[0] == '#' || !strncmp(line, "track ", 6))
            continue;
        yes = !strncmp(line, "fixedStep ", 10) || !strncmp(line, "variableStep ", 13);
        break;
    }
    fclose(f);
    return yes;
}

/* Most bins chromosome c can have at this step in any build: bounds a file's arrays. */
static size_t max_bins(int c, long step)
{
    int64_t a = rw_chrom_length(RW_BUILD_HG19, c), b = rw_chrom_length(RW_BUILD_HG38, c);
    return (size_t)(((a > b ? a : b) + step - 1) / step);
}

static size_t build_bins(rw_build b, int c, long step)
{
    return (size_t)((rw_chrom_length(b, c) + step - 1) / step);
}

/* A fixedStep line: sets *chrom (-1 = a contig skipped) and *pos (its first bin). */
static rw_status parse_fixed(char *line, const char *where, wig *w, int *chrom, size_t *pos,
                             rw_error *err)
{
    long start = 1, step = 0, span = -1;
    int have_chrom = 0;
    char *save = NULL;
    *chrom = -1;
    for (char *tok = strtok_r(line + 9, " \t\r\n", &save); tok;
         tok = strtok_r(NULL, " \t\r\n", &save)) {
        char *eq = strchr(tok, '='), *end = NULL;
        if (!eq)
            return rw_error_set(err, RW_ERR_INPUT, "%s: bad fixedStep field '%s'", where, tok);
        *eq = 0;
        const char *val = eq + 1;
        errno = 0;
        if (!strcmp(tok, "chrom")) {
            have_chrom = 1;
            *chrom = rw_chrom_index(val);
            continue;
        }
        long x = strtol(val, &end, 10);
        if (errno || end == val || *end || x < 1 || x > 1000000000L)
            return rw_error_set(err, RW_ERR_INPUT, "%s: bad fixedStep value %s=%s", where, tok,
                                val);
        if (!strcmp(tok, "start"))
            start = x;
        else if (!strcmp(tok, "step"))
            step = x;
        else if (!strcmp(tok, "span"))
            span = x;
        else
            return rw_error_set(err, RW_ERR_INPUT, "%s: unknown fixedStep field '%s'", where, tok);
    }
    if (!have_chrom || !step)
        return rw_error_set(err, RW_ERR_INPUT, "%s: fixedStep needs chrom= and step=", where);
    if (span != -1 && span != step)
        return rw_error_set(err, RW_ERR_INPUT,
                            "%s: span=%ld differs from step=%ld (bins must tile the genome)", where,
                            span, step);
    if (step < RW_BIN_SIZE_MIN || step > RW_BIN_SIZE_MAX)
        return rw_error_set(err, RW_ERR_INPUT, "%s: step=%ld outside the bin sizes %d..%d", where,
                            step, RW_BIN_SIZE_MIN, RW_BIN_SIZE_MAX);
    if (w->step && step != w->step)
        return rw_error_set(err, RW_ERR_INPUT, "%s: step=%ld differs from the file's step=%ld",
                            where, step, w->step);
    if ((start - 1) % step)
        return rw_error_set(err, RW_ERR_INPUT,
                            "%s: start=%ld is not 1 + a multiple of step=%ld (bins start at 1)",
                            where, start, step);
    w->step = step;
    *pos = (size_t)((start - 1) / step);
    if (*chrom >= 0) {
        if (*pos < w->n[*chrom])
            return rw_error_set(err, RW_ERR_INPUT, "%s: chromosome %s repeats bins already read",
                                where, rw_chrom_name(*chrom));
        w->present[*chrom] = 1;
    }
    return RW_OK;
}

/* Stores value x at bin pos of chromosome c (gaps before it become NaN). */
static rw_status store(wig *w, int c, size_t pos, double x, const char *where, rw_error *err)
{
    if (pos >= max_bins(c, w->step))
        return rw_error_set(err, RW_ERR_INPUT,
                            "%s: more bins than chromosome %s has in hg19 or hg38 at step=%ld",
                            where, rw_chrom_name(c), w->step);
    if (pos >= w->cap[c]) {
        size_t cap = max_bins(c, w->step);
        double *v = realloc(w->v[c], cap * sizeof *v);
        if (!v)
            return rw_error_set(err, RW_ERR_NOMEM, "out of memory reading a WIG");
        w->v[c] = v;
        w->cap[c] = cap;
    }
    while (w->n[c] < pos)
        w->v[c][w->n[c]++] = NAN;
    w->v[c][w->n[c]++] = x;
    return RW_OK;
}

/* One value line: a single number, checked for the kind of file. */
static rw_status parse_value(const char *line, wig_kind kind, const char *where, double *x,
                             rw_error *err)
{
    char *end;
    errno = 0;
    double v = strtod(line, &end);
    if (errno || end == line || strspn(end, " \t\r\n") != strlen(end) || !isfinite(v))
        return rw_error_set(err, RW_ERR_INPUT, "%s: expected a number, got '%.40s'", where, line);
    if (kind == WIG_COUNTS && v < 0)
        return rw_error_set(err, RW_ERR_INPUT, "%s: a read count must be >= 0", where);
    if (kind == WIG_TRACK && v > 1)
        return rw_error_set(err, RW_ERR_INPUT,
                            "%s: %g is not a fraction in [0, 1] (GC and mappability WIGs hold "
                            "fractions; -1 = unknown)",
                            where, v);
    *x = kind == WIG_TRACK && v < 0 ? NAN : v;
    return RW_OK;
}

static rw_status wig_parse(const char *path, wig_kind kind, wig *w, rw_error *err)
{
    memset(w, 0, sizeof *w);
    FILE *f = fopen(path, "r");
    if (!f)
        return rw_error_set(err, RW_ERR_IO, "%s: %s", path, strerror(errno));
    char line[WIG_LINE], where[64 + WIG_LINE];
    long lineno = 0;
    int chrom = -2; /* -2: before any fixedStep; -1: a skipped contig */
    size_t pos = 0;
    rw_status st = RW_OK;
    while (!st && fgets(line, sizeof line, f)) {
        lineno++;
        snprintf(where, sizeof where, "%s:%ld", path, lineno);
        if (!strchr(line, '\n') && !feof(f))
            st = rw_error_set(err, RW_ERR_INPUT, "%s: line too long", where);
        else if (line[0] == '\n' || line[0] == '\r' || line[0] == '#' || !strncmp(line, "track", 5))
            continue;
        else if (!strncmp(line, "variableStep", 12))
            st = rw_error_set(err, RW_ERR_INPUT,
                              "%s: variableStep is not read (HMMcopy WIGs are fixedStep bins)",
                              where);
        else if (!strncmp(line, "fixedStep", 9))
            st = parse_fixed(line, where, w, &chrom, &pos, err);
        else if (chrom == -2)
            st = rw_error_set(err, RW_ERR_INPUT, "%s: not a WIG file (expected a fixedStep line)",
                              where);
        else {
            double x = NAN;
            st = parse_value(line, kind, where, &x, err);
            if (!st && chrom >= 0)
                st = store(w, chrom, pos, x, where, err);
            pos++;
        }
    }
    if (!st && ferror(f))
        st = rw_error_set(err, RW_ERR_IO, "%s: read error", path);
    fclose(f);
    if (st)
        wig_free(w);
    return st;
}

/* Does every chromosome of the file have the number of bins build b gives it? */
static int fits(const wig *w, rw_build b)
{
    for (int c = 0; c < RW_NCHROM; c++)
        if (w->present[c] && w->n[c] != build_bins(b, c, w->step))
            return 0;
    return 1;
}

/* The error for a file that fits no build: the first chromosome that fits neither. */
static rw_status misfit(const wig *w, const char *path, rw_error *err)
{
    for (int c = 0; c < RW_NCHROM; c++)
        if (w->present[c] && w->n[c] != build_bins(RW_BUILD_HG19, c, w->step) &&
            w->n[c] != build_bins(RW_BUILD_HG38, c, w->step))
            return rw_error_set(err, RW_ERR_INPUT,
                                "%s: chromosome %s has %zu bins of %ld bp, hg19 has %zu and hg38 "
                                "%zu: truncated, or not a whole-genome HMMcopy WIG",
                                path, rw_chrom_name(c), w->n[c], w->step,
                                build_bins(RW_BUILD_HG19, c, w->step),
                                build_bins(RW_BUILD_HG38, c, w->step));
    return rw_error_set(err, RW_ERR_BUILD,
                        "%s: its chromosomes fit hg19 in part and hg38 in part: mixed builds?",
                        path);
}

/* Has the file a block of chr1-22 or X (chrY alone gives no bins of ours)? */
static int any_present(const wig *w)
{
    for (int c = 0; c < RW_CHROM_Y; c++)
        if (w->present[c])
            return 1;
    return 0;
}

/* Lays the values of chromosomes 0..b->nchrom-1 on b's bins (NaN where absent). */
static void lay_out(const wig *w, const rw_bins *b, double *values)
{
    for (int c = 0; c < b->nchrom; c++)
        for (size_t i = b->first[c]; i < b->first[c + 1]; i++)
            values[i] = i - b->first[c] < w->n[c] ? w->v[c][i - b->first[c]] : NAN;
}

rw_status rw_wig_read_bins(const char *path, rw_bins **out, rw_error *err)
{
    *out = NULL;
    wig w;
    rw_status st = wig_parse(path, WIG_COUNTS, &w, err);
    if (st)
        return st;
    int hg19 = fits(&w, RW_BUILD_HG19), hg38 = fits(&w, RW_BUILD_HG38);
    if (!any_present(&w))
        st = rw_error_set(err, RW_ERR_INPUT, "%s: no bins of chr1-22 or X", path);
    else if (hg19 && hg38)
        st = rw_error_set(err, RW_ERR_BUILD,
                          "%s: its chromosome extents at %ld bp bins fit both hg19 and hg38: "
                          "cannot tell the build (a whole-genome file tells them apart)",
                          path, w.step);
    else if (!hg19 && !hg38)
        st = misfit(&w, path, err);
    if (!st) {
        rw_bins *b = rw_bins_new(hg19 ? RW_BUILD_HG19 : RW_BUILD_HG38, (int32_t)w.step, 0, err);
        if (b) {
            lay_out(&w, b, b->count);
            *out = b;
        } else {
            st = err ? err->status : RW_ERR_NOMEM;
        }
    }
    wig_free(&w);
    return st;
}

rw_status rw_wig_read_track(const char *path, const rw_bins *layout, double *values, rw_error *err)
{
    wig w;
    rw_status st = wig_parse(path, WIG_TRACK, &w, err);
    if (st)
        return st;
    if (!any_present(&w))
        st = rw_error_set(err, RW_ERR_INPUT, "%s: no bins of chr1-22 or X", path);
    else if (w.step != layout->bin_size)
        st = rw_error_set(err, RW_ERR_MISMATCH, "%s: bins of %ld bp, not %d", path, w.step,
                          (int)layout->bin_size);
    else if (!fits(&w, layout->build))
        st = rw_error_set(err, RW_ERR_MISMATCH, "%s: its chromosome extents are not those of %s",
                          path, rw_build_name(layout->build));
    else
        lay_out(&w, layout, values);
    wig_free(&w);
    return st;
}
