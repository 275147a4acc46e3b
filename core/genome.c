/* Genome model: static tables of builds, chromosome lengths and named regions
 * (docs/method.md §2). */
#include "core/genome.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const int64_t hg38_len[RW_NCHROM] = {
    248956422, 242193529, 198295559, 190214555, 181538259, 170805979, 159345973, 145138636,
    138394717, 133797422, 135086622, 133275309, 114364328, 107043718, 101991189, 90338345,
    83257441,  80373285,  58617616,  64444167,  46709983,  50818468,  156040895, 57227415};

static const int64_t hg19_len[RW_NCHROM] = {
    249250621, 243199373, 198022430, 191154276, 180915260, 171115067, 159138663, 146364022,
    141213431, 135534747, 135006516, 133851895, 115169878, 107349540, 102531392, 90354753,
    81195210,  78077248,  59128983,  63025520,  48129895,  51304566,  155270560, 59373566};

static const char *const chrom_names[RW_NCHROM] = {
    "chr1",  "chr2",  "chr3",  "chr4",  "chr5",  "chr6",  "chr7",  "chr8",
    "chr9",  "chr10", "chr11", "chr12", "chr13", "chr14", "chr15", "chr16",
    "chr17", "chr18", "chr19", "chr20", "chr21", "chr22", "chrX",  "chrY"};

/* UCSC cytoBand coordinates; the S100A window spans S100A9 to S100A7 (hg19 = hg38 - 27,524). */
static const rw_region hg38_regions[] = {
    {"1q21.3", 0, 150600000, 155100000, 0, "cytoband 1q21.3 (S100A7/8/9 cluster)"},
    {"1q", 0, 123400000, 248956422, 0, "long arm of chromosome 1"},
    {"S100A7-9", 0, 153357853, 153460651, 0, "S100A9 to S100A7 genes"},
    {"chr1-centromere", 0, 121700000, 143200000, 1, "chr1 centromere and q12 heterochromatin"},
};
static const rw_region hg19_regions[] = {
    {"1q21.3", 0, 150300000, 155000000, 0, "cytoband 1q21.3 (S100A7/8/9 cluster)"},
    {"1q", 0, 125000000, 249250621, 0, "long arm of chromosome 1"},
    {"S100A7-9", 0, 153330329, 153433127, 0, "S100A9 to S100A7 genes"},
    {"chr1-centromere", 0, 121500000, 142600000, 1, "chr1 centromere and q12 heterochromatin"},
};

const char *rw_build_name(rw_build b)
{
    switch (b) {
    case RW_BUILD_HG38:
        return "hg38";
    case RW_BUILD_HG19:
        return "hg19";
    default:
        return "unknown";
    }
}

rw_build rw_build_parse(const char *s)
{
    if (!s)
        return RW_BUILD_UNKNOWN;
    if (!strcasecmp(s, "hg38") || !strcasecmp(s, "GRCh38"))
        return RW_BUILD_HG38;
    if (!strcasecmp(s, "hg19") || !strcasecmp(s, "GRCh37"))
        return RW_BUILD_HG19;
    return RW_BUILD_UNKNOWN;
}

int rw_chrom_index(const char *name)
{
    if (!name)
        return -1;
    if (!strncmp(name, "chr", 3))
        name += 3;
    if (!strcmp(name, "X"))
        return RW_CHROM_X;
    if (!strcmp(name, "Y"))
        return RW_CHROM_Y;
    if (name[0] < '1' || name[0] > '9')
        return -1;
    char *end;
    long v = strtol(name, &end, 10);
    if (*end || v < 1 || v > 22)
        return -1;
    return (int)v - 1;
}

const char *rw_chrom_name(int chrom)
{
    return chrom >= 0 && chrom < RW_NCHROM ? chrom_names[chrom] : "?";
}

int64_t rw_chrom_length(rw_build b, int chrom)
{
    if (chrom < 0 || chrom >= RW_NCHROM)
        return 0;
    if (b == RW_BUILD_HG38)
        return hg38_len[chrom];
    if (b == RW_BUILD_HG19)
        return hg19_len[chrom];
    return 0;
}

rw_build rw_build_detect(size_t n, const char *const *names, const int64_t *lengths)
{
    rw_build b = RW_BUILD_UNKNOWN;
    for (size_t i = 0; i < n; i++)
        if (rw_chrom_index(names[i]) == 0) {
            if (lengths[i] == hg38_len[0])
                b = RW_BUILD_HG38;
            else if (lengths[i] == hg19_len[0])
                b = RW_BUILD_HG19;
            break;
        }
    if (b == RW_BUILD_UNKNOWN)
        return b;
    /* A header mixing builds (or a custom assembly reusing chr1) is not trusted. */
    for (size_t i = 0; i < n; i++) {
        int c = rw_chrom_index(names[i]);
        if (c >= 0 && lengths[i] != rw_chrom_length(b, c))
            return RW_BUILD_UNKNOWN;
    }
    return b;
}

const rw_region *rw_regions(rw_build b, size_t *n)
{
    if (b == RW_BUILD_HG38) {
        *n = sizeof hg38_regions / sizeof hg38_regions[0];
        return hg38_regions;
    }
    if (b == RW_BUILD_HG19) {
        *n = sizeof hg19_regions / sizeof hg19_regions[0];
        return hg19_regions;
    }
    *n = 0;
    return NULL;
}

const rw_region *rw_region_find(rw_build b, const char *name)
{
    size_t n;
    const rw_region *r = rw_regions(b, &n);
    for (size_t i = 0; i < n; i++)
        if (!strcmp(r[i].name, name))
            return &r[i];
    return NULL;
}
