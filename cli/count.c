/* relapsewatch count: BAM/CRAM/SAM (or a bins file) -> bins TSV and QC JSON. */
#include "cli/cli.h"

#include <errno.h>
#include <getopt.h>
#include <htslib/hts.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/atomic.h"
#include "core/bins.h"
#include "core/count.h"
#include "json/num.h"
#include "json/result.h"

#define CMD "count"

static void help(FILE *out)
{
    fprintf(
        out,
        "usage: relapsewatch count [options] -o OUT.tsv INPUT\n"
        "\n"
        "Counts the reads (or fragments) of INPUT in fixed-width genome bins and writes a bins\n"
        "file. INPUT is a BAM, CRAM or SAM file (streamed whole, no index needed) or an existing\n"
        "bins file, which is checked against --build/--bin-size and written back.\n"
        "\n"
        "options:\n"
        "  -o, --output FILE     bins TSV to write (required): a first line\n"
        "                        '#relapsewatch-bins version=1 build=.. bin_size=.. filters=..'\n"
        "                        (filters: the counting options below), a header\n"
        "                        'chrom start end count', one line per bin (0-based, half-open)\n"
        "      --qc FILE         QC JSON to write ('-' = stdout): reads seen and kept, reads\n"
        "                        dropped per reason, duplicate rate, fragment-length median and\n"
        "                        histogram (0..1000 bp), median count per bin\n"
        "      --bin-size N      bin width in bp (default 500000; 50000..5000000, or any N >= 1\n"
        "                        with --contig)\n"
        "      --include-y       count chrY too (default: chr1-22 and chrX)\n"
        "      --contig NAME     count one contig of the header only (e.g. chrM, or a non-human\n"
        "                        contig) and write 'chrom start end count' lines for it after a\n"
        "                        '#relapsewatch-contig' line; the build is checked only if\n"
        "                        --build is given\n"
        "      --pon FILE        count as the samples of this panel of normals are counted: its\n"
        "                        fragment mode (weighted: its weights, learnt from its normals)\n"
        "  -h, --help            this help\n"
        "counting options (an unknown build is always an error):\n"
        "%s"
        "\n"
        "counting rules:\n"
        "  - A read is dropped for the first reason that applies, in this order: unmapped,\n"
        "    secondary, supplementary, QC-fail, duplicate (each if in --drop-flags); MAPQ below\n"
        "    --min-mapq; not on a counted contig (chrM, alt/decoy contigs, chrY without\n"
        "    --include-y); the other mate of a fragment (fragments mode); outside the\n"
        "    fragment-length window (no_length: no length known; length: out of the window).\n"
        "  - Position = the read's 0-based leftmost alignment start (BAM POS), whatever its\n"
        "    strand; it falls in the half-open bin [start, end) holding it, and each kept read\n"
        "    or fragment is counted exactly once.\n"
        "  - fragments: each fragment once, at its leftmost mapped mate. A paired read counts\n"
        "    when its mate is unmapped; or, mate on the same contig, when POS < mate POS, or\n"
        "    POS == mate POS and it is not read 2; or, mate on another contig, when it is read\n"
        "    1. Single-end reads count at their start. A fragment is kept when the counted\n"
        "    mate passes the filters.\n"
        "  - reads: every read passing the filters counts at its own start (both mates).\n"
        "  - Fragment length = |TLEN| of a paired read with its mate on the same contig and\n"
        "    TLEN != 0. With a window or weights, reads without a length (single-end, mate\n"
        "    unmapped or on another contig) are dropped; weighted, each fragment counts the\n"
        "    weight of its length (docs/method.md section 4.10).\n"
        "  - The output is identical for the same input and options (also with --threads).\n"
        "\n"
        "exit codes: 0 ok, 1 bad input (the message says what and where), 2 usage\n",
        rw_cli_count_help);
}

/* Writes the one-contig counts atomically (temp file + rename). */
static int write_contig(const rw_contig_counts *cc, const char *path, rw_build build)
{
    char tmp[RW_ATOMIC_TMP_MAX];
    FILE *f;
    rw_error err;
    if (rw_atomic_open(path, tmp, &f, &err) != RW_OK)
        return rw_cli_fail(CMD, err.status, "%s", err.msg);
    fprintf(f, "#relapsewatch-contig\tversion=1\tbuild=%s\tcontig=%s\tlength=%lld\tbin_size=%d\n",
            rw_build_name(build), cc->contig, (long long)cc->length, (int)cc->bin_size);
    fprintf(f, "chrom\tstart\tend\tcount\n");
    for (size_t i = 0; i < cc->n; i++) {
        int64_t s = (int64_t)i * cc->bin_size, e = s + cc->bin_size;
        fprintf(f, "%s\t%lld\t%lld\t%llu\n", cc->contig, (long long)s,
                (long long)(e < cc->length ? e : cc->length), (unsigned long long)cc->count[i]);
    }
    if (rw_atomic_commit(f, tmp, path, &err) != RW_OK)
        return rw_cli_fail(CMD, err.status, "%s", err.msg);
    return RW_EXIT_OK;
}

/* The QC document: the counting QC every result carries (json/result.h), the options and the
 * fragment-length histogram. */
static json_t *qc_json(const rw_count_qc *qc, const rw_count_opts *o, const char *input,
                       const char *contig)
{
    int bad = 0;
    json_t *doc = rw_count_qc_json_new(qc), *hist = json_array();
    for (int l = 0; l <= RW_FRAG_HIST_MAX; l++)
        rw_json_push(hist, json_integer((json_int_t)qc->frag_hist[l]), &bad);
    char flags[16];
    snprintf(flags, sizeof flags, "0x%X", o->drop_flags);
    rw_json_put(doc, "input", json_string(input), &bad);
    rw_json_put(doc, "build", json_string(rw_build_name(qc->build)), &bad);
    rw_json_put(doc, "contig", contig ? json_string(contig) : json_null(), &bad);
    rw_json_put(doc, "options",
                json_pack("{s:i, s:s, s:s, s:i, s:i, s:i, s:b}", "min_mapq", o->min_mapq,
                          "drop_flags", flags, "count",
                          o->mode == RW_COUNT_READS ? "reads" : "fragments", "frag_min",
                          o->frag_min, "frag_max", o->frag_max, "bin_size", (int)o->bin_size,
                          "include_y", o->include_y),
                &bad);
    rw_json_put(doc, "fragment_length",
                json_pack("{s:I, s:o, s:I}", "n", (json_int_t)qc->frag_n, "histogram_0_to_1000bp",
                          hist, "over_1000bp", (json_int_t)qc->frag_over),
                &bad);
    rw_json_put(doc, "median_per_bin", rw_json_num(qc->median_per_bin), &bad);
    return rw_json_done(doc, bad);
}

/* What the command line asked for. */
typedef struct count_args {
    rw_count_opts o;
    const char *output, *qc_path, *contig, *pon_path, *frag_mode_arg;
    int bin_size_given;
    int frag_mode;                        /* rw_frag_mode; -1 = not given */
    double weights[RW_FRAG_HIST_MAX + 1]; /* weighted mode: the panel's */
} count_args;

/* --bin-size, the one option that is not plain. */
static int apply_option(void *ctx, int id, const char *name, const char *arg)
{
    count_args *a = ctx;
    long v;
    (void)id;
    int rc = rw_cli_opt_long(CMD, name, arg, 1, RW_BIN_SIZE_MAX, &v);
    if (rc == RW_EXIT_OK) {
        a->o.bin_size = (int32_t)v;
        a->bin_size_given = 1;
    }
    return rc;
}

/* Reads the command line into *a: RW_EXIT_OK to run, -1 after --help, else an exit code. */
static int parse_args(int argc, char **argv, count_args *a)
{
    const rw_cli_option own[] = {
        {.name = "output", .has_arg = required_argument, .str = &a->output},
        {.name = "qc", .has_arg = required_argument, .str = &a->qc_path},
        {.name = "bin-size", .has_arg = required_argument, .id = 256},
        {.name = "include-y", .has_arg = no_argument, .flag = &a->o.include_y, .value = 1},
        {.name = "contig", .has_arg = required_argument, .str = &a->contig},
        {.name = "pon", .has_arg = required_argument, .str = &a->pon_path},
        {.name = "frag-mode", .has_arg = required_argument, .str = &a->frag_mode_arg},
        {.name = NULL},
    };
    int rc =
        rw_cli_parse(&(rw_cli_parser){CMD, own, apply_option, a, help, &a->o, NULL}, argc, argv);
    if (rc != RW_EXIT_OK ||
        (rc = rw_cli_frag_mode(CMD, a->frag_mode_arg, &a->o, &a->frag_mode)) != RW_EXIT_OK)
        return rc;
    if (a->frag_mode == RW_FRAG_WEIGHTED && !a->pon_path)
        return rw_cli_fail(CMD, RW_ERR_USAGE,
                           "--frag-mode weighted takes its weights from a panel: --pon PON.tsv");
    if (optind != argc - 1)
        return rw_cli_fail(CMD, RW_ERR_USAGE, "expected one INPUT file, got %d (see --help)",
                           argc - optind);
    if (!a->output)
        return rw_cli_fail(CMD, RW_ERR_USAGE, "-o OUT.tsv is required (see --help)");
    if (!a->contig && a->bin_size_given && a->o.bin_size < RW_BIN_SIZE_MIN)
        return rw_cli_fail(CMD, RW_ERR_USAGE,
                           "--bin-size %d: genome bins are %d..%d bp (smaller only with --contig)",
                           (int)a->o.bin_size, RW_BIN_SIZE_MIN, RW_BIN_SIZE_MAX);
    return RW_EXIT_OK;
}

/* Counts input into the bins file (or the one-contig table); qc receives the counting QC. */
static int count_input(const count_args *a, const char *input, rw_count_qc *qc)
{
    rw_error err = {0};
    int rc = RW_EXIT_OK;
    rw_status st;
    if (a->contig) {
        rw_contig_counts *cc = NULL;
        st = rw_count_contig(input, &a->o, a->contig, &cc, qc, rw_cli_progress, (void *)CMD, &err);
        if (st == RW_OK)
            rc = write_contig(cc, a->output, qc->build);
        rw_contig_counts_free(cc);
    } else {
        rw_bins *bins = NULL;
        st = rw_count_load(input, &a->o, &bins, qc, rw_cli_progress, (void *)CMD, &err);
        if (st == RW_OK && rw_bins_write(bins, a->output, &err) != RW_OK)
            rc = rw_cli_fail(CMD, err.status, "%s", err.msg);
        rw_bins_free(bins);
    }
    return st != RW_OK ? rw_cli_fail(CMD, st, "%s", err.msg) : rc;
}

/* --pon: count as the panel's samples are counted (its fragment mode and weights). */
static int follow_panel(count_args *a)
{
    rw_pon *p = NULL;
    rw_error e;
    if (rw_pon_read(a->pon_path, &p, &e) != RW_OK)
        return rw_cli_fail(CMD, e.status, "%s", e.msg);
    int rc = rw_cli_frag_panel(CMD, a->frag_mode, &a->o, p, a->weights);
    rw_pon_free(p);
    return rc;
}

int rw_cli_count(int argc, char **argv)
{
    count_args a = {0};
    rw_count_opts_init(&a.o);
    int rc = parse_args(argc, argv, &a);
    if (rc == RW_EXIT_OK && a.pon_path)
        rc = follow_panel(&a);
    if (rc != RW_EXIT_OK)
        return rc < 0 ? RW_EXIT_OK : rc;
    const char *input = argv[optind];
    /* Our messages say what went wrong and where; htslib's own lines would only repeat them. */
    hts_set_log_level(HTS_LOG_OFF);
    rw_count_qc *qc = calloc(1, sizeof *qc);
    if (!qc)
        return rw_cli_fail(CMD, RW_ERR_NOMEM, "out of memory");
    rc = count_input(&a, input, qc);
    if (rc == RW_EXIT_OK && a.qc_path) {
        rc = rw_cli_write_json(CMD, qc_json(qc, &a.o, input, a.contig), a.qc_path);
        if (rc != RW_EXIT_OK)
            unlink(a.output); /* all or nothing: no bins file without its QC */
    }
    free(qc);
    return rc;
}
