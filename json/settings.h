/* The JSON form of the analysis settings (core/settings.h): the provenance stored with every
 * result and written into the CLI's outputs, and the thresholds the trend API shows per draw.
 * New references, or NULL when out of memory. */
#ifndef RW_JSON_SETTINGS_H
#define RW_JSON_SETTINGS_H

#include <jansson.h>

#include "core/settings.h"

/* Every setting in force, {name: value} in table order: numbers, booleans, and
 * responding_kinds as an array of treatment kinds. */
json_t *rw_settings_json_new(const rw_settings *s);

/* The call thresholds a stored result was made with, read from its stored settings object
 * (`stored`, may be NULL; results stored before the settings table name them z_amplified /
 * z_strong (sWGS) and amplified_lower (ddPCR)), each missing one from `fallback` (the settings
 * in force now): sWGS {z_amplified, z_strong}, ddPCR {ddpcr_cn_amplified, ddpcr_cn_strong},
 * plus "recorded": false when any value came from the fallback. */
json_t *rw_settings_thresholds_json_new(const json_t *stored, int ddpcr,
                                        const rw_settings *fallback);

#endif
