/* relapsewatch segment: a TSV of log2 ratios along the genome -> segments TSV (CBS). */
#include "cli/cli.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "core/atomic.h"
#include "core/genome.h"
#include "core/segment.h"

#define CMD "segment"

static void help(FILE *out)
{
    rw_segment_opts o;
    rw_segment_opts_init(&o);
    fprintf(
        out,
        "usage: relapsewatch segment [options] INPUT.tsv\n"
        "\n"
        "Segments log2 ratios by circular binary segmentation (Olshen et al. 2004, the DNAcopy\n"
        "algorithm: hybrid permutation / tail-probability test, outlier smoothing) per "
        "chromosome,\n"
        "or per chromosome arm with --build, and calls each segment.\n"
        "\n"
        "input (INPUT.tsv, '-' = stdin): tab-separated with a header line. By default the\n"
        "columns named chrom, start, end (or position) and log2 are read; other layouts name\n"
        "theirs with --columns. Rows must be grouped by chromosome and sorted by position.\n"
        "Chromosomes: chr1..chr22, chrX, chrY, 1..22, X, Y, and 23 = X, 24 = Y (DNAcopy's\n"
        "numbering); other names are segmented whole. Values NA, NaN, Inf or empty are masked.\n"
        "Example (DNAcopy's coriell data, positions in kb):\n"
        "  relapsewatch segment --columns Chromosome,Position,Coriell.05296 coriell.tsv\n"
        "\n"
        "output (stdout or -o FILE, written atomically): a '#relapsewatch-segments' line with\n"
        "the parameters, a header, then one line per segment:\n"
        "  chrom  start  end  n_bins  mean_log2  call\n"
        "start = start of the first point, end = end of the last (its position for point\n"
        "data); n_bins counts unmasked points; call is loss, neutral, gain or amplification.\n"
        "\n"
        "options:\n"
        "  -o, --output FILE       segments TSV to write (default stdout)\n"
        "      --columns LIST      CHROM,POS,VALUE or CHROM,START,END,VALUE column names\n"
        "      --build B           hg38 or hg19: split arms at the centromere (positions in bp);\n"
        "                          none (default) segments whole chromosomes, as DNAcopy does\n"
        "      --alpha A           significance level of a split (default %g)\n"
        "      --nperm N           permutations per test at most (default %d)\n"
        "      --min-width N       fewest points on each side of a change, 2..5 (default %d)\n"
        "      --min-bins N        merge segments of fewer points into a neighbour (default %d,\n"
        "                          off)\n"
        "      --undo-sd X         undo splits between means closer than X robust SDs\n"
        "                          (DNAcopy undo.splits=\"sdundo\"; default %g, off)\n"
        "      --smooth-region N   outlier smoothing neighbourhood, 0 = off (default %d)\n"
        "      --seed N            permutation seed (default %llu)\n"
        "      --loss X            loss when mean < X (default %g)\n"
        "      --gain X            gain when mean > X (default %g)\n"
        "      --amp X             amplification when mean > X (default %g)\n"
        "  -h, --help              this help\n"
        "\n"
        "exit codes: 0 ok, 1 bad input (the message says what and where), 2 usage\n",
        o.alpha, o.nperm, o.min_width, o.min_bins, o.undo_sd, o.smooth_region,
        (unsigned long long)o.seed, o.loss_below, o.gain_above, o.amp_above);
}

/* The parsed input: per row the chromosome name (index into names), code, positions, value. */
typedef struct table {
    size_t n, m;
    int *chrom;
    int64_t *start, *end;
    double *value;
    char **names; /* one per distinct run of chromosome */
    size_t nnames, mnames;
    int *name_of; /* per row: index into names */
} table;

static void table_free(table *t)
{
    free(t->chrom);
    free(t->start);
    free(t->end);
    free(t->value);
    free(t->name_of);
    for (size_t i = 0; i < t->nnames; i++)
        free(t->names[i]);
    free(t->names);
}

static int table_grow(table *t)
{
    size_t m = t->m ? 2 * t->m : 4096;
    int *c = realloc(t->chrom, m * sizeof *c);
    if (c)
        t->chrom = c;
    int64_t *s = realloc(t->start, m * sizeof *s);
    if (s)
        t->start = s;
    int64_t *e = realloc(t->end, m * sizeof *e);
    if (e)
        t->end = e;
    double *v = realloc(t->value, m * sizeof *v);
    if (v)
        t->value = v;
    int *no = realloc(t->name_of, m * sizeof *no);
    if (no)
        t->name_of = no;
    if (!c || !s || !e || !v || !no)
        return -1;
    t->m = m;
    return 0;
}

/* Chromosome code: genome.h index when known (23/24 = X/Y as in DNAcopy), else 1000 + run. */
static int chrom_code(const char *name, size_t run)
{
    int c = rw_chrom_index(name);
    if (c >= 0)
        return c;
    if (!strcmp(name, "23"))
        return RW_CHROM_X;
    if (!strcmp(name, "24"))
        return RW_CHROM_Y;
    return 1000 + (int)run;
}

/* Splits line in place at tabs into at most max fields; returns the count. */
static int split_tabs(char *line, char **f, int max)
{
    int n = 0;
    char *p = line;
    while (n < max) {
        f[n++] = p;
        char *t = strchr(p, '\t');
        if (!t)
            break;
        *t = '\0';
        p = t + 1;
    }
    return n;
}

static int find_col(char **f, int nf, const char *name)
{
    for (int i = 0; i < nf; i++)
        if (!strcmp(f[i], name))
            return i;
    return -1;
}

static int parse_int64(const char *s, int64_t *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || *end || v < 0)
        return -1;
    *out = v;
    return 0;
}

/* Reads the input; returns RW_EXIT_OK or an exit code after printing the error. */
static int read_table(const char *path, const char *columns, table *t)
{
    enum { MAXF = 256 };
    FILE *f = strcmp(path, "-") ? fopen(path, "r") : stdin;
    char *line = NULL, *cols = NULL;
    size_t cap = 0;
    ssize_t len;
    long lineno = 0;
    int rc = RW_EXIT_INPUT;
    int ic = -1, is = -1, ie = -1, iv = -1, nf;
    char *fld[MAXF];
    if (!f)
        return rw_cli_fail(CMD, RW_ERR_INPUT, "%s: %s", path, strerror(errno));
    if ((len = getline(&line, &cap, f)) < 0) {
        rw_cli_fail(CMD, RW_ERR_INPUT, "%s: empty file (a header line is needed)", path);
        goto done;
    }
    lineno = 1;
    line[strcspn(line, "\r\n")] = '\0';
    nf = split_tabs(line, fld, MAXF);
    if (columns) {
        cols = strdup(columns);
        char *want[5];
        int nw = 0;
        char *save = NULL;
        for (char *p = strtok_r(cols, ",", &save); p && nw < 5; p = strtok_r(NULL, ",", &save))
            want[nw++] = p;
        if (nw != 3 && nw != 4) {
            rc = rw_cli_fail(CMD, RW_ERR_USAGE,
                             "--columns: give CHROM,POS,VALUE or CHROM,START,END,VALUE");
            goto done;
        }
        ic = find_col(fld, nf, want[0]);
        is = find_col(fld, nf, want[1]);
        ie = nw == 4 ? find_col(fld, nf, want[2]) : -1;
        iv = find_col(fld, nf, want[nw - 1]);
        for (int k = 0; k < nw; k++)
            if (find_col(fld, nf, want[k]) < 0) {
                rw_cli_fail(CMD, RW_ERR_INPUT, "%s: no column '%s' in the header", path, want[k]);
                goto done;
            }
    } else {
        ic = find_col(fld, nf, "chrom");
        is = find_col(fld, nf, "start");
        ie = find_col(fld, nf, "end");
        if (is < 0) {
            is = find_col(fld, nf, "position");
            ie = -1;
        }
        iv = find_col(fld, nf, "log2");
        if (ic < 0 || is < 0 || iv < 0) {
            rw_cli_fail(CMD, RW_ERR_INPUT,
                        "%s: the header needs columns chrom, start (or position) and log2, or "
                        "use --columns",
                        path);
            goto done;
        }
    }
    int need = ic > is ? ic : is;
    need = need > iv ? need : iv;
    need = need > ie ? need : ie;
    char *prev = NULL;
    while ((len = getline(&line, &cap, f)) >= 0) {
        lineno++;
        line[strcspn(line, "\r\n")] = '\0';
        if (!line[0] || line[0] == '#')
            continue;
        nf = split_tabs(line, fld, MAXF);
        if (nf <= need) {
            rw_cli_fail(CMD, RW_ERR_INPUT, "%s:%ld: %d columns, %d expected", path, lineno, nf,
                        need + 1);
            goto done;
        }
        if (t->n == t->m && table_grow(t) < 0) {
            rw_cli_fail(CMD, RW_ERR_NOMEM, "out of memory");
            goto done;
        }
        size_t i = t->n;
        if (!prev || strcmp(prev, fld[ic])) {
            /* a new run of chromosome */
            if (t->nnames == t->mnames) {
                size_t m = t->mnames ? 2 * t->mnames : 64;
                char **nn = realloc(t->names, m * sizeof *nn);
                if (!nn) {
                    rw_cli_fail(CMD, RW_ERR_NOMEM, "out of memory");
                    goto done;
                }
                t->names = nn;
                t->mnames = m;
            }
            for (size_t k = 0; k < t->nnames; k++)
                if (!strcmp(t->names[k], fld[ic])) {
                    rw_cli_fail(CMD, RW_ERR_INPUT,
                                "%s:%ld: chromosome %s appears again after others: group the "
                                "rows by chromosome",
                                path, lineno, fld[ic]);
                    goto done;
                }
            if (!(t->names[t->nnames] = strdup(fld[ic]))) {
                rw_cli_fail(CMD, RW_ERR_NOMEM, "out of memory");
                goto done;
            }
            prev = t->names[t->nnames++];
        }
        t->name_of[i] = (int)(t->nnames - 1);
        t->chrom[i] = chrom_code(fld[ic], t->nnames - 1);
        if (parse_int64(fld[is], &t->start[i]) ||
            (ie >= 0 ? parse_int64(fld[ie], &t->end[i]) : (t->end[i] = t->start[i], 0)) ||
            t->end[i] < t->start[i]) {
            rw_cli_fail(CMD, RW_ERR_INPUT, "%s:%ld: bad position '%s'", path, lineno, fld[is]);
            goto done;
        }
        const char *v = fld[iv];
        if (!*v || !strcmp(v, "NA") || !strcasecmp(v, "nan") || !strcasecmp(v, "inf") ||
            !strcasecmp(v, "-inf")) {
            t->value[i] = NAN;
        } else if (rw_cli_parse_double(v, -INFINITY, INFINITY, &t->value[i])) {
            rw_cli_fail(CMD, RW_ERR_INPUT, "%s:%ld: bad value '%s'", path, lineno, v);
            goto done;
        }
        t->n++;
    }
    if (ferror(f)) {
        rw_cli_fail(CMD, RW_ERR_IO, "%s: read error", path);
        goto done;
    }
    if (t->n == 0) {
        rw_cli_fail(CMD, RW_ERR_INPUT, "%s: no data rows", path);
        goto done;
    }
    rc = RW_EXIT_OK;
done:
    free(line);
    free(cols);
    if (f != stdin)
        fclose(f);
    return rc;
}

static int write_segments(const char *path, const table *t, const rw_segments *s,
                          const rw_segment_opts *o)
{
    char tmp[RW_ATOMIC_TMP_MAX];
    FILE *f = stdout;
    rw_error e;
    if (path && strcmp(path, "-") && rw_atomic_open(path, tmp, &f, &e) != RW_OK)
        return rw_cli_fail(CMD, e.status, "%s", e.msg);
    fprintf(f,
            "#relapsewatch-segments\tversion=1\tmethod=CBS\talpha=%g\tnperm=%d\tmin_width=%d\t"
            "min_bins=%d\tundo_sd=%g\tsmooth_region=%d\tseed=%llu\tarms=%s\tloss_below=%g\t"
            "gain_above=%g\tamp_above=%g\n",
            o->alpha, o->nperm, o->min_width, o->min_bins, o->undo_sd, o->smooth_region,
            (unsigned long long)o->seed,
            o->build == RW_BUILD_UNKNOWN ? "none" : rw_build_name(o->build), o->loss_below,
            o->gain_above, o->amp_above);
    fprintf(f, "chrom\tstart\tend\tn_bins\tmean_log2\tcall\n");
    for (size_t i = 0; i < s->n; i++) {
        const rw_segment *g = &s->a[i];
        fprintf(f, "%s\t%lld\t%lld\t%zu\t%.4f\t%s\n", t->names[t->name_of[g->first]],
                (long long)g->start, (long long)g->end, g->n, g->mean, rw_seg_call_name(g->call));
    }
    if (f == stdout)
        return fflush(stdout) ? rw_cli_fail(CMD, RW_ERR_IO, "stdout: %s", strerror(errno))
                              : RW_EXIT_OK;
    if (rw_atomic_commit(f, tmp, path, &e) != RW_OK)
        return rw_cli_fail(CMD, e.status, "%s", e.msg);
    return RW_EXIT_OK;
}

/* What the command line asked for. */
typedef struct segment_args {
    rw_segment_opts o;
    const char *output, *columns;
} segment_args;

enum { OPT_BUILD = 256, OPT_ALPHA, OPT_SEED };

/* The options that are not plain: --build, --alpha, --seed. */
static int apply_option(void *ctx, int id, const char *name, const char *arg)
{
    segment_args *a = ctx;
    double d;
    switch (id) {
    case OPT_BUILD:
        if (!strcmp(arg, "none"))
            a->o.build = RW_BUILD_UNKNOWN;
        else if ((a->o.build = rw_build_parse(arg)) == RW_BUILD_UNKNOWN)
            return rw_cli_fail(CMD, RW_ERR_USAGE, "--build: '%s' is not hg38, hg19 or none", arg);
        return RW_EXIT_OK;
    case OPT_ALPHA:
        if (rw_cli_parse_double(arg, -INFINITY, INFINITY, &d) || !(d > 0 && d < 1))
            return rw_cli_fail(CMD, RW_ERR_USAGE, "--alpha: '%s' is not in (0, 1)", arg);
        a->o.alpha = d;
        return RW_EXIT_OK;
    }
    return rw_cli_opt_seed(CMD, name, arg, &a->o.seed);
}

int rw_cli_segment(int argc, char **argv)
{
    segment_args a = {0};
    rw_segment_opts_init(&a.o);
    rw_segment_opts *o = &a.o;
    const rw_cli_option own[] = {
        {.name = "output", .has_arg = required_argument, .str = &a.output},
        {.name = "columns", .has_arg = required_argument, .str = &a.columns},
        {.name = "build", .has_arg = required_argument, .id = OPT_BUILD},
        {.name = "alpha", .has_arg = required_argument, .id = OPT_ALPHA},
        {.name = "nperm", .has_arg = required_argument, .integer = &o->nperm, .lo = 1, .hi = 1e6},
        {.name = "min-width",
         .has_arg = required_argument,
         .integer = &o->min_width,
         .lo = 2,
         .hi = 5},
        {.name = "min-bins", .has_arg = required_argument, .integer = &o->min_bins, .hi = 1e6},
        {.name = "undo-sd", .has_arg = required_argument, .real = &o->undo_sd, .hi = INFINITY},
        {.name = "smooth-region",
         .has_arg = required_argument,
         .integer = &o->smooth_region,
         .hi = 1000},
        {.name = "seed", .has_arg = required_argument, .id = OPT_SEED},
        {.name = "loss",
         .has_arg = required_argument,
         .real = &o->loss_below,
         .lo = -INFINITY,
         .hi = INFINITY},
        {.name = "gain",
         .has_arg = required_argument,
         .real = &o->gain_above,
         .lo = -INFINITY,
         .hi = INFINITY},
        {.name = "amp",
         .has_arg = required_argument,
         .real = &o->amp_above,
         .lo = -INFINITY,
         .hi = INFINITY},
        {.name = NULL},
    };
    int rc =
        rw_cli_parse(&(rw_cli_parser){CMD, own, apply_option, &a, help, NULL, NULL}, argc, argv);
    if (rc != RW_EXIT_OK)
        return rc < 0 ? RW_EXIT_OK : rc;
    if (optind != argc - 1)
        return rw_cli_fail(CMD, RW_ERR_USAGE, "give exactly one INPUT.tsv (see --help)");
    if (!(o->loss_below < o->gain_above && o->gain_above < o->amp_above))
        return rw_cli_fail(CMD, RW_ERR_USAGE, "thresholds must satisfy loss < gain < amp");

    table t = {0};
    rw_segments s = {0};
    rw_error err = {0};
    rc = read_table(argv[optind], a.columns, &t);
    if (rc != RW_EXIT_OK)
        goto done;
    rw_status st = rw_segment_run(t.n, t.chrom, t.start, t.end, t.value, o, &s, &err);
    if (st != RW_OK) {
        rc = rw_cli_fail(CMD, st, "%s", err.msg);
        goto done;
    }
    rc = write_segments(a.output, &t, &s, o);
done:
    rw_segments_free(&s);
    table_free(&t);
    return rc;
}
