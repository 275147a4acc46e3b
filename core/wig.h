/* HMMcopy WIG files: the read counts (`readCounter`) and the GC and mappability tracks
 * (`gcCounter`, `mapCounter`) that ichorCNA users already have, read into the core's bins.
 *
 * Format (UCSC fixedStep, as HMMcopy writes it):
 *   fixedStep chrom=1 start=1 step=1000000 span=1000000
 *   435
 *   1122
 *   ...
 * one value per bin from the chromosome's start, a block per chromosome. Chromosome names with or
 * without "chr"; `track` lines, `#` comments and blank lines are skipped; contigs other than
 * chr1-22, X and Y (MT, GL..., alt contigs: readCounter writes every contig of the BAM) are
 * skipped; chrY is read but left out of the bins (relapsewatch's default layout: chr1-22 and X).
 *
 * A WIG names no build: it is inferred from the number of bins of every chromosome
 * (ceil(length / step), the tiling HMMcopy writes). hg19 and hg38 give most chromosomes different
 * numbers (chr1 at 1 Mb: 250 and 249), so a whole-genome file tells them apart. A file that fits
 * neither (truncated, another build) or both (too few chromosomes, e.g. chr11 alone at 1 Mb) is
 * refused with a message saying which. */
#ifndef RW_WIG_H
#define RW_WIG_H

#include "core/bins.h"
#include "core/status.h"

/* Does path look like a WIG file (its first line that is not blank, `#` or `track` starts with
 * fixedStep or variableStep)? 1 yes, 0 no, -1 when it cannot be opened. */
int rw_wig_sniff(const char *path);

/* Reads an HMMcopy read-count WIG into new bins (*out, free with rw_bins_free()): build inferred,
 * bin_size = step, counts of bins absent from the file NaN, filters "" (unknown: a WIG does not
 * say how it was counted). Counts must be finite and >= 0. */
rw_status rw_wig_read_bins(const char *path, rw_bins **out, rw_error *err)
    __attribute__((warn_unused_result));

/* Reads a GC or mappability WIG (fractions in [0, 1]; negative, HMMcopy's -1, = unknown) for the
 * bins layout of `layout`: values[layout->n] receives each bin's value, NaN where unknown or
 * absent. The track's step must be the layout's bin size and its chromosome extents must fit the
 * layout's build (RW_ERR_MISMATCH otherwise). A value above 1 (a percentage?) is an error. */
rw_status rw_wig_read_track(const char *path, const rw_bins *layout, double *values, rw_error *err)
    __attribute__((warn_unused_result));

#endif
