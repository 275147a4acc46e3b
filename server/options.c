/* Daemon configuration: one table of settings drives the defaults, the config file, the flags and
 * --help, so the three can never disagree; the analysis settings come the same ways from the
 * analysis table (core/settings.h). Precedence: defaults < file < command line. */
#include "server/options.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <config.h> /* autoconf's, for PACKAGE_VERSION */

#include "core/version.h"
#include "server/log.h"
#include "server/migrate.h"

#ifndef RW_PKGDATADIR
#define RW_PKGDATADIR "/usr/local/share/relapsewatch"
#endif

/* An installed build (configure --localstatedir=/var) keeps its state in RW_STATEDIR
 * (/var/lib/relapsewatch); a development build in ./var, where ./quickstart and the tests look. */
#ifdef RW_STATEDIR
#define RW_DEFAULT_DB   RW_STATEDIR "/relapsewatch.db"
#define RW_DEFAULT_DATA RW_STATEDIR "/data"
#else
#define RW_DEFAULT_DB   "var/relapsewatch.db"
#define RW_DEFAULT_DATA "var/data"
#endif

typedef enum { OPT_STR, OPT_INT, OPT_SIZE, OPT_LEVEL, OPT_DURATION, OPT_FLAG } opt_type;

typedef struct opt {
    const char *name; /* flag without "--", and the key in the config file */
    opt_type type;
    size_t offset; /* of the field in srv_config */
    const char *def;
    int64_t min, max; /* OPT_INT and OPT_SIZE */
    const char *metavar;
    const char *help;
} opt;

#define OFF(f) offsetof(srv_config, f)
static const opt opts[] = {
    {"db", OPT_STR, OFF(db_path), RW_DEFAULT_DB, 0, 0, "PATH",
     "SQLite database file; created (with its folder) when missing"},
    {"listen", OPT_STR, OFF(listen), "127.0.0.1:8080", 0, 0, "ADDR:PORT",
     "address and port to listen on; port 0 picks a free port"},
    {"web-root", OPT_STR, OFF(web_root), RW_PKGDATADIR "/web", 0, 0, "DIR",
     "folder of the web pages, served for every GET outside /api/"},
    {"data-dir", OPT_STR, OFF(data_dir), RW_DEFAULT_DATA, 0, 0, "DIR",
     "folder for uploaded reads and results"},
    {"reference", OPT_STR, OFF(reference), "", 0, 0, "FASTA",
     "faidx-indexed reference FASTA of the build, needed to decode CRAM uploads"},
    {"port-file", OPT_STR, OFF(port_file), "", 0, 0, "FILE",
     "write the bound port to FILE once listening (for scripts and tests)"},
    {"threads", OPT_INT, OFF(threads), "4", 1, 256, "N", "HTTP thread-pool size"},
    {"workers", OPT_INT, OFF(workers), "2", 0, 64, "N", "job worker threads"},
    {"max-body", OPT_SIZE, OFF(max_body), "1M", 1024, (int64_t)1 << 30, "BYTES",
     "largest JSON request body (413 beyond); suffixes K, M, G"},
    {"max-upload", OPT_SIZE, OFF(max_upload), "4G", 1024, (int64_t)1 << 40, "BYTES",
     "largest uploaded file (413 beyond); suffixes K, M, G, T"},
    {"log-level", OPT_LEVEL, OFF(log_level), "info", 0, 0, "LEVEL", "debug, info, warn or error"},
    {"disk-reserve", OPT_SIZE, OFF(disk_reserve), "1G", 0, (int64_t)1 << 50, "BYTES",
     "free space the data folder's disk must keep, or /api/v1/health answers 503 and uploads "
     "that would use it are refused (507)"},
    {"session-idle", OPT_DURATION, OFF(session_idle), "30m", 1, 7 * 86400, "TIME",
     "a sign-in session ends after this long without a request; suffixes s, m, h, d"},
    {"session-max", OPT_DURATION, OFF(session_max), "12h", 1, 30 * 86400, "TIME",
     "a sign-in session ends this long after the sign-in, however active; suffixes s, m, h, d"},
    {"signin-max-failures", OPT_INT, OFF(signin_max_failures), "10", 1, 1000, "N",
     "consecutive failed sign-ins that lock a user name until an admin resets its password"},
    {"tls-cert", OPT_STR, OFF(tls_cert), "", 0, 0, "FILE",
     "PEM certificate (chain) to serve HTTPS (TLS 1.2 and 1.3 only); needs --tls-key"},
    {"tls-key", OPT_STR, OFF(tls_key), "", 0, 0, "FILE", "PEM private key of --tls-cert"},
    {"insecure-http", OPT_FLAG, OFF(insecure_http), "no", 0, 0, NULL,
     "allow clear-text HTTP on a non-loopback --listen address (behind a TLS proxy only)"},
    {"max-connections", OPT_INT, OFF(max_connections), "512", 8, 100000, "N",
     "open connections in all; beyond, new ones wait in the kernel's queue"},
    {"max-connections-per-ip", OPT_INT, OFF(max_connections_per_ip), "64", 0, 100000, "N",
     "open connections from one client address (0 = no cap; raise it behind a proxy)"},
    {"head-timeout", OPT_INT, OFF(head_timeout), "20", 1, 3600, "SECONDS",
     "time to send a request's line and headers, however active the client"},
    {"min-body-rate", OPT_SIZE, OFF(min_body_rate), "1K", 0, (int64_t)1 << 30, "BYTES",
     "average bytes/s a request body must keep after --head-timeout seconds (0 = no floor)"},
    {"max-url", OPT_SIZE, OFF(max_url), "8K", 256, 65536, "BYTES",
     "longest request path with its query string (414 beyond)"},
    {"max-head", OPT_SIZE, OFF(max_head), "32K", 1024, 131072, "BYTES",
     "largest request head: line and headers (431 beyond)"},
    {"log-file", OPT_STR, OFF(log_file), "", 0, 0, "PATH",
     "append the log to PATH (mode 0600), reopened on SIGHUP; default standard error"},
    {"quota-sample", OPT_SIZE, OFF(quota_sample), "0", 0, (int64_t)1 << 50, "BYTES",
     "largest input one sample may store (413 beyond); 0 for no quota"},
    {"quota-total", OPT_SIZE, OFF(quota_total), "0", 0, (int64_t)1 << 50, "BYTES",
     "all stored sample inputs together (507 beyond); 0 for no quota"},
    {"job-max-attempts", OPT_INT, OFF(job_max_attempts), "3", 1, 100, "N",
     "runs a job may start, those cut by a crash included; then it fails and waits for an admin"},
    {"backup-dir", OPT_STR, OFF(backup_dir), "", 0, 0, "DIR",
     "folder of backups (POST /api/v1/admin/backups, and one before each schema migration); "
     "empty for backups/ beside the data folder"},
    {"hl7-mllp", OPT_STR, OFF(hl7_mllp), "", 0, 0, "HOST:PORT",
     "send an HL7 v2.5.1 ORU^R01 per result, correction and alert over MLLP to HOST:PORT, or over "
     "TLS to mllps://HOST:PORT (its certificate checked as a webhook's); empty for none"},
    {"fhir-identifier-base", OPT_STR, OFF(fhir_identifier_base),
     "https://relapsewatch.example/fhir/sid", 0, 0, "URI",
     "base of the FHIR identifier systems: <URI>/patient (external id), <URI>/accession"},
    {"webhook-key-file", OPT_STR, OFF(webhook_key_file), "", 0, 0, "FILE",
     "32-byte key sealing the webhook secrets (created 0600 when missing); empty for "
     "webhook.key in the data folder"},
    {"outbox-retry-base", OPT_INT, OFF(outbox_retry_base), "30", 1, 86400, "SECONDS",
     "wait before a failed webhook or HL7 delivery is tried again; doubles per attempt (max 6 h)"},
    {"outbox-max-attempts", OPT_INT, OFF(outbox_max_attempts), "12", 1, 1000, "N",
     "attempts of one webhook or HL7 delivery before it is marked failed"},
    {"time-zone", OPT_STR, OFF(time_zone), "UTC", 0, 0, "ZONE",
     "IANA time zone of the site (e.g. Australia/Sydney): dates may not be after today there, "
     "and a draw's collected_time is read there"},
    {"delivery-timeout", OPT_INT, OFF(delivery_timeout), "10", 1, 300, "SECONDS",
     "time one webhook or HL7 delivery attempt may take (connect, send, answer)"},
    {"outbox-keep-days", OPT_INT, OFF(outbox_keep_days), "90", 0, 36500, "DAYS",
     "days a delivered or failed webhook or HL7 delivery keeps its message; then only its record "
     "and attempts stay (0 = keep for ever)"},
    {"webhook-ca-file", OPT_STR, OFF(webhook_ca_file), "", 0, 0, "FILE",
     "PEM CA certificates that https webhook receivers and an mllps:// HL7 receiver must chain "
     "to; empty for the system's"},
};
#define NOPTS (sizeof opts / sizeof opts[0])

static const opt *find_opt(const char *name, size_t len)
{
    for (size_t i = 0; i < NOPTS; i++)
        if (strlen(opts[i].name) == len && strncmp(opts[i].name, name, len) == 0)
            return &opts[i];
    return NULL;
}

/* "123", "64K", "1M", "4G", "1T" (binary multiples). 0 on success. */
static int parse_size(const char *s, int64_t *out)
{
    char *end;
    errno = 0;
    if (!*s || *s == '-' || *s == '+')
        return -1;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s)
        return -1;
    int shift = 0;
    if (*end) {
        switch (*end) {
        case 'k':
        case 'K':
            shift = 10;
            break;
        case 'm':
        case 'M':
            shift = 20;
            break;
        case 'g':
        case 'G':
            shift = 30;
            break;
        case 't':
        case 'T':
            shift = 40;
            break;
        default:
            return -1;
        }
        end++;
        if (*end == 'i' || *end == 'I') /* accept "MiB"-style "Mi" too */
            end++;
        if (*end == 'b' || *end == 'B')
            end++;
        if (*end)
            return -1;
    }
    if (v > ((unsigned long long)INT64_MAX >> shift))
        return -1;
    *out = (int64_t)(v << shift);
    return 0;
}

/* "90", "90s", "30m", "12h", "7d" as seconds. 0 on success. */
static int parse_duration(const char *s, int64_t *out)
{
    char *end;
    errno = 0;
    if (*s < '0' || *s > '9')
        return -1;
    long long v = strtoll(s, &end, 10);
    int64_t unit = 1;
    if (errno || end == s || v > INT32_MAX)
        return -1;
    if (*end) {
        const char *units = "smhd";
        static const int64_t seconds[] = {1, 60, 3600, 86400};
        const char *u = strchr(units, *end);
        if (!u || end[1])
            return -1;
        unit = seconds[u - units];
    }
    *out = v * unit;
    return 0;
}

/* Sets one option from its text. Writes a message into err on failure. */
static int set_opt(srv_config *cfg, const opt *o, const char *val, char *err, size_t errlen)
{
    char *field = (char *)cfg + o->offset;
    switch (o->type) {
    case OPT_STR: {
        char *copy = strdup(val);
        if (!copy) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        free(*(char **)field);
        *(char **)field = copy;
        return 0;
    }
    case OPT_INT:
    case OPT_DURATION:
    case OPT_SIZE: {
        int64_t v;
        char *end;
        if (o->type == OPT_SIZE) {
            if (parse_size(val, &v))
                goto bad;
        } else if (o->type == OPT_DURATION) {
            if (parse_duration(val, &v))
                goto bad;
        } else {
            errno = 0;
            long long l = strtoll(val, &end, 10);
            if (errno || end == val || *end)
                goto bad;
            v = l;
        }
        if (v < o->min || v > o->max) {
            snprintf(err, errlen, "%s must be between %lld and %lld, not %s", o->name,
                     (long long)o->min, (long long)o->max, val);
            return -1;
        }
        if (o->type == OPT_SIZE)
            *(int64_t *)field = v;
        else
            *(int *)field = (int)v;
        return 0;
    }
    case OPT_FLAG: /* yes/no; a bare --flag on the command line means yes */
        if (strcmp(val, "yes") == 0 || strcmp(val, "true") == 0 || strcmp(val, "1") == 0)
            *(int *)field = 1;
        else if (strcmp(val, "no") == 0 || strcmp(val, "false") == 0 || strcmp(val, "0") == 0)
            *(int *)field = 0;
        else
            goto bad;
        return 0;
    case OPT_LEVEL: {
        int l = srv_log_level_parse(val);
        if (l < 0)
            goto bad;
        *(int *)field = l;
        return 0;
    }
    }
bad:
    snprintf(err, errlen, "invalid value for %s: '%s'%s%s", o->name, val,
             o->metavar ? ", expected " : "", o->metavar ? o->metavar : "");
    return -1;
}

/* Sets analysis setting `name` (core/settings.h) from its text. */
static int set_analysis(srv_config *cfg, const char *name, const char *val, char *err,
                        size_t errlen)
{
    rw_error e;
    if (rw_settings_set(&cfg->settings, name, val, &e) == RW_OK)
        return 0;
    snprintf(err, errlen, "%s", e.msg);
    return -1;
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n' || s[n - 1] == '\r'))
        s[--n] = '\0';
    return s;
}

/* Reads `key = value` lines; '#' starts a comment line; a value may be "quoted". */
static int load_file(srv_config *cfg, const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen, "cannot read config file %s: %s", path, strerror(errno));
        return -1;
    }
    char line[4096], msg[512];
    int lineno = 0, rc = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        char *s = trim(line);
        if (!*s || *s == '#')
            continue;
        char *eq = strchr(s, '=');
        if (!eq) {
            snprintf(err, errlen, "%s:%d: expected 'key = value'", path, lineno);
            goto fail;
        }
        *eq = '\0';
        char *key = trim(s), *val = trim(eq + 1);
        size_t vl = strlen(val);
        if (vl >= 2 && val[0] == '"' && val[vl - 1] == '"') {
            val[vl - 1] = '\0';
            val++;
        }
        const opt *o = find_opt(key, strlen(key));
        if (!o && rw_setting_find(key)) {
            if (set_analysis(cfg, key, val, msg, sizeof msg)) {
                snprintf(err, errlen, "%s:%d: %s", path, lineno, msg);
                goto fail;
            }
            continue;
        }
        if (!o) {
            snprintf(err, errlen, "%s:%d: unknown setting '%s'", path, lineno, key);
            goto fail;
        }
        if (set_opt(cfg, o, val, msg, sizeof msg)) {
            snprintf(err, errlen, "%s:%d: %s", path, lineno, msg);
            goto fail;
        }
    }
    if (ferror(f)) {
        snprintf(err, errlen, "cannot read config file %s", path);
        goto fail;
    }
    fclose(f);
    return rc;
fail:
    fclose(f);
    return -1;
}

/* Prints text from column col, wrapped within 100 columns with continuation lines at 27. */
static void print_wrapped(const char *text, int col)
{
    const char *w = text;
    while (*w) {
        const char *e = strchr(w, ' ');
        int len = e ? (int)(e - w) : (int)strlen(w);
        if (col + 1 + len > 100 && col > 27) {
            printf("\n%27s", "");
            col = 27;
        } else if (w != text) {
            putchar(' ');
            col++;
        }
        printf("%.*s", len, w);
        col += len;
        w += len + (e != NULL);
    }
    putchar('\n');
}

/* The analysis settings, from their table (core/settings.h). */
static void print_settings_help(void)
{
    size_t n;
    const rw_setting *t = rw_settings_table(&n);
    printf(
        "\nAnalysis settings (core/settings.c; the same `name = value` lines in the --config\n"
        "file, or --name VALUE with '-' for '_'; every result records those it was made with):\n");
    for (size_t i = 0; i < n; i++) {
        char lhs[80], def[128], text[512];
        int len = snprintf(lhs, sizeof lhs, "--%s %s", t[i].name, t[i].metavar);
        for (int k = 2; k < len && lhs[k] != ' '; k++)
            lhs[k] = lhs[k] == '_' ? '-' : lhs[k];
        rw_setting_format_default(&t[i], def, sizeof def);
        snprintf(text, sizeof text, "%s [default: %s]", t[i].help, def);
        if (len > 24) {
            printf("  %s\n%27s", lhs, "");
            print_wrapped(text, 27);
        } else {
            printf("  %-24s ", lhs);
            print_wrapped(text, 27);
        }
    }
    printf("\n");
}

static void print_help(void)
{
    printf("Usage: relapsewatchd [OPTION]...\n"
           "relapsewatch daemon: REST API and web pages for serial cfDNA 1q21.3 monitoring.\n\n"
           "Options (each may also be given as a `name = value` line in the --config file;\n"
           "command-line flags override the file, which overrides the defaults):\n");
    for (size_t i = 0; i < NOPTS; i++) {
        char lhs[64];
        const opt *o = &opts[i];
        snprintf(lhs, sizeof lhs, "--%s%s%s", o->name, o->metavar ? " " : "",
                 o->metavar ? o->metavar : "");
        const char *def = *o->def ? o->def : "none";
        /* Keep lines within 100 columns: a long default goes on a line of its own. */
        if (27 + strlen(o->help) + 12 + strlen(def) <= 100)
            printf("  %-24s %s [default: %s]\n", lhs, o->help, def);
        else
            printf("  %-24s %s\n  %-24s [default: %s]\n", lhs, o->help, "", def);
    }
    print_settings_help();
    printf("  %-24s %s\n", "--config FILE", "read settings from FILE");
    printf("  %-24s %s\n", "--help", "print this help and exit");
    printf("  %-24s %s\n", "--version", "print the versions and exit");
    printf("\nActions (run instead of serving, with the --db and --data-dir above):\n");
    printf("  %-24s %s\n", "--backup DIR",
           "back up the database and data folder into the new folder DIR and exit");
    printf("  %-24s %s\n", "", "(safe while a daemon serves the same database)");
    printf("  %-24s %s\n", "--restore DIR [--force]",
           "check the backup in DIR and restore it; --force moves a non-empty store aside");
    printf("  %-24s %s\n", "--verify-audit",
           "check the audit trail's hash chain; exit 1 naming the first broken row");
    printf("\nOn first start with an empty token table an admin API token is printed once on\n"
           "standard output, and with no user account the account 'admin' with a random\n"
           "password to change at its first sign-in. SIGTERM or SIGINT shuts down cleanly.\n");
}

static void print_version(void)
{
    int schema = srv_migrations_count > 0 ? srv_migrations[srv_migrations_count - 1].number : 0;
    printf("relapsewatchd %s (core %s, database schema %d)\n", PACKAGE_VERSION, RW_CORE_VERSION,
           schema);
}

/* Splits "--name=value" / "--name value": *o is the daemon option, or NULL for an analysis
 * setting (its name in `setting`). Advances *i past a consumed value. */
static int parse_arg(int argc, char **argv, int *i, const opt **o, const char **val, char *setting,
                     size_t setting_len, char *err, size_t errlen)
{
    const char *a = argv[*i];
    if (strncmp(a, "--", 2) != 0) {
        snprintf(err, errlen, "unexpected argument '%s'", a);
        return -1;
    }
    const char *name = a + 2, *eq = strchr(name, '=');
    size_t len = eq ? (size_t)(eq - name) : strlen(name);
    *o = find_opt(name, len);
    *val = eq ? eq + 1 : NULL;
    snprintf(setting, setting_len, "%.*s", (int)len, name);
    if (!*o && !rw_setting_find(setting)) {
        snprintf(err, errlen, "unknown option '%.*s'", (int)(len + 2), a);
        return -1;
    }
    if (!*val && *o && (*o)->type == OPT_FLAG) {
        *val = "yes";
        return 0;
    }
    if (!*val) {
        if (*i + 1 >= argc) {
            snprintf(err, errlen, "option --%s needs a value", setting);
            return -1;
        }
        *val = argv[++*i];
    }
    return 0;
}

/* The settings of the last successful load (read-only once threads run). */
static rw_settings loaded;
static int have_loaded;
static pthread_once_t defaults_once = PTHREAD_ONCE_INIT;
static rw_settings defaults;

static void init_defaults(void)
{
    rw_settings_init(&defaults);
}

const rw_settings *srv_settings(void)
{
    if (have_loaded)
        return &loaded;
    pthread_once(&defaults_once, init_defaults);
    return &defaults;
}

int srv_config_load(srv_config *cfg, int argc, char **argv)
{
    char err[1024];
    const char *config_file = NULL;
    memset(cfg, 0, sizeof *cfg);
    rw_settings_init(&cfg->settings);
    for (size_t i = 0; i < NOPTS; i++)
        if (set_opt(cfg, &opts[i], opts[i].def, err, sizeof err))
            goto fail; /* a bad default is a bug; say so rather than run with zeros */

    /* First pass: --help, --version and --config, which decide what the others mean. */
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            print_help();
            srv_config_free(cfg);
            return 1;
        }
        if (strcmp(a, "--version") == 0) {
            print_version();
            srv_config_free(cfg);
            return 1;
        }
        if (strcmp(a, "--config") == 0 || strncmp(a, "--config=", 9) == 0) {
            if (a[8] == '=') {
                config_file = a + 9;
            } else if (i + 1 < argc) {
                config_file = argv[++i];
            } else {
                snprintf(err, sizeof err, "option --config needs a value");
                goto fail;
            }
        }
    }
    if (config_file && load_file(cfg, config_file, err, sizeof err))
        goto fail;
    for (int i = 1; i < argc; i++) {
        const opt *o;
        const char *val;
        char setting[64];
        if (strcmp(argv[i], "--config") == 0) {
            i++;
            continue;
        }
        if (strncmp(argv[i], "--config=", 9) == 0)
            continue;
        if (parse_arg(argc, argv, &i, &o, &val, setting, sizeof setting, err, sizeof err) ||
            (o ? set_opt(cfg, o, val, err, sizeof err)
               : set_analysis(cfg, setting, val, err, sizeof err)))
            goto fail;
    }
    rw_error e;
    if (rw_settings_check(&cfg->settings, &e) != RW_OK) {
        snprintf(err, sizeof err, "%s", e.msg);
        goto fail;
    }
    loaded = cfg->settings;
    have_loaded = 1;
    if (!*cfg->db_path || !*cfg->listen || !*cfg->web_root) {
        snprintf(err, sizeof err, "--db, --listen and --web-root must not be empty");
        goto fail;
    }
    if (!*cfg->tls_cert != !*cfg->tls_key) {
        snprintf(err, sizeof err, "--tls-cert and --tls-key go together");
        goto fail;
    }
    cfg->tls_enabled = *cfg->tls_cert != '\0';
    return 0;
fail:
    fprintf(stderr, "relapsewatchd: %s\nTry 'relapsewatchd --help'.\n", err);
    srv_config_free(cfg);
    return -1;
}

void srv_config_free(srv_config *cfg)
{
    if (!cfg)
        return;
    for (size_t i = 0; i < NOPTS; i++) {
        if (opts[i].type == OPT_STR) {
            char **f = (char **)((char *)cfg + opts[i].offset);
            free(*f);
            *f = NULL;
        }
    }
}
