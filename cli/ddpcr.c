/* relapsewatch ddpcr: droplet counts of one or more wells -> 1q21.3 copy number, 95% interval and
 * call as JSON (arithmetic in core/ddpcr.h).
 *
 * Input wells: --well T,R,N (repeatable) and/or files, each a TSV (one well per line:
 * target_positive reference_positive droplets, tab- or space-separated; '#' lines and a header
 * line starting with a letter skipped) or a JSON document {"wells": [{"target_positive": T,
 * "reference_positive": R, "droplets": N}, ...]} (or the bare array).
 * JSON output, besides schema_version and core_version: command "ddpcr", wells [{target_positive,
 * reference_positive, droplets}], merged {droplets, target_positive, reference_positive},
 * lambda_target, lambda_reference (copies/droplet), conc_target, conc_reference (copies/uL),
 * droplet_volume_nl, reference_copies, copy_number (null when no target droplet was positive),
 * copy_number_lo, copy_number_hi (95%; with no target positive lo = 0 and hi the one-sided 95%
 * upper bound), upper_bound_only (bool), cv, call ("amplified" / "not_detected"), threshold,
 * flags [strings: low_target_positive, low_target_negative, low_reference_positive,
 * low_reference_negative, no_target_positive]. */
#include "cli/cli.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/ddpcr.h"

#define CMD "ddpcr"

static void help(FILE *out)
{
    fputs("usage: relapsewatch ddpcr [options] [--well T,R,N]... [WELLS.tsv|WELLS.json]...\n"
          "\n"
          "Copy number of 1q21.3 from ddPCR droplet counts: per well the target-positive (T),\n"
          "reference-positive (R) and accepted (N) droplets. Wells are merged by summing\n"
          "droplets; copies per droplet lambda = -ln(negatives / N); concentration = lambda /\n"
          "droplet volume; CN = reference copies * lambda_T / lambda_R; 95% interval on the log\n"
          "scale from CV^2 = sum over channels of (e^lambda - 1) / (N lambda^2). No target\n"
          "positive gives a one-sided 95% upper bound, not zero; a saturated well (no negative\n"
          "droplet) is rejected; fewer than --min-droplets positive or negative droplets in a\n"
          "channel is flagged. The call is amplified when the lower 95% bound exceeds\n"
          "--threshold.\n"
          "\n"
          "input (at least one well):\n"
          "      --well T,R,N          one well (repeatable)\n"
          "  FILE                      TSV: one well per line 'T R N' (tabs or spaces; '#'\n"
          "                            lines and a header line skipped), or JSON:\n"
          "                            {\"wells\": [{\"target_positive\": T,\n"
          "                            \"reference_positive\": R, \"droplets\": N}]}\n"
          "options:\n"
          "  -o, --output FILE         JSON result ('-' = stdout, the default)\n"
          "      --droplet-volume NL   droplet volume in nL (default 0.85)\n"
          "      --ref-copies N        reference copies per genome (default 2)\n"
          "      --threshold CN        amplified when the lower 95% bound > CN (default 2.2)\n"
          "      --min-droplets N      flag channels with fewer positive or negative droplets\n"
          "                            (default 100)\n"
          "  -h, --help                this help\n"
          "\n"
          "exit codes: 0 ok, 1 bad input (the message says what and where), 2 usage\n",
          out);
}

typedef struct wells {
    size_t n, m;
    rw_ddpcr_well *a;
} wells;

static int push(wells *w, uint64_t t, uint64_t r, uint64_t n)
{
    if (w->n == w->m) {
        size_t m = w->m ? 2 * w->m : 8;
        rw_ddpcr_well *a = realloc(w->a, m * sizeof *a);
        if (!a)
            return -1;
        w->a = a;
        w->m = m;
    }
    w->a[w->n++] = (rw_ddpcr_well){t, r, n};
    return 0;
}

/* Parses a whole non-negative decimal count; 0 on success. */
static int parse_count(const char *s, uint64_t *out)
{
    char *end;
    while (isspace((unsigned char)*s))
        s++;
    if (!isdigit((unsigned char)*s))
        return -1;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    while (isspace((unsigned char)*end))
        end++;
    if (errno || *end)
        return -1;
    *out = v;
    return 0;
}

/* "T,R,N" -> a well; 0 on success. */
static int parse_well(const char *s, wells *w)
{
    char buf[128];
    if (snprintf(buf, sizeof buf, "%s", s) >= (int)sizeof buf)
        return -1;
    char *save = NULL, *f[3];
    int k = 0;
    for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        if (k == 3)
            return -1;
        f[k++] = t;
    }
    uint64_t v[3];
    if (k != 3 || parse_count(f[0], &v[0]) || parse_count(f[1], &v[1]) || parse_count(f[2], &v[2]))
        return -1;
    return push(w, v[0], v[1], v[2]) ? -2 : 0;
}

static int json_count(const json_t *o, const char *k1, const char *k2, uint64_t *out)
{
    const json_t *v = json_object_get(o, k1);
    if (!v)
        v = json_object_get(o, k2);
    if (!json_is_integer(v) || json_integer_value(v) < 0)
        return -1;
    *out = (uint64_t)json_integer_value(v);
    return 0;
}

static int read_json_file(const char *path, wells *w)
{
    json_error_t je;
    json_t *doc = json_load_file(path, 0, &je);
    if (!doc)
        return rw_cli_fail(CMD, RW_ERR_INPUT, "%s:%d: %s", path, je.line, je.text);
    json_t *arr = json_is_array(doc) ? doc : json_object_get(doc, "wells");
    int rc = RW_EXIT_OK;
    if (!json_is_array(arr)) {
        rc = rw_cli_fail(CMD, RW_ERR_INPUT, "%s: expected {\"wells\": [...]} or an array", path);
        goto done;
    }
    size_t i;
    json_t *o;
    json_array_foreach(arr, i, o)
    {
        uint64_t t, r, n;
        if (!json_is_object(o) || json_count(o, "target_positive", "target", &t) ||
            json_count(o, "reference_positive", "reference", &r) ||
            json_count(o, "droplets", "accepted", &n)) {
            rc = rw_cli_fail(CMD, RW_ERR_INPUT,
                             "%s: well %zu needs integer target_positive, reference_positive "
                             "and droplets >= 0",
                             path, i + 1);
            goto done;
        }
        if (push(w, t, r, n)) {
            rc = rw_cli_fail(CMD, RW_ERR_NOMEM, "out of memory");
            goto done;
        }
    }
done:
    json_decref(doc);
    return rc;
}

static int read_tsv_file(const char *path, FILE *f, wells *w)
{
    char line[1024];
    long lineno = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        char *p = line;
        while (isspace((unsigned char)*p))
            p++;
        if (!*p || *p == '#' || isalpha((unsigned char)*p))
            continue; /* blank, comment, header */
        unsigned long long v[3];
        int used = 0;
        if (sscanf(p, "%llu%*[ \t,]%llu%*[ \t,]%llu %n", &v[0], &v[1], &v[2], &used) != 3 ||
            p[used] || strchr(p, '-'))
            return rw_cli_fail(CMD, RW_ERR_INPUT,
                               "%s:%ld: expected three counts 'target_positive "
                               "reference_positive droplets'",
                               path, lineno);
        if (push(w, v[0], v[1], v[2]))
            return rw_cli_fail(CMD, RW_ERR_NOMEM, "out of memory");
    }
    if (ferror(f))
        return rw_cli_fail(CMD, RW_ERR_IO, "%s: read error", path);
    return RW_EXIT_OK;
}

static int read_file(const char *path, wells *w)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return rw_cli_fail(CMD, RW_ERR_INPUT, "%s: %s", path, strerror(errno));
    int c;
    do
        c = fgetc(f);
    while (c != EOF && isspace(c));
    size_t before = w->n;
    int rc;
    if (c == '{' || c == '[') {
        fclose(f);
        rc = read_json_file(path, w);
    } else {
        rewind(f);
        rc = read_tsv_file(path, f, w);
        fclose(f);
    }
    if (rc == RW_EXIT_OK && w->n == before)
        rc = rw_cli_fail(CMD, RW_ERR_INPUT, "%s: no well in the file", path);
    return rc;
}

static json_t *result_json(const wells *w, const rw_ddpcr_result *r, const rw_ddpcr_opts *o)
{
    json_t *wa = json_array();
    for (size_t i = 0; i < w->n; i++)
        json_array_append_new(wa, json_pack("{s:I, s:I, s:I}", "target_positive",
                                            (json_int_t)w->a[i].target_pos, "reference_positive",
                                            (json_int_t)w->a[i].ref_pos, "droplets",
                                            (json_int_t)w->a[i].droplets));
    static const struct {
        unsigned bit;
        const char *name;
    } flag_names[] = {
        {RW_DDPCR_LOW_TARGET_POS, "low_target_positive"},
        {RW_DDPCR_LOW_TARGET_NEG, "low_target_negative"},
        {RW_DDPCR_LOW_REF_POS, "low_reference_positive"},
        {RW_DDPCR_LOW_REF_NEG, "low_reference_negative"},
        {RW_DDPCR_NO_TARGET, "no_target_positive"},
    };
    json_t *flags = json_array();
    for (size_t i = 0; i < sizeof flag_names / sizeof flag_names[0]; i++)
        if (r->flags & flag_names[i].bit)
            json_array_append_new(flags, json_string(flag_names[i].name));
    json_t *doc = json_object();
    json_object_set_new(doc, "command", json_string("ddpcr"));
    json_object_set_new(doc, "wells", wa);
    json_object_set_new(doc, "merged",
                        json_pack("{s:I, s:I, s:I}", "droplets", (json_int_t)r->droplets,
                                  "target_positive", (json_int_t)r->target_pos,
                                  "reference_positive", (json_int_t)r->ref_pos));
    json_object_set_new(doc, "lambda_target", rw_cli_json_num(r->lambda_target));
    json_object_set_new(doc, "lambda_reference", rw_cli_json_num(r->lambda_ref));
    json_object_set_new(doc, "conc_target", rw_cli_json_num(r->conc_target));
    json_object_set_new(doc, "conc_reference", rw_cli_json_num(r->conc_ref));
    json_object_set_new(doc, "droplet_volume_nl", rw_cli_json_num(r->droplet_volume_nl));
    json_object_set_new(doc, "reference_copies", rw_cli_json_num(o->ref_copies));
    json_object_set_new(doc, "copy_number", rw_cli_json_num(r->cn));
    json_object_set_new(doc, "copy_number_lo", rw_cli_json_num(r->cn_lo));
    json_object_set_new(doc, "copy_number_hi", rw_cli_json_num(r->cn_hi));
    json_object_set_new(doc, "upper_bound_only", json_boolean(r->flags & RW_DDPCR_NO_TARGET));
    json_object_set_new(doc, "cv", rw_cli_json_num(r->cv));
    json_object_set_new(doc, "call", json_string(r->amplified ? "amplified" : "not_detected"));
    json_object_set_new(doc, "threshold", rw_cli_json_num(r->threshold));
    json_object_set_new(doc, "flags", flags);
    return doc;
}

int rw_cli_ddpcr(int argc, char **argv)
{
    enum { OPT_WELL = 256, OPT_VOLUME, OPT_REF_COPIES, OPT_THRESHOLD, OPT_MIN_DROPLETS };
    static const struct option longopts[] = {
        {"well", required_argument, NULL, OPT_WELL},
        {"output", required_argument, NULL, 'o'},
        {"droplet-volume", required_argument, NULL, OPT_VOLUME},
        {"ref-copies", required_argument, NULL, OPT_REF_COPIES},
        {"threshold", required_argument, NULL, OPT_THRESHOLD},
        {"min-droplets", required_argument, NULL, OPT_MIN_DROPLETS},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    rw_ddpcr_opts o;
    rw_ddpcr_opts_init(&o);
    wells w = {0};
    const char *output = "-";
    int rc = RW_EXIT_OK, c;
    double x;
    uint64_t u;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":o:h", longopts, NULL)) != -1) {
        switch (c) {
        case OPT_WELL: {
            int k = parse_well(optarg, &w);
            if (k) {
                rc = rw_cli_fail(CMD, k == -2 ? RW_ERR_NOMEM : RW_ERR_USAGE,
                                 "--well '%s': expected three counts T,R,N", optarg);
                goto done;
            }
            break;
        }
        case 'o':
            output = optarg;
            break;
        case OPT_VOLUME:
        case OPT_REF_COPIES:
            if (rw_cli_parse_double(optarg, -INFINITY, INFINITY, &x) || x <= 0) {
                rc = rw_cli_fail(CMD, RW_ERR_USAGE, "%s: a number > 0",
                                 c == OPT_VOLUME ? "--droplet-volume" : "--ref-copies");
                goto done;
            }
            *(c == OPT_VOLUME ? &o.droplet_volume_nl : &o.ref_copies) = x;
            break;
        case OPT_THRESHOLD:
            if (rw_cli_parse_double(optarg, -INFINITY, INFINITY, &x) || x < 0) {
                rc = rw_cli_fail(CMD, RW_ERR_USAGE, "--threshold: a copy number >= 0");
                goto done;
            }
            o.amplified_lower = x;
            break;
        case OPT_MIN_DROPLETS:
            if (parse_count(optarg, &u)) {
                rc = rw_cli_fail(CMD, RW_ERR_USAGE, "--min-droplets: a count >= 0");
                goto done;
            }
            o.min_droplets = u;
            break;
        case 'h':
            help(stdout);
            goto done;
        case ':':
        default:
            rc = rw_cli_getopt_error(CMD, c, argv);
            goto done;
        }
    }
    for (int i = optind; i < argc; i++)
        if ((rc = read_file(argv[i], &w)) != RW_EXIT_OK)
            goto done;
    if (w.n == 0) {
        rc = rw_cli_fail(CMD, RW_ERR_USAGE, "no well given: --well T,R,N or a file (see --help)");
        goto done;
    }
    rw_ddpcr_result r;
    rw_error e;
    if (rw_ddpcr_compute(w.a, w.n, &o, &r, &e) != RW_OK) {
        rc = rw_cli_fail(CMD, e.status, "%s", e.msg);
        goto done;
    }
    rc = rw_cli_write_json(CMD, result_json(&w, &r, &o), output);
done:
    free(w.a);
    return rc;
}
