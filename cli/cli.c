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
    {.name = "settings",
     .run = rw_cli_settings,
     .summary = "list the analysis settings: defaults, ranges, meaning"},
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

/* getopt_long values of the shared option families (a subcommand's own stay below). */
enum {
    OPT_OWN = 0x800, /* + the row of a subcommand's own option */
    OPT_BUILD = 0x1000,
    OPT_MIN_MAPQ,
    OPT_COUNT,
    OPT_FRAG_MIN,
    OPT_FRAG_MAX,
    OPT_DROP_FLAGS,
    OPT_THREADS,
    OPT_REFERENCE,
    OPT_SET = 0x1100,
    OPT_SETTINGS_FILE,
    OPT_SETTING = 0x1200, /* + 2 * table index (+ 1 for the alias) */
};

static const struct option count_options[] = {
    {"build", required_argument, NULL, OPT_BUILD},
    {"min-mapq", required_argument, NULL, OPT_MIN_MAPQ},
    {"count", required_argument, NULL, OPT_COUNT},
    {"frag-min", required_argument, NULL, OPT_FRAG_MIN},
    {"frag-max", required_argument, NULL, OPT_FRAG_MAX},
    {"drop-flags", required_argument, NULL, OPT_DROP_FLAGS},
    {"threads", required_argument, NULL, OPT_THREADS},
    {"reference", required_argument, NULL, OPT_REFERENCE},
};
#define N_COUNT_OPTIONS (sizeof count_options / sizeof count_options[0])

const char rw_cli_count_help[] =
    "      --build B              hg38, hg19 or auto (default auto: detected from the header)\n"
    "      --min-mapq N           drop reads with MAPQ < N (default 20)\n"
    "      --count MODE           fragments (default) or reads\n"
    "      --frag-mode MODE       fragment length: all (each fragment counts 1), window (only\n"
    "                             --frag-min..--frag-max bp) or weighted (each fragment by the\n"
    "                             tumour/normal likelihood ratio of its length, learnt from a\n"
    "                             panel's normals); default: the panel's (pon build: weighted\n"
    "                             for paired-end normals, setting pon_frag_weighted), else all\n"
    "      --frag-min N           keep fragments >= N bp (default 0 = no bound; a window)\n"
    "      --frag-max N           keep fragments <= N bp (default 0 = no bound; a window)\n"
    "      --drop-flags HEX       flag bits that drop a read, a subset of 0xF04 (default 0xF04:\n"
    "                             unmapped 0x4, secondary 0x100, QC-fail 0x200, duplicate\n"
    "                             0x400, supplementary 0x800)\n"
    "      --threads N            htslib decompression threads (default 1 = none)\n"
    "      --reference FASTA      reference of a CRAM input (required for CRAM)\n";

/* Applies counting option c with value arg to co: RW_EXIT_OK or RW_EXIT_USAGE after printing. */
static int count_option(const char *cmd, int c, const char *arg, rw_count_opts *co)
{
    long v;
    int rc;
    switch (c) {
    case OPT_BUILD:
        if (!strcmp(arg, "auto"))
            co->build = RW_BUILD_UNKNOWN;
        else if ((co->build = rw_build_parse(arg)) == RW_BUILD_UNKNOWN)
            return rw_cli_fail(cmd, RW_ERR_USAGE, "--build: '%s' is not hg38, hg19 or auto", arg);
        return RW_EXIT_OK;
    case OPT_MIN_MAPQ:
        if ((rc = rw_cli_opt_long(cmd, "min-mapq", arg, 0, 255, &v)) == RW_EXIT_OK)
            co->min_mapq = (int)v;
        return rc;
    case OPT_COUNT:
        if (strcmp(arg, "fragments") && strcmp(arg, "reads"))
            return rw_cli_fail(cmd, RW_ERR_USAGE, "--count: '%s' is not fragments or reads", arg);
        co->mode = strcmp(arg, "reads") ? RW_COUNT_FRAGMENTS : RW_COUNT_READS;
        return RW_EXIT_OK;
    case OPT_FRAG_MIN:
    case OPT_FRAG_MAX:
        rc = rw_cli_opt_long(cmd, c == OPT_FRAG_MIN ? "frag-min" : "frag-max", arg, 0, 100000, &v);
        if (rc == RW_EXIT_OK)
            *(c == OPT_FRAG_MIN ? &co->frag_min : &co->frag_max) = (int)v;
        return rc;
    case OPT_DROP_FLAGS:
        if (rw_cli_parse_long(arg, 0, 0, RW_COUNT_DROP_FLAGS, &v) ||
            ((unsigned long)v & ~(unsigned long)RW_COUNT_DROP_FLAGS))
            return rw_cli_fail(cmd, RW_ERR_USAGE, "--drop-flags: '%s' is not a subset of 0x%X", arg,
                               RW_COUNT_DROP_FLAGS);
        co->drop_flags = (unsigned)v;
        return RW_EXIT_OK;
    case OPT_THREADS:
        if ((rc = rw_cli_opt_long(cmd, "threads", arg, 1, 64, &v)) == RW_EXIT_OK)
            co->threads = (int)v;
        return rc;
    default: /* OPT_REFERENCE */
        co->reference = arg;
        return RW_EXIT_OK;
    }
}

/* Applies settings option c (OPT_SET, OPT_SETTINGS_FILE or OPT_SETTING + k) to s. */
static int settings_option(const char *cmd, int c, const char *flag, const char *arg,
                           rw_settings *s)
{
    size_t n;
    const rw_setting *t = rw_settings_table(&n);
    rw_error e;
    rw_status st;
    if (c == OPT_SET)
        st = rw_settings_set_pair(s, arg, &e);
    else if (c == OPT_SETTINGS_FILE)
        st = rw_settings_read_file(s, arg, &e);
    else
        st = rw_settings_set(s, t[(size_t)(c - OPT_SETTING) / 2].name, arg, &e);
    return st == RW_OK
               ? RW_EXIT_OK
               : rw_cli_fail(cmd, st == RW_ERR_IO ? RW_ERR_USAGE : st, "--%s: %s", flag, e.msg);
}

/* The flag spelling of setting i of the table: its name with '-' for '_' (static storage). */
static const char *setting_flag(size_t i)
{
    static char flags[64][48];
    size_t n;
    const rw_setting *t = rw_settings_table(&n);
    if (i >= 64 || strlen(t[i].name) >= sizeof flags[0])
        return t[i].name; /* still accepted: rw_setting_find reads both spellings */
    if (!flags[i][0])
        for (size_t k = 0; t[i].name[k]; k++)
            flags[i][k] = t[i].name[k] == '_' ? '-' : t[i].name[k];
    return flags[i];
}

/* The getopt_long table of p (own, counting, settings, --help), new (free()); NULL: no memory. */
static struct option *options_of(const rw_cli_parser *p)
{
    size_t own = 0, n, k = 0;
    const rw_setting *t = rw_settings_table(&n);
    while (p->options[own].name)
        own++;
    struct option *o = calloc(own + N_COUNT_OPTIONS + 2 * n + 4, sizeof *o);
    if (!o)
        return NULL;
    for (; k < own; k++) /* getopt's value: the row's index, below the shared families */
        o[k] = (struct option){p->options[k].name, p->options[k].has_arg, NULL, OPT_OWN + (int)k};
    if (p->count)
        for (size_t i = 0; i < N_COUNT_OPTIONS; i++)
            o[k++] = count_options[i];
    if (p->settings) {
        o[k++] = (struct option){"set", required_argument, NULL, OPT_SET};
        o[k++] = (struct option){"settings", required_argument, NULL, OPT_SETTINGS_FILE};
        for (size_t i = 0; i < n; i++) {
            o[k++] =
                (struct option){setting_flag(i), required_argument, NULL, OPT_SETTING + 2 * (int)i};
            if (t[i].alias)
                o[k++] = (struct option){t[i].alias, required_argument, NULL,
                                         OPT_SETTING + 2 * (int)i + 1};
        }
    }
    o[k++] = (struct option){"help", no_argument, NULL, 'h'};
    return o;
}

/* The row of p's own "output" option (the target of -o). */
static int own_output(const rw_cli_parser *p)
{
    int k = 0;
    while (p->options[k].name && strcmp(p->options[k].name, "output"))
        k++;
    return k;
}

/* Applies own option row k with value arg: stores a plain one, else calls p->apply. */
static int own_option(const rw_cli_parser *p, int k, const char *name, const char *arg)
{
    const rw_cli_option *o = &p->options[k];
    if (!o->name) /* -o of a subcommand without --output */
        return rw_cli_fail(p->cmd, RW_ERR_USAGE, "unknown option -o (see --help)");
    long v;
    int rc = RW_EXIT_OK;
    if (o->str)
        *o->str = arg;
    else if (o->flag)
        *o->flag = o->value;
    else if (o->real)
        rc = rw_cli_opt_double(p->cmd, name, arg, o->lo, o->hi, o->real);
    else if (o->integer &&
             (rc = rw_cli_opt_long(p->cmd, name, arg, (long)o->lo, (long)o->hi, &v)) == RW_EXIT_OK)
        *o->integer = (int)v;
    else if (!o->integer)
        rc = p->apply(p->ctx, o->id, name, arg);
    return rc;
}

int rw_cli_frag_mode(const char *cmd, const char *arg, const rw_count_opts *co, int *mode)
{
    int win = co->frag_min || co->frag_max;
    rw_frag_mode m = RW_FRAG_WINDOW;
    rw_error e;
    if (arg && rw_frag_mode_parse(arg, &m, &e) != RW_OK)
        return rw_cli_fail(cmd, RW_ERR_USAGE, "--frag-mode: %s", e.msg);
    *mode = arg || win ? (int)m : -1;
    if (m == RW_FRAG_WINDOW && arg && !win)
        return rw_cli_fail(cmd, RW_ERR_USAGE, "--frag-mode window needs --frag-min or --frag-max");
    if (m != RW_FRAG_WINDOW && win)
        return rw_cli_fail(cmd, RW_ERR_USAGE, "--frag-min/--frag-max go with --frag-mode window");
    return RW_EXIT_OK;
}

int rw_cli_frag_panel(const char *cmd, int mode, rw_count_opts *co, const rw_pon *p, double *w)
{
    rw_error e;
    if (mode == RW_FRAG_ALL || mode == RW_FRAG_WINDOW)
        return RW_EXIT_OK;
    if (mode == RW_FRAG_WEIGHTED && !strstr(p->filters, ";frag=weighted:"))
        return rw_cli_fail(cmd, RW_ERR_MISMATCH,
                           "--frag-mode weighted: the panel %s was not counted weighted (%s)",
                           p->id, p->filters);
    if (rw_count_frag_follow(co, p->filters, p->frag_hist, w, &e) != RW_OK)
        return rw_cli_fail(cmd, e.status, "the panel %s: %s", p->id, e.msg);
    return RW_EXIT_OK;
}

int rw_cli_parse(const rw_cli_parser *p, int argc, char **argv)
{
    struct option *longopts = options_of(p);
    if (!longopts)
        return rw_cli_fail(p->cmd, RW_ERR_NOMEM, "out of memory");
    int c, li = -1, rc = RW_EXIT_OK;
    optind = 1;
    opterr = 0;
    while (rc == RW_EXIT_OK && (c = getopt_long(argc, argv, ":o:h", longopts, &li)) != -1) {
        const char *name = li >= 0 ? longopts[li].name : "output";
        li = -1;
        if (c == 'h') {
            p->help(stdout);
            rc = -1;
        } else if (c == ':' || c == '?') {
            rc = rw_cli_getopt_error(p->cmd, c, argv);
        } else if (c >= OPT_SET && p->settings) {
            rc = settings_option(p->cmd, c, name, optarg, p->settings);
        } else if (c >= OPT_BUILD && p->count) {
            rc = count_option(p->cmd, c, optarg, p->count);
        } else {
            rc = own_option(p, c == 'o' ? own_output(p) : c - OPT_OWN, name, optarg);
        }
    }
    free(longopts);
    if (rc != RW_EXIT_OK)
        return rc;
    if (p->count && p->count->frag_max && p->count->frag_min > p->count->frag_max)
        return rw_cli_fail(p->cmd, RW_ERR_USAGE, "--frag-min %d is above --frag-max %d",
                           p->count->frag_min, p->count->frag_max);
    rw_error e;
    if (p->settings && rw_settings_check(p->settings, &e) != RW_OK)
        return rw_cli_fail(p->cmd, RW_ERR_USAGE, "%s", e.msg);
    return RW_EXIT_OK;
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

/* Prints text wrapped at 100 columns, continuation lines indented by `indent`. */
static void wrap(FILE *out, const char *text, int col, int indent)
{
    const char *w = text;
    while (*w) {
        const char *e = w;
        while (*e && *e != ' ')
            e++;
        int len = (int)(e - w);
        if (col + 1 + len > 100 && col > indent) {
            fprintf(out, "\n%*s", indent, "");
            col = indent;
        } else if (w != text) {
            fputc(' ', out);
            col++;
        }
        fprintf(out, "%.*s", len, w);
        col += len;
        w = *e ? e + 1 : e;
    }
    fputc('\n', out);
}

void rw_cli_settings_help(FILE *out, const char *const *groups)
{
    size_t n;
    const rw_setting *t = rw_settings_table(&n);
    for (size_t i = 0; i < n; i++) {
        int shown = 0; /* a group, or the setting's own name */
        for (const char *const *g = groups; *g; g++)
            shown |= !strcmp(*g, t[i].group) || !strcmp(*g, t[i].name);
        if (!shown)
            continue;
        char lhs[96], def[128], text[512];
        snprintf(lhs, sizeof lhs, "      --%s %s", setting_flag(i), t[i].metavar);
        rw_setting_format_default(&t[i], def, sizeof def);
        int unit = *t[i].unit && strcmp(t[i].unit, "z"); /* "default 3 z" says nothing more */
        snprintf(text, sizeof text, "%s (default %s%s%s%s%s)", t[i].help, def, unit ? " " : "",
                 unit ? t[i].unit : "", t[i].alias ? "; also --" : "",
                 t[i].alias ? t[i].alias : "");
        if (strlen(lhs) < 29) {
            fprintf(out, "%-29s", lhs);
            wrap(out, text, 29, 29);
        } else {
            fprintf(out, "%s\n%29s", lhs, "");
            wrap(out, text, 29, 29);
        }
    }
    fputs("      --set NAME=VALUE       any analysis setting by name (docs/configuration.md lists\n"
          "                             them all, with their ranges)\n"
          "      --settings FILE        read settings from FILE: `name = value` lines, '#'\n"
          "                             comments (the daemon's config file takes the same lines)\n",
          out);
}
