/* The relapsewatch command line: one function per subcommand (cli_<name>.c) and the few helpers
 * they share (cli.c). Subcommands return the process exit code: RW_EXIT_OK, RW_EXIT_INPUT (bad
 * input: the message says what and where) or RW_EXIT_USAGE. */
#ifndef RW_CLI_H
#define RW_CLI_H

#include <getopt.h>
#include <jansson.h>
#include <stdint.h>

#include "core/count.h"
#include "core/status.h"

#define RW_EXIT_OK    0
#define RW_EXIT_INPUT 1
#define RW_EXIT_USAGE 2

int rw_cli_count(int argc, char **argv);
int rw_cli_pon(int argc, char **argv);
int rw_cli_call(int argc, char **argv);
int rw_cli_ddpcr(int argc, char **argv);
int rw_cli_simulate(int argc, char **argv);
int rw_cli_plot(int argc, char **argv);
int rw_cli_trend(int argc, char **argv);
int rw_cli_segment(int argc, char **argv);

/* Prints "relapsewatch <cmd>: <message>" on stderr and returns the exit code for st
 * (RW_EXIT_USAGE for RW_ERR_USAGE, RW_EXIT_INPUT otherwise). */
int rw_cli_fail(const char *cmd, rw_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Adds "schema_version" and "core_version" to doc and writes it to path ("-" = stdout),
 * atomically (temp file + rename). Steals doc. 0 on success, else prints the error and
 * returns RW_EXIT_INPUT. */
int rw_cli_write_json(const char *cmd, json_t *doc, const char *path);

/* Parses all of s as a whole number in [lo, hi]: base 10, or base 0 for C prefixes (0x hex,
 * 0 octal; the PoN and call options, whose --drop-flags is hex). 0 on success, -1 otherwise. */
int rw_cli_parse_long(const char *s, int base, long lo, long hi, long *out);

/* Parses all of s as a finite number in [lo, hi] (pass -INFINITY, INFINITY for any finite
 * number). 0 on success, -1 otherwise (also on overflow and underflow). */
int rw_cli_parse_double(const char *s, double lo, double hi, double *out);

/* One option's value checked at once: parses arg into *out and returns RW_EXIT_OK, or prints
 * "--opt: 'arg' is not a number in [lo, hi]" (an integer in lo..hi; a whole number >= 0 for a
 * seed) and returns RW_EXIT_USAGE. opt is the option's long name without "--". */
int rw_cli_opt_double(const char *cmd, const char *opt, const char *arg, double lo, double hi,
                      double *out);
int rw_cli_opt_long(const char *cmd, const char *opt, const char *arg, long lo, long hi, long *out);
int rw_cli_opt_seed(const char *cmd, const char *opt, const char *arg, uint64_t *out);

/* A new JSON real, or JSON null when x is NaN or infinite (JSON has no such numbers). */
json_t *rw_cli_json_num(double x);

/* The counting options that `pon build` and `call` share, so that a panel and its samples are
 * counted alike: getopt_long values, the rows to put in a subcommand's option table (its own
 * values must stay below RW_CLI_OPT_BUILD), and the function that applies them. */
enum {
    RW_CLI_OPT_BUILD = 0x1000,
    RW_CLI_OPT_MIN_MAPQ,
    RW_CLI_OPT_COUNT,
    RW_CLI_OPT_FRAG_MIN,
    RW_CLI_OPT_FRAG_MAX,
    RW_CLI_OPT_DROP_FLAGS,
    RW_CLI_OPT_THREADS,
    RW_CLI_OPT_REFERENCE,
};
/* clang-format off */
#define RW_CLI_COUNT_OPTIONS                                                                       \
    {"build", required_argument, NULL, RW_CLI_OPT_BUILD},                                          \
    {"min-mapq", required_argument, NULL, RW_CLI_OPT_MIN_MAPQ},                                    \
    {"count", required_argument, NULL, RW_CLI_OPT_COUNT},                                          \
    {"frag-min", required_argument, NULL, RW_CLI_OPT_FRAG_MIN},                                    \
    {"frag-max", required_argument, NULL, RW_CLI_OPT_FRAG_MAX},                                    \
    {"drop-flags", required_argument, NULL, RW_CLI_OPT_DROP_FLAGS},                                \
    {"threads", required_argument, NULL, RW_CLI_OPT_THREADS},                                      \
    {"reference", required_argument, NULL, RW_CLI_OPT_REFERENCE}
/* clang-format on */

/* Applies counting option c (an RW_CLI_OPT_* value) with value arg (borrowed: co may keep it) to
 * co. RW_EXIT_OK, RW_EXIT_USAGE after printing why, or -1 when c is not a counting option. */
int rw_cli_count_option(const char *cmd, int c, const char *arg, rw_count_opts *co);

/* The answer to getopt_long's ':' (missing value) or '?' (unknown option) for cmd: prints
 * "option X needs a value (see --help)" or "unknown option X (see --help)" and returns
 * RW_EXIT_USAGE. Needs opterr = 0 and an optstring starting with ':'. */
int rw_cli_getopt_error(const char *cmd, int c, char **argv);

/* A rw_progress_fn that draws "label: NN%" on stderr when stderr is a terminal (ctx = label). */
void rw_cli_progress(void *ctx, double fraction);

#endif
