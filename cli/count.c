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

#define CMD "count"

static void help(void)
{
    printf(
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
        "      --build B         hg38, hg19 or auto (default auto: the build detected from the\n"
        "                        @SQ lengths; an unknown build is always an error)\n"
        "      --bin-size N      bin width in bp (default 500000; 50000..5000000, or any N >= 1\n"
        "                        with --contig)\n"
        "      --min-mapq N      drop reads with MAPQ < N (default 20)\n"
        "      --count MODE      fragments (default) or reads\n"
        "      --frag-min N      keep fragments of length >= N bp (default 0 = no bound)\n"
        "      --frag-max N      keep fragments of length <= N bp (default 0 = no bound)\n"
        "      --drop-flags HEX  flag bits that drop a read, a subset of 0xF04 (default 0xF04:\n"
        "                        unmapped 0x4, secondary 0x100, QC-fail 0x200, duplicate 0x400,\n"
        "                        supplementary 0x800)\n"
        "      --threads N       htslib decompression threads (default 1 = none)\n"
        "      --reference FASTA reference of a CRAM input (required for CRAM)\n"
        "      --include-y       count chrY too (default: chr1-22 and chrX)\n"
        "      --contig NAME     count one contig of the header only (e.g. chrM, or a non-human\n"
        "                        contig) and write 'chrom start end count' lines for it after a\n"
        "                        '#relapsewatch-contig' line; the build is checked only if\n"
        "                        --build is given\n"
        "  -h, --help            this help\n"
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
        "    TLEN != 0. With --frag-min/--frag-max, reads without a length (single-end, mate\n"
        "    unmapped or on another contig) are dropped.\n"
        "  - The output is identical for the same input and options (also with --threads).\n"
        "\n"
        "exit codes: 0 ok, 1 bad input (the message says what and where), 2 usage\n");
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

static json_t *qc_json(const rw_count_qc *qc, const rw_count_opts *o, const char *input,
                       const char *contig)
{
    json_t *dropped = json_object(), *hist = json_array();
    for (int d = 0; d < RW_DROP_N; d++)
        json_object_set_new(dropped, rw_drop_name((rw_drop)d),
                            json_integer((json_int_t)qc->dropped[d]));
    for (int l = 0; l <= RW_FRAG_HIST_MAX; l++)
        json_array_append_new(hist, json_integer((json_int_t)qc->frag_hist[l]));
    char flags[16];
    snprintf(flags, sizeof flags, "0x%X", o->drop_flags);
    json_t *opts = json_pack(
        "{s:i, s:s, s:s, s:i, s:i, s:i, s:b}", "min_mapq", o->min_mapq, "drop_flags", flags,
        "count", o->mode == RW_COUNT_READS ? "reads" : "fragments", "frag_min", o->frag_min,
        "frag_max", o->frag_max, "bin_size", (int)o->bin_size, "include_y", o->include_y);
    json_t *frag =
        json_pack("{s:I, s:o, s:o, s:I}", "n", (json_int_t)qc->frag_n, "median",
                  isnan(qc->frag_median) ? json_null() : json_real(qc->frag_median),
                  "histogram_0_to_1000bp", hist, "over_1000bp", (json_int_t)qc->frag_over);
    return json_pack("{s:s, s:s, s:s, s:o, s:o, s:I, s:I, s:o, s:f, s:o, s:o}", "input", input,
                     "format", qc->format, "build", rw_build_name(qc->build), "contig",
                     contig ? json_string(contig) : json_null(), "options", opts, "reads_seen",
                     (json_int_t)qc->seen, "reads_kept", (json_int_t)qc->kept, "dropped", dropped,
                     "duplicate_rate", qc->duplicate_rate, "fragment_length", frag,
                     "median_per_bin",
                     isnan(qc->median_per_bin) ? json_null() : json_real(qc->median_per_bin));
}

int rw_cli_count(int argc, char **argv)
{
    enum {
        OPT_QC = 256,
        OPT_BUILD,
        OPT_BIN_SIZE,
        OPT_MIN_MAPQ,
        OPT_COUNT,
        OPT_FRAG_MIN,
        OPT_FRAG_MAX,
        OPT_DROP_FLAGS,
        OPT_THREADS,
        OPT_REFERENCE,
        OPT_INCLUDE_Y,
        OPT_CONTIG,
    };
    static const struct option longopts[] = {
        {"output", required_argument, NULL, 'o'},
        {"qc", required_argument, NULL, OPT_QC},
        {"build", required_argument, NULL, OPT_BUILD},
        {"bin-size", required_argument, NULL, OPT_BIN_SIZE},
        {"min-mapq", required_argument, NULL, OPT_MIN_MAPQ},
        {"count", required_argument, NULL, OPT_COUNT},
        {"frag-min", required_argument, NULL, OPT_FRAG_MIN},
        {"frag-max", required_argument, NULL, OPT_FRAG_MAX},
        {"drop-flags", required_argument, NULL, OPT_DROP_FLAGS},
        {"threads", required_argument, NULL, OPT_THREADS},
        {"reference", required_argument, NULL, OPT_REFERENCE},
        {"include-y", no_argument, NULL, OPT_INCLUDE_Y},
        {"contig", required_argument, NULL, OPT_CONTIG},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    rw_count_opts o;
    rw_count_opts_init(&o);
    const char *output = NULL, *qc_path = NULL, *contig = NULL;
    int bin_size_given = 0;
    long v;
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":o:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'o':
            output = optarg;
            break;
        case OPT_QC:
            qc_path = optarg;
            break;
        case OPT_BUILD:
            if (!strcmp(optarg, "auto"))
                o.build = RW_BUILD_UNKNOWN;
            else if ((o.build = rw_build_parse(optarg)) == RW_BUILD_UNKNOWN)
                return rw_cli_fail(CMD, RW_ERR_USAGE, "--build: '%s' is not hg38, hg19 or auto",
                                   optarg);
            break;
        case OPT_BIN_SIZE:
            if (rw_cli_parse_long(optarg, 10, 1, RW_BIN_SIZE_MAX, &v))
                return rw_cli_fail(CMD, RW_ERR_USAGE, "--bin-size: '%s' is not in 1..%d", optarg,
                                   RW_BIN_SIZE_MAX);
            o.bin_size = (int32_t)v;
            bin_size_given = 1;
            break;
        case OPT_MIN_MAPQ:
            if (rw_cli_parse_long(optarg, 10, 0, 255, &v))
                return rw_cli_fail(CMD, RW_ERR_USAGE, "--min-mapq: '%s' is not in 0..255", optarg);
            o.min_mapq = (int)v;
            break;
        case OPT_COUNT:
            if (!strcmp(optarg, "reads"))
                o.mode = RW_COUNT_READS;
            else if (!strcmp(optarg, "fragments"))
                o.mode = RW_COUNT_FRAGMENTS;
            else
                return rw_cli_fail(CMD, RW_ERR_USAGE, "--count: '%s' is not reads or fragments",
                                   optarg);
            break;
        case OPT_FRAG_MIN:
        case OPT_FRAG_MAX:
            if (rw_cli_parse_long(optarg, 10, 0, 100000, &v))
                return rw_cli_fail(CMD, RW_ERR_USAGE, "--%s: '%s' is not in 0..100000",
                                   c == OPT_FRAG_MIN ? "frag-min" : "frag-max", optarg);
            *(c == OPT_FRAG_MIN ? &o.frag_min : &o.frag_max) = (int)v;
            break;
        case OPT_DROP_FLAGS: {
            char *end;
            errno = 0;
            unsigned long f = strtoul(optarg, &end, 0);
            if (errno || end == optarg || *end || (f & ~(unsigned long)RW_COUNT_DROP_FLAGS))
                return rw_cli_fail(CMD, RW_ERR_USAGE, "--drop-flags: '%s' is not a subset of 0x%X",
                                   optarg, RW_COUNT_DROP_FLAGS);
            o.drop_flags = (unsigned)f;
            break;
        }
        case OPT_THREADS:
            if (rw_cli_parse_long(optarg, 10, 1, 64, &v))
                return rw_cli_fail(CMD, RW_ERR_USAGE, "--threads: '%s' is not in 1..64", optarg);
            o.threads = (int)v;
            break;
        case OPT_REFERENCE:
            o.reference = optarg;
            break;
        case OPT_INCLUDE_Y:
            o.include_y = 1;
            break;
        case OPT_CONTIG:
            contig = optarg;
            break;
        case 'h':
            help();
            return RW_EXIT_OK;
        case ':':
        default:
            return rw_cli_getopt_error(CMD, c, argv);
        }
    }
    if (optind != argc - 1)
        return rw_cli_fail(CMD, RW_ERR_USAGE, "expected one INPUT file, got %d (see --help)",
                           argc - optind);
    if (!output)
        return rw_cli_fail(CMD, RW_ERR_USAGE, "-o OUT.tsv is required (see --help)");
    if (o.frag_max && o.frag_min > o.frag_max)
        return rw_cli_fail(CMD, RW_ERR_USAGE, "--frag-min %d is above --frag-max %d", o.frag_min,
                           o.frag_max);
    if (!contig && bin_size_given && o.bin_size < RW_BIN_SIZE_MIN)
        return rw_cli_fail(CMD, RW_ERR_USAGE,
                           "--bin-size %d: genome bins are %d..%d bp (smaller only with --contig)",
                           (int)o.bin_size, RW_BIN_SIZE_MIN, RW_BIN_SIZE_MAX);
    const char *input = argv[optind];

    /* Our messages say what went wrong and where; htslib's own lines would only repeat them. */
    hts_set_log_level(HTS_LOG_OFF);
    rw_error err = {0};
    rw_count_qc *qc = calloc(1, sizeof *qc);
    if (!qc)
        return rw_cli_fail(CMD, RW_ERR_NOMEM, "out of memory");
    int rc = RW_EXIT_OK;
    rw_status st;
    if (contig) {
        rw_contig_counts *cc = NULL;
        st = rw_count_contig(input, &o, contig, &cc, qc, rw_cli_progress, (void *)CMD, &err);
        if (st == RW_OK)
            rc = write_contig(cc, output, qc->build);
        rw_contig_counts_free(cc);
    } else {
        rw_bins *bins = NULL;
        st = rw_count_load(input, &o, &bins, qc, rw_cli_progress, (void *)CMD, &err);
        if (st == RW_OK && rw_bins_write(bins, output, &err) != RW_OK)
            rc = rw_cli_fail(CMD, err.status, "%s", err.msg);
        rw_bins_free(bins);
    }
    if (st != RW_OK)
        rc = rw_cli_fail(CMD, st, "%s", err.msg);
    if (rc == RW_EXIT_OK && qc_path) {
        json_t *doc = qc_json(qc, &o, input, contig);
        rc = rw_cli_write_json(CMD, doc, qc_path);
        if (rc != RW_EXIT_OK)
            unlink(output); /* all or nothing: no bins file without its QC */
    }
    free(qc);
    return rc;
}
