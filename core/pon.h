/* Panel of normals (PoN): the per-bin expected depth of healthy cfDNA, its spread, the bins not to
 * trust, and the spread of each region score across the normals, so that a sample's 1q21.3 score
 * can be read as a z-score. A rw_pon is owned by its creator; free with rw_pon_free().
 *
 * BUILD (rw_pon_build), from >= min_normals normals of one bins layout:
 * 0. With GC fractions (rw_pon_opts.gc), each normal is GC-corrected first (core/gc.h).
 * 1. Each normal is median-normalised: divided by the median of its finite, non-zero autosomal
 *    bin counts (chrX/chrY are left out so that the scale does not depend on sex).
 * 2. Per bin, over the normals with a finite value: the median normalised depth and the MAD
 *    (median absolute deviation, unscaled) of the normalised depths.
 * 3. Mask (a bit set per bin, RW_PON_MASK_*): bins overlapping a mask region of core/genome.h
 *    (centromere + heterochromatin, any overlap); bins with fewer than min_normals finite values;
 *    low coverage (median < min_median); high spread, measured as the robust CV
 *    1.4826 * MAD / median: above max_cv, or above max_cv_factor times the median robust CV of
 *    the bins not otherwise masked (so the rule adapts to the depth of the panel).
 * 4. Region statistics, leave-one-out: each normal j is scored exactly like a sample
 *    (core/score.h: log2 ratios, region means) against the per-bin median of the OTHER normals,
 *    with the panel's mask; per non-mask region the mean and SD (n - 1) of those scores are kept.
 *    A normal scored against itself would look falsely quiet; against the others it carries the
 *    noise of a real sample (slightly more, as the reference has n - 1 normals: conservative).
 * 5. Components (core/denoise.h, format version 2): the normals' leave-one-out log2 ratios give
 *    the panel's principal components (at most max_components, those above component_ratio times
 *    the median eigenvalue), which every sample's log2 ratios are cleaned of. The region
 *    statistics of step 4 go through the same chain: normal j is cleaned with the components of
 *    the OTHER normals, so the spread is that of held-apart normals after every correction.
 *
 * FILE (rw_pon_write / rw_pon_read): a versioned text file, written atomically, e.g.
 *   #relapsewatch-pon<TAB>version=2
 *   #id<TAB>pon-hg38-500kb-n10-1a2b3c4d
 *   #build<TAB>hg38
 *   #bin_size<TAB>500000
 *   #include_y<TAB>0
 *   #filters<TAB>mapq=20;flags=0xF04;mode=fragments;frag=0-0
 *   #n_normals<TAB>10
 *   #low_normals<TAB>0                 (1 when fewer than the recommended number of normals)
 *   #core_version<TAB>0.1.0
 *   #options<TAB>min_median=0.2;max_cv=0.5;max_cv_factor=3
 *   #components<TAB>K                  (version 2; 0 = no component)
 *   #frag_hist<TAB>n0,n1,...,n1000     (optional: the normals' fragment lengths 0-1000 bp)
 *   #region<TAB>name<TAB>n_bins<TAB>loo_mean<TAB>loo_sd<TAB>n_scored   (one line per region)
 *   chrom<TAB>start<TAB>end<TAB>median<TAB>mad<TAB>mask<TAB>gc[<TAB>pc1 ... pcK]
 *   chr1<TAB>0<TAB>500000<TAB>...                                     (one line per bin, in order)
 *   #checksum<TAB>fnv1a64=<16 hex digits>
 * The checksum is FNV-1a (64 bit) over every byte before the checksum line; a file whose
 * checksum does not match is rejected (RW_ERR_INPUT). The default id is derived from the
 * content, so two identical panels have the same id.
 * OLD PANELS: a version-1 file (relapsewatch before issue 10) still loads, as a panel without
 * components: its samples get the old chain (GC correction when it has GC, no tangent
 * normalisation), which its stored leave-one-out spread describes; the calibrated z of
 * core/score.h applies to it too (it needs only n_scored). Rebuild it to gain the components. */
#ifndef RW_PON_H
#define RW_PON_H

#include <stddef.h>
#include <stdint.h>

#include "core/bins.h"
#include "core/count.h"
#include "core/status.h"

#define RW_PON_FORMAT_VERSION 2
#define RW_PON_MAX_COMPONENTS 20 /* upper bound of max_components */

/* Mask bits of a bin; 0 = usable. */
#define RW_PON_MASK_REGION 1u  /* overlaps a mask region of core/genome.h */
#define RW_PON_MASK_NODATA 2u  /* fewer than min_normals normals have a value */
#define RW_PON_MASK_LOW    4u  /* low coverage in the normals */
#define RW_PON_MASK_SPREAD 8u  /* high spread across the normals */
#define RW_PON_MASK_GC     16u /* reserved for the GC module: extreme GC or too many N */

typedef struct rw_pon_opts {
    int min_normals;         /* fewer normals is an error (default 5) */
    int recommended_normals; /* fewer sets rw_pon.low_normals, a warning (default 10) */
    double min_median;       /* mask bins whose median normalised depth is below (default 0.2) */
    double max_cv;           /* mask bins whose robust CV across normals is above (default 0.5) */
    double max_cv_factor;    /* ... or above this times the median robust CV (default 3.0) */
    const char *filters;     /* counting filters of the normals (borrowed; see rw_count_filters());
                                NULL = those of rw_count_opts_init() */
    const char *id;          /* the panel's id (borrowed); NULL = derived from the content */
    int max_components;      /* at most this many principal components (default 5; 0 = none) */
    double component_ratio;  /* keep a component whose eigenvalue exceeds this times the median
                                eigenvalue (default 1.5) */
    const double *gc;        /* GC fraction of each bin (borrowed, n values; NaN = unknown) or NULL
                                (default): when given, every normal is GC-corrected (rw_gc_correct,
                                core/gc.h defaults) before step 1, bins whose GC is unknown or outside
                                the GC module's [gc_min, gc_max] are masked (RW_PON_MASK_GC), and the
                                values are kept in the panel so that each sample is corrected alike */
    const double *frag_hist; /* the normals' summed fragment-length histogram (borrowed; lengths
                                0..RW_FRAG_HIST_MAX, core/count.h) or NULL (default): kept in the
                                panel, the normal side of weighted counting (rw_frag_weights) */
    int frag_weighted;       /* setting pon_frag_weighted (default 1): `pon build` counts
                                paired-end normals in weighted mode (core/count.h); read by the
                                callers that count the normals, not by rw_pon_build */
} rw_pon_opts;

/* Sets every default above. */
void rw_pon_opts_init(rw_pon_opts *o);

/* Spread of one region's score across the normals (leave-one-out). */
typedef struct rw_pon_region {
    char name[32];
    int n_bins;      /* unmasked bins of the region */
    double loo_mean; /* mean leave-one-out score of the normals (log2 ratio) */
    double loo_sd;   /* their SD; NaN with fewer than 3 scored normals */
    int n_scored;    /* normals with a finite score */
} rw_pon_region;

typedef struct rw_pon {
    char id[80];
    char filters[256]; /* counting filters, compared verbatim with a sample's */
    char options[128]; /* the build options, for the record */
    char core_version[16];
    int n_normals;
    int low_normals; /* 1 when n_normals < recommended_normals */
    rw_bins *median; /* layout + per-bin median normalised depth (NaN when no data) */
    double *mad;     /* n: per-bin MAD of normalised depth across normals (unscaled) */
    uint8_t *mask;   /* n: RW_PON_MASK_* bits */
    double *gc;      /* n: GC fraction per bin, NaN when unknown (all NaN: built without GC) */
    size_t n_regions;
    rw_pon_region *regions;
    int n_components;  /* K principal components (core/denoise.h); 0 = none (version-1 files) */
    double *pc;        /* K * n loadings, component after component; NULL when K = 0 */
    double *frag_hist; /* RW_FRAG_HIST_MAX + 1 values: the normals' fragment lengths (#frag_hist);
                          NULL when not recorded. A panel counted in weighted mode (filters
                          frag=weighted:<id>) weighs its samples with rw_frag_weights of it */
} rw_pon;

/* Builds a panel from n normals (borrowed; same layout). *out is new (free with rw_pon_free()).
 * o may be NULL (defaults). Errors: RW_ERR_INPUT (fewer than min_normals, a normal with no
 * reads), RW_ERR_MISMATCH (layouts differ), RW_ERR_USAGE (bad options), RW_ERR_NOMEM. */
rw_status rw_pon_build(rw_bins *const *normals, size_t n, const rw_pon_opts *o, rw_pon **out,
                       rw_error *err) __attribute__((warn_unused_result));

/* A panel without normals, for samples with none at their layout (e.g. ichorCNA's 1 Mb GRCh37
 * WIGs): the sample is then normalised by GC correction alone (gc: the bins' GC fractions, kept
 * as a GC panel's), every bin's expected depth is 1, bins are masked where GC is unknown or out of
 * range, inside the mask regions, and (map may be NULL) where mappability < map_min; no normals
 * and no region statistics, so region z-scores and calls are no_data: only the profile, its
 * segments and the genome-wide tumour fraction are read. filters: the samples' ("" for WIGs). */
rw_status rw_pon_flat(const rw_bins *layout, const double *gc, const double *map, double map_min,
                      const char *filters, rw_pon **out, rw_error *err)
    __attribute__((warn_unused_result));

/* NULL-safe. */
void rw_pon_free(rw_pon *p);

/* Writes atomically (path.tmp.PID then rename): no partial file is ever visible. */
rw_status rw_pon_write(const rw_pon *p, const char *path, rw_error *err)
    __attribute__((warn_unused_result));

/* Reads and verifies (format, version, checksum, layout). *out is new (free with rw_pon_free()).
 * RW_ERR_INPUT for anything malformed or a checksum mismatch, RW_ERR_IO when unreadable. */
rw_status rw_pon_read(const char *path, rw_pon **out, rw_error *err)
    __attribute__((warn_unused_result));

/* May a sample with this layout, counted with these filters, be compared with p? RW_OK, or
 * RW_ERR_MISMATCH with a message naming what differs (build, bin size, chrY, filters). */
rw_status rw_pon_check(const rw_pon *p, const rw_bins *sample, const char *filters, rw_error *err)
    __attribute__((warn_unused_result));

/* The region statistics called name, or NULL. Borrowed from p. */
const rw_pon_region *rw_pon_region_find(const rw_pon *p, const char *name);

/* Same as rw_count_filters() (core/count.h), which core code calls: kept because the daemon
 * (server/pipeline.c) calls it under this name. A sample and its PoN must have the same string. */
char *rw_pon_filters(const rw_count_opts *o, char *buf, size_t n);

/* 1 when the panel was built with GC fractions (its samples are GC-corrected too). */
int rw_pon_has_gc(const rw_pon *p);

/* Number of usable (unmasked) bins. */
size_t rw_pon_usable(const rw_pon *p);

#endif
