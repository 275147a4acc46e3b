/* relapsewatch pon: build a panel of normals from normal samples (bins files or BAM/CRAM/SAM), or
 * show a panel's summary after verifying it.
 *
 * JSON summary (`pon build --summary FILE`, `pon info PON.tsv`), besides schema_version and
 * core_version: id, file, build, bin_size, include_y, filters, n_normals, low_normals (bool),
 * options, bins, usable_bins, masked {region, no_data, low_coverage, high_spread, gc} (bins with
 * each mask bit), regions [{name, n_bins, loo_mean, loo_sd, n_scored}], normals [file names]
 * (build only). */
#include "cli/cli.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/bins.h"
#include "core/count.h"
#include "core/gc.h"
#include "core/pon.h"
#include "core/simulate.h"
#include "json/num.h"

#define CMD "pon"

static void help(FILE *out)
{
    static const char *const groups[] = {"pon_min_normals", "pon_recommended_normals", "masking",
                                         NULL};
    rw_pon_opts d;
    rw_pon_opts_init(&d);
    fprintf(
        out,
        "usage: relapsewatch pon build -o PON.tsv [options] NORMAL...\n"
        "       relapsewatch pon info PON.tsv\n"
        "\n"
        "build: makes a panel of normals (PoN) from >= %d normal samples (%d or more\n"
        "recommended). Each NORMAL is a bins file (relapsewatch count) or a BAM/CRAM/SAM\n"
        "file, counted with the counting options below. Each normal is divided by the median\n"
        "of its autosomal bins; per bin the panel keeps the median normalised depth and its\n"
        "MAD across the normals, and masks bins in the chr1 centromere/heterochromatin, bins\n"
        "with too few normals, low coverage and high spread. For 1q21.3, 1q and S100A7-9 it\n"
        "keeps the spread of the region score across the normals, each normal scored against\n"
        "the others (leave-one-out): the z-score of `relapsewatch call` divides by it.\n"
        "The file states build, bin size, counting filters, number of normals and a\n"
        "checksum; a sample is only compared with a panel of the same build, bin size and\n"
        "filters. It is written atomically (no partial file on error).\n"
        "info: verifies a panel file (checksum included) and prints its JSON summary.\n"
        "\n"
        "options of build:\n"
        "  -o, --output FILE          the panel to write (required)\n"
        "      --summary FILE         JSON summary to write ('-' = stdout; default none)\n"
        "      --id ID                panel id (default pon-BUILD-SIZEkb-nN-HASH, from content)\n"
        "      --gc-fasta FASTA       GC-correct the normals with the GC fraction of each bin\n"
        "                             read from this faidx-indexed reference, and keep the\n"
        "                             GC values in the panel so that `call` corrects each\n"
        "                             sample alike (default: no GC correction)\n"
        "      --gc-simulated         the same with the GC table of the simulator's genome\n"
        "                             (for samples made by relapsewatch simulate)\n"
        "analysis settings (core/settings.h) of the panel's size and masking:\n",
        d.min_normals, d.recommended_normals);
    rw_cli_settings_help(out, groups);
    fprintf(out,
            "counting options (for BAM/CRAM/SAM normals; they form the panel's filters string,\n"
            "which samples must share; a bins file stating other filters is refused, one\n"
            "stating none is taken as counted with them; with --build auto every normal must\n"
            "have the first one's build):\n"
            "%s"
            "      --bin-size N           bin width in bp (default 500000; 50000..5000000)\n"
            "      --include-y            bins on chrY too (default: chr1-22 and chrX)\n"
            "  -h, --help                 this help\n"
            "\n"
            "exit codes: 0 ok, 1 bad input (the message says what and where), 2 usage\n",
            rw_cli_count_help);
}

static json_t *summary_json(const rw_pon *p, const char *file, char **normals, int n_normals)
{
    const rw_bins *b = p->median;
    size_t count[5] = {0};
    for (size_t i = 0; i < b->n; i++)
        for (int k = 0; k < 5; k++)
            count[k] += (p->mask[i] >> k) & 1;
    json_t *regions = json_array();
    for (size_t r = 0; r < p->n_regions; r++) {
        const rw_pon_region *x = &p->regions[r];
        json_array_append_new(regions,
                              json_pack("{s:s, s:i, s:o, s:o, s:i}", "name", x->name, "n_bins",
                                        x->n_bins, "loo_mean", rw_json_num(x->loo_mean), "loo_sd",
                                        rw_json_num(x->loo_sd), "n_scored", x->n_scored));
    }
    json_t *doc = json_pack(
        "{s:s, s:s, s:s, s:s, s:i, s:b, s:s, s:i, s:b, s:s, s:I, s:I, s:o, s:o}", "command", "pon",
        "id", p->id, "file", file, "build", rw_build_name(b->build), "bin_size", (int)b->bin_size,
        "include_y", b->nchrom == RW_NCHROM, "filters", p->filters, "n_normals", p->n_normals,
        "low_normals", p->low_normals, "options", p->options, "bins", (json_int_t)b->n,
        "usable_bins", (json_int_t)rw_pon_usable(p), "masked",
        json_pack("{s:I, s:I, s:I, s:I, s:I}", "region", (json_int_t)count[0], "no_data",
                  (json_int_t)count[1], "low_coverage", (json_int_t)count[2], "high_spread",
                  (json_int_t)count[3], "gc", (json_int_t)count[4]),
        "regions", regions);
    if (doc && normals) {
        json_t *a = json_array();
        for (int i = 0; i < n_normals; i++)
            json_array_append_new(a, json_string(normals[i]));
        json_object_set_new(doc, "normals", a);
    }
    return doc;
}

/* GC fraction of each bin of layout b, from a FASTA or (fasta NULL) the simulator's genome.
 * *out is new (free()). */
static int load_gc(const char *fasta, const rw_bins *b, double **out)
{
    rw_error e;
    double *gc = malloc((b->n ? b->n : 1) * sizeof *gc);
    if (!gc)
        return rw_cli_fail(CMD, RW_ERR_NOMEM, "out of memory");
    if (fasta) {
        rw_gc_ref *ref = NULL;
        double *nfrac = malloc((b->n ? b->n : 1) * sizeof *nfrac);
        rw_status st = nfrac ? rw_gc_ref_open(fasta, NULL, &ref, &e)
                             : rw_error_set(&e, RW_ERR_NOMEM, "out of memory");
        if (!st)
            st = rw_gc_fill_bins(ref, b, gc, nfrac, &e);
        /* bins mostly of N have no meaningful GC: unknown, hence masked in the panel */
        for (size_t i = 0; !st && i < b->n; i++)
            if (!(nfrac[i] <= 0.1))
                gc[i] = NAN;
        rw_gc_ref_close(ref);
        free(nfrac);
        if (st) {
            free(gc);
            return rw_cli_fail(CMD, st, "--gc-fasta %s: %s", fasta, e.msg);
        }
    } else {
        rw_bins *t = NULL;
        if (rw_sim_gc(b->build, b->bin_size, &t, &e) != RW_OK) {
            free(gc);
            return rw_cli_fail(CMD, e.status, "%s", e.msg);
        }
        for (int c = 0; c < b->nchrom; c++) /* the table may tile chrY too */
            for (size_t i = b->first[c]; i < b->first[c + 1]; i++)
                gc[i] = c < t->nchrom ? t->count[t->first[c] + (i - b->first[c])] : NAN;
        rw_bins_free(t);
    }
    *out = gc;
    return RW_EXIT_OK;
}

static int pon_info(int argc, char **argv)
{
    if (argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
        help(stdout);
        return RW_EXIT_OK;
    }
    if (argc != 2)
        return rw_cli_fail(CMD, RW_ERR_USAGE, "info takes one panel file (see --help)");
    rw_pon *p = NULL;
    rw_error e;
    if (rw_pon_read(argv[1], &p, &e) != RW_OK)
        return rw_cli_fail(CMD, e.status, "%s", e.msg);
    int rc = rw_cli_write_json(CMD, summary_json(p, argv[1], NULL, 0), "-");
    rw_pon_free(p);
    return rc;
}

/* What `pon build`'s command line asked for. */
typedef struct build_args {
    rw_settings set; /* set.pon: panel size and masking */
    rw_count_opts co;
    const char *output, *summary, *gc_fasta, *frag_mode_arg;
    int gc_sim;
    int frag_mode; /* rw_frag_mode; -1 = by the setting pon_frag_weighted and the normals */
    int all_reads; /* every normal was counted from reads (BAM/CRAM/SAM), not read as bins */
    double hist[RW_FRAG_HIST_MAX + 1], weights[RW_FRAG_HIST_MAX + 1]; /* the normals' lengths */
} build_args;

enum { OPT_ID = 256, OPT_BIN_SIZE };

static int apply_option(void *ctx, int id, const char *name, const char *arg)
{
    build_args *a = ctx;
    long v;
    int rc;
    if (id == OPT_BIN_SIZE) {
        if ((rc = rw_cli_opt_long(CMD, name, arg, RW_BIN_SIZE_MIN, RW_BIN_SIZE_MAX, &v)) == 0)
            a->co.bin_size = (int32_t)v;
        return rc;
    }
    /* OPT_ID */
    if (!arg[0] || strlen(arg) >= sizeof((rw_pon *)0)->id || strpbrk(arg, "\t\n\r"))
        return rw_cli_fail(CMD, RW_ERR_USAGE, "--id: 1..79 characters, no tab/newline");
    a->set.pon.id = arg;
    return RW_EXIT_OK;
}

/* Reads the command line into *a: RW_EXIT_OK to run, -1 after --help, else an exit code. */
static int parse_args(int argc, char **argv, build_args *a)
{
    const rw_cli_option own[] = {
        {.name = "output", .has_arg = required_argument, .str = &a->output},
        {.name = "summary", .has_arg = required_argument, .str = &a->summary},
        {.name = "id", .has_arg = required_argument, .id = OPT_ID},
        {.name = "bin-size", .has_arg = required_argument, .id = OPT_BIN_SIZE},
        {.name = "include-y", .has_arg = no_argument, .flag = &a->co.include_y, .value = 1},
        {.name = "gc-fasta", .has_arg = required_argument, .str = &a->gc_fasta},
        {.name = "gc-simulated", .has_arg = no_argument, .flag = &a->gc_sim, .value = 1},
        {.name = "frag-mode", .has_arg = required_argument, .str = &a->frag_mode_arg},
        {.name = NULL},
    };
    int rc = rw_cli_parse(&(rw_cli_parser){CMD, own, apply_option, a, help, &a->co, &a->set}, argc,
                          argv);
    if (rc != RW_EXIT_OK ||
        (rc = rw_cli_frag_mode(CMD, a->frag_mode_arg, &a->co, &a->frag_mode)) != RW_EXIT_OK)
        return rc;
    if (!a->output)
        return rw_cli_fail(CMD, RW_ERR_USAGE, "-o PON.tsv is required (see --help)");
    if (argc - optind < 1)
        return rw_cli_fail(CMD, RW_ERR_USAGE, "no normal sample given (see --help)");
    if (a->gc_fasta && a->gc_sim)
        return rw_cli_fail(CMD, RW_ERR_USAGE, "--gc-fasta and --gc-simulated exclude each other");
    return RW_EXIT_OK;
}

/* Counts (or reads) the n normals into nb[]; every later one must have the first one's build.
 * Unweighted, their fragment lengths are summed into a->hist. */
static int load_normals(char **paths, int n, build_args *a, rw_bins **nb)
{
    rw_error e;
    rw_count_opts *co = &a->co;
    for (int i = 0; i < n; i++) {
        rw_count_qc qc;
        if (rw_count_load(paths[i], co, &nb[i], &qc, rw_cli_progress, paths[i], &e) != RW_OK)
            return rw_cli_fail(CMD, e.status, "%s", e.msg);
        co->build = nb[i]->build;
        a->all_reads &=
            !strcmp(qc.format, "BAM") || !strcmp(qc.format, "CRAM") || !strcmp(qc.format, "SAM");
        for (int l = 0; !co->frag_weights && l <= RW_FRAG_HIST_MAX; l++)
            a->hist[l] += (double)qc.frag_hist[l];
    }
    return RW_EXIT_OK;
}

/* The panel's fragment mode (docs/method.md section 4.10): weighted when asked, or by default
 * (setting pon_frag_weighted) when every normal is reads with lengths (paired-end); the normals
 * are then counted again with the weights learnt from their lengths. The lengths are kept in the
 * panel whenever the normals have them. */
static int panel_frag_mode(build_args *a, char **paths, int n, rw_bins **nb)
{
    double total = 0;
    for (int l = 0; l <= RW_FRAG_HIST_MAX; l++)
        total += a->hist[l];
    int lengths = a->all_reads && total >= RW_FRAG_WEIGHT_MIN_FRAGMENTS;
    if (lengths)
        a->set.pon.frag_hist = a->hist;
    if (a->frag_mode == RW_FRAG_WEIGHTED && !a->all_reads)
        return rw_cli_fail(CMD, RW_ERR_INPUT,
                           "--frag-mode weighted learns its weights from the normals' fragment "
                           "lengths: give them as BAM/CRAM/SAM files, not bins files");
    if (a->frag_mode != RW_FRAG_WEIGHTED &&
        !(a->frag_mode < 0 && a->set.pon.frag_weighted && lengths))
        return RW_EXIT_OK;
    rw_error e;
    if (rw_frag_weights(a->hist, RW_FRAG_TUMOUR_SHIFT, a->weights, &e) != RW_OK)
        return rw_cli_fail(CMD, e.status, "%s", e.msg);
    a->co.frag_weights = a->weights;
    for (int i = 0; i < n; i++) {
        rw_bins_free(nb[i]);
        nb[i] = NULL;
    }
    fprintf(stderr,
            "relapsewatch pon: weights learnt from %.0f fragment lengths; counting the normals "
            "weighted\n",
            total);
    return load_normals(paths, n, a, nb);
}

/* Builds the panel of the loaded normals and writes it (and its summary): both or neither. */
static int build_and_write(build_args *a, rw_bins **nb, char **paths, int n)
{
    rw_pon_opts *po = &a->set.pon;
    rw_error e;
    rw_pon *p = NULL;
    double *gc = NULL;
    int rc = RW_EXIT_OK;
    if (a->gc_fasta || a->gc_sim) {
        if ((rc = load_gc(a->gc_fasta, nb[0], &gc)) != RW_EXIT_OK)
            return rc;
        po->gc = gc;
    }
    if (rw_pon_build(nb, (size_t)n, po, &p, &e) != RW_OK || rw_pon_write(p, a->output, &e)) {
        rc = rw_cli_fail(CMD, e.status, "%s", e.msg);
        goto done;
    }
    if (p->low_normals)
        fprintf(stderr,
                "relapsewatch pon: warning: %d normals, fewer than the %d recommended: the "
                "z-scores rest on a noisy spread estimate\n",
                p->n_normals, po->recommended_normals);
    if (a->summary) {
        rc = rw_cli_write_json(CMD, summary_json(p, a->output, paths, n), a->summary);
        if (rc != RW_EXIT_OK) {
            unlink(a->output); /* all or nothing */
            goto done;
        }
    }
    fprintf(stderr, "relapsewatch pon: wrote %s (%s, %d normals, %zu of %zu bins usable)\n",
            a->output, p->id, p->n_normals, rw_pon_usable(p), p->median->n);
done:
    po->gc = NULL;
    free(gc);
    rw_pon_free(p);
    return rc;
}

static int pon_build(int argc, char **argv)
{
    build_args a = {.all_reads = 1};
    rw_settings_init(&a.set);
    rw_count_opts_init(&a.co);
    int rc = parse_args(argc, argv, &a);
    if (rc != RW_EXIT_OK)
        return rc < 0 ? RW_EXIT_OK : rc;
    char filters[128];
    int n = argc - optind;
    char **paths = argv + optind;
    rw_bins **nb = calloc((size_t)n, sizeof *nb);
    if (!nb)
        return rw_cli_fail(CMD, RW_ERR_NOMEM, "out of memory");
    rc = load_normals(paths, n, &a, nb);
    if (rc == RW_EXIT_OK && n < a.set.pon.min_normals)
        rc = rw_cli_fail(CMD, RW_ERR_INPUT,
                         "%d normal sample(s) given: a panel needs at least %d (%d or more "
                         "recommended)",
                         n, a.set.pon.min_normals, a.set.pon.recommended_normals);
    if (rc == RW_EXIT_OK)
        rc = panel_frag_mode(&a, paths, n, nb);
    a.set.pon.filters = rw_count_filters(&a.co, filters, sizeof filters);
    if (rc == RW_EXIT_OK)
        rc = build_and_write(&a, nb, paths, n);
    for (int i = 0; i < n; i++)
        rw_bins_free(nb[i]);
    free(nb);
    return rc;
}

int rw_cli_pon(int argc, char **argv)
{
    if (argc < 2) {
        help(stderr);
        return RW_EXIT_USAGE;
    }
    if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
        help(stdout);
        return RW_EXIT_OK;
    }
    if (!strcmp(argv[1], "build"))
        return pon_build(argc - 1, argv + 1);
    if (!strcmp(argv[1], "info"))
        return pon_info(argc - 1, argv + 1);
    return rw_cli_fail(CMD, RW_ERR_USAGE, "unknown subcommand '%s': build or info", argv[1]);
}
