/* relapsewatch CLI: main() dispatches to one function per subcommand (a table), plus the helpers
 * the subcommands share (error messages, versioned JSON output, progress on a terminal). */
#include "cli/cli.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/atomic.h"
#include "core/version.h"

typedef struct subcommand {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} subcommand;

static const subcommand subcommands[] = {
    {.name = "count",
     .run = rw_cli_count,
     .summary = "count reads or fragments of a BAM/CRAM/SAM in bins"},
    {.name = "pon", .run = rw_cli_pon, .summary = "build a panel of normals (pon build)"},
    {.name = "call",
     .run = rw_cli_call,
     .summary = "score 1q21.3 of a sample against a panel of normals"},
    {.name = "ddpcr", .run = rw_cli_ddpcr, .summary = "copy number from ddPCR droplet counts"},
    {.name = "simulate",
     .run = rw_cli_simulate,
     .summary = "write simulated cfDNA BAMs with known truth"},
    {.name = "plot", .run = rw_cli_plot, .summary = "draw a sample's genome-wide copy-number plot"},
    {.name = "trend", .run = rw_cli_trend, .summary = "serial monitoring of a patient's draws"},
    {.name = "segment", .run = rw_cli_segment, .summary = "segment a copy-number profile"},
    {.name = NULL},
};

static void usage(FILE *out)
{
    fprintf(out,
            "relapsewatch %s: 1q21.3 copy-number monitoring of breast cancer from cfDNA\n\n"
            "usage: relapsewatch <command> [options]   (relapsewatch <command> --help)\n\n"
            "commands:\n",
            RW_CORE_VERSION);
    for (const subcommand *s = subcommands; s->name; s++)
        fprintf(out, "  %-10s %s\n", s->name, s->summary);
    fprintf(out, "\noptions:\n"
                 "  -h, --help     this help\n"
                 "  -V, --version  print the version and exit\n\n"
                 "exit codes: 0 ok, 1 bad input (the message says what and where), 2 usage\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return RW_EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help") || !strcmp(cmd, "help")) {
        usage(stdout);
        return RW_EXIT_OK;
    }
    if (!strcmp(cmd, "-V") || !strcmp(cmd, "--version")) {
        printf("relapsewatch %s (JSON schema %d)\n", RW_CORE_VERSION, RW_SCHEMA_VERSION);
        return RW_EXIT_OK;
    }
    for (const subcommand *s = subcommands; s->name; s++)
        if (!strcmp(cmd, s->name))
            return s->run(argc - 1, argv + 1); /* argv[0] of the subcommand is its name */
    fprintf(stderr, "relapsewatch: unknown command '%s' (see relapsewatch --help)\n", cmd);
    return RW_EXIT_USAGE;
}

int rw_cli_fail(const char *cmd, rw_status st, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "relapsewatch %s: ", cmd);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return st == RW_ERR_USAGE ? RW_EXIT_USAGE : RW_EXIT_INPUT;
}

int rw_cli_write_json(const char *cmd, json_t *doc, const char *path)
{
    /* The version keys come first so a reader sees them before anything else. */
    json_t *out = json_pack("{s:i, s:s}", "schema_version", RW_SCHEMA_VERSION, "core_version",
                            RW_CORE_VERSION);
    if (!out || !doc || json_object_update(out, doc)) {
        json_decref(out);
        json_decref(doc);
        return rw_cli_fail(cmd, RW_ERR_NOMEM, "cannot build the JSON document");
    }
    json_decref(doc);
    const size_t flags = JSON_INDENT(2) | JSON_REAL_PRECISION(10);
    if (!strcmp(path, "-")) {
        int bad = json_dumpf(out, stdout, flags) || fputc('\n', stdout) == EOF || fflush(stdout);
        json_decref(out);
        return bad ? rw_cli_fail(cmd, RW_ERR_IO, "cannot write JSON to stdout") : RW_EXIT_OK;
    }
    char tmp[RW_ATOMIC_TMP_MAX];
    FILE *f;
    rw_error e;
    rw_status st = rw_atomic_open(path, tmp, &f, &e);
    if (st == RW_OK) {
        if (json_dumpf(out, f, flags) || fputc('\n', f) == EOF) {
            rw_atomic_abort(f, tmp);
            st = rw_error_set(&e, RW_ERR_IO, "%s: write failed", path);
        } else {
            st = rw_atomic_commit(f, tmp, path, &e);
        }
    }
    json_decref(out);
    return st == RW_OK ? RW_EXIT_OK : rw_cli_fail(cmd, st, "%s", e.msg);
}

int rw_cli_parse_long(const char *s, int base, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, base);
    if (errno || end == s || *end || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

int rw_cli_parse_double(const char *s, double lo, double hi, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !isfinite(v) || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

int rw_cli_opt_double(const char *cmd, const char *opt, const char *arg, double lo, double hi,
                      double *out)
{
    if (rw_cli_parse_double(arg, lo, hi, out))
        return rw_cli_fail(cmd, RW_ERR_USAGE, "--%s: '%s' is not a number in [%g, %g]", opt, arg,
                           lo, hi);
    return RW_EXIT_OK;
}

int rw_cli_opt_long(const char *cmd, const char *opt, const char *arg, long lo, long hi, long *out)
{
    if (rw_cli_parse_long(arg, 10, lo, hi, out))
        return rw_cli_fail(cmd, RW_ERR_USAGE, "--%s: '%s' is not an integer in %ld..%ld", opt, arg,
                           lo, hi);
    return RW_EXIT_OK;
}

int rw_cli_opt_seed(const char *cmd, const char *opt, const char *arg, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(arg, &end, 10);
    if (errno || end == arg || *end || *arg == '-' || *arg == '+')
        return rw_cli_fail(cmd, RW_ERR_USAGE, "--%s: '%s' is not a whole number >= 0", opt, arg);
    *out = (uint64_t)v;
    return RW_EXIT_OK;
}

int rw_cli_getopt_error(const char *cmd, int c, char **argv)
{
    return rw_cli_fail(cmd, RW_ERR_USAGE,
                       c == ':' ? "option %s needs a value (see --help)"
                                : "unknown option %s (see --help)",
                       argv[optind - 1]);
}

json_t *rw_cli_json_num(double x)
{
    return isfinite(x) ? json_real(x) : json_null();
}

int rw_cli_count_option(const char *cmd, int c, const char *arg, rw_count_opts *co)
{
    long v;
    switch (c) {
    case RW_CLI_OPT_BUILD:
        if (!strcmp(arg, "auto"))
            co->build = RW_BUILD_UNKNOWN;
        else if ((co->build = rw_build_parse(arg)) == RW_BUILD_UNKNOWN)
            return rw_cli_fail(cmd, RW_ERR_USAGE, "--build: '%s' is not hg38, hg19 or auto", arg);
        return RW_EXIT_OK;
    case RW_CLI_OPT_MIN_MAPQ:
        if (rw_cli_parse_long(arg, 10, 0, 255, &v))
            return rw_cli_fail(cmd, RW_ERR_USAGE, "--min-mapq: an integer in 0..255");
        co->min_mapq = (int)v;
        return RW_EXIT_OK;
    case RW_CLI_OPT_COUNT:
        if (!strcmp(arg, "fragments"))
            co->mode = RW_COUNT_FRAGMENTS;
        else if (!strcmp(arg, "reads"))
            co->mode = RW_COUNT_READS;
        else
            return rw_cli_fail(cmd, RW_ERR_USAGE, "--count: fragments or reads");
        return RW_EXIT_OK;
    case RW_CLI_OPT_FRAG_MIN:
    case RW_CLI_OPT_FRAG_MAX:
        if (rw_cli_parse_long(arg, 10, 0, 100000, &v))
            return rw_cli_fail(cmd, RW_ERR_USAGE, "--frag-min/--frag-max: an integer >= 0");
        *(c == RW_CLI_OPT_FRAG_MIN ? &co->frag_min : &co->frag_max) = (int)v;
        return RW_EXIT_OK;
    case RW_CLI_OPT_DROP_FLAGS:
        if (rw_cli_parse_long(arg, 0, 0, 0xF04, &v) || ((unsigned)v & ~0xF04u))
            return rw_cli_fail(cmd, RW_ERR_USAGE, "--drop-flags: a subset of 0xF04");
        co->drop_flags = (unsigned)v;
        return RW_EXIT_OK;
    case RW_CLI_OPT_THREADS:
        if (rw_cli_parse_long(arg, 10, 1, 64, &v))
            return rw_cli_fail(cmd, RW_ERR_USAGE, "--threads: an integer in 1..64");
        co->threads = (int)v;
        return RW_EXIT_OK;
    case RW_CLI_OPT_REFERENCE:
        co->reference = arg;
        return RW_EXIT_OK;
    }
    return -1;
}

void rw_cli_progress(void *ctx, double fraction)
{
    static int tty = -1, last = -1;
    if (tty < 0)
        tty = isatty(STDERR_FILENO);
    if (!tty)
        return;
    int pct = (int)(fraction * 100.0 + 0.5);
    if (pct < 0)
        pct = 0;
    if (pct > 100)
        pct = 100;
    if (pct == last)
        return;
    last = pct;
    fprintf(stderr, "\r%s: %3d%%", ctx ? (const char *)ctx : "progress", pct);
    if (pct == 100) {
        fputc('\n', stderr);
        last = -1; /* the next run starts afresh */
    }
    fflush(stderr);
}
