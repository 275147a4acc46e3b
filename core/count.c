/* Read counting: streams BAM/CRAM/SAM records through the filters of count.h into bins.
 *
 * DESIGN. One engine (struct counter) counts record starts into a flat array of bins; a table
 * maps each header contig (tid) to the index of its first bin, or -1 when it is not counted, so
 * genome bins and the one-contig API share the same loop. Only seven fixed fields of a record
 * matter (tid, pos, mapq, flag, mate tid, mate pos, tlen). For BAM the engine therefore reads
 * them straight out of htslib's decompressed BGZF blocks and skips the rest of each record: no
 * copy into a bam1_t, no per-record allocation, which is what lets counting run close to the
 * speed of decompression alone. SAM and CRAM go through sam_read1(). Memory is constant: one
 * BGZF block (plus htslib's thread-pool queue) and the bins. */
#include "core/count.h"

#include <errno.h>
#include <htslib/bgzf.h>
#include <htslib/cram.h>
#include <htslib/hfile.h>
#include <htslib/hts.h>
#include <htslib/sam.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/stats.h"
#include "core/wig.h"

#define BINS_MAGIC "#relapsewatch-bins"

/* The five flag bits count.h lets the caller drop, in the order reasons are charged. */
#define FLAGS_DROPPABLE (BAM_FUNMAP | BAM_FSECONDARY | BAM_FQCFAIL | BAM_FDUP | BAM_FSUPPLEMENTARY)

/* Records between two looks at the progress position (SAM/CRAM path). */
#define PROGRESS_EVERY 65536

void rw_count_opts_init(rw_count_opts *o)
{
    memset(o, 0, sizeof *o);
    o->min_mapq = 20;
    o->drop_flags = RW_COUNT_DROP_FLAGS;
    o->mode = RW_COUNT_FRAGMENTS;
    o->threads = 1;
    o->build = RW_BUILD_UNKNOWN;
    o->bin_size = RW_BIN_SIZE_DEFAULT;
}

static const char *const drop_names[RW_DROP_N] = {
    [RW_DROP_UNMAPPED] = "unmapped",           [RW_DROP_SECONDARY] = "secondary",
    [RW_DROP_SUPPLEMENTARY] = "supplementary", [RW_DROP_QCFAIL] = "qc_fail",
    [RW_DROP_DUPLICATE] = "duplicate",         [RW_DROP_MAPQ] = "low_mapq",
    [RW_DROP_CONTIG] = "other_contig",         [RW_DROP_MATE] = "mate",
    [RW_DROP_NO_LENGTH] = "no_length",         [RW_DROP_LENGTH] = "length",
};

const char *rw_drop_name(rw_drop d)
{
    return (unsigned)d < RW_DROP_N ? drop_names[d] : "unknown";
}

/* ------------------------------------------------------------------ the counting engine */

typedef struct counter {
    /* filters, copied out of the options so the loop reads one struct */
    unsigned drop_flags;
    unsigned min_mapq;
    int fragments;
    int window;
    int64_t frag_min, frag_max;
    const double *weight; /* per-length weights (weighted mode) or NULL */
    double *wsum;         /* weighted mode: per bin sum of the kept fragments' weights */
    int32_t bin_size;
    /* per header contig: first bin in cnt, or -1 when not counted; and its length */
    int32_t ntid;
    int64_t *base;
    int64_t *len;
    uint64_t *cnt;
    size_t ncnt;
    /* duplicate rate: primary mapped non-QC-fail reads, and the duplicates among them */
    uint64_t n_primary, n_dup;
    rw_count_qc *qc;
} counter;

/* The first drop reason of the flag bits in `bad` (non-zero, a subset of FLAGS_DROPPABLE). */
static rw_drop flag_reason(unsigned bad)
{
    if (bad & BAM_FUNMAP)
        return RW_DROP_UNMAPPED;
    if (bad & BAM_FSECONDARY)
        return RW_DROP_SECONDARY;
    if (bad & BAM_FSUPPLEMENTARY)
        return RW_DROP_SUPPLEMENTARY;
    if (bad & BAM_FQCFAIL)
        return RW_DROP_QCFAIL;
    return RW_DROP_DUPLICATE;
}

/* Applies the rules of count.h to one record. The hot loop: keep it lean. */
static inline void count_record(counter *c, int32_t tid, int64_t pos, unsigned mapq, unsigned flag,
                                int32_t mtid, int64_t mpos, int64_t tlen)
{
    rw_count_qc *qc = c->qc;
    qc->seen++;
    if (!(flag & (BAM_FUNMAP | BAM_FSECONDARY | BAM_FQCFAIL | BAM_FSUPPLEMENTARY))) {
        c->n_primary++;
        c->n_dup += (flag & BAM_FDUP) != 0;
    }
    unsigned bad = flag & c->drop_flags;
    if (bad) {
        qc->dropped[flag_reason(bad)]++;
        return;
    }
    if (mapq < c->min_mapq) {
        qc->dropped[RW_DROP_MAPQ]++;
        return;
    }
    if ((uint32_t)tid >= (uint32_t)c->ntid || c->base[tid] < 0 || pos < 0 || pos >= c->len[tid]) {
        qc->dropped[RW_DROP_CONTIG]++;
        return;
    }
    int64_t flen = -1;
    if (flag & BAM_FPAIRED) {
        if (flag & BAM_FMUNMAP) {
            /* the only mapped read of its fragment: counted like a single-end read */
        } else if (mtid == tid) {
            if (c->fragments && (pos > mpos || (pos == mpos && (flag & BAM_FREAD2)))) {
                qc->dropped[RW_DROP_MATE]++;
                return;
            }
            if (tlen)
                flen = tlen < 0 ? -tlen : tlen;
        } else if (c->fragments && !(flag & BAM_FREAD1)) {
            qc->dropped[RW_DROP_MATE]++;
            return;
        }
    }
    if (flen >= 0) {
        qc->frag_n++;
        if (flen <= RW_FRAG_HIST_MAX)
            qc->frag_hist[flen]++;
        else
            qc->frag_over++;
    }
    if (c->window) {
        if (flen < 0) {
            qc->dropped[RW_DROP_NO_LENGTH]++;
            return;
        }
        if (flen < c->frag_min || flen > c->frag_max) {
            qc->dropped[RW_DROP_LENGTH]++;
            return;
        }
    }
    if (c->weight) {
        double w = flen >= 0 && flen <= RW_FRAG_HIST_MAX ? c->weight[flen] : 0;
        if (!(w > 0)) {
            qc->dropped[flen < 0 ? RW_DROP_NO_LENGTH : RW_DROP_LENGTH]++;
            return;
        }
        c->wsum[c->base[tid] + pos / c->bin_size] += w;
    }
    c->cnt[c->base[tid] + pos / c->bin_size]++;
    qc->kept++;
}

static void counter_free(counter *c)
{
    free(c->base);
    free(c->len);
    free(c->cnt);
    free(c->wsum);
}

static rw_status check_opts(const rw_count_opts *o, rw_error *err)
{
    if (o->min_mapq < 0 || o->min_mapq > 255)
        return rw_error_set(err, RW_ERR_USAGE, "minimum MAPQ %d outside 0..255", o->min_mapq);
    if (o->drop_flags & ~(unsigned)FLAGS_DROPPABLE)
        return rw_error_set(err, RW_ERR_USAGE, "drop flags 0x%X: only bits of 0x%X are allowed",
                            o->drop_flags, FLAGS_DROPPABLE);
    if (o->mode != RW_COUNT_FRAGMENTS && o->mode != RW_COUNT_READS)
        return rw_error_set(err, RW_ERR_USAGE, "unknown counting mode %d", (int)o->mode);
    if (o->frag_min < 0 || o->frag_max < 0 || (o->frag_max && o->frag_min > o->frag_max))
        return rw_error_set(err, RW_ERR_USAGE, "bad fragment-length window %d..%d", o->frag_min,
                            o->frag_max);
    if (o->frag_weights && (o->frag_min || o->frag_max))
        return rw_error_set(err, RW_ERR_USAGE,
                            "fragment-length weights and a window are exclusive: choose one mode");
    if (o->frag_weights)
        for (int l = 0; l <= RW_FRAG_HIST_MAX; l++)
            if (!(o->frag_weights[l] >= 0 && o->frag_weights[l] < 1e6))
                return rw_error_set(err, RW_ERR_USAGE, "fragment-length weight %d bp: %g", l,
                                    o->frag_weights[l]);
    return RW_OK;
}

/* Sets the filters of c from o; the contig table and bins are set by the caller. */
static void counter_init(counter *c, const rw_count_opts *o, rw_count_qc *qc)
{
    memset(c, 0, sizeof *c);
    memset(qc, 0, sizeof *qc);
    qc->frag_median = NAN;
    c->qc = qc;
    c->drop_flags = o->drop_flags;
    c->min_mapq = (unsigned)o->min_mapq;
    c->fragments = o->mode == RW_COUNT_FRAGMENTS;
    c->window = o->frag_min > 0 || o->frag_max > 0;
    c->frag_min = o->frag_min;
    c->frag_max = o->frag_max > 0 ? o->frag_max : INT64_MAX;
    c->weight = o->frag_weights;
    c->bin_size = o->bin_size;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* The k-th smallest length (0-based) of the histogram. */
static double frag_kth(const rw_count_qc *qc, uint64_t k)
{
    uint64_t acc = 0;
    for (int l = 0; l <= RW_FRAG_HIST_MAX; l++) {
        acc += qc->frag_hist[l];
        if (acc > k)
            return l;
    }
    return RW_FRAG_HIST_MAX + 1; /* in the overflow: reported as "above the histogram" */
}

/* Fills the derived QC numbers once the counting is over. */
static rw_status counter_finish(counter *c, rw_error *err)
{
    rw_count_qc *qc = c->qc;
    qc->duplicate_rate = c->n_primary ? (double)c->n_dup / (double)c->n_primary : 0.0;
    if (qc->frag_n) {
        uint64_t n = qc->frag_n;
        qc->frag_median =
            n % 2 ? frag_kth(qc, n / 2) : (frag_kth(qc, n / 2 - 1) + frag_kth(qc, n / 2)) / 2.0;
    }
    qc->median_per_bin = 0;
    if (c->ncnt) {
        uint64_t *tmp = malloc(c->ncnt * sizeof *tmp);
        if (!tmp)
            return rw_error_set(err, RW_ERR_NOMEM, "out of memory");
        memcpy(tmp, c->cnt, c->ncnt * sizeof *tmp);
        qsort(tmp, c->ncnt, sizeof *tmp, cmp_u64);
        size_t n = c->ncnt;
        qc->median_per_bin =
            n % 2 ? (double)tmp[n / 2] : ((double)tmp[n / 2 - 1] + (double)tmp[n / 2]) / 2.0;
        free(tmp);
    }
    return RW_OK;
}

/* ------------------------------------------------------------------ input */

typedef struct input {
    const char *path;
    htsFile *fp;
    sam_hdr_t *hdr;
    int64_t size;
    enum htsExactFormat format;
} input;

static void input_close(input *in)
{
    sam_hdr_destroy(in->hdr);
    if (in->fp)
        hts_close(in->fp);
    in->hdr = NULL;
    in->fp = NULL;
}

/* The next ITF8 number of a CRAM file (ltf8 = 0), or skips the next LTF8 one (ltf8 = 1: 0): 1 +
 * its first byte's leading ones bytes, at most 5 (ITF8, whose fifth byte holds 4 bits) or 9.
 * -1 at the end of the file. */
static int64_t cram_varint(FILE *f, int ltf8)
{
    int c = getc(f), ones = 0;
    if (c == EOF)
        return -1;
    while (ones < 8 && (c & (0x80 >> ones)))
        ones++;
    if (ltf8) {
        for (int i = 0; i < ones; i++)
            if (getc(f) == EOF)
                return -1;
        return 0;
    }
    ones = ones > 4 ? 4 : ones;
    uint32_t v = (uint32_t)c & (ones == 4 ? 0x0fu : 0xffu >> (ones + 1));
    for (int i = 0; i < ones; i++) {
        if ((c = getc(f)) == EOF)
            return -1;
        v = i == 3 ? v << 4 | ((uint32_t)c & 0x0f) : v << 8 | (uint32_t)c;
    }
    return v;
}

/* Whether path is a CRAM one of whose containers claims more than the file can hold: more bytes
 * than are left, or more landmarks (at least a byte each) than the file has bytes. htslib
 * allocates for either claim before finding out (3.9 GB for a 1 KB file; 6.9 GB of landmarks
 * for 705 bytes: both findings of fuzz/run.sh), so every container header is walked first (a
 * seek a container: milliseconds for a whole file). A container header, after the 26-byte file
 * definition: an int32 length, then ITF8 ref id, start, span, record count, (CRAM 2+) an ITF8
 * (2.x) or LTF8 (3+) record counter and an LTF8 base count, the ITF8 block count, the ITF8
 * landmark count and landmarks, (CRAM 3+) a CRC32. A file cut short ends the walk: htslib
 * reports it without allocating much. */
static int cram_container_too_large(const char *path, int64_t size)
{
    unsigned char def[30];
    FILE *f = fopen(path, "rb");
    if (!f)
        return 0;
    int too_large = 0, major = 0;
    if (fread(def, 1, 26, f) == 26 && !memcmp(def, "CRAM", 4))
        major = def[4];
    for (int64_t at = 26; major && !too_large && at + 4 <= size;) {
        unsigned char l[4];
        if (fseeko(f, at, SEEK_SET) || fread(l, 1, 4, f) != 4)
            break;
        int64_t len = (int32_t)((uint32_t)l[0] | (uint32_t)l[1] << 8 | (uint32_t)l[2] << 16 |
                                (uint32_t)l[3] << 24);
        const int fields[] = {0, 0, 0, 0, major >= 3, 1, 0}; /* LTF8 or not, to the landmarks */
        int64_t v = 0, nland;
        for (size_t i = 0; v >= 0 && i < sizeof fields / sizeof *fields; i++)
            if (major >= 2 || (i != 4 && i != 5)) /* CRAM 1.x has no counters */
                v = cram_varint(f, fields[i]);
        if (v < 0 || (nland = cram_varint(f, 0)) < 0)
            break;
        if (len < 0 || len > size - at || nland > size) {
            too_large = 1;
            break;
        }
        for (int64_t i = 0; i < nland && v >= 0; i++)
            v = cram_varint(f, 0);
        if (v < 0 || (major >= 3 && fseeko(f, 4, SEEK_CUR)))
            break;
        at = ftello(f) + len;
    }
    fclose(f);
    return too_large;
}

/* Opens path as BAM, CRAM or SAM and reads its header; every way it can be unfit is a clear
 * error naming the file. */
static rw_status input_open(input *in, const char *path, const rw_count_opts *o, rw_count_qc *qc,
                            rw_error *err)
{
    memset(in, 0, sizeof *in);
    in->path = path;
    rw_status st;
    struct stat sb;
    if (stat(path, &sb))
        return rw_error_set(err, RW_ERR_IO, "%s: %s", path, strerror(errno));
    if (S_ISDIR(sb.st_mode))
        return rw_error_set(err, RW_ERR_INPUT, "%s: is a directory, not a BAM/CRAM/SAM file", path);
    if (S_ISREG(sb.st_mode) && sb.st_size == 0)
        return rw_error_set(err, RW_ERR_INPUT, "%s: empty file (expected BAM, CRAM or SAM)", path);
    in->size = S_ISREG(sb.st_mode) ? (int64_t)sb.st_size : 0;
    if (in->size && cram_container_too_large(path, in->size))
        return rw_error_set(err, RW_ERR_INPUT,
                            "%s: corrupt CRAM: a container claims more bytes "
                            "than the file holds",
                            path);

    in->fp = hts_open(path, "r");
    if (!in->fp)
        return rw_error_set(err, RW_ERR_INPUT, "%s: cannot open as BAM, CRAM or SAM", path);
    const htsFormat *fmt = hts_get_format(in->fp);
    in->format = fmt->format;
    if (fmt->category != sequence_data ||
        (fmt->format != bam && fmt->format != cram && fmt->format != sam)) {
        char *desc = hts_format_description(fmt);
        st = rw_error_set(err, RW_ERR_INPUT, "%s: not a BAM, CRAM or SAM file (looks like %s)",
                          path, desc ? desc : "unknown data");
        free(desc);
        goto fail;
    }
    snprintf(qc->format, sizeof qc->format, "%s",
             fmt->format == bam    ? "BAM"
             : fmt->format == cram ? "CRAM"
                                   : "SAM");
    if (fmt->format == bam && bgzf_check_EOF(in->fp->fp.bgzf) == 0) {
        st = rw_error_set(err, RW_ERR_INPUT,
                          "%s: truncated BAM (the end-of-file marker is missing)", path);
        goto fail;
    }
    if (fmt->format == cram) {
        if (!o->reference || !*o->reference) {
            st = rw_error_set(err, RW_ERR_INPUT,
                              "%s: a CRAM file needs the reference FASTA it was compressed "
                              "against: give it with --reference",
                              path);
            goto fail;
        }
        if (hts_set_fai_filename(in->fp, o->reference) < 0) {
            st = rw_error_set(err, RW_ERR_INPUT,
                              "%s: cannot use reference %s (missing or "
                              "unreadable FASTA, or no writable .fai)",
                              path, o->reference);
            goto fail;
        }
        /* Only the positional fields are needed: CRAM then skips decoding sequences. */
        if (hts_set_opt(in->fp, CRAM_OPT_REQUIRED_FIELDS,
                        SAM_FLAG | SAM_RNAME | SAM_POS | SAM_MAPQ | SAM_RNEXT | SAM_PNEXT |
                            SAM_TLEN) < 0 ||
            hts_set_opt(in->fp, CRAM_OPT_DECODE_MD, 0) < 0) {
            st = rw_error_set(err, RW_ERR_INTERNAL, "%s: cannot set CRAM options", path);
            goto fail;
        }
    }
    if (o->threads > 1 && hts_set_threads(in->fp, o->threads) < 0) {
        st = rw_error_set(err, RW_ERR_NOMEM, "cannot start %d decompression threads", o->threads);
        goto fail;
    }
    in->hdr = sam_hdr_read(in->fp);
    if (!in->hdr) {
        st = rw_error_set(err, RW_ERR_INPUT, "%s: cannot read the %s header (truncated or corrupt)",
                          path, qc->format);
        goto fail;
    }
    if (sam_hdr_nref(in->hdr) <= 0) {
        st = rw_error_set(err, RW_ERR_INPUT,
                          "%s: no @SQ lines in the header: not an aligned %s file", path,
                          qc->format);
        goto fail;
    }
    return RW_OK;
fail:
    input_close(in);
    return st;
}

/* Detects the build from the header's @SQ lines. */
static rw_status detect_build(const input *in, rw_build *out, rw_error *err)
{
    int n = sam_hdr_nref(in->hdr);
    const char **names = malloc((size_t)n * sizeof *names);
    int64_t *lens = malloc((size_t)n * sizeof *lens);
    if (!names || !lens) {
        free(names);
        free(lens);
        return rw_error_set(err, RW_ERR_NOMEM, "out of memory");
    }
    for (int i = 0; i < n; i++) {
        names[i] = sam_hdr_tid2name(in->hdr, i);
        lens[i] = sam_hdr_tid2len(in->hdr, i);
    }
    *out = rw_build_detect((size_t)n, names, lens);
    free(names);
    free(lens);
    return RW_OK;
}

/* Checks the detected build against the expected one (unknown expected = any known build). */
static rw_status check_build(const input *in, rw_build detected, rw_build expected, rw_error *err)
{
    if (detected == RW_BUILD_UNKNOWN) {
        int tid = sam_hdr_name2tid(in->hdr, "chr1");
        if (tid < 0)
            tid = sam_hdr_name2tid(in->hdr, "1");
        if (tid < 0)
            return rw_error_set(err, RW_ERR_BUILD,
                                "%s: unknown genome build: no chr1 (or 1) in the @SQ lines; "
                                "relapsewatch knows hg38 and hg19",
                                in->path);
        return rw_error_set(err, RW_ERR_BUILD,
                            "%s: unknown genome build: chr1 is %lld bp (hg38: %lld, hg19: %lld) "
                            "or other @SQ lengths disagree with it",
                            in->path, (long long)sam_hdr_tid2len(in->hdr, tid),
                            (long long)rw_chrom_length(RW_BUILD_HG38, 0),
                            (long long)rw_chrom_length(RW_BUILD_HG19, 0));
    }
    if (expected != RW_BUILD_UNKNOWN && detected != expected)
        return rw_error_set(err, RW_ERR_BUILD, "%s: the reads are aligned to %s, not %s", in->path,
                            rw_build_name(detected), rw_build_name(expected));
    return RW_OK;
}

static void report_progress(const input *in, int64_t pos, double *last, rw_progress_fn progress,
                            void *ctx)
{
    if (!progress || in->size <= 0)
        return;
    double f = (double)pos / (double)in->size;
    if (f > 1)
        f = 1;
    if (f >= *last + 0.01) {
        *last = f;
        progress(ctx, f);
    }
}

static inline int32_t le_i32(const uint8_t *p)
{
    uint32_t v = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
    return (int32_t)v;
}

/* Size of a BAM record's length word and fixed part. */
#define BAM_FIXED 36

/* Counts one BAM record from its first BAM_FIXED bytes; *rest receives the bytes to skip. */
static inline int bam_fixed(counter *c, const uint8_t *r, int64_t *rest)
{
    int32_t block_size = le_i32(r);
    int32_t tid = le_i32(r + 4);
    if (block_size < BAM_FIXED - 4 || tid < -1 || tid >= c->ntid)
        return -1;
    count_record(c, tid, le_i32(r + 8), r[13], (unsigned)r[18] | (unsigned)r[19] << 8,
                 le_i32(r + 24), le_i32(r + 28), le_i32(r + 32));
    *rest = (int64_t)block_size - (BAM_FIXED - 4);
    return 0;
}

/* The BAM fast path: walks the records inside htslib's decompressed blocks (see DESIGN). */
static rw_status run_bam(input *in, counter *c, rw_progress_fn progress, void *ctx, rw_error *err)
{
    BGZF *bg = in->fp->fp.bgzf;
    uint8_t part[BAM_FIXED]; /* a fixed part split across two blocks */
    int npart = 0;
    int64_t skip = 0;
    double last = 0;
    for (;;) {
        if (bg->block_offset >= bg->block_length) {
            if (bgzf_read_block(bg) < 0)
                return rw_error_set(err, RW_ERR_INPUT,
                                    "%s: truncated or corrupt BAM after %llu records "
                                    "(compressed offset %lld)",
                                    in->path, (unsigned long long)c->qc->seen,
                                    (long long)bg->block_address);
            if (bg->block_length == 0)
                break;
            report_progress(in, bg->block_address, &last, progress, ctx);
        }
        const uint8_t *p = (const uint8_t *)bg->uncompressed_block;
        int64_t off = bg->block_offset, end = bg->block_length;
        while (off < end) {
            if (skip) {
                int64_t k = skip < end - off ? skip : end - off;
                off += k;
                skip -= k;
            } else if (!npart && end - off >= BAM_FIXED) {
                if (bam_fixed(c, p + off, &skip))
                    goto corrupt;
                off += BAM_FIXED;
            } else {
                int k = BAM_FIXED - npart;
                if (k > end - off)
                    k = (int)(end - off);
                memcpy(part + npart, p + off, (size_t)k);
                npart += k;
                off += k;
                if (npart == BAM_FIXED) {
                    npart = 0;
                    if (bam_fixed(c, part, &skip))
                        goto corrupt;
                }
            }
        }
        bg->block_offset = bg->block_length;
    }
    if (npart || skip)
        return rw_error_set(err, RW_ERR_INPUT, "%s: truncated BAM: the last record is cut short",
                            in->path);
    return RW_OK;
corrupt:
    return rw_error_set(err, RW_ERR_INPUT,
                        "%s: corrupt BAM record after %llu records (compressed offset %lld)",
                        in->path, (unsigned long long)c->qc->seen, (long long)bg->block_address);
}

/* SAM and CRAM: through htslib's record decoder. */
static rw_status run_generic(input *in, counter *c, rw_progress_fn progress, void *ctx,
                             rw_error *err)
{
    bam1_t *b = bam_init1();
    if (!b)
        return rw_error_set(err, RW_ERR_NOMEM, "out of memory");
    rw_status st = RW_OK;
    double last = 0;
    int r;
    while ((r = sam_read1(in->fp, in->hdr, b)) >= 0) {
        const bam1_core_t *k = &b->core;
        if (k->tid >= c->ntid) {
            r = -2;
            break;
        }
        count_record(c, k->tid, k->pos, k->qual, k->flag, k->mtid, k->mpos, k->isize);
        if (progress && c->qc->seen % PROGRESS_EVERY == 0) {
            int64_t pos = 0;
            if (in->format == cram)
                pos = htell(cram_fd_get_fp(in->fp->fp.cram));
            else
                pos = in->fp->fp.bgzf->block_address;
            report_progress(in, pos, &last, progress, ctx);
        }
    }
    if (r < -1) {
        if (in->format == cram)
            st = rw_error_set(err, RW_ERR_INPUT,
                              "%s: CRAM decoding failed after %llu records: truncated or corrupt, "
                              "or --reference is not the FASTA it was compressed against",
                              in->path, (unsigned long long)c->qc->seen);
        else
            st = rw_error_set(err, RW_ERR_INPUT,
                              "%s: truncated or malformed %s record %llu (line or record after "
                              "%llu good ones)",
                              in->path, in->format == sam ? "SAM" : "BAM",
                              (unsigned long long)c->qc->seen + 1, (unsigned long long)c->qc->seen);
    }
    bam_destroy1(b);
    return st;
}

static rw_status run(input *in, counter *c, rw_progress_fn progress, void *ctx, rw_error *err)
{
    /* The fast path walks BGZF blocks; a BAM in plain gzip (or uncompressed) goes through
     * htslib's decoder, whose gzip reader reports corruption that bgzf_read_block loops on. */
    const BGZF *bg = in->format == bam ? in->fp->fp.bgzf : NULL;
    rw_status st = bg && bg->is_compressed && !bg->is_gzip ? run_bam(in, c, progress, ctx, err)
                                                           : run_generic(in, c, progress, ctx, err);
    if (st == RW_OK && progress)
        progress(ctx, 1.0);
    return st;
}

/* Allocates the per-contig table of c for the header of in (all contigs not counted). */
static rw_status counter_table(counter *c, const input *in, rw_error *err)
{
    c->ntid = sam_hdr_nref(in->hdr);
    c->base = malloc((size_t)c->ntid * sizeof *c->base);
    c->len = malloc((size_t)c->ntid * sizeof *c->len);
    if (!c->base || !c->len)
        return rw_error_set(err, RW_ERR_NOMEM, "out of memory");
    for (int32_t t = 0; t < c->ntid; t++) {
        c->base[t] = -1;
        c->len[t] = sam_hdr_tid2len(in->hdr, t);
    }
    return RW_OK;
}

/* ------------------------------------------------------------------ public API */

/* One count of an input: the counter, the open input, and the QC it fills. */
typedef struct count_run {
    counter c;
    input in;
    rw_count_qc *qc;
    rw_count_qc local_qc; /* when the caller wants no QC */
    rw_build build;       /* detected from the header */
} count_run;

/* The start of a count: the QC zeroed, the options checked, the input opened and its build
 * detected (into qc->build) and checked against o->build. For whole-genome bins (genome 1) the
 * build must be known and the bin size in RW_BIN_SIZE_MIN..MAX; one contig (genome 0) takes any
 * bin size >= 1 and a build not known to relapsewatch. Then count_reads(); count_end() always. */
static rw_status count_start(count_run *r, const char *path, const rw_count_opts *o,
                             rw_count_qc *qc, int genome, rw_error *err)
{
    memset(&r->in, 0, sizeof r->in);
    r->qc = qc ? qc : &r->local_qc;
    counter_init(&r->c, o, r->qc);
    rw_status st = check_opts(o, err);
    if (st)
        return st;
    if (genome && (o->bin_size < RW_BIN_SIZE_MIN || o->bin_size > RW_BIN_SIZE_MAX))
        return rw_error_set(err, RW_ERR_USAGE, "bin size %d outside %d..%d", (int)o->bin_size,
                            RW_BIN_SIZE_MIN, RW_BIN_SIZE_MAX);
    if (!genome && o->bin_size < 1)
        return rw_error_set(err, RW_ERR_USAGE, "bin size %d must be >= 1", (int)o->bin_size);
    if (!genome && o->frag_weights)
        return rw_error_set(err, RW_ERR_USAGE, "one-contig counts are integers: no weights");
    if ((st = input_open(&r->in, path, o, r->qc, err)) ||
        (st = detect_build(&r->in, &r->build, err)))
        return st;
    r->qc->build = r->build;
    if (genome || o->build != RW_BUILD_UNKNOWN)
        st = check_build(&r->in, r->build, o->build, err);
    return st;
}

/* Counts the reads into r->c.cnt[0, n) (new, zeroed here) by the contig table already set. */
static rw_status count_reads(count_run *r, size_t n, rw_progress_fn progress, void *progress_ctx,
                             rw_error *err)
{
    rw_status st;
    r->c.ncnt = n;
    r->c.cnt = calloc(n ? n : 1, sizeof *r->c.cnt);
    if (r->c.weight)
        r->c.wsum = calloc(n ? n : 1, sizeof *r->c.wsum);
    if (!r->c.cnt || (r->c.weight && !r->c.wsum))
        return rw_error_set(err, RW_ERR_NOMEM, "out of memory");
    if ((st = run(&r->in, &r->c, progress, progress_ctx, err)))
        return st;
    return counter_finish(&r->c, err);
}

static void count_end(count_run *r)
{
    counter_free(&r->c);
    input_close(&r->in);
}

rw_status rw_count_bam(const char *path, const rw_count_opts *o, rw_bins **out, rw_count_qc *qc,
                       rw_progress_fn progress, void *progress_ctx, rw_error *err)
{
    *out = NULL;
    count_run r;
    rw_bins *bins = NULL;
    rw_status st = count_start(&r, path, o, qc, 1, err);
    if (st)
        goto fail;
    bins = rw_bins_new(r.build, o->bin_size, o->include_y, err);
    if (!bins) {
        st = err ? err->status : RW_ERR_NOMEM;
        goto fail;
    }
    if ((st = counter_table(&r.c, &r.in, err)))
        goto fail;
    for (int32_t t = 0; t < r.c.ntid; t++) {
        int chrom = rw_chrom_index(sam_hdr_tid2name(r.in.hdr, t));
        if (chrom >= 0 && chrom < bins->nchrom) {
            r.c.base[t] = (int64_t)bins->first[chrom];
            r.c.len[t] = rw_chrom_length(r.build, chrom);
        }
    }
    if ((st = count_reads(&r, bins->n, progress, progress_ctx, err)))
        goto fail;
    for (size_t i = 0; i < bins->n; i++)
        bins->count[i] = r.c.wsum ? r.c.wsum[i] : (double)r.c.cnt[i];
    rw_count_filters(o, bins->filters, sizeof bins->filters);
    *out = bins;
    bins = NULL;
fail:
    rw_bins_free(bins);
    count_end(&r);
    return st;
}

/* The error for a contig missing from the header: it lists the header's contigs (cut short). */
static rw_status no_contig(const input *in, const char *path, const char *contig, rw_error *err)
{
    char names[200] = "";
    size_t used = 0;
    for (int t = 0; t < sam_hdr_nref(in->hdr) && used < sizeof names - 8; t++)
        used += (size_t)snprintf(names + used, sizeof names - used, "%s%s", t ? ", " : "",
                                 sam_hdr_tid2name(in->hdr, t));
    if (used >= sizeof names - 8)
        snprintf(names + sizeof names - 5, 5, "...");
    return rw_error_set(err, RW_ERR_INPUT, "%s: contig '%s' is not in the header (it has: %s)",
                        path, contig, names);
}

rw_status rw_count_contig(const char *path, const rw_count_opts *o, const char *contig,
                          rw_contig_counts **out, rw_count_qc *qc, rw_progress_fn progress,
                          void *progress_ctx, rw_error *err)
{
    *out = NULL;
    count_run r;
    rw_contig_counts *cc = NULL;
    rw_status st = count_start(&r, path, o, qc, 0, err);
    if (st)
        goto fail;
    int tid = sam_hdr_name2tid(r.in.hdr, contig);
    if (tid < 0) {
        st = no_contig(&r.in, path, contig, err);
        goto fail;
    }
    if ((st = counter_table(&r.c, &r.in, err)))
        goto fail;
    cc = calloc(1, sizeof *cc);
    if (!cc || !(cc->contig = strdup(contig))) {
        st = rw_error_set(err, RW_ERR_NOMEM, "out of memory");
        goto fail;
    }
    cc->length = r.c.len[tid];
    cc->bin_size = o->bin_size;
    cc->n = (size_t)((cc->length + o->bin_size - 1) / o->bin_size);
    r.c.base[tid] = 0;
    if ((st = count_reads(&r, cc->n, progress, progress_ctx, err)))
        goto fail;
    cc->count = r.c.cnt;
    r.c.cnt = NULL;
    *out = cc;
    cc = NULL;
fail:
    rw_contig_counts_free(cc);
    count_end(&r);
    return st;
}

void rw_contig_counts_free(rw_contig_counts *c)
{
    if (!c)
        return;
    free(c->contig);
    free(c->count);
    free(c);
}

/* Is path a bins file? -1 when it cannot be opened (the caller reports it). */
static int is_bins_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    char head[sizeof BINS_MAGIC - 1];
    size_t n = fread(head, 1, sizeof head, f);
    fclose(f);
    return (n == sizeof head && !memcmp(head, BINS_MAGIC, sizeof head)) || rw_wig_sniff(path) == 1;
}

char *rw_count_filters(const rw_count_opts *o, char *buf, size_t n)
{
    const char *mode = o->mode == RW_COUNT_READS ? "reads" : "fragments";
    if (o->frag_weights)
        snprintf(buf, n, "mapq=%d;flags=0x%X;mode=%s;frag=weighted:%08x", o->min_mapq,
                 o->drop_flags, mode, rw_frag_weights_id(o->frag_weights));
    else
        snprintf(buf, n, "mapq=%d;flags=0x%X;mode=%s;frag=%d-%d", o->min_mapq, o->drop_flags, mode,
                 o->frag_min, o->frag_max);
    return buf;
}

const char *rw_frag_mode_name(rw_frag_mode m)
{
    return m == RW_FRAG_WINDOW ? "window" : m == RW_FRAG_WEIGHTED ? "weighted" : "all";
}

rw_status rw_frag_mode_parse(const char *s, rw_frag_mode *m, rw_error *err)
{
    for (int k = RW_FRAG_ALL; k <= RW_FRAG_WEIGHTED; k++)
        if (!strcmp(s, rw_frag_mode_name((rw_frag_mode)k))) {
            *m = (rw_frag_mode)k;
            return RW_OK;
        }
    return rw_error_set(err, RW_ERR_USAGE, "fragment mode '%s' is not all, window or weighted", s);
}

rw_frag_mode rw_count_frag_mode(const rw_count_opts *o)
{
    return o->frag_weights              ? RW_FRAG_WEIGHTED
           : o->frag_min || o->frag_max ? RW_FRAG_WINDOW
                                        : RW_FRAG_ALL;
}

uint32_t rw_frag_weights_id(const double *w)
{
    uint32_t h = 2166136261u; /* FNV-1a over the weights in millionths */
    for (int l = 0; l <= RW_FRAG_HIST_MAX; l++) {
        int64_t v = (int64_t)llround(w[l] * 1e6);
        for (int k = 0; k < 8; k++) {
            h ^= (uint32_t)((uint64_t)v >> (8 * k)) & 0xFFu;
            h *= 16777619u;
        }
    }
    return h;
}

rw_status rw_count_frag_follow(rw_count_opts *o, const char *filters, const double *hist, double *w,
                               rw_error *err)
{
    const char *f = filters ? strstr(filters, ";frag=") : NULL;
    int lo = 0, hi = 0;
    unsigned id = 0;
    o->frag_weights = NULL;
    o->frag_min = o->frag_max = 0;
    if (!f)
        return rw_error_set(err, RW_ERR_INPUT, "the panel's filters '%s' state no fragment mode",
                            filters ? filters : "");
    f += 6;
    if (sscanf(f, "weighted:%8x", &id) == 1) {
        if (!hist)
            return rw_error_set(err, RW_ERR_INPUT,
                                "the panel is weighted but holds no fragment-length histogram");
        rw_status st = rw_frag_weights(hist, RW_FRAG_TUMOUR_SHIFT, w, err);
        if (st)
            return st;
        if (rw_frag_weights_id(w) != id)
            return rw_error_set(err, RW_ERR_INPUT,
                                "the panel's length histogram gives weights %08x, its filters "
                                "say %08x: the panel was made by another version",
                                rw_frag_weights_id(w), id);
        o->frag_weights = w;
        return RW_OK;
    }
    if (sscanf(f, "%d-%d", &lo, &hi) != 2 || lo < 0 || hi < 0)
        return rw_error_set(err, RW_ERR_INPUT, "the panel's filters '%s': bad fragment mode",
                            filters);
    o->frag_min = lo, o->frag_max = hi;
    return RW_OK;
}

rw_status rw_frag_weights(const double *hist, double shift, double *w, rw_error *err)
{
    enum { H = RW_FRAG_HIST_MAX + 1 };
    double total = 0, sm[H], norm = 0;
    for (int l = 0; l < H; l++)
        total += hist[l] >= 0 ? hist[l] : 0;
    if (total < RW_FRAG_WEIGHT_MIN_FRAGMENTS)
        return rw_error_set(err, RW_ERR_INPUT,
                            "fragment-length weights: %.0f fragments with a length in the normals, "
                            "fewer than %d (paired-end reads are needed)",
                            total, RW_FRAG_WEIGHT_MIN_FRAGMENTS);
    if (!(shift >= 0 && shift <= 100))
        return rw_error_set(err, RW_ERR_USAGE, "fragment-length weights: shift %g outside 0..100",
                            shift);
    /* the normal distribution, smoothed over 2 * RW_FRAG_SMOOTH + 1 bp */
    for (int l = 0; l < H; l++) {
        double s = 0;
        int k = 0;
        for (int j = l - RW_FRAG_SMOOTH; j <= l + RW_FRAG_SMOOTH; j++)
            if (j >= 0 && j < H)
                s += hist[j] >= 0 ? hist[j] : 0, k++;
        sm[l] = s / k;
    }
    /* tumour model: the normal distribution `shift` bp shorter; likelihood ratio, capped, 0
     * where the normals have too few fragments to know the ratio */
    int sh = (int)lround(shift);
    for (int l = 0; l < H; l++) {
        double lr = l + sh < H ? sm[l + sh] / sm[l] : 0;
        int known = sm[l] * (2 * RW_FRAG_SMOOTH + 1) >= RW_FRAG_WEIGHT_MIN_SUPPORT;
        w[l] = known ? (lr < RW_FRAG_WEIGHT_CAP ? lr : RW_FRAG_WEIGHT_CAP) : 0;
        norm += (hist[l] >= 0 ? hist[l] : 0) * w[l];
    }
    /* a normal fragment's expected weight is 1: a normal sample's expected count is unchanged */
    if (!(norm > 0))
        return rw_error_set(err, RW_ERR_INPUT, "fragment-length weights: no usable length");
    for (int l = 0; l < H; l++)
        w[l] *= total / norm;
    return RW_OK;
}

rw_status rw_count_load(const char *path, const rw_count_opts *o, rw_bins **out, rw_count_qc *qc,
                        rw_progress_fn progress, void *progress_ctx, rw_error *err)
{
    *out = NULL;
    if (is_bins_file(path) != 1)
        return rw_count_bam(path, o, out, qc, progress, progress_ctx, err);
    rw_bins *file = NULL, *bins = NULL;
    rw_status st = rw_bins_read(path, &file, err);
    if (st)
        return st;
    if (o->build != RW_BUILD_UNKNOWN && file->build != o->build) {
        st = rw_error_set(err, RW_ERR_BUILD, "%s: the bins are of %s, not %s", path,
                          rw_build_name(file->build), rw_build_name(o->build));
        goto fail;
    }
    if (file->bin_size != o->bin_size) {
        st = rw_error_set(err, RW_ERR_MISMATCH, "%s: the bins are %d bp wide, not %d", path,
                          (int)file->bin_size, (int)o->bin_size);
        goto fail;
    }
    /* A file that states its filters must match ours; one that does not is taken as counted
     * with them (documented in count --help). */
    char want[sizeof file->filters];
    rw_count_filters(o, want, sizeof want);
    if (file->filters[0] && strcmp(file->filters, want)) {
        st = rw_error_set(err, RW_ERR_MISMATCH, "%s: the bins were counted with filters %s, not %s",
                          path, file->filters, want);
        goto fail;
    }
    /* Same build and bin size: only the chrY tiling can differ, and it comes last. */
    bins = rw_bins_new(file->build, file->bin_size, o->include_y, err);
    if (!bins) {
        st = err ? err->status : RW_ERR_NOMEM;
        goto fail;
    }
    memcpy(bins->filters, want, sizeof want);
    for (size_t i = 0; i < bins->n; i++)
        bins->count[i] = i < file->n ? file->count[i] : NAN;
    if (qc) {
        memset(qc, 0, sizeof *qc);
        snprintf(qc->format, sizeof qc->format, "bins");
        qc->build = file->build;
        qc->frag_median = NAN;
        /* a copy: the median reorders its input (n + 1: malloc(0) may be NULL) */
        double *tmp = malloc((bins->n + 1) * sizeof *tmp);
        if (!tmp) {
            st = rw_error_set(err, RW_ERR_NOMEM, "out of memory");
            goto fail;
        }
        memcpy(tmp, bins->count, bins->n * sizeof *tmp);
        qc->median_per_bin = rw_stats_median(tmp, bins->n);
        free(tmp);
    }
    if (progress)
        progress(progress_ctx, 1.0);
    *out = bins;
    bins = NULL;
fail:
    rw_bins_free(bins);
    rw_bins_free(file);
    return st;
}
