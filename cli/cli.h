/* The relapsewatch command line: one function per subcommand (cli_<name>.c) and the few helpers
 * they share (cli.c). Subcommands return the process exit code: RW_EXIT_OK, RW_EXIT_INPUT (bad
 * input: the message says what and where) or RW_EXIT_USAGE. */
#ifndef RW_CLI_H
#define RW_CLI_H

#include <getopt.h>
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>

#include "core/count.h"
#include "core/settings.h"
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
int rw_cli_settings(int argc, char **argv);

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

/* The counting options that `count`, `pon build` and `call` share, so that a panel and its
 * samples are counted alike: --build, --min-mapq, --count, --frag-min, --frag-max,
 * --drop-flags, --threads, --reference. */
extern const char rw_cli_count_help[];

/* One of a subcommand's own options. A plain one stores its value (or 1) where it points;
 * the others go to the subcommand's apply() with their id. */
typedef struct rw_cli_option {
    const char *name; /* long name without "--"; "output" is also -o */
    int has_arg;      /* required_argument or no_argument */
    int id;           /* for apply(): 'o', or a value from 256 up (below 0x1000) */
    const char **str; /* required_argument: the value is stored here (apply() not called) */
    int *flag;        /* no_argument: set to `value` here (apply() not called) */
    int value;
    double *real; /* required_argument: a number in [lo, hi] is stored here */
    int *integer; /* required_argument: an integer in [lo, hi] is stored here */
    double lo, hi;
} rw_cli_option;

/* One subcommand's command line: its own options and what they set, and which shared option
 * families it takes. rw_cli_parse() builds the getopt_long table from them. */
typedef struct rw_cli_parser {
    const char *cmd;
    const rw_cli_option *options; /* the subcommand's own, ended by a row with name NULL */
    /* Applies own option id (long name `name`) with value arg: RW_EXIT_OK, or an exit code
     * after printing why. May be NULL when every own option is plain. */
    int (*apply)(void *ctx, int id, const char *name, const char *arg);
    void *ctx;
    void (*help)(FILE *out);
    rw_count_opts *count;  /* non-NULL: the counting options above go here */
    rw_settings *settings; /* non-NULL: every analysis setting as --NAME VALUE (core/settings.h),
                              --set NAME=VALUE and --settings FILE, checked together at the end */
} rw_cli_parser;

/* Parses argv[1..] with getopt_long (optind is left at the first operand). RW_EXIT_OK, -1 after
 * --help was printed (exit 0), or the exit code of a usage error (printed). */
int rw_cli_parse(const rw_cli_parser *p, int argc, char **argv);

/* Prints the analysis settings of the given groups or names (core/settings.h; NULL-ended) as help
 * lines "--name METAVAR  help (default X)", then the --set and --settings lines. */
void rw_cli_settings_help(FILE *out, const char *const *groups);

/* The answer to getopt_long's ':' (missing value) or '?' (unknown option) for cmd: prints
 * "option X needs a value (see --help)" or "unknown option X (see --help)" and returns
 * RW_EXIT_USAGE. Needs opterr = 0 and an optstring starting with ':'. */
int rw_cli_getopt_error(const char *cmd, int c, char **argv);

/* --frag-mode MODE, which count, pon build and call take as their own option (the value stored
 * as a string; NULL = not given), against the counting options' --frag-min/--frag-max: *mode =
 * the rw_frag_mode asked for (core/count.h), window when only a window was given, -1 when
 * neither. RW_EXIT_OK, or RW_EXIT_USAGE after printing why. */
int rw_cli_frag_mode(const char *cmd, const char *arg, const rw_count_opts *co, int *mode);

/* A sample counted for panel p follows the panel's fragment mode (core/count.h
 * rw_count_frag_follow: its weights into w, RW_FRAG_HIST_MAX + 1 doubles) unless mode is all or
 * window (a panel counted otherwise then refuses the sample). RW_EXIT_OK, or the exit code after
 * printing why (weighted asked of a panel that is not). */
int rw_cli_frag_panel(const char *cmd, int mode, rw_count_opts *co, const rw_pon *p, double *w);

/* A rw_progress_fn that draws "label: NN%" on stderr when stderr is a terminal (ctx = label). */
void rw_cli_progress(void *ctx, double fraction);

#endif
