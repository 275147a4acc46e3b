/* relapsewatch plot: a genome-wide copy-number plot (SVG) of a call result (JSON) or of a TSV of
 * per-bin log2 ratios, with optional segments. */
#include "cli/cli.h"

#include <ctype.h>
#include <getopt.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/genome.h"
#include "core/plot.h"

#define CMD "plot"

static void usage(FILE *out)
{
    fprintf(
        out,
        "usage: relapsewatch plot [options] -o OUT.svg INPUT\n\n"
        "Draws a genome-wide copy-number plot as a standalone SVG: bins as points, segments\n"
        "as lines, chromosome boundaries, the 1q21.3 band highlighted.\n\n"
        "INPUT is either\n"
        "  - the JSON result of `relapsewatch call` (bins and segments are read from it:\n"
        "    \"bins\" as an array of {chrom, start, end, log2, mask} or as parallel arrays,\n"
        "    \"segments\" as an array of {chrom, start, end, mean_log2 | mean}), or\n"
        "  - a TSV of per-bin log2 ratios: chrom start end log2 [mask] (0-based, half-open;\n"
        "    lines starting with '#' or 'chrom' are skipped; NaN/NA = no value).\n\n"
        "options:\n"
        "  -o, --output FILE     the SVG to write (required; written atomically)\n"
        "  -s, --segments FILE   segments TSV: chrom start end ... with a header naming the\n"
        "                        mean column (mean, mean_log2, log2) or, without a header,\n"
        "                        the mean in column 4\n"
        "  -b, --build B         hg38 or hg19 (default: the JSON's \"build\", else hg38)\n"
        "  -t, --title TEXT      plot title (default: the JSON's sample id, else the file name)\n"
        "      --ymin V          lower end of the log2 axis (default -2)\n"
        "      --ymax V          upper end of the log2 axis (default 2)\n"
        "      --show-masked     draw masked bins faint (default: omitted)\n"
        "      --width PX        picture width (default 1400)\n"
        "      --height PX       picture height (default 460)\n"
        "      --highlight NAME  region to shade (default 1q21.3; \"none\" for none)\n"
        "  -h, --help            this help\n\n"
        "exit codes: 0 ok, 1 bad input, 2 usage\n");
}

/* Growable parallel arrays of bins or segments. */
typedef struct series {
    size_t n, m;
    int *chrom;
    int64_t *start, *end;
    double *value;
    unsigned char *mask;
} series;

static int series_push(series *s, int chrom, int64_t start, int64_t end, double v, int mask)
{
    if (s->n == s->m) {
        size_t m = s->m ? 2 * s->m : 1024;
        int *c = realloc(s->chrom, m * sizeof *c);
        if (c)
            s->chrom = c;
        int64_t *a = realloc(s->start, m * sizeof *a);
        if (a)
            s->start = a;
        int64_t *b = realloc(s->end, m * sizeof *b);
        if (b)
            s->end = b;
        double *d = realloc(s->value, m * sizeof *d);
        if (d)
            s->value = d;
        unsigned char *k = realloc(s->mask, m);
        if (k)
            s->mask = k;
        if (!c || !a || !b || !d || !k)
            return -1;
        s->m = m;
    }
    s->chrom[s->n] = chrom;
    s->start[s->n] = start;
    s->end[s->n] = end;
    s->value[s->n] = v;
    s->mask[s->n] = (unsigned char)(mask != 0);
    s->n++;
    return 0;
}

static void series_free(series *s)
{
    free(s->chrom);
    free(s->start);
    free(s->end);
    free(s->value);
    free(s->mask);
    memset(s, 0, sizeof *s);
}

static double parse_value(const char *t)
{
    if (!*t || !strcasecmp(t, "NA") || !strcasecmp(t, "NaN") || !strcmp(t, "."))
        return NAN;
    char *e;
    double v = strtod(t, &e);
    return *e ? NAN : v;
}

/* Reads a TSV. mean_col < 0: bins (chrom start end log2 [mask]); otherwise segments, with the
 * mean in column mean_col unless a header names it. 0 or an exit code (message printed). */
static int read_tsv(const char *path, int segments, series *out)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return rw_cli_fail(CMD, RW_ERR_IO, "cannot open %s", path);
    char line[4096];
    size_t lineno = 0;
    int mean_col = 3, rc = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        line[strcspn(line, "\r\n")] = 0;
        if (!line[0] || line[0] == '#')
            continue;
        char *field[32];
        int nf = 0;
        for (char *p = line, *tab; nf < 32; p = tab + 1) {
            field[nf++] = p;
            tab = strchr(p, '\t');
            if (!tab)
                break;
            *tab = 0;
        }
        if (!strcasecmp(field[0], "chrom") || !strcasecmp(field[0], "chromosome")) {
            for (int i = 3; segments && i < nf; i++)
                if (!strcmp(field[i], "mean") || !strcmp(field[i], "mean_log2") ||
                    !strcmp(field[i], "log2"))
                    mean_col = i;
            continue;
        }
        if (nf < 4 || nf <= mean_col) {
            rc = rw_cli_fail(CMD, RW_ERR_INPUT,
                             "%s:%zu: expected chrom, start, end and a log2 "
                             "value",
                             path, lineno);
            break;
        }
        char *e1, *e2;
        long long a = strtoll(field[1], &e1, 10), b = strtoll(field[2], &e2, 10);
        int c = rw_chrom_index(field[0]);
        if (*e1 || *e2 || a < 0 || b < a) {
            rc = rw_cli_fail(CMD, RW_ERR_INPUT, "%s:%zu: bad start/end", path, lineno);
            break;
        }
        if (c < 0)
            continue; /* chrM, alt contigs: not on the plot */
        double v = parse_value(field[segments ? mean_col : 3]);
        int mask = !segments && nf >= 5 && strcmp(field[4], "0") && strcasecmp(field[4], "false");
        if (series_push(out, c, a, b, v, mask) != 0) {
            rc = rw_cli_fail(CMD, RW_ERR_NOMEM, "out of memory");
            break;
        }
    }
    if (!rc && ferror(f))
        rc = rw_cli_fail(CMD, RW_ERR_IO, "cannot read %s", path);
    fclose(f);
    if (!rc && out->n == 0)
        rc = rw_cli_fail(CMD, RW_ERR_INPUT, "%s: no %s", path, segments ? "segments" : "bins");
    return rc;
}

/* Chromosome of a JSON value: "chr1" / "1" / "X" or a genome.h index. -1 when not on the plot. */
static int json_chrom(const json_t *v)
{
    if (json_is_string(v))
        return rw_chrom_index(json_string_value(v));
    if (json_is_integer(v)) {
        json_int_t c = json_integer_value(v);
        return c >= 0 && c < RW_NCHROM ? (int)c : -1;
    }
    return -1;
}

static double json_num(const json_t *v)
{
    return json_is_number(v) ? json_number_value(v) : NAN; /* null = no value */
}

static int json_flag(const json_t *v)
{
    return json_is_true(v) || (json_is_integer(v) && json_integer_value(v) != 0);
}

/* One record (object) of bins or segments from the JSON. */
static int push_record(series *s, const json_t *o, int segments)
{
    const json_t *v = json_object_get(o, "log2");
    if (segments) {
        v = json_object_get(o, "mean_log2");
        if (!v)
            v = json_object_get(o, "mean");
    }
    json_t *st = json_object_get(o, "start"), *en = json_object_get(o, "end");
    if (!json_is_integer(st) || !json_is_integer(en))
        return 1;
    int c = json_chrom(json_object_get(o, "chrom"));
    if (c < 0)
        return 0;
    return series_push(s, c, json_integer_value(st), json_integer_value(en), json_num(v),
                       json_flag(json_object_get(o, "mask")) ||
                           json_flag(json_object_get(o, "masked"))) != 0;
}

/* "bins"/"segments" as an array of objects or as an object of parallel arrays. */
static int read_json_series(json_t *x, int segments, series *s)
{
    if (json_is_array(x)) {
        size_t i;
        json_t *o;
        json_array_foreach(x, i, o)
        {
            if (!json_is_object(o) || push_record(s, o, segments))
                return 1;
        }
        return 0;
    }
    if (!json_is_object(x))
        return 1;
    json_t *c = json_object_get(x, "chrom"), *a = json_object_get(x, "start"),
           *b = json_object_get(x, "end"), *v = json_object_get(x, segments ? "mean_log2" : "log2"),
           *m = json_object_get(x, "mask");
    if (segments && !v)
        v = json_object_get(x, "mean");
    size_t n = json_array_size(c);
    if (!json_is_array(c) || json_array_size(a) != n || json_array_size(b) != n ||
        json_array_size(v) != n || (m && json_array_size(m) != n))
        return 1;
    for (size_t i = 0; i < n; i++) {
        json_t *ai = json_array_get(a, i), *bi = json_array_get(b, i);
        if (!json_is_integer(ai) || !json_is_integer(bi))
            return 1;
        int ci = json_chrom(json_array_get(c, i));
        if (ci < 0)
            continue;
        if (series_push(s, ci, json_integer_value(ai), json_integer_value(bi),
                        json_num(json_array_get(v, i)), m && json_flag(json_array_get(m, i))))
            return 1;
    }
    return 0;
}

/* Reads a call result. build/title are set when the JSON names them (title: new string). */
static int read_json(const char *path, series *bins, series *segs, rw_build *build, char **title)
{
    json_error_t je;
    json_t *doc = json_load_file(path, 0, &je);
    if (!doc)
        return rw_cli_fail(CMD, RW_ERR_INPUT, "%s:%d: %s", path, je.line, je.text);
    int rc = 0;
    const char *b = json_string_value(json_object_get(doc, "build"));
    if (b && rw_build_parse(b) != RW_BUILD_UNKNOWN)
        *build = rw_build_parse(b);
    const char *id = json_string_value(json_object_get(doc, "sample"));
    if (!id)
        id = json_string_value(json_object_get(doc, "sample_id"));
    if (id && !*title)
        *title = strdup(id);
    json_t *x = json_object_get(doc, "bins");
    if (!x || read_json_series(x, 0, bins) || bins->n == 0)
        rc = rw_cli_fail(CMD, RW_ERR_INPUT, "%s: no usable \"bins\" (see --help for the shape)",
                         path);
    x = json_object_get(doc, "segments");
    if (!rc && x && read_json_series(x, 1, segs))
        rc = rw_cli_fail(CMD, RW_ERR_INPUT, "%s: malformed \"segments\"", path);
    json_decref(doc);
    return rc;
}

static int is_json(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    int c;
    while ((c = fgetc(f)) != EOF && isspace(c))
        ;
    fclose(f);
    return c == '{';
}

int rw_cli_plot(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"output", required_argument, NULL, 'o'}, {"segments", required_argument, NULL, 's'},
        {"build", required_argument, NULL, 'b'},  {"title", required_argument, NULL, 't'},
        {"ymin", required_argument, NULL, 1},     {"ymax", required_argument, NULL, 2},
        {"show-masked", no_argument, NULL, 3},    {"width", required_argument, NULL, 4},
        {"height", required_argument, NULL, 5},   {"highlight", required_argument, NULL, 6},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0}};
    const char *output = NULL, *seg_path = NULL;
    rw_build build = RW_BUILD_UNKNOWN;
    char *title = NULL;
    rw_plot_opts po;
    rw_plot_opts_init(&po);
    series bins = {0}, segs = {0};
    int rc = RW_EXIT_OK, opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "o:s:b:t:h", longopts, NULL)) != -1) {
        char *e = NULL;
        switch (opt) {
        case 'o':
            output = optarg;
            break;
        case 's':
            seg_path = optarg;
            break;
        case 'b':
            build = rw_build_parse(optarg);
            if (build == RW_BUILD_UNKNOWN) {
                rc = rw_cli_fail(CMD, RW_ERR_USAGE, "unknown build '%s' (hg38 or hg19)", optarg);
                goto fail;
            }
            break;
        case 't':
            free(title);
            title = strdup(optarg);
            break;
        case 1:
        case 2: {
            double v = strtod(optarg, &e);
            if (*e || !isfinite(v)) {
                rc = rw_cli_fail(CMD, RW_ERR_USAGE, "bad number '%s'", optarg);
                goto fail;
            }
            *(opt == 1 ? &po.ymin : &po.ymax) = v;
            break;
        }
        case 3:
            po.show_masked = 1;
            break;
        case 4:
        case 5: {
            long v = strtol(optarg, &e, 10);
            if (*e || v < 200 || v > 20000) {
                rc = rw_cli_fail(CMD, RW_ERR_USAGE, "bad size '%s' (200..20000 px)", optarg);
                goto fail;
            }
            *(opt == 4 ? &po.width : &po.height) = (int)v;
            break;
        }
        case 6:
            po.highlight = strcmp(optarg, "none") ? optarg : NULL;
            break;
        case 'h':
            usage(stdout);
            goto fail;
        default:
            usage(stderr);
            rc = RW_EXIT_USAGE;
            goto fail;
        }
    }
    if (!output || optind != argc - 1) {
        usage(stderr);
        rc = RW_EXIT_USAGE;
        goto fail;
    }
    if (!(po.ymax > po.ymin)) {
        rc = rw_cli_fail(CMD, RW_ERR_USAGE, "--ymax must be above --ymin");
        goto fail;
    }
    const char *input = argv[optind];
    rw_build json_build = RW_BUILD_UNKNOWN;
    int js = is_json(input);
    if (js < 0) {
        rc = rw_cli_fail(CMD, RW_ERR_IO, "cannot open %s", input);
        goto fail;
    }
    rc = js ? read_json(input, &bins, &segs, &json_build, &title) : read_tsv(input, 0, &bins);
    if (rc)
        goto fail;
    if (seg_path) {
        series_free(&segs);
        if ((rc = read_tsv(seg_path, 1, &segs)))
            goto fail;
    }
    if (build == RW_BUILD_UNKNOWN)
        build = json_build != RW_BUILD_UNKNOWN ? json_build : RW_BUILD_HG38;
    if (!title) {
        const char *slash = strrchr(input, '/');
        title = strdup(slash ? slash + 1 : input);
    }
    po.title = title;
    if (po.highlight && !rw_region_find(build, po.highlight)) {
        rc = rw_cli_fail(CMD, RW_ERR_USAGE, "unknown region '%s'", po.highlight);
        goto fail;
    }
    rw_plot_bins pb = {bins.n, bins.chrom, bins.start, bins.end, bins.value, bins.mask};
    rw_plot_segments ps = {segs.n, segs.chrom, segs.start, segs.end, segs.value};
    rw_error err = {0};
    if (rw_plot_genome_svg(output, build, &po, &pb, &ps, &err) != RW_OK)
        rc = rw_cli_fail(CMD, err.status, "%s", err.msg);
fail:
    series_free(&bins);
    series_free(&segs);
    free(title);
    return rc;
}
