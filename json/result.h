/* The JSON form of the core's per-sample results, written once for the CLI (`relapsewatch call`,
 * `ddpcr`, `count --qc`), the daemon's stored results and the API (docs/api-monitoring.md names
 * every key). Every function returns a new reference, or NULL when out of memory; a number
 * that cannot be computed is null. */
#ifndef RW_JSON_RESULT_H
#define RW_JSON_RESULT_H

#include <jansson.h>

#include "core/analyse.h"
#include "core/count.h"
#include "core/ddpcr.h"

/* One region's score: {name, chrom, start, end, n_region_bins, n_bins, mean_log2, se, sigma,
 * inflation, pon_mean, pon_sd, z, ratio, ratio_low, ratio_high, call, strong, threshold,
 * tumour_fraction}
 * with tumour_fraction {estimate, low, high, primary_cn} (tumour-informed) or null. */
json_t *rw_region_json_new(const rw_region_score *g);
/* The regions of a result, in order. */
json_t *rw_regions_json_new(const rw_result *r);
/* [{chrom, arm ("p"/"q"), start, end, n_bins, mean, call}] */
json_t *rw_segments_json_new(const rw_segments *s);
/* The counting QC: {format, reads_seen, reads_kept, dropped {reason: n}, duplicate_rate,
 * frag_median}. */
json_t *rw_count_qc_json_new(const rw_count_qc *c);
/* The analysis QC: {median_reads_per_bin, mad_log2, noise_sd, n_bins, n_masked, n_used,
 * gc_corrected, n_components, pon_n_normals, pon_low_normals}. */
json_t *rw_result_qc_json_new(const rw_result_qc *q);
/* Both in one object (counted NULL: the analysis QC only, e.g. a bins file). */
json_t *rw_qc_json_new(const rw_count_qc *counted, const rw_result_qc *q);
/* The tumour fraction: the genome-wide fit {estimate, low, high, method, flag (null when ok),
 * ploidy, n_segments, tumour_informed {estimate, low, high, primary_cn} or null}; without a fit
 * the tumour-informed estimate alone (method "tumour-informed ...", flag null); else null. */
json_t *rw_tumour_fraction_json_new(const rw_result *r);
/* Columnar per-bin data {chrom, start, end, count, corrected, depth, log2, mask} (the CLI). */
json_t *rw_result_bins_json_new(const rw_result *r);

/* The 1q21.3 answer of any assay, as the CLI's top level and the API's `call` show it:
 * {ratio, ratio_low, ratio_high, log2_ratio, se, cv, z, call, strong, quality}; quality is null
 * unless the call is insufficient_quality: then {code ("low_depth", "genomic_waves"), reason (a
 * sentence), band_sd, count_sd, limit, window} (core/score.h rw_score_quality). */
typedef struct rw_call_summary {
    double ratio, ratio_low, ratio_high; /* copy ratio R of 1q21.3 and its interval */
    double log2_ratio, se;               /* sWGS: mean log2 ratio and its SE; ddPCR log2 R, NaN */
    double cv;                           /* analytical CV of R (log-normal) */
    double z;                            /* sWGS z-score; NaN for ddPCR */
    const char *call; /* "amplified", "not_detected", "no_data" or "insufficient_quality" */
    int strong;
    const rw_score_quality *quality; /* sWGS no-call insufficient_quality: why (borrowed from the
                                        result); NULL otherwise */
} rw_call_summary;
/* From an sWGS result (its primary region) or a ddPCR result (R = CN / 2; with no target
 * positive R = 0 with the one-sided upper bound). */
void rw_call_summary_swgs(const rw_result *r, rw_call_summary *c);
void rw_call_summary_ddpcr(const rw_ddpcr_result *r, rw_call_summary *c);
json_t *rw_call_summary_json_new(const rw_call_summary *c);

/* A ddPCR result: {cn, cn_low, cn_high, cv, n_wells, droplets, target_positive,
 * reference_positive, lambda_target, lambda_reference, conc_target, conc_reference,
 * droplet_volume_nl, threshold, amplified, flags [low_target_positive, low_target_negative,
 * low_reference_positive, low_reference_negative, no_target]}. */
json_t *rw_ddpcr_json_new(const rw_ddpcr_result *r);

#endif
