/* Analysis settings: ONE table of every threshold, RCV parameter, quality gate and panel-masking
 * limit of the analysis, with its default, range, unit, help text and the section of
 * docs/method.md it comes from. The option structs' init functions (rw_score_opts_init,
 * rw_ddpcr_opts_init, rw_trend_config_init, rw_pon_opts_init, rw_purity_opts_init,
 * rw_segment_opts_init) take their defaults from it, and the CLI flags, the daemon's
 * configuration, --help, docs/configuration.md and the provenance stored with every result are
 * generated from it, so none of them can disagree.
 *
 * A setting has one name (snake_case: the config-file key, `--set NAME=VALUE`, the JSON key of
 * the provenance); its flag is `--` + the name with '-' for '_'. One setting may feed two
 * structs (z_amplified is the call threshold of the score and the derived call of the trend
 * engine), so the two can never differ. Pure: no JSON, no I/O but the settings file reader. */
#ifndef RW_SETTINGS_H
#define RW_SETTINGS_H

#include <stddef.h>

#include "core/analyse.h"
#include "core/ddpcr.h"
#include "core/pon.h"
#include "core/status.h"
#include "core/trend.h"

/* Every analysis setting in force. Fields not in the table keep their init defaults. */
typedef struct rw_settings {
    rw_analyse_opts analyse; /* score (call), seg (segment calls), purity (quality gates) */
    rw_ddpcr_opts ddpcr;
    rw_trend_config trend;
    rw_pon_opts pon; /* panel size and masking (pon build) */
} rw_settings;

typedef enum rw_setting_type {
    RW_SETTING_REAL = 0, /* double */
    RW_SETTING_INT,      /* int */
    RW_SETTING_COUNT,    /* uint64_t */
    RW_SETTING_BOOL,     /* int 0/1; text true/false, on/off, yes/no, 1/0 */
    RW_SETTING_KINDS     /* unsigned RW_TREAT_BIT() mask; text: comma-separated treatment kinds */
} rw_setting_type;

/* The struct a setting writes to (its own defaults come from the table: see
 * rw_settings_defaults()). */
typedef enum rw_settings_struct {
    RW_SET_NONE = 0,
    RW_SET_SCORE,   /* rw_score_opts */
    RW_SET_SEGMENT, /* rw_segment_opts */
    RW_SET_PURITY,  /* rw_purity_opts */
    RW_SET_DDPCR,   /* rw_ddpcr_opts */
    RW_SET_TREND,   /* rw_trend_config */
    RW_SET_PON      /* rw_pon_opts */
} rw_settings_struct;

typedef struct rw_setting_target {
    rw_settings_struct in;
    size_t offset; /* of the field in that struct */
} rw_setting_target;

typedef struct rw_setting {
    const char *name;  /* snake_case */
    const char *alias; /* an older CLI flag name still accepted (without "--"), or NULL */
    const char *group; /* "call", "ddpcr", "monitoring", "quality", "masking" */
    rw_setting_type type;
    rw_setting_target to[2]; /* where the value goes; to[1].in = RW_SET_NONE when one place */
    double def, min, max;    /* default and inclusive range (KINDS: bit masks) */
    const char *metavar;     /* for --help: Z, CN, FRACTION, N, BOOL, KINDS, ... */
    const char *unit;        /* "" when unitless */
    const char *help;        /* one line, no default (printed from def) */
    const char *source;      /* where the value is argued: "docs/method.md §4" */
} rw_setting;

/* The table: *n entries, in the order --help and the docs list them. */
const rw_setting *rw_settings_table(size_t *n);

/* The setting called name (snake_case, or its flag spelling with '-', or its alias); NULL when
 * unknown. */
const rw_setting *rw_setting_find(const char *name);

/* Writes the table's default of every setting that goes into struct `in` at obj (one of the
 * structs above). The structs' init functions call it; fields outside the table are theirs. */
void rw_settings_defaults(rw_settings_struct in, void *obj);

/* Every struct at its defaults. */
void rw_settings_init(rw_settings *s);

/* Sets one setting from its text, range-checked. RW_ERR_USAGE with a message naming the setting
 * and its range ("z_amplified: '0' is not a number in [0.1, 100]"), also for an unknown name. */
rw_status rw_settings_set(rw_settings *s, const char *name, const char *value, rw_error *err)
    __attribute__((warn_unused_result));

/* Sets "NAME=VALUE" (the form of --set). */
rw_status rw_settings_set_pair(rw_settings *s, const char *pair, rw_error *err)
    __attribute__((warn_unused_result));

/* Reads a settings file: one `name = value` per line, '#' comment lines, blank lines; a value
 * may be "quoted". Errors name the file and line. */
rw_status rw_settings_read_file(rw_settings *s, const char *path, rw_error *err)
    __attribute__((warn_unused_result));

/* The settings that must agree with each other (z_strong >= z_amplified, ddpcr_cn_strong >=
 * ddpcr_cn_amplified, seg_loss_below < seg_gain_above < seg_amp_above, tf_detection_limit <=
 * tf_caution_limit, pon_min_normals <= pon_recommended_normals, the trend engine's own check).
 * RW_ERR_USAGE naming them. */
rw_status rw_settings_check(const rw_settings *s, rw_error *err)
    __attribute__((warn_unused_result));

/* The value of d in s: as a number (BOOL 0/1, KINDS the bit mask) and as text (the form
 * rw_settings_set reads back; "%g" for reals). */
double rw_setting_value(const rw_settings *s, const rw_setting *d);
void rw_setting_format(const rw_settings *s, const rw_setting *d, char *buf, size_t n);
/* The default as text. */
void rw_setting_format_default(const rw_setting *d, char *buf, size_t n);

/* 1 when every setting of s equals its default. */
int rw_settings_are_default(const rw_settings *s);

#endif
