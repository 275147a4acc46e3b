/* JSON form of the longitudinal engine's structs (core/trend.h), shared by `relapsewatch trend`
 * and the daemon so that both write the same evidence. Not part of libcore (the core knows no
 * JSON): compiled into the CLI and the server. Every function returns a new reference, or NULL
 * when out of memory. */
#ifndef RW_TREND_JSON_H
#define RW_TREND_JSON_H

#include <jansson.h>

#include "core/trend.h"

/* The thresholds and switches of an engine configuration, named as in the settings table
 * (core/settings.h): z_amplified, ddpcr_cn_amplified, cv_within_person, ... */
json_t *rw_trend_config_json_new(const rw_trend_config *c);
/* One draw as the engine read it: id, date, day, assay, ratio, cv, z, calls, on_chemotherapy,
 * panel_id, se_log2, skipped (a no-call, with no_call_reason; or retracted), retracted, and its
 * z against the personal baseline (z_personal, personal_reference, personal_sd, personal_draws). */
json_t *rw_trend_point_json_new(const rw_trend_point *p);
/* The evidence of one rule met: rule, reference, thresholds, draws with role, RCV and limit. */
json_t *rw_trend_evidence_json_new(const rw_trend_evidence *ev);

#endif
