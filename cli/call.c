/* relapsewatch call: one sample (bins file or BAM/CRAM/SAM) + a panel of normals -> the 1q21.3
 * score, call and profile as JSON (and optionally the per-bin table as TSV).
 *
 * JSON SCHEMA (schema_version 1; every number that cannot be computed is null):
 *   schema_version, core_version   added by rw_cli_write_json
 *   command        "call"
 *   sample         --sample, else the input's file name
 *   input, format  the input path; "BAM", "CRAM", "SAM" or "bins"
 *   build, bin_size, include_y, filters   the sample's layout and counting filters
 *   pon            {id, file, n_normals, low_normals, filters}
 *   region         "1q21.3"
 *   call           "amplified" | "not_detected" | "no_data" (1q21.3)
 *   strong         true when z >= strong_threshold
 *   z, threshold, strong_threshold, mean_log2, copy_ratio, copy_ratio_lo, copy_ratio_hi (95%)
 *   tumour_informed {primary_cn, fraction, fraction_lo, fraction_hi} or null without
 *                  --primary-cn: f = 2 (R - 1) / (C - 2), 95% interval, clipped to [0, 1]
 *   regions        [{name, chrom, start, end, n_region_bins, n_bins, mean_log2, se, pon_mean,
 *                   pon_sd, sigma, z, copy_ratio, copy_ratio_lo, copy_ratio_hi, call, strong,
 *                   threshold, tumour_fraction, tumour_fraction_lo, tumour_fraction_hi}]
 *                  for 1q21.3, 1q and S100A7-9 (0-based half-open coordinates)
 *   qc             {median_reads_per_bin, mad_log2, noise_sd, n_bins, n_masked, n_used,
 *                   gc_corrected, reads_seen, reads_kept, duplicate_rate,
 *                   fragment_length_median, pon_low_normals}
 *   segments       [{chrom, arm ("p"/"q"), start, end, n_bins, mean_log2, call}] ([] with
 *                  --no-segment)
 *   tumour_fraction {method, fraction, fraction_lo, fraction_hi, ploidy, flag} genome-wide
 *                  (core/purity.h), or null with --no-segment or when nothing could be fitted
 *   bins           parallel arrays {chrom, start, end, count, corrected, depth, log2, mask}
 *                  (omitted with --no-bins); mask is the PoN's bit set (0 = used):
 *                  1 mask region, 2 no data, 4 low coverage, 8 high spread, 16 GC
 * The --bins-out TSV has the columns chrom start end log2 mask count corrected depth (so that
 * `relapsewatch plot` reads it), NaN written as NA. */
#include "cli/cli.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/analyse.h"
#include "core/atomic.h"
#include "core/count.h"
#include "core/pon.h"

#define CMD "call"

static void help(FILE *out)
{
    fprintf(out,
            "usage: relapsewatch call --pon PON.tsv [options] INPUT\n"
            "\n"
            "Scores chromosome band 1q21.3 (and the 1q arm and the S100A7-9 genes) of one cfDNA\n"
            "sample against a panel of normals and calls it amplified or not. INPUT is a bins\n"
            "file (relapsewatch count) or a BAM/CRAM/SAM file, counted with the counting options\n"
            "below (bin size from the panel); the sample must share the panel's build, bin size\n"
            "and counting filters.\n"
            "\n"
            "How it works: the sample's counts are divided by their autosomal median and by the\n"
            "panel's median; log2 ratios of masked bins are dropped and the rest centred on the\n"
            "autosomal median. A region's score is the mean log2 ratio of its bins (bins at least\n"
            "half inside it; the bin holding it when it is smaller than half a bin); z = (score -\n"
            "normals' leave-one-out mean) / max(normals' leave-one-out SD, the sample's own SE).\n"
            "With --primary-cn C the tumour-informed tumour fraction is f = 2 (R - 1) / (C - 2)\n"
            "with R = 2^score. The log2 ratios are also segmented (CBS, by arm) and a genome-wide\n"
            "tumour fraction fitted to the segments.\n"
            "\n"
            "options:\n"
            "      --pon FILE             panel of normals (relapsewatch pon build; required)\n"
            "  -o, --output FILE          JSON result ('-' = stdout, the default); schema in the\n"
            "                             README and cli/call.c\n"
            "      --bins-out FILE        also write the per-bin TSV: chrom start end log2 mask\n"
            "                             count corrected depth\n"
            "      --no-bins              leave the per-bin arrays out of the JSON\n"
            "      --no-segment           skip segmentation and the genome-wide tumour fraction\n"
            "      --primary-cn C         the primary tumour's 1q21.3 copy number (not 2): adds\n"
            "                             the tumour-informed tumour fraction (default: none)\n"
            "      --z-threshold Z        amplified when z >= Z (default 3.0, one-sided)\n"
            "      --z-strong Z           strong positive when z >= Z (default 5.0)\n"
            "      --sample ID            sample label in the JSON (default: the file name)\n"
            "counting options (BAM/CRAM/SAM input; they must equal the panel's filters):\n"
            "      --build B              hg38, hg19 or auto (default auto: detected)\n"
            "      --min-mapq N           drop reads with MAPQ < N (default 20)\n"
            "      --count MODE           fragments (default) or reads\n"
            "      --frag-min N           keep fragments >= N bp (default 0 = no bound)\n"
            "      --frag-max N           keep fragments <= N bp (default 0 = no bound)\n"
            "      --drop-flags HEX       flag bits that drop a read (default 0xF04)\n"
            "      --threads N            htslib decompression threads (default 1)\n"
            "      --reference FASTA      reference of a CRAM input\n"
            "  -h, --help                 this help\n"
            "\n"
            "Outputs are written atomically: on any error no output file is left behind.\n"
            "exit codes: 0 ok, 1 bad input (the message says what and where), 2 usage\n");
}

static json_t *region_json(const rw_region_score *s)
{
    json_t *o = json_object();
    json_object_set_new(o, "name", json_string(s->name));
    json_object_set_new(o, "chrom", json_string(rw_chrom_name(s->chrom)));
    json_object_set_new(o, "start", json_integer(s->start));
    json_object_set_new(o, "end", json_integer(s->end));
    json_object_set_new(o, "n_region_bins", json_integer((json_int_t)s->n_region_bins));
    json_object_set_new(o, "n_bins", json_integer(s->n_bins));
    json_object_set_new(o, "mean_log2", rw_cli_json_num(s->mean_log2));
    json_object_set_new(o, "se", rw_cli_json_num(s->se));
    json_object_set_new(o, "pon_mean", rw_cli_json_num(s->pon_mean));
    json_object_set_new(o, "pon_sd", rw_cli_json_num(s->pon_sd));
    json_object_set_new(o, "sigma", rw_cli_json_num(s->sigma));
    json_object_set_new(o, "z", rw_cli_json_num(s->z));
    json_object_set_new(o, "copy_ratio", rw_cli_json_num(s->copy_ratio));
    json_object_set_new(o, "copy_ratio_lo", rw_cli_json_num(s->copy_ratio_lo));
    json_object_set_new(o, "copy_ratio_hi", rw_cli_json_num(s->copy_ratio_hi));
    json_object_set_new(o, "call", json_string(rw_call_name(s->call)));
    json_object_set_new(o, "strong", json_boolean(s->strong));
    json_object_set_new(o, "threshold", rw_cli_json_num(s->threshold));
    json_object_set_new(o, "tumour_fraction", rw_cli_json_num(s->tf));
    json_object_set_new(o, "tumour_fraction_lo", rw_cli_json_num(s->tf_lo));
    json_object_set_new(o, "tumour_fraction_hi", rw_cli_json_num(s->tf_hi));
    return o;
}

static json_t *bins_json(const rw_result *r)
{
    const rw_bins *b = r->bins;
    json_t *chrom = json_array(), *start = json_array(), *end = json_array(), *count = json_array(),
           *corr = json_array(), *depth = json_array(), *lr = json_array(), *mask = json_array();
    for (size_t i = 0; i < b->n; i++) {
        json_array_append_new(chrom, json_string(rw_chrom_name(rw_bins_chrom(b, i))));
        json_array_append_new(start, json_integer(rw_bins_start(b, i)));
        json_array_append_new(end, json_integer(rw_bins_end(b, i)));
        json_array_append_new(count, rw_cli_json_num(b->count[i]));
        json_array_append_new(corr, rw_cli_json_num(r->corrected[i]));
        json_array_append_new(depth, rw_cli_json_num(r->depth[i]));
        json_array_append_new(lr, rw_cli_json_num(r->log2[i]));
        json_array_append_new(mask, json_integer(r->mask[i]));
    }
    return json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "chrom", chrom, "start", start,
                     "end", end, "count", count, "corrected", corr, "depth", depth, "log2", lr,
                     "mask", mask);
}

static json_t *result_json(const rw_result *r, const rw_count_qc *qc, const rw_pon *pon,
                           const char *pon_path, const char *input, const char *sample,
                           const rw_analyse_opts *ao, int with_bins)
{
    const rw_region_score *p = &r->regions[r->primary];
    json_t *doc = json_object();
    json_object_set_new(doc, "command", json_string("call"));
    json_object_set_new(doc, "sample", json_string(sample));
    json_object_set_new(doc, "input", json_string(input));
    json_object_set_new(doc, "format", json_string(qc->format));
    json_object_set_new(doc, "build", json_string(rw_build_name(r->bins->build)));
    json_object_set_new(doc, "bin_size", json_integer(r->bins->bin_size));
    json_object_set_new(doc, "include_y", json_boolean(r->bins->nchrom == RW_NCHROM));
    json_object_set_new(doc, "filters", json_string(r->filters));
    json_object_set_new(doc, "pon",
                        json_pack("{s:s, s:s, s:i, s:b, s:s}", "id", pon->id, "file", pon_path,
                                  "n_normals", pon->n_normals, "low_normals", pon->low_normals,
                                  "filters", pon->filters));
    json_object_set_new(doc, "region", json_string(p->name));
    json_object_set_new(doc, "call", json_string(rw_call_name(r->call)));
    json_object_set_new(doc, "strong", json_boolean(r->strong));
    json_object_set_new(doc, "z", rw_cli_json_num(r->z));
    json_object_set_new(doc, "threshold", rw_cli_json_num(ao->score.z_amplified));
    json_object_set_new(doc, "strong_threshold", rw_cli_json_num(ao->score.z_strong));
    json_object_set_new(doc, "mean_log2", rw_cli_json_num(p->mean_log2));
    json_object_set_new(doc, "copy_ratio", rw_cli_json_num(p->copy_ratio));
    json_object_set_new(doc, "copy_ratio_lo", rw_cli_json_num(p->copy_ratio_lo));
    json_object_set_new(doc, "copy_ratio_hi", rw_cli_json_num(p->copy_ratio_hi));
    json_object_set_new(
        doc, "tumour_informed",
        isfinite(r->primary_cn)
            ? json_pack("{s:o, s:o, s:o, s:o}", "primary_cn", rw_cli_json_num(r->primary_cn),
                        "fraction", rw_cli_json_num(r->tf), "fraction_lo",
                        rw_cli_json_num(r->tf_lo), "fraction_hi", rw_cli_json_num(r->tf_hi))
            : json_null());
    json_t *regions = json_array();
    for (size_t i = 0; i < r->n_regions; i++)
        json_array_append_new(regions, region_json(&r->regions[i]));
    json_object_set_new(doc, "regions", regions);

    const rw_result_qc *q = &r->qc;
    int bam = strcmp(qc->format, "bins") != 0;
    json_t *qcj = json_object();
    json_object_set_new(qcj, "median_reads_per_bin", rw_cli_json_num(q->median_reads_per_bin));
    json_object_set_new(qcj, "mad_log2", rw_cli_json_num(q->mad_log2));
    json_object_set_new(qcj, "noise_sd", rw_cli_json_num(q->noise_sd));
    json_object_set_new(qcj, "n_bins", json_integer((json_int_t)q->n_bins));
    json_object_set_new(qcj, "n_masked", json_integer((json_int_t)q->n_masked));
    json_object_set_new(qcj, "n_used", json_integer((json_int_t)q->n_used));
    json_object_set_new(qcj, "gc_corrected", json_boolean(q->gc_corrected));
    json_object_set_new(qcj, "reads_seen", bam ? json_integer((json_int_t)qc->seen) : json_null());
    json_object_set_new(qcj, "reads_kept", bam ? json_integer((json_int_t)qc->kept) : json_null());
    json_object_set_new(qcj, "duplicate_rate",
                        bam ? rw_cli_json_num(qc->duplicate_rate) : json_null());
    json_object_set_new(qcj, "fragment_length_median",
                        bam ? rw_cli_json_num(qc->frag_median) : json_null());
    json_object_set_new(qcj, "pon_low_normals", json_boolean(q->pon_low_normals));
    json_object_set_new(doc, "qc", qcj);

    json_t *segs = json_array();
    for (size_t i = 0; i < r->segments.n; i++) {
        const rw_segment *s = &r->segments.a[i];
        json_array_append_new(
            segs, json_pack("{s:s, s:s, s:I, s:I, s:I, s:o, s:s}", "chrom", rw_chrom_name(s->chrom),
                            "arm", s->arm ? "q" : "p", "start", (json_int_t)s->start, "end",
                            (json_int_t)s->end, "n_bins", (json_int_t)s->n, "mean_log2",
                            rw_cli_json_num(s->mean), "call", rw_seg_call_name(s->call)));
    }
    json_object_set_new(doc, "segments", segs);
    const rw_purity_result *pu = &r->purity;
    json_object_set_new(doc, "tumour_fraction",
                        r->has_purity
                            ? json_pack("{s:s, s:o, s:o, s:o, s:o, s:s}", "method", pu->method,
                                        "fraction", rw_cli_json_num(pu->fraction), "fraction_lo",
                                        rw_cli_json_num(pu->fraction_lo), "fraction_hi",
                                        rw_cli_json_num(pu->fraction_hi), "ploidy",
                                        rw_cli_json_num(pu->ploidy), "flag", pu->flag)
                            : json_null());
    if (with_bins)
        json_object_set_new(doc, "bins", bins_json(r));
    return doc;
}

static void put_num(FILE *f, double x)
{
    if (isfinite(x))
        fprintf(f, "%.10g", x);
    else
        fputs("NA", f);
}

/* Writes the per-bin TSV to f, the temporary file that rw_atomic_commit() renames once the JSON
 * has been written too (a write error is left in f's error flag for the commit to find). */
static void write_bins_tsv(const rw_result *r, FILE *f)
{
    const rw_bins *b = r->bins;
    fprintf(f, "#relapsewatch-call-bins\tversion=1\tbuild=%s\tbin_size=%d\tpon=%s\n",
            rw_build_name(b->build), (int)b->bin_size, r->pon_id);
    fputs("chrom\tstart\tend\tlog2\tmask\tcount\tcorrected\tdepth\n", f);
    for (size_t i = 0; i < b->n; i++) {
        fprintf(f, "%s\t%lld\t%lld\t", rw_chrom_name(rw_bins_chrom(b, i)),
                (long long)rw_bins_start(b, i), (long long)rw_bins_end(b, i));
        put_num(f, r->log2[i]);
        fprintf(f, "\t%u\t", (unsigned)r->mask[i]);
        put_num(f, b->count[i]);
        fputc('\t', f);
        put_num(f, r->corrected[i]);
        fputc('\t', f);
        put_num(f, r->depth[i]);
        fputc('\n', f);
    }
}

int rw_cli_call(int argc, char **argv)
{
    enum {
        OPT_PON = 256,
        OPT_BINS_OUT,
        OPT_NO_BINS,
        OPT_NO_SEGMENT,
        OPT_PRIMARY_CN,
        OPT_Z,
        OPT_Z_STRONG,
        OPT_SAMPLE,
    };
    static const struct option longopts[] = {
        {"pon", required_argument, NULL, OPT_PON},
        {"output", required_argument, NULL, 'o'},
        {"bins-out", required_argument, NULL, OPT_BINS_OUT},
        {"no-bins", no_argument, NULL, OPT_NO_BINS},
        {"no-segment", no_argument, NULL, OPT_NO_SEGMENT},
        {"primary-cn", required_argument, NULL, OPT_PRIMARY_CN},
        {"z-threshold", required_argument, NULL, OPT_Z},
        {"z-strong", required_argument, NULL, OPT_Z_STRONG},
        {"sample", required_argument, NULL, OPT_SAMPLE},
        RW_CLI_COUNT_OPTIONS,
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    rw_analyse_opts ao;
    rw_analyse_opts_init(&ao);
    rw_count_opts co;
    rw_count_opts_init(&co);
    const char *pon_path = NULL, *output = "-", *bins_out = NULL, *sample = NULL;
    int with_bins = 1;
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
        case OPT_PON:
            pon_path = optarg;
            break;
        case 'o':
            output = optarg;
            break;
        case OPT_BINS_OUT:
            bins_out = optarg;
            break;
        case OPT_NO_BINS:
            with_bins = 0;
            break;
        case OPT_NO_SEGMENT:
            ao.segment = 0;
            break;
        case OPT_PRIMARY_CN:
            if (rw_cli_parse_double(optarg, -INFINITY, INFINITY, &x) || x < 0 || x == 2)
                return rw_cli_fail(CMD, RW_ERR_USAGE,
                                   "--primary-cn: a copy number >= 0 other than 2 (got '%s')",
                                   optarg);
            ao.primary_cn = x;
            break;
        case OPT_Z:
        case OPT_Z_STRONG:
            if (rw_cli_parse_double(optarg, -INFINITY, INFINITY, &x) || x <= 0)
                return rw_cli_fail(CMD, RW_ERR_USAGE, "%s: a number > 0",
                                   c == OPT_Z ? "--z-threshold" : "--z-strong");
            *(c == OPT_Z ? &ao.score.z_amplified : &ao.score.z_strong) = x;
            break;
        case OPT_SAMPLE:
            sample = optarg;
            break;
        case 'h':
            help(stdout);
            return RW_EXIT_OK;
        case ':':
        default:
            return rw_cli_getopt_error(CMD, c, argv);
        }
    }
    if (!pon_path)
        return rw_cli_fail(CMD, RW_ERR_USAGE, "--pon PON.tsv is required (see --help)");
    if (argc - optind != 1)
        return rw_cli_fail(CMD, RW_ERR_USAGE, "one INPUT (bins file or BAM/CRAM/SAM) expected");
    if (co.frag_max && co.frag_min > co.frag_max)
        return rw_cli_fail(CMD, RW_ERR_USAGE, "--frag-min is above --frag-max");
    if (ao.score.z_strong < ao.score.z_amplified)
        return rw_cli_fail(CMD, RW_ERR_USAGE, "--z-strong is below --z-threshold");
    const char *input = argv[optind];
    if (!sample) {
        const char *slash = strrchr(input, '/');
        sample = slash ? slash + 1 : input;
    }

    rw_error e;
    rw_pon *pon = NULL;
    rw_result *r = NULL;
    int rc = RW_EXIT_OK;
    char tmp[RW_ATOMIC_TMP_MAX] = "";
    FILE *tsv = NULL;
    if (rw_pon_read(pon_path, &pon, &e) != RW_OK)
        return rw_cli_fail(CMD, e.status, "%s", e.msg);
    rw_count_qc qc;
    if (rw_analyse_file(input, &co, pon, &ao, &r, &qc, rw_cli_progress, (void *)input, &e) !=
        RW_OK) {
        /* the counter's messages name the file already; the PoN check's do not */
        int named = !strncmp(e.msg, input, strlen(input));
        rc = rw_cli_fail(CMD, e.status, "%s%s%s", named ? "" : input, named ? "" : ": ", e.msg);
        goto done;
    }
    if (bins_out) {
        if (rw_atomic_open(bins_out, tmp, &tsv, &e) != RW_OK) {
            rc = rw_cli_fail(CMD, e.status, "%s", e.msg);
            goto done;
        }
        write_bins_tsv(r, tsv);
    }
    rc = rw_cli_write_json(CMD, result_json(r, &qc, pon, pon_path, input, sample, &ao, with_bins),
                           output);
    if (rc == RW_EXIT_OK && tsv) {
        rw_status st = rw_atomic_commit(tsv, tmp, bins_out, &e);
        tsv = NULL;
        if (st != RW_OK) {
            rc = rw_cli_fail(CMD, e.status, "%s", e.msg);
            if (strcmp(output, "-"))
                unlink(output); /* all or nothing */
        }
    }
done:
    rw_atomic_abort(tsv, tsv ? tmp : NULL); /* the TSV of a failed run */
    rw_result_free(r);
    rw_pon_free(pon);
    return rc;
}
