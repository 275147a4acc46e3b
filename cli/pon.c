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

#define CMD "pon"

static void help(FILE *out)
{
    fprintf(
        out,
        "usage: relapsewatch pon build -o PON.tsv [options] NORMAL...\n"
        "       relapsewatch pon info PON.tsv\n"
        "\n"
        "build: makes a panel of normals (PoN) from >= 5 normal samples (10 or more\n"
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
        "      --min-normals N        fewest normals accepted (default 5)\n"
        "      --recommended-normals N  fewer gives a warning and low_normals (default 10)\n"
        "      --min-median X         mask bins whose median normalised depth < X (default 0.2)\n"
        "      --max-cv X             mask bins whose robust CV (1.4826 MAD / median) > X\n"
        "                             (default 0.5)\n"
        "      --max-cv-factor X      ... or > X times the median robust CV (default 3)\n"
        "      --gc-fasta FASTA       GC-correct the normals with the GC fraction of each bin\n"
        "                             read from this faidx-indexed reference, and keep the\n"
        "                             GC values in the panel so that `call` corrects each\n"
        "                             sample alike (default: no GC correction)\n"
        "      --gc-simulated         the same with the GC table of the simulator's genome\n"
        "                             (for samples made by relapsewatch simulate)\n"
        "counting options (for BAM/CRAM/SAM normals; they form the panel's filters string,\n"
        "which samples must share; a bins file stating other filters is refused, one\n"
        "stating none is taken as counted with them):\n"
        "      --build B              hg38, hg19 or auto (default auto: detected, and every\n"
        "                             normal must have the first one's build)\n"
        "      --bin-size N           bin width in bp (default 500000; 50000..5000000)\n"
        "      --include-y            bins on chrY too (default: chr1-22 and chrX)\n"
        "      --min-mapq N           drop reads with MAPQ < N (default 20)\n"
        "      --count MODE           fragments (default) or reads\n"
        "      --frag-min N           keep fragments >= N bp (default 0 = no bound)\n"
        "      --frag-max N           keep fragments <= N bp (default 0 = no bound)\n"
        "      --drop-flags HEX       flag bits that drop a read (default 0xF04)\n"
        "      --threads N            htslib decompression threads (default 1)\n"
        "      --reference FASTA      reference of CRAM normals\n"
        "  -h, --help                 this help\n"
        "\n"
        "exit codes: 0 ok, 1 bad input (the message says what and where), 2 usage\n");
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
        json_array_append_new(
            regions, json_pack("{s:s, s:i, s:o, s:o, s:i}", "name", x->name, "n_bins", x->n_bins,
                               "loo_mean", rw_cli_json_num(x->loo_mean), "loo_sd",
                               rw_cli_json_num(x->loo_sd), "n_scored", x->n_scored));
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

static int pon_build(int argc, char **argv)
{
    enum {
        OPT_SUMMARY = 256,
        OPT_ID,
        OPT_MIN_NORMALS,
        OPT_RECOMMENDED,
        OPT_MIN_MEDIAN,
        OPT_MAX_CV,
        OPT_MAX_CV_FACTOR,
        OPT_BIN_SIZE,
        OPT_INCLUDE_Y,
        OPT_GC_FASTA,
        OPT_GC_SIM,
    };
    static const struct option longopts[] = {
        {"output", required_argument, NULL, 'o'},
        {"summary", required_argument, NULL, OPT_SUMMARY},
        {"id", required_argument, NULL, OPT_ID},
        {"min-normals", required_argument, NULL, OPT_MIN_NORMALS},
        {"recommended-normals", required_argument, NULL, OPT_RECOMMENDED},
        {"min-median", required_argument, NULL, OPT_MIN_MEDIAN},
        {"max-cv", required_argument, NULL, OPT_MAX_CV},
        {"max-cv-factor", required_argument, NULL, OPT_MAX_CV_FACTOR},
        RW_CLI_COUNT_OPTIONS,
        {"bin-size", required_argument, NULL, OPT_BIN_SIZE},
        {"include-y", no_argument, NULL, OPT_INCLUDE_Y},
        {"gc-fasta", required_argument, NULL, OPT_GC_FASTA},
        {"gc-simulated", no_argument, NULL, OPT_GC_SIM},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    rw_pon_opts po;
    rw_pon_opts_init(&po);
    rw_count_opts co;
    rw_count_opts_init(&co);
    const char *output = NULL, *summary = NULL, *gc_fasta = NULL;
    int gc_sim = 0;
    long v;
    double x;
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":o:h", longopts, NULL)) != -1) {
        int counting = rw_cli_count_option(CMD, c, optarg, &co);
        if (counting >= 0) {
            if (counting != RW_EXIT_OK)
                return counting;
            continue;
        }
        switch (c) {
        case 'o':
            output = optarg;
            break;
        case OPT_SUMMARY:
            summary = optarg;
            break;
        case OPT_ID:
            if (!optarg[0] || strlen(optarg) >= sizeof((rw_pon *)0)->id ||
                strpbrk(optarg, "\t\n\r"))
                return rw_cli_fail(CMD, RW_ERR_USAGE, "--id: 1..79 characters, no tab/newline");
            po.id = optarg;
            break;
        case OPT_MIN_NORMALS:
            if (rw_cli_parse_long(optarg, 10, 3, 100000, &v))
                return rw_cli_fail(CMD, RW_ERR_USAGE, "--min-normals: an integer >= 3");
            po.min_normals = (int)v;
            break;
        case OPT_RECOMMENDED:
            if (rw_cli_parse_long(optarg, 10, 1, 100000, &v))
                return rw_cli_fail(CMD, RW_ERR_USAGE, "--recommended-normals: an integer >= 1");
            po.recommended_normals = (int)v;
            break;
        case OPT_MIN_MEDIAN:
            if (rw_cli_parse_double(optarg, -INFINITY, INFINITY, &x) || x < 0)
                return rw_cli_fail(CMD, RW_ERR_USAGE, "--min-median: a number >= 0");
            po.min_median = x;
            break;
        case OPT_MAX_CV:
            if (rw_cli_parse_double(optarg, -INFINITY, INFINITY, &x) || x <= 0)
                return rw_cli_fail(CMD, RW_ERR_USAGE, "--max-cv: a number > 0");
            po.max_cv = x;
            break;
        case OPT_MAX_CV_FACTOR:
            if (rw_cli_parse_double(optarg, -INFINITY, INFINITY, &x) || x <= 0)
                return rw_cli_fail(CMD, RW_ERR_USAGE, "--max-cv-factor: a number > 0");
            po.max_cv_factor = x;
            break;
        case OPT_BIN_SIZE:
            if (rw_cli_parse_long(optarg, 10, RW_BIN_SIZE_MIN, RW_BIN_SIZE_MAX, &v))
                return rw_cli_fail(CMD, RW_ERR_USAGE, "--bin-size: an integer in %d..%d",
                                   RW_BIN_SIZE_MIN, RW_BIN_SIZE_MAX);
            co.bin_size = (int32_t)v;
            break;
        case OPT_INCLUDE_Y:
            co.include_y = 1;
            break;
        case OPT_GC_FASTA:
            gc_fasta = optarg;
            break;
        case OPT_GC_SIM:
            gc_sim = 1;
            break;
        case 'h':
            help(stdout);
            return RW_EXIT_OK;
        case ':':
        default:
            return rw_cli_getopt_error(CMD, c, argv);
        }
    }
    if (!output)
        return rw_cli_fail(CMD, RW_ERR_USAGE, "-o PON.tsv is required (see --help)");
    int n = argc - optind;
    if (n < 1)
        return rw_cli_fail(CMD, RW_ERR_USAGE, "no normal sample given (see --help)");
    if (co.frag_max && co.frag_min > co.frag_max)
        return rw_cli_fail(CMD, RW_ERR_USAGE, "--frag-min is above --frag-max");
    if (gc_fasta && gc_sim)
        return rw_cli_fail(CMD, RW_ERR_USAGE, "--gc-fasta and --gc-simulated exclude each other");
    char filters[128];
    po.filters = rw_count_filters(&co, filters, sizeof filters);

    int rc = RW_EXIT_OK;
    rw_error e;
    rw_pon *p = NULL;
    double *gc = NULL;
    rw_bins **nb = calloc((size_t)n, sizeof *nb);
    if (!nb)
        return rw_cli_fail(CMD, RW_ERR_NOMEM, "out of memory");
    for (int i = 0; i < n; i++) {
        const char *path = argv[optind + i];
        rw_count_qc qc;
        if (rw_count_load(path, &co, &nb[i], &qc, rw_cli_progress, (void *)path, &e) != RW_OK) {
            rc = rw_cli_fail(CMD, e.status, "%s", e.msg);
            goto done;
        }
        /* every later normal must have the first one's build */
        co.build = nb[i]->build;
    }
    if (n < po.min_normals) {
        rc = rw_cli_fail(CMD, RW_ERR_INPUT,
                         "%d normal sample(s) given: a panel needs at least %d (%d or more "
                         "recommended)",
                         n, po.min_normals, po.recommended_normals);
        goto done;
    }
    if (gc_fasta || gc_sim) {
        rc = load_gc(gc_fasta, nb[0], &gc);
        if (rc != RW_EXIT_OK)
            goto done;
        po.gc = gc;
    }
    if (rw_pon_build(nb, (size_t)n, &po, &p, &e) != RW_OK) {
        rc = rw_cli_fail(CMD, e.status, "%s", e.msg);
        goto done;
    }
    if (p->low_normals)
        fprintf(stderr,
                "relapsewatch pon: warning: %d normals, fewer than the %d recommended: the "
                "z-scores rest on a noisy spread estimate\n",
                p->n_normals, po.recommended_normals);
    if (rw_pon_write(p, output, &e) != RW_OK) {
        rc = rw_cli_fail(CMD, e.status, "%s", e.msg);
        goto done;
    }
    if (summary) {
        rc = rw_cli_write_json(CMD, summary_json(p, output, argv + optind, n), summary);
        if (rc != RW_EXIT_OK) {
            unlink(output); /* all or nothing */
            goto done;
        }
    }
    fprintf(stderr, "relapsewatch pon: wrote %s (%s, %d normals, %zu of %zu bins usable)\n", output,
            p->id, p->n_normals, rw_pon_usable(p), p->median->n);
done:
    for (int i = 0; i < n; i++)
        rw_bins_free(nb[i]);
    free(nb);
    free(gc);
    rw_pon_free(p);
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
