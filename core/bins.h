/* Fixed-width genomic bins and their counts: the common currency of every core module.
 * A rw_bins is a plain struct owned by its creator; free with rw_bins_free(). */
#ifndef RW_BINS_H
#define RW_BINS_H

#include <stddef.h>
#include <stdint.h>

#include "core/genome.h"
#include "core/status.h"

#define RW_BIN_SIZE_DEFAULT 500000
#define RW_BIN_SIZE_MIN     50000
#define RW_BIN_SIZE_MAX     5000000

/* Bins tile chromosomes 0..nchrom-1 (chr1..chr22, chrX and, if nchrom == 24, chrY) from position
 * 0 in steps of bin_size; the last bin of a chromosome ends at the chromosome's end.
 * Bin i of chromosome c is index first[c] + i; first[nchrom] == n. */
typedef struct rw_bins {
    rw_build build;
    int32_t bin_size;
    int nchrom;                  /* 23 (chrY ignored, the default) or 24 */
    size_t n;                    /* number of bins */
    size_t first[RW_NCHROM + 1]; /* index of each chromosome's first bin */
    double *count;     /* n values: fragments per bin (NaN = no value, e.g. absent from a file) */
    char filters[128]; /* counting filters (rw_count_filters()); "" = unknown (e.g. a LIMS file
                          without them) */
} rw_bins;

/* Returns new bins with all counts 0, or NULL (err set) for a bad build or bin size.
 * include_y: 1 to tile chrY too. Free with rw_bins_free(). */
rw_bins *rw_bins_new(rw_build build, int32_t bin_size, int include_y, rw_error *err);
/* NULL-safe. */
void rw_bins_free(rw_bins *b);
/* Returns a deep copy, or NULL when out of memory. */
rw_bins *rw_bins_copy(const rw_bins *b);

/* Chromosome index of bin i (binary search over first[]). */
int rw_bins_chrom(const rw_bins *b, size_t i);
/* Start and end (0-based, half-open) of bin i. */
int64_t rw_bins_start(const rw_bins *b, size_t i);
int64_t rw_bins_end(const rw_bins *b, size_t i);
/* Index of the bin holding position pos on chromosome chrom, or (size_t)-1 when outside. */
size_t rw_bins_index(const rw_bins *b, int chrom, int64_t pos);
/* Same layout (build, bin size, chromosomes)? */
int rw_bins_same_layout(const rw_bins *a, const rw_bins *b);

/* Bins file: a TSV with a first line
 *   #relapsewatch-bins<TAB>version=1<TAB>build=hg38<TAB>bin_size=500000[<TAB>filters=...]
 * (filters= is optional: the counting filters, so that a sample is never compared with a panel
 * of normals counted otherwise)
 * then a header line `chrom start end count` and one line per bin (chr1 or 1 naming accepted;
 * chrY lines ignored unless the file's bins include it; other contigs are an error).
 * Bins absent from the file read as NaN; a duplicate or misaligned bin is an error.
 * rw_bins_read returns new bins in *out (free with rw_bins_free()). */
rw_status rw_bins_read(const char *path, rw_bins **out, rw_error *err)
    __attribute__((warn_unused_result));
/* Writes atomically: to path.tmp.PID, then rename(), so no partial file is ever visible. */
rw_status rw_bins_write(const rw_bins *b, const char *path, rw_error *err)
    __attribute__((warn_unused_result));

#endif
