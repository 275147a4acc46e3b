/* relapsewatch settings: the table of analysis settings (core/settings.h) with defaults, ranges,
 * units, meaning and source, as text or as the Markdown table of docs/configuration.md. */
#include "cli/cli.h"

#include <string.h>

#define CMD "settings"

static void help(FILE *out)
{
    fputs("usage: relapsewatch settings [--markdown] [--set NAME=VALUE]... [--settings FILE]\n"
          "\n"
          "Lists every analysis setting: its name (the key of a settings or config file, and\n"
          "of the `settings` object recorded in every result), group, value, range, unit,\n"
          "meaning and the section of docs/method.md that argues its default. The value is the\n"
          "default unless --set/--settings change it, so a settings file can be checked here.\n"
          "The analysis commands (call, pon build, ddpcr, trend) take each setting as a flag\n"
          "--NAME VALUE (with '-' for '_'); the daemon reads the same names.\n"
          "\n"
          "options:\n"
          "      --markdown             a Markdown table (docs/configuration.md)\n"
          "  -h, --help                 this help\n"
          "\n"
          "exit codes: 0 ok, 2 usage\n",
          out);
}

static void range_text(const rw_setting *d, char *buf, size_t n)
{
    switch (d->type) {
    case RW_SETTING_BOOL:
        snprintf(buf, n, "true, false");
        break;
    case RW_SETTING_KINDS:
        snprintf(buf, n, "treatment kinds");
        break;
    case RW_SETTING_REAL:
        snprintf(buf, n, "%g to %g", d->min, d->max);
        break;
    default:
        snprintf(buf, n, "%.0f to %.0f", d->min, d->max);
    }
}

static void print_table(const rw_settings *s, int markdown)
{
    size_t n;
    const rw_setting *t = rw_settings_table(&n);
    if (markdown)
        printf("| setting | group | default | range | unit | meaning | source |\n"
               "|---|---|---|---|---|---|---|\n");
    for (size_t i = 0; i < n; i++) {
        char value[128], range[64];
        rw_setting_format(s, &t[i], value, sizeof value);
        range_text(&t[i], range, sizeof range);
        if (markdown)
            printf("| `%s` | %s | %s | %s | %s | %s | %s |\n", t[i].name, t[i].group, value, range,
                   t[i].unit, t[i].help, t[i].source);
        else
            printf("%s\t%s\t%s\t%s\t%s\t%s\t%s\n", t[i].name, t[i].group, value, range, t[i].unit,
                   t[i].help, t[i].source);
    }
}

int rw_cli_settings(int argc, char **argv)
{
    int markdown = 0;
    rw_settings set;
    rw_settings_init(&set);
    const rw_cli_option own[] = {
        {.name = "markdown", .has_arg = no_argument, .flag = &markdown, .value = 1},
        {.name = NULL},
    };
    int rc = rw_cli_parse(&(rw_cli_parser){CMD, own, NULL, NULL, help, NULL, &set}, argc, argv);
    if (rc != RW_EXIT_OK)
        return rc < 0 ? RW_EXIT_OK : rc;
    if (optind != argc)
        return rw_cli_fail(CMD, RW_ERR_USAGE, "unexpected argument '%s'", argv[optind]);
    print_table(&set, markdown);
    return fflush(stdout) ? rw_cli_fail(CMD, RW_ERR_IO, "cannot write to stdout") : RW_EXIT_OK;
}
