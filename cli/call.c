/* relapsewatch call: one sample (bins file or BAM/CRAM/SAM) + a panel of normals -> the 1q21.3
 * score, call and profile as JSON (and optionally the per-bin table as TSV).
 *
 * JSON (schema_version 2; every number that cannot be computed is null; the keys are those of
 * the daemon's stored results and API, written by json/result.h):
 *   schema_version, core_version   added by rw_cli_write_json
 *   command        "call"
 *   sample         --sample, else the input's file name
 *   input, format  the input path; "BAM", "CRAM", "SAM" or "bins"
 *   build, bin_size, include_y, filters   the sample's layout and counting filters
 *   pon            {id, file, n_normals, low_normals, filters}
 *   region         "1q21.3"
 *   ratio, ratio_low, ratio_high, log2_ratio, se, cv, z, call, strong
 *                  the 1q21.3 answer (call "amplified" | "not_detected" | "no_data")
 *   regions        [{name, chrom, start, end, n_region_bins, n_bins, mean_log2, se, sigma,
 *                   pon_mean, pon_sd, z, ratio, ratio_low, ratio_high, call, strong, threshold,
 *                   tumour_fraction {estimate, low, high, primary_cn} | null}] for 1q21.3, 1q
 *                  and S100A7-9 (0-based half-open coordinates)
 *   qc             {format, reads_seen, reads_kept, dropped, duplicate_rate, frag_median (the
 *                   counting QC; reads 0 for a bins file), median_reads_per_bin, mad_log2,
 *                   noise_sd, n_bins, n_masked, n_used, gc_corrected, pon_n_normals,
 *                   pon_low_normals}
 *   segments       [{chrom, arm ("p"/"q"), start, end, n_bins, mean, call}] ([] with
 *                  --no-segment)
 *   tumour_fraction {estimate, low, high, method, flag, ploidy, n_segments, tumour_informed}
 *                  (the genome-wide fit, core/purity.h, with the tumour-informed estimate of
 *                  --primary-cn beside), the tumour-informed estimate alone with --no-segment,
 *                  or null
 *   settings       every analysis setting in force (core/settings.h), by name
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
#include "core/settings.h"
#include "core/wig.h"
#include "json/num.h"
#include "json/result.h"
#include "json/settings.h"

#define CMD "call"

static void help(FILE *out)
{
    static const char *const groups[] = {"call", "quality", NULL};
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
            "      --pon FILE             panel of normals (relapsewatch pon build; required\n"
            "                             unless --gc-wig)\n"
            "      --gc-wig FILE          no panel: normalise by GC correction alone with this\n"
            "                             HMMcopy GC WIG of the input's bins (ichorCNA's\n"
            "                             gc_*.wig); 1q21.3 z-scores need normals and read\n"
            "                             no_data, the profile, segments and genome-wide\n"
            "                             tumour fraction are computed\n"
            "      --map-wig FILE         with --gc-wig: mappability WIG; bins below 0.9 masked\n"
            "  -o, --output FILE          JSON result ('-' = stdout, the default); schema in\n"
            "                             cli/call.c, keys as in docs/api-monitoring.md\n"
            "      --bins-out FILE        also write the per-bin TSV: chrom start end log2 mask\n"
            "                             count corrected depth\n"
            "      --no-bins              leave the per-bin arrays out of the JSON\n"
            "      --no-segment           skip segmentation and the genome-wide tumour fraction\n"
            "      --primary-cn C         the primary tumour's 1q21.3 copy number (not 2): adds\n"
            "                             the tumour-informed tumour fraction (default: none)\n"
            "      --sample ID            sample label in the JSON (default: the file name)\n"
            "analysis settings (core/settings.h; recorded in the JSON's settings):\n");
    rw_cli_settings_help(out, groups);
    fprintf(out,
            "counting options (BAM/CRAM/SAM input; they must equal the panel's filters; the\n"
            "fragment mode and weights are the panel's unless --frag-mode says otherwise):\n"
            "%s"
            "  -h, --help                 this help\n"
            "\n"
            "Outputs are written atomically: on any error no output file is left behind.\n"
            "exit codes: 0 ok, 1 bad input (the message says what and where), 2 usage\n",
            rw_cli_count_help);
}

static json_t *result_json(const rw_result *r, const rw_count_qc *qc, const rw_pon *pon,
                           const char *pon_path, const char *input, const char *sample,
                           const rw_settings *set, int with_bins)
{
    int bad = 0;
    rw_call_summary cs;
    rw_call_summary_swgs(r, &cs);
    json_t *doc = json_object(), *summary = rw_call_summary_json_new(&cs);
    rw_json_put(doc, "command", json_string("call"), &bad);
    rw_json_put(doc, "sample", json_string(sample), &bad);
    rw_json_put(doc, "input", json_string(input), &bad);
    rw_json_put(doc, "format", json_string(qc->format), &bad);
    rw_json_put(doc, "build", json_string(rw_build_name(r->bins->build)), &bad);
    rw_json_put(doc, "bin_size", json_integer(r->bins->bin_size), &bad);
    rw_json_put(doc, "include_y", json_boolean(r->bins->nchrom == RW_NCHROM), &bad);
    rw_json_put(doc, "filters", json_string(r->filters), &bad);
    rw_json_put(doc, "pon",
                json_pack("{s:s, s:s?, s:i, s:b, s:s}", "id", pon->id, "file", pon_path,
                          "n_normals", pon->n_normals, "low_normals", pon->low_normals, "filters",
                          pon->filters),
                &bad);
    rw_json_put(doc, "region", json_string(r->regions[r->primary].name), &bad);
    if (!summary || !doc || json_object_update(doc, summary))
        bad = 1;
    json_decref(summary);
    rw_json_put(doc, "regions", rw_regions_json_new(r), &bad);
    rw_json_put(doc, "qc", rw_qc_json_new(qc, &r->qc), &bad);
    rw_json_put(doc, "segments", rw_segments_json_new(&r->segments), &bad);
    rw_json_put(doc, "tumour_fraction", rw_tumour_fraction_json_new(r), &bad);
    rw_json_put(doc, "settings", rw_settings_json_new(set), &bad);
    if (with_bins)
        rw_json_put(doc, "bins", rw_result_bins_json_new(r), &bad);
    return rw_json_done(doc, bad);
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

/* What the command line asked for. */
typedef struct call_args {
    rw_settings set;
    rw_count_opts co;
    const char *pon_path, *output, *bins_out, *sample, *frag_mode_arg;
    const char *gc_wig, *map_wig; /* no panel: GC (and mappability) WIGs of the input */
    int with_bins;
    int frag_mode;                        /* rw_frag_mode; -1 = the panel's */
    double weights[RW_FRAG_HIST_MAX + 1]; /* weighted mode: the panel's */
} call_args;

enum { OPT_PRIMARY_CN = 256 };

static int apply_option(void *ctx, int id, const char *name, const char *arg)
{
    call_args *a = ctx;
    double x;
    (void)id; /* --primary-cn, the one option that is not plain */
    if (rw_cli_parse_double(arg, 0, INFINITY, &x) || x == 2)
        return rw_cli_fail(CMD, RW_ERR_USAGE, "--%s: a copy number >= 0 other than 2 (got '%s')",
                           name, arg);
    a->set.analyse.primary_cn = x;
    return RW_EXIT_OK;
}

/* Reads the command line into *a: RW_EXIT_OK to run, -1 after --help, else an exit code. */
static int parse_args(int argc, char **argv, call_args *a)
{
    const rw_cli_option own[] = {
        {.name = "pon", .has_arg = required_argument, .str = &a->pon_path},
        {.name = "gc-wig", .has_arg = required_argument, .str = &a->gc_wig},
        {.name = "map-wig", .has_arg = required_argument, .str = &a->map_wig},
        {.name = "output", .has_arg = required_argument, .str = &a->output},
        {.name = "bins-out", .has_arg = required_argument, .str = &a->bins_out},
        {.name = "no-bins", .has_arg = no_argument, .flag = &a->with_bins, .value = 0},
        {.name = "no-segment", .has_arg = no_argument, .flag = &a->set.analyse.segment},
        {.name = "primary-cn", .has_arg = required_argument, .id = OPT_PRIMARY_CN},
        {.name = "sample", .has_arg = required_argument, .str = &a->sample},
        {.name = "frag-mode", .has_arg = required_argument, .str = &a->frag_mode_arg},
        {.name = NULL},
    };
    int rc = rw_cli_parse(&(rw_cli_parser){CMD, own, apply_option, a, help, &a->co, &a->set}, argc,
                          argv);
    if (rc != RW_EXIT_OK ||
        (rc = rw_cli_frag_mode(CMD, a->frag_mode_arg, &a->co, &a->frag_mode)) != RW_EXIT_OK)
        return rc;
    if (!a->pon_path == !a->gc_wig || (a->map_wig && !a->gc_wig))
        return rw_cli_fail(CMD, RW_ERR_USAGE,
                           "--pon PON.tsv, or --gc-wig GC.wig [--map-wig MAP.wig] for a sample "
                           "with no panel, is required (one of them; see --help)");
    if (argc - optind != 1)
        return rw_cli_fail(CMD, RW_ERR_USAGE, "one INPUT (bins file or BAM/CRAM/SAM) expected");
    if (!a->sample) {
        const char *slash = strrchr(argv[optind], '/');
        a->sample = slash ? slash + 1 : argv[optind];
    }
    return RW_EXIT_OK;
}

/* Writes the JSON and (when asked) commits the per-bin TSV already written to tsv: both or
 * neither. */
static int write_outputs(const call_args *a, const rw_result *r, const rw_count_qc *qc,
                         const rw_pon *pon, const char *input, FILE **tsv, const char *tmp)
{
    rw_error e;
    int rc = rw_cli_write_json(
        CMD, result_json(r, qc, pon, a->pon_path, input, a->sample, &a->set, a->with_bins),
        a->output);
    if (rc == RW_EXIT_OK && *tsv) {
        rw_status st = rw_atomic_commit(*tsv, tmp, a->bins_out, &e);
        *tsv = NULL;
        if (st != RW_OK) {
            rc = rw_cli_fail(CMD, e.status, "%s", e.msg);
            if (strcmp(a->output, "-"))
                unlink(a->output); /* all or nothing */
        }
    }
    return rc;
}

/* No panel (--gc-wig): a panel without normals for the input's layout (rw_pon_flat: GC
 * correction alone, bins of mappability < 0.9 masked), as ichorCNA can normalise. */
static rw_status flat_panel(const call_args *a, const char *input, rw_pon **pon, rw_error *e)
{
    rw_bins *lay = NULL;
    rw_status st = rw_bins_read(input, &lay, e);
    if (st)
        return st;
    size_t n = lay->n ? lay->n : 1;
    double *gc = malloc(n * sizeof *gc), *map = a->map_wig ? malloc(n * sizeof *map) : NULL;
    char filters[256];
    if (!gc || (a->map_wig && !map))
        st = rw_error_set(e, RW_ERR_NOMEM, "out of memory");
    else if ((st = rw_wig_read_track(a->gc_wig, lay, gc, e)) == RW_OK &&
             (!map || (st = rw_wig_read_track(a->map_wig, lay, map, e)) == RW_OK))
        st = rw_pon_flat(lay, gc, map, 0.9, rw_count_filters(&a->co, filters, sizeof filters), pon,
                         e);
    free(gc);
    free(map);
    rw_bins_free(lay);
    return st;
}

int rw_cli_call(int argc, char **argv)
{
    call_args a = {.output = "-", .with_bins = 1};
    rw_settings_init(&a.set);
    rw_count_opts_init(&a.co);
    int rc = parse_args(argc, argv, &a);
    if (rc != RW_EXIT_OK)
        return rc < 0 ? RW_EXIT_OK : rc;
    const char *input = argv[optind];

    rw_error e;
    rw_pon *pon = NULL;
    rw_result *r = NULL;
    char tmp[RW_ATOMIC_TMP_MAX] = "";
    FILE *tsv = NULL;
    if ((a.pon_path ? rw_pon_read(a.pon_path, &pon, &e) : flat_panel(&a, input, &pon, &e)) != RW_OK)
        return rw_cli_fail(CMD, e.status, "%s", e.msg);
    if ((rc = rw_cli_frag_panel(CMD, a.frag_mode, &a.co, pon, a.weights)) != RW_EXIT_OK) {
        rw_pon_free(pon);
        return rc;
    }
    rw_count_qc qc;
    if (rw_analyse_file(input, &a.co, pon, &a.set.analyse, &r, &qc, rw_cli_progress, (void *)input,
                        &e) != RW_OK) {
        /* the counter's messages name the file already; the PoN check's do not */
        int named = !strncmp(e.msg, input, strlen(input));
        rc = rw_cli_fail(CMD, e.status, "%s%s%s", named ? "" : input, named ? "" : ": ", e.msg);
        goto done;
    }
    if (a.bins_out) {
        if (rw_atomic_open(a.bins_out, tmp, &tsv, &e) != RW_OK) {
            rc = rw_cli_fail(CMD, e.status, "%s", e.msg);
            goto done;
        }
        write_bins_tsv(r, tsv);
    }
    rc = write_outputs(&a, r, &qc, pon, input, &tsv, tmp);
done:
    rw_atomic_abort(tsv, tsv ? tmp : NULL); /* the TSV of a failed run */
    rw_result_free(r);
    rw_pon_free(pon);
    return rc;
}
