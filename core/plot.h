/* Genome-wide copy-number plot as a standalone SVG (no external resources, no script): bins as
 * points, segments as lines, chromosome boundaries and labels, the 1q21.3 band highlighted, a
 * log2-ratio axis with gridlines, a title and a legend. Plain arrays in; the output is
 * deterministic (same input, same bytes). */
#ifndef RW_PLOT_H
#define RW_PLOT_H

#include <stddef.h>
#include <stdint.h>

#include "core/genome.h"
#include "core/status.h"

typedef struct rw_plot_opts {
    int width, height; /* whole picture in px (default 1400 x 460) */
    int margin_left;   /* plot area = picture minus these margins (defaults 64, 16, */
    int margin_right;  /* 48, 56): room for the title, axis labels and legend */
    int margin_top;
    int margin_bottom;
    double ymin, ymax;     /* log2 range shown (default -2 .. 2); points beyond sit on the
                            * edge, drawn as triangles pointing out */
    double grid_step;      /* y gridline spacing (default 0.5) */
    int show_masked;       /* 1: masked bins drawn faint; 0 (default): omitted */
    int include_y;         /* 1: chrY gets its own slot; 0 (default): only if a bin is on Y */
    const char *title;     /* borrowed; NULL = "relapsewatch copy-number profile" */
    const char *highlight; /* region of genome.h to shade (default "1q21.3"; NULL = none) */
} rw_plot_opts;

/* Sets every default above. */
void rw_plot_opts_init(rw_plot_opts *o);

/* Per-bin data: n bins, chromosome index (genome.h; other values skipped), 0-based start and
 * end, log2 ratio (NaN = no value, not drawn) and mask (NULL = none masked). All borrowed. */
typedef struct rw_plot_bins {
    size_t n;
    const int *chrom;
    const int64_t *start;
    const int64_t *end;
    const double *log2;
    const unsigned char *mask;
} rw_plot_bins;

/* Segments: n segments with chromosome, start, end, mean log2 ratio. All borrowed. */
typedef struct rw_plot_segments {
    size_t n;
    const int *chrom;
    const int64_t *start;
    const int64_t *end;
    const double *mean;
} rw_plot_segments;

/* What the SVG holds, exactly (so that callers and tests can rely on it):
 * - one <circle class="bin"> per drawn bin inside the y range, one <path class="bin-out"> per
 *   bin beyond it; masked bins only with show_masked, as <circle class="masked">;
 * - one <line class="seg"> per segment on a drawn chromosome with a finite mean;
 * - one <text class="chrom"> per chromosome slot (23, or 24 with chrY);
 * - one <rect class="region"> for the highlighted region, x and width as rw_plot_x() gives them.
 * Renders into a new NUL-terminated string in *out (free()). segs may be NULL. */
rw_status rw_plot_genome_svg_string(rw_build build, const rw_plot_opts *o, const rw_plot_bins *bins,
                                    const rw_plot_segments *segs, char **out, rw_error *err)
    __attribute__((warn_unused_result));

/* The same, written to path atomically (path.tmp.PID, then rename()). */
rw_status rw_plot_genome_svg(const char *path, rw_build build, const rw_plot_opts *o,
                             const rw_plot_bins *bins, const rw_plot_segments *segs, rw_error *err)
    __attribute__((warn_unused_result));

/* x in px of position pos on chromosome chrom: chromosomes laid end to end (chr1 first) over
 * the plot area, each as long as in the build; nchrom = 23 or 24. NaN for a bad chromosome or
 * an unknown build. */
double rw_plot_x(rw_build build, const rw_plot_opts *o, int nchrom, int chrom, int64_t pos);

#endif
