/* relapsewatch simulate: simulated cfDNA samples with known truth (BAM or bins), normals for a
 * panel, and a truth JSON. */
#include "cli/cli.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/bins.h"
#include "core/simulate.h"

#define CMD "simulate"

static void help(void)
{
    rw_sim_opts d;
    rw_sim_opts_init(&d);
    printf(
        "usage: relapsewatch simulate [options] -o OUT.bam\n"
        "       relapsewatch simulate [options] --bins OUT.tsv\n"
        "       relapsewatch simulate --normals N [options] -o DIR [--bins DIR]\n"
        "\n"
        "Simulates a shallow-WGS cfDNA sample with known truth: a coordinate-sorted BAM written\n"
        "with htslib (SEQ and QUAL '*'), or the bins file that counting such a BAM with the\n"
        "default filters would give, drawn directly from the same model (milliseconds).\n"
        "The same options and seed give the same bytes.\n"
        "\n"
        "options:\n"
        "  -o, --output FILE       BAM to write (with --normals: a folder, created if needed)\n"
        "      --bins FILE         bins TSV to write instead of (or besides) the BAM (with\n"
        "                          --normals: a folder)\n"
        "      --bin-size N        bin width of --bins in bp (default %d)\n"
        "      --truth FILE        truth JSON to write ('-' = stdout): options, events, and the\n"
        "                          tumour copy number and expected copy ratio of 1q21.3, 1q and\n"
        "                          S100A7-9\n"
        "      --build B           hg38 or hg19 (default %s)\n"
        "      --depth X           read coverage in x (default %g): X * genome / read length\n"
        "                          reads before duplicates (0.1x hg38 ~ 3 million reads)\n"
        "      --seed N            the sample's seed (default %llu)\n"
        "      --tumour-fraction F tumour fraction in [0, 1] (default %g)\n"
        "      --events SPEC       tumour copy-number profile, comma-separated REGION:CN items;\n"
        "                          REGION = a named region (1q21.3, 1q, S100A7-9), an arm (8q,\n"
        "                          17p), a chromosome (chr8) or chr:start-end (1-based inclusive,\n"
        "                          k/M suffixes allowed); later items win where they overlap.\n"
        "                          Example: 1q:3,1q21.3:6,8q:4,17p:1 (default: none, diploid)\n"
        "      --paired            paired-end reads (default single-end)\n"
        "      --read-len N        read length in bp (default %d)\n"
        "      --bin-noise CV      extra depth CV of a 500 kb bin beyond Poisson (default %g)\n"
        "      --gc-bias S         strength of the sample's smooth GC curve (default %g; 0 =\n"
        "                          none; 0.55: depth changes ~1.4-fold, up or down, from 35%%\n"
        "                          to 47%% GC, as in real plasma)\n"
        "      --gc-strength-sd S  spread of that strength between samples: gc-bias * exp(S z)\n"
        "                          (default %g)\n"
        "      --wave-amp A        SD of the sample's random genomic waves in log depth, smooth\n"
        "                          components of 5, 15 and 50 Mb periods (default %g)\n"
        "      --wave-gc-amp A     SD over samples of the waves that follow the GC of the\n"
        "                          surrounding 10 Mb (default %g)\n"
        "      --overdispersion CV extra depth CV of a 500 kb bin from gamma-distributed depth\n"
        "                          (gamma-Poisson counts) (default %g)\n"
        "      --ideal             the ideal profile: the five biases above 0 (the clean model\n"
        "                          of relapsewatch 0.1) unless given explicitly\n"
        "      --dup-rate R        fraction of reads that are flagged duplicates (default %g)\n"
        "      --lowmapq-rate R    fraction of reads with MAPQ < 20 (default %g)\n"
        "      --frag-normal BP    modal fragment length of normal cfDNA (default %g)\n"
        "      --frag-tumour BP    modal fragment length of tumour cfDNA (default %g)\n"
        "      --include-y         a male sample: reads on chrY, one copy of X and Y (default: a\n"
        "                          female sample, no chrY reads)\n"
        "      --normals N         write N normal samples (tumour fraction 0, no events) with\n"
        "                          seeds seed..seed+N-1 as DIR/normal_SEED.bam (and .tsv)\n"
        "  -h, --help              this help\n"
        "\n"
        "model: the genome is cut into 50 kb tiles whose GC fraction and depth factor depend on\n"
        "the build only (telomeres, centromeres, heterochromatin and acrocentric short arms\n"
        "nearly empty; ~1.5%% of tiles segmental-duplication-like), so a panel of normals can\n"
        "learn them. Expected depth is proportional to 2(1-f) + C f; a fragment is tumour-derived\n"
        "with probability C f / (2(1-f) + C f) and then takes the tumour length distribution.\n"
        "By default each sample also carries its own GC curve, genomic waves and\n"
        "overdispersion, which a panel of normals cannot remove (the realistic profile,\n"
        "calibrated on real plasma cfDNA: see the README); --ideal leaves them out.\n"
        "\n"
        "exit codes: 0 ok, 1 bad input (the message says what and where), 2 usage\n",
        RW_BIN_SIZE_DEFAULT, rw_build_name(d.build), d.depth, (unsigned long long)d.seed,
        d.tumour_fraction, d.read_len, d.bin_noise, d.gc_bias, d.gc_strength_sd, d.wave_amp,
        d.wave_gc_amp, d.overdispersion, d.dup_rate, d.lowmapq_rate, d.frag_mode_normal,
        d.frag_mode_tumour);
}

static json_t *truth_json(const rw_sim_opts *o, const char *spec, int normals, json_t *outputs)
{
    json_t *opts = json_pack(
        "{s:s, s:I, s:f, s:i, s:b, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f, "
        "s:f, s:f, s:f, s:b}",
        "build", rw_build_name(o->build), "seed", (json_int_t)o->seed, "depth", o->depth,
        "read_len", o->read_len, "paired", o->paired, "tumour_fraction", o->tumour_fraction,
        "bin_noise", o->bin_noise, "gc_bias", o->gc_bias, "gc_strength_sd", o->gc_strength_sd,
        "wave_amp", o->wave_amp, "wave_gc_amp", o->wave_gc_amp, "overdispersion", o->overdispersion,
        "dup_rate", o->dup_rate, "lowmapq_rate", o->lowmapq_rate, "frag_mode_normal",
        o->frag_mode_normal, "frag_mode_tumour", o->frag_mode_tumour, "include_y", o->include_y);
    json_t *events = json_array(), *regions = json_object();
    for (size_t i = 0; i < o->n_events; i++) {
        const rw_sim_event *e = &o->events[i];
        json_array_append_new(
            events, json_pack("{s:s, s:I, s:I, s:f}", "chrom", rw_chrom_name(e->chrom), "start",
                              (json_int_t)e->start, "end", (json_int_t)e->end, "tumour_cn", e->cn));
    }
    const char *names[] = {RW_REGION_1Q213, RW_REGION_1Q, RW_REGION_S100A};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        const rw_region *r = rw_region_find(o->build, names[i]);
        double cn, ratio;
        if (!r || rw_sim_region_truth(o, r->chrom, r->start, r->end, &cn, &ratio, NULL))
            continue;
        json_object_set_new(regions, names[i],
                            json_pack("{s:s, s:I, s:I, s:f, s:f, s:f}", "chrom",
                                      rw_chrom_name(r->chrom), "start", (json_int_t)r->start, "end",
                                      (json_int_t)r->end, "tumour_cn", cn, "copy_ratio", ratio,
                                      "log2_ratio", log2(ratio)));
    }
    return json_pack("{s:s, s:o, s:s?, s:o, s:s, s:o, s:o}", "kind",
                     normals ? "simulated normals" : "simulated sample", "options", opts,
                     "events_spec", spec, "events", events, "coordinates", "0-based, half-open",
                     "regions", regions, "outputs", outputs);
}

/* Makes dir if missing; 0 when it exists afterwards. */
static int ensure_dir(const char *dir)
{
    struct stat st;
    if (mkdir(dir, 0755) == 0)
        return 0;
    return errno == EEXIST && stat(dir, &st) == 0 && S_ISDIR(st.st_mode) ? 0 : -1;
}

/* The core's message without its "simulate: " prefix, which the CLI's own prefix repeats. */
static const char *msg(const rw_error *err)
{
    return strncmp(err->msg, CMD ": ", strlen(CMD) + 2) ? err->msg : err->msg + strlen(CMD) + 2;
}

/* Writes one sample: BAM to bam_path and/or bins to bins_path (either may be NULL). */
static int write_sample(const rw_sim_opts *o, const char *bam_path, const char *bins_path,
                        int32_t bin_size, json_t *outputs)
{
    rw_error err = {0};
    if (bam_path) {
        if (rw_sim_write_bam(o, bam_path, rw_cli_progress, "simulate", &err))
            return rw_cli_fail(CMD, err.status, "%s", msg(&err));
        json_array_append_new(
            outputs, json_pack("{s:s, s:I}", "bam", bam_path, "seed", (json_int_t)o->seed));
    }
    if (bins_path) {
        rw_bins *b = NULL;
        if (rw_sim_bins(o, bin_size, &b, &err) || rw_bins_write(b, bins_path, &err)) {
            rw_bins_free(b);
            return rw_cli_fail(CMD, err.status, "%s", msg(&err));
        }
        rw_bins_free(b);
        json_array_append_new(
            outputs, json_pack("{s:s, s:I}", "bins", bins_path, "seed", (json_int_t)o->seed));
    }
    return RW_EXIT_OK;
}

/* What the command line asked for. */
typedef struct sim_args {
    rw_sim_opts o;
    const char *output, *bins, *truth, *spec;
    long bin_size, normals;
    int tf_given;
    int ideal;      /* --ideal */
    unsigned given; /* bit i: numbers[i] was given (it then stands over --ideal) */
} sim_args;

enum {
    OPT_BINS = 256,
    OPT_BIN_SIZE,
    OPT_TRUTH,
    OPT_BUILD,
    OPT_DEPTH,
    OPT_SEED,
    OPT_TF,
    OPT_EVENTS,
    OPT_PAIRED,
    OPT_READ_LEN,
    OPT_BIN_NOISE,
    OPT_GC_BIAS,
    OPT_DUP,
    OPT_LOWMAPQ,
    OPT_FRAG_NORMAL,
    OPT_FRAG_TUMOUR,
    OPT_INCLUDE_Y,
    OPT_NORMALS,
    OPT_GC_STRENGTH_SD,
    OPT_WAVE_AMP,
    OPT_WAVE_GC_AMP,
    OPT_OVERDISPERSION,
    OPT_IDEAL,
};

static const struct option longopts[] = {
    {"output", required_argument, NULL, 'o'},
    {"bins", required_argument, NULL, OPT_BINS},
    {"bin-size", required_argument, NULL, OPT_BIN_SIZE},
    {"truth", required_argument, NULL, OPT_TRUTH},
    {"build", required_argument, NULL, OPT_BUILD},
    {"depth", required_argument, NULL, OPT_DEPTH},
    {"seed", required_argument, NULL, OPT_SEED},
    {"tumour-fraction", required_argument, NULL, OPT_TF},
    {"events", required_argument, NULL, OPT_EVENTS},
    {"paired", no_argument, NULL, OPT_PAIRED},
    {"read-len", required_argument, NULL, OPT_READ_LEN},
    {"bin-noise", required_argument, NULL, OPT_BIN_NOISE},
    {"gc-bias", required_argument, NULL, OPT_GC_BIAS},
    {"dup-rate", required_argument, NULL, OPT_DUP},
    {"lowmapq-rate", required_argument, NULL, OPT_LOWMAPQ},
    {"frag-normal", required_argument, NULL, OPT_FRAG_NORMAL},
    {"frag-tumour", required_argument, NULL, OPT_FRAG_TUMOUR},
    {"include-y", no_argument, NULL, OPT_INCLUDE_Y},
    {"normals", required_argument, NULL, OPT_NORMALS},
    {"gc-strength-sd", required_argument, NULL, OPT_GC_STRENGTH_SD},
    {"wave-amp", required_argument, NULL, OPT_WAVE_AMP},
    {"wave-gc-amp", required_argument, NULL, OPT_WAVE_GC_AMP},
    {"overdispersion", required_argument, NULL, OPT_OVERDISPERSION},
    {"ideal", no_argument, NULL, OPT_IDEAL},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

/* The options that take a number in a range into a double of rw_sim_opts. */
static const struct {
    int id;
    double lo, hi;
    size_t offset;
} numbers[] = {
    {OPT_DEPTH, 1e-6, 100, offsetof(rw_sim_opts, depth)},
    {OPT_TF, 0, 1, offsetof(rw_sim_opts, tumour_fraction)},
    {OPT_BIN_NOISE, 0, 1, offsetof(rw_sim_opts, bin_noise)},
    {OPT_GC_BIAS, 0, 5, offsetof(rw_sim_opts, gc_bias)},
    {OPT_DUP, 0, 0.9, offsetof(rw_sim_opts, dup_rate)},
    {OPT_LOWMAPQ, 0, 0.99, offsetof(rw_sim_opts, lowmapq_rate)},
    {OPT_FRAG_NORMAL, 50, 1000, offsetof(rw_sim_opts, frag_mode_normal)},
    {OPT_FRAG_TUMOUR, 50, 1000, offsetof(rw_sim_opts, frag_mode_tumour)},
    {OPT_GC_STRENGTH_SD, 0, 2, offsetof(rw_sim_opts, gc_strength_sd)},
    {OPT_WAVE_AMP, 0, 0.5, offsetof(rw_sim_opts, wave_amp)},
    {OPT_WAVE_GC_AMP, 0, 0.5, offsetof(rw_sim_opts, wave_gc_amp)},
    {OPT_OVERDISPERSION, 0, 0.3, offsetof(rw_sim_opts, overdispersion)},
};

/* Applies option c (long name `name`) with value arg; RW_EXIT_OK or the exit code of an error. */
static int apply_option(sim_args *a, int c, const char *name, const char *arg)
{
    long v;
    int rc;
    for (size_t i = 0; i < sizeof numbers / sizeof *numbers; i++)
        if (numbers[i].id == c) {
            if (c == OPT_TF)
                a->tf_given = 1;
            a->given |= 1u << i;
            return rw_cli_opt_double(CMD, name, arg, numbers[i].lo, numbers[i].hi,
                                     (double *)((char *)&a->o + numbers[i].offset));
        }
    switch (c) {
    case 'o':
        a->output = arg;
        return RW_EXIT_OK;
    case OPT_BINS:
        a->bins = arg;
        return RW_EXIT_OK;
    case OPT_BIN_SIZE:
        return rw_cli_opt_long(CMD, name, arg, RW_BIN_SIZE_MIN, RW_BIN_SIZE_MAX, &a->bin_size);
    case OPT_TRUTH:
        a->truth = arg;
        return RW_EXIT_OK;
    case OPT_BUILD:
        if ((a->o.build = rw_build_parse(arg)) == RW_BUILD_UNKNOWN)
            return rw_cli_fail(CMD, RW_ERR_USAGE, "--build: '%s' is not hg38 or hg19", arg);
        return RW_EXIT_OK;
    case OPT_SEED:
        return rw_cli_opt_seed(CMD, name, arg, &a->o.seed);
    case OPT_EVENTS:
        a->spec = arg;
        return RW_EXIT_OK;
    case OPT_PAIRED:
        a->o.paired = 1;
        return RW_EXIT_OK;
    case OPT_READ_LEN:
        if ((rc = rw_cli_opt_long(CMD, name, arg, 20, 1000, &v)) == RW_EXIT_OK)
            a->o.read_len = (int)v;
        return rc;
    case OPT_INCLUDE_Y:
        a->o.include_y = 1;
        return RW_EXIT_OK;
    case OPT_NORMALS:
        return rw_cli_opt_long(CMD, name, arg, 1, 10000, &a->normals);
    case OPT_IDEAL:
        a->ideal = 1;
        return RW_EXIT_OK;
    }
    return -1;
}

/* Reads the command line into *a: RW_EXIT_OK to run, else the exit code (-1: --help shown). */
static int parse_args(int argc, char **argv, sim_args *a)
{
    int c, li = -1;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":o:h", longopts, &li)) != -1) {
        if (c == 'h') {
            help();
            return -1;
        }
        int rc = c == ':' || c == '?'
                     ? -1
                     : apply_option(a, c, li >= 0 ? longopts[li].name : "o", optarg);
        if (rc < 0)
            return rw_cli_getopt_error(CMD, c, argv);
        if (rc != RW_EXIT_OK)
            return rc;
        li = -1;
    }
    if (optind < argc)
        return rw_cli_fail(CMD, RW_ERR_USAGE, "unexpected argument '%s'", argv[optind]);
    if (a->ideal) { /* the ideal profile, then the numbers given explicitly, wherever they were */
        rw_sim_opts given = a->o;
        rw_sim_opts_ideal(&a->o);
        for (size_t i = 0; i < sizeof numbers / sizeof *numbers; i++)
            if (a->given & (1u << i))
                memcpy((char *)&a->o + numbers[i].offset, (char *)&given + numbers[i].offset,
                       sizeof(double));
    }
    if (!a->output && !a->bins)
        return rw_cli_fail(CMD, RW_ERR_USAGE, "give -o OUT.bam and/or --bins OUT.tsv (see --help)");
    if (a->normals && (a->tf_given || a->spec))
        return rw_cli_fail(CMD, RW_ERR_USAGE,
                           "--normals writes normal samples: no --tumour-fraction or --events");
    return RW_EXIT_OK;
}

/* Writes a->normals normal samples with seeds seed..seed+N-1 into the output folders. */
static int write_normals(sim_args *a, json_t *outputs)
{
    if ((a->output && ensure_dir(a->output)) || (a->bins && ensure_dir(a->bins)))
        return rw_cli_fail(CMD, RW_ERR_IO, "cannot create folder %s: %s",
                           a->output ? a->output : a->bins, strerror(errno));
    int rc = RW_EXIT_OK;
    uint64_t seed0 = a->o.seed;
    for (long i = 0; i < a->normals && rc == RW_EXIT_OK; i++) {
        char bam_path[4096], bins_path[4096];
        a->o.seed = seed0 + (uint64_t)i;
        if (a->output)
            snprintf(bam_path, sizeof bam_path, "%s/normal_%llu.bam", a->output,
                     (unsigned long long)a->o.seed);
        if (a->bins)
            snprintf(bins_path, sizeof bins_path, "%s/normal_%llu.tsv", a->bins,
                     (unsigned long long)a->o.seed);
        rc = write_sample(&a->o, a->output ? bam_path : NULL, a->bins ? bins_path : NULL,
                          (int32_t)a->bin_size, outputs);
    }
    a->o.seed = seed0;
    return rc;
}

int rw_cli_simulate(int argc, char **argv)
{
    sim_args a = {.bin_size = RW_BIN_SIZE_DEFAULT};
    rw_sim_opts_init(&a.o);
    int rc = parse_args(argc, argv, &a);
    if (rc != RW_EXIT_OK)
        return rc < 0 ? RW_EXIT_OK : rc;

    rw_sim_event *ev = NULL;
    size_t nev = 0;
    rw_error err = {0};
    if (a.spec && rw_sim_parse_events(a.spec, a.o.build, &ev, &nev, &err))
        return rw_cli_fail(CMD, RW_ERR_USAGE, "--events: %s", err.msg);
    a.o.events = ev;
    a.o.n_events = nev;

    json_t *outputs = json_array();
    if (!a.normals)
        rc = write_sample(&a.o, a.output, a.bins, (int32_t)a.bin_size, outputs);
    else
        rc = write_normals(&a, outputs);
    if (rc == RW_EXIT_OK && a.truth) {
        rc = rw_cli_write_json(CMD, truth_json(&a.o, a.spec, a.normals > 0, outputs), a.truth);
        outputs = NULL; /* stolen */
    }
    json_decref(outputs);
    free(ev);
    return rc;
}
