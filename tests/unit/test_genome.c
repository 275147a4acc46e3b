/* Unit tests of the genome model: names, lengths, build detection, regions (docs/method.md §2). */
#include "core/genome.h"
#include "tests/unit/harness.h"

#include <string.h>

int main(void)
{
    CHECK(rw_chrom_index("chr1") == 0);
    CHECK(rw_chrom_index("1") == 0);
    CHECK(rw_chrom_index("chr22") == 21);
    CHECK(rw_chrom_index("X") == RW_CHROM_X);
    CHECK(rw_chrom_index("chrY") == RW_CHROM_Y);
    CHECK(rw_chrom_index("chrM") == -1);
    CHECK(rw_chrom_index("chr23") == -1);
    CHECK(rw_chrom_index("chr1_KI270706v1_random") == -1);
    CHECK(rw_chrom_index("01") == -1);
    CHECK(rw_chrom_index("") == -1);
    CHECK(!strcmp(rw_chrom_name(RW_CHROM_X), "chrX"));

    CHECK(rw_build_parse("GRCh38") == RW_BUILD_HG38);
    CHECK(rw_build_parse("hg19") == RW_BUILD_HG19);
    CHECK(rw_build_parse("hg18") == RW_BUILD_UNKNOWN);
    CHECK(rw_chrom_length(RW_BUILD_HG38, 0) == 248956422);
    CHECK(rw_chrom_length(RW_BUILD_HG19, 0) == 249250621);
    CHECK(rw_chrom_length(RW_BUILD_HG38, RW_CHROM_Y) == 57227415);

    /* Build detection from header names and lengths, with either naming. */
    const char *n38[] = {"chr1", "chr2", "chrM"};
    const int64_t l38[] = {248956422, 242193529, 16569};
    CHECK(rw_build_detect(3, n38, l38) == RW_BUILD_HG38);
    const char *n19[] = {"1", "2"};
    const int64_t l19[] = {249250621, 243199373};
    CHECK(rw_build_detect(2, n19, l19) == RW_BUILD_HG19);
    const int64_t mixed[] = {249250621, 242193529}; /* hg19 chr1, hg38 chr2 */
    CHECK(rw_build_detect(2, n19, mixed) == RW_BUILD_UNKNOWN);
    const char *other[] = {"seq1", "seq2"};
    const int64_t lo[] = {1575, 1584};
    CHECK(rw_build_detect(2, other, lo) == RW_BUILD_UNKNOWN);

    /* Regions: 1q21.3 lies inside 1q, S100A7-9 inside 1q21.3, outside the masked centromere. */
    for (int b = RW_BUILD_HG38; b <= RW_BUILD_HG19; b++) {
        const rw_region *band = rw_region_find(b, RW_REGION_1Q213);
        const rw_region *arm = rw_region_find(b, RW_REGION_1Q);
        const rw_region *genes = rw_region_find(b, RW_REGION_S100A);
        const rw_region *cen = rw_region_find(b, "chr1-centromere");
        CHECK(band && arm && genes && cen);
        if (!band || !arm || !genes || !cen)
            continue;
        CHECK(band->start >= arm->start && band->end <= arm->end);
        CHECK(genes->start >= band->start && genes->end <= band->end);
        CHECK(cen->mask && !band->mask && band->start >= cen->end);
        CHECK(arm->end == rw_chrom_length(b, 0));
    }
    /* The hg19 S100A window is the hg38 one minus 27,524 bp (docs/method.md §2). */
    CHECK(rw_region_find(RW_BUILD_HG38, RW_REGION_S100A)->start -
              rw_region_find(RW_BUILD_HG19, RW_REGION_S100A)->start ==
          27524);
    CHECK(rw_region_find(RW_BUILD_UNKNOWN, RW_REGION_1Q213) == NULL);
    DONE();
}
