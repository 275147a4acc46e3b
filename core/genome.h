/* Genome model: builds (hg38, hg19), chromosome naming and lengths, named regions (1q21.3, ...).
 * Everything here is static data: no function allocates, all returned pointers are borrowed
 * and valid for the life of the program. Coordinates are 0-based, half-open. */
#ifndef RW_GENOME_H
#define RW_GENOME_H

#include <stddef.h>
#include <stdint.h>

typedef enum rw_build { RW_BUILD_UNKNOWN = 0, RW_BUILD_HG38, RW_BUILD_HG19 } rw_build;

/* Chromosome indices: 0..21 = chr1..chr22, 22 = chrX, 23 = chrY. */
#define RW_NCHROM  24
#define RW_CHROM_X 22
#define RW_CHROM_Y 23

/* "hg38" / "hg19" ("unknown" for RW_BUILD_UNKNOWN). */
const char *rw_build_name(rw_build b);
/* Accepts hg38, GRCh38, hg19, GRCh37 (case-insensitive); RW_BUILD_UNKNOWN otherwise. */
rw_build rw_build_parse(const char *s);

/* Chromosome index of "chr1".."chr22", "chrX", "chrY" or "1".."22", "X", "Y"; -1 otherwise
 * (chrM, alt contigs, ...). */
int rw_chrom_index(const char *name);
/* UCSC-style name ("chr1", ..., "chrX", "chrY") of an index. */
const char *rw_chrom_name(int chrom);
/* Length in bp of chromosome `chrom` in build b; 0 if b is unknown. */
int64_t rw_chrom_length(rw_build b, int chrom);

/* Detects the build from sequence names and lengths (a BAM header's @SQ lines): the length of
 * chr1 (or "1") decides, and every other recognised chromosome must agree with it.
 * Returns RW_BUILD_UNKNOWN when chr1 is absent, of another length, or lengths disagree. */
rw_build rw_build_detect(size_t n, const char *const *names, const int64_t *lengths);

/* A named genomic interval. `mask` regions are excluded from every score. */
typedef struct rw_region {
    const char *name; /* "1q21.3", "1q", "S100A7-9", "chr1-centromere" */
    int chrom;
    int64_t start, end;
    int mask;
    const char *description;
} rw_region;

/* The built-in region table of build b; *n receives its length. NULL for an unknown build. */
const rw_region *rw_regions(rw_build b, size_t *n);
/* The region called `name` in build b (exact match), or NULL. */
const rw_region *rw_region_find(rw_build b, const char *name);

/* The region relapsewatch is about, by name. */
#define RW_REGION_1Q213 "1q21.3"
#define RW_REGION_1Q    "1q"
#define RW_REGION_S100A "S100A7-9"

#endif
