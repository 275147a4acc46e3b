/* relapsewatch ddpcr: droplet counts of one or more wells -> 1q21.3 copy number, 95% interval and
 * call as JSON (arithmetic in core/ddpcr.h).
 *
 * Input wells: --well T,R,N (repeatable) and/or files, each a TSV (one well per line:
 * target_positive reference_positive droplets, tab- or space-separated; '#' lines and a header
 * line starting with a letter skipped) or a JSON document {"wells": [{"target_positive": T,
 * "reference_positive": R, "droplets": N}, ...]} (or the bare array).
 * JSON output, besides schema_version and core_version (keys as the daemon stores and the API
 * shows them, json/result.h): command "ddpcr"; the 1q21.3 answer ratio (CN / 2), ratio_low,
 * ratio_high, log2_ratio, se (null), cv, z (null), call ("amplified" / "not_detected"), strong;
 * ddpcr {cn, cn_low, cn_high (95%; with no target positive cn is null, cn_low 0 and cn_high the
 * one-sided 95% upper bound), cv, n_wells, droplets, target_positive, reference_positive,
 * lambda_target, lambda_reference (copies/droplet), conc_target, conc_reference (copies/uL),
 * droplet_volume_nl, threshold, amplified, flags [low_target_positive, low_target_negative,
 * low_reference_positive, low_reference_negative, no_target]}; wells [{target_positive,
 * reference_positive, droplets}]; settings (every analysis setting in force). */
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
#include "core/settings.h"
#include "json/num.h"
#include "json/result.h"
#include "json/settings.h"

#define CMD "ddpcr"

static void help(FILE *out)
{
    static const char *const groups[] = {"ddpcr", NULL};
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
          "--ddpcr-cn-amplified.\n"
          "\n"
          "input (at least one well):\n"
          "      --well T,R,N          one well (repeatable)\n"
          "  FILE                      TSV: one well per line 'T R N' (tabs or spaces; '#'\n"
          "                            lines and a header line skipped), or JSON:\n"
          "                            {\"wells\": [{\"target_positive\": T,\n"
          "                            \"reference_positive\": R, \"droplets\": N}]}\n"
          "options:\n"
          "  -o, --output FILE         JSON result ('-' = stdout, the default)\n"
          "analysis settings (core/settings.h; recorded in the JSON's settings):\n",
          out);
    rw_cli_settings_help(out, groups);
    fputs("  -h, --help                this help\n"
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

/* One count of a well: the key's non-negative integer. The names are the API's too (PUT
 * /samples/{accession}/ddpcr): one name per count, no aliases. */
static int json_count(const json_t *o, const char *key, uint64_t *out)
{
    const json_t *v = json_object_get(o, key);
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
        if (!json_is_object(o) || json_object_size(o) != 3 ||
            json_count(o, "target_positive", &t) || json_count(o, "reference_positive", &r) ||
            json_count(o, "droplets", &n)) {
            rc = rw_cli_fail(CMD, RW_ERR_INPUT,
                             "%s: well %zu needs exactly the integers target_positive, "
                             "reference_positive and droplets >= 0",
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

static json_t *result_json(const wells *w, const rw_ddpcr_result *r, const rw_settings *set)
{
    int bad = 0;
    rw_call_summary cs;
    rw_call_summary_ddpcr(r, &cs);
    json_t *doc = json_object(), *wa = json_array(), *summary = rw_call_summary_json_new(&cs);
    for (size_t i = 0; i < w->n; i++)
        rw_json_push(wa,
                     json_pack("{s:I, s:I, s:I}", "target_positive", (json_int_t)w->a[i].target_pos,
                               "reference_positive", (json_int_t)w->a[i].ref_pos, "droplets",
                               (json_int_t)w->a[i].droplets),
                     &bad);
    rw_json_put(doc, "command", json_string("ddpcr"), &bad);
    if (!summary || !doc || json_object_update(doc, summary))
        bad = 1;
    json_decref(summary);
    rw_json_put(doc, "ddpcr", rw_ddpcr_json_new(r), &bad);
    rw_json_put(doc, "wells", wa, &bad);
    rw_json_put(doc, "settings", rw_settings_json_new(set), &bad);
    return rw_json_done(doc, bad);
}

/* What the command line asked for. */
typedef struct ddpcr_args {
    rw_settings set;
    wells w;
    const char *output;
} ddpcr_args;

/* --well T,R,N (repeatable). */
static int apply_option(void *ctx, int id, const char *name, const char *arg)
{
    ddpcr_args *a = ctx;
    (void)id;
    (void)name;
    int k = parse_well(arg, &a->w);
    return k ? rw_cli_fail(CMD, k == -2 ? RW_ERR_NOMEM : RW_ERR_USAGE,
                           "--well '%s': expected three counts T,R,N", arg)
             : RW_EXIT_OK;
}

int rw_cli_ddpcr(int argc, char **argv)
{
    ddpcr_args a = {.output = "-"};
    rw_settings_init(&a.set);
    const rw_cli_option own[] = {
        {.name = "well", .has_arg = required_argument, .id = 256},
        {.name = "output", .has_arg = required_argument, .str = &a.output},
        {.name = NULL},
    };
    int rc =
        rw_cli_parse(&(rw_cli_parser){CMD, own, apply_option, &a, help, NULL, &a.set}, argc, argv);
    for (int i = optind; rc == RW_EXIT_OK && i < argc; i++)
        rc = read_file(argv[i], &a.w);
    if (rc == RW_EXIT_OK && a.w.n == 0)
        rc = rw_cli_fail(CMD, RW_ERR_USAGE, "no well given: --well T,R,N or a file (see --help)");
    rw_ddpcr_result r;
    rw_error e;
    if (rc == RW_EXIT_OK && rw_ddpcr_compute(a.w.a, a.w.n, &a.set.ddpcr, &r, &e) != RW_OK)
        rc = rw_cli_fail(CMD, e.status, "%s", e.msg);
    if (rc == RW_EXIT_OK)
        rc = rw_cli_write_json(CMD, result_json(&a.w, &r, &a.set), a.output);
    free(a.w.a);
    return rc < 0 ? RW_EXIT_OK : rc;
}
