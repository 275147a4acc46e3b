/* Fixed-width genomic bins: layout, lookup and the bins TSV file. */
#include "core/bins.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/atomic.h"
#include "core/wig.h"

#define BINS_MAGIC "#relapsewatch-bins"

rw_bins *rw_bins_new(rw_build build, int32_t bin_size, int include_y, rw_error *err)
{
    if (build == RW_BUILD_UNKNOWN) {
        rw_error_set(err, RW_ERR_BUILD, "unknown genome build");
        return NULL;
    }
    if (bin_size < RW_BIN_SIZE_MIN || bin_size > RW_BIN_SIZE_MAX) {
        rw_error_set(err, RW_ERR_USAGE, "bin size %d outside %d..%d", (int)bin_size,
                     RW_BIN_SIZE_MIN, RW_BIN_SIZE_MAX);
        return NULL;
    }
    rw_bins *b = calloc(1, sizeof *b);
    if (!b)
        goto nomem;
    b->build = build;
    b->bin_size = bin_size;
    b->nchrom = include_y ? RW_NCHROM : RW_NCHROM - 1;
    for (int c = 0; c < b->nchrom; c++) {
        b->first[c] = b->n;
        b->n += (size_t)((rw_chrom_length(build, c) + bin_size - 1) / bin_size);
    }
    for (int c = b->nchrom; c <= RW_NCHROM; c++)
        b->first[c] = b->n;
    b->count = calloc(b->n, sizeof *b->count);
    if (!b->count)
        goto nomem;
    return b;
nomem:
    rw_bins_free(b);
    rw_error_set(err, RW_ERR_NOMEM, "out of memory allocating bins");
    return NULL;
}

void rw_bins_free(rw_bins *b)
{
    if (!b)
        return;
    free(b->count);
    free(b);
}

rw_bins *rw_bins_copy(const rw_bins *b)
{
    rw_bins *c = malloc(sizeof *c);
    if (!c)
        return NULL;
    *c = *b;
    c->count = malloc(b->n * sizeof *c->count);
    if (!c->count) {
        free(c);
        return NULL;
    }
    memcpy(c->count, b->count, b->n * sizeof *c->count);
    return c;
}

int rw_bins_chrom(const rw_bins *b, size_t i)
{
    int lo = 0, hi = b->nchrom - 1;
    while (lo < hi) {
        int mid = (lo + hi + 1) / 2;
        if (b->first[mid] <= i)
            lo = mid;
        else
            hi = mid - 1;
    }
    return lo;
}

int64_t rw_bins_start(const rw_bins *b, size_t i)
{
    int c = rw_bins_chrom(b, i);
    return (int64_t)(i - b->first[c]) * b->bin_size;
}

int64_t rw_bins_end(const rw_bins *b, size_t i)
{
    int c = rw_bins_chrom(b, i);
    int64_t end = (int64_t)(i - b->first[c] + 1) * b->bin_size;
    int64_t len = rw_chrom_length(b->build, c);
    return end < len ? end : len;
}

size_t rw_bins_index(const rw_bins *b, int chrom, int64_t pos)
{
    if (chrom < 0 || chrom >= b->nchrom || pos < 0 || pos >= rw_chrom_length(b->build, chrom))
        return (size_t)-1;
    return b->first[chrom] + (size_t)(pos / b->bin_size);
}

int rw_bins_same_layout(const rw_bins *a, const rw_bins *b)
{
    return a->build == b->build && a->bin_size == b->bin_size && a->nchrom == b->nchrom &&
           a->n == b->n;
}

/* Parses the magic line; returns 0 on success. */
static int parse_magic(char *line, rw_build *build, long *bin_size, int *version, char *filters,
                       size_t filters_size)
{
    if (strncmp(line, BINS_MAGIC, strlen(BINS_MAGIC)))
        return -1;
    *build = RW_BUILD_UNKNOWN;
    *bin_size = 0;
    *version = 0;
    filters[0] = 0;
    /* strtok_r, not strtok: the daemon reads bins files on several threads at once. */
    char *save = NULL;
    for (char *tok = strtok_r(line + strlen(BINS_MAGIC), " \t\r\n", &save); tok;
         tok = strtok_r(NULL, " \t\r\n", &save)) {
        if (!strncmp(tok, "build=", 6))
            *build = rw_build_parse(tok + 6);
        else if (!strncmp(tok, "bin_size=", 9))
            *bin_size = strtol(tok + 9, NULL, 10);
        else if (!strncmp(tok, "version=", 8))
            *version = (int)strtol(tok + 8, NULL, 10);
        else if (!strncmp(tok, "filters=", 8))
            snprintf(filters, filters_size, "%s", tok + 8);
    }
    return 0;
}

rw_status rw_bins_read(const char *path, rw_bins **out, rw_error *err)
{
    *out = NULL;
    FILE *f = fopen(path, "r");
    if (!f)
        return rw_error_set(err, RW_ERR_IO, "%s: %s", path, strerror(errno));
    rw_status st = RW_OK;
    rw_bins *b = NULL;
    unsigned char *seen = NULL;
    char line[1024];
    long lineno = 0;
    rw_build build;
    long bin_size;
    int version, include_y = 0;
    char filters[sizeof b->filters];

    if (!fgets(line, sizeof line, f) ||
        (lineno = 1, parse_magic(line, &build, &bin_size, &version, filters, sizeof filters))) {
        if (rw_wig_sniff(path) == 1) { /* HMMcopy WIG read counts (core/wig.h) */
            fclose(f);
            return rw_wig_read_bins(path, out, err);
        }
        st =
            rw_error_set(err, RW_ERR_INPUT, "%s: not a bins file (first line must start with '%s')",
                         path, BINS_MAGIC);
        goto fail;
    }
    if (version != 1) {
        st = rw_error_set(err, RW_ERR_INPUT, "%s: unsupported bins file version %d", path, version);
        goto fail;
    }
    if (build == RW_BUILD_UNKNOWN) {
        st = rw_error_set(err, RW_ERR_BUILD, "%s: missing or unknown build= in the first line",
                          path);
        goto fail;
    }
    /* A file is read twice only in the rare case it carries chrY; peek for it cheaply. */
    long body = ftell(f);
    char *save;
    while (fgets(line, sizeof line, f))
        if (rw_chrom_index(strtok_r(line, "\t", &save)) == RW_CHROM_Y)
            include_y = 1;
    if (fseek(f, body, SEEK_SET)) {
        st = rw_error_set(err, RW_ERR_IO, "%s: cannot rewind", path);
        goto fail;
    }
    b = rw_bins_new(build, (int32_t)bin_size, include_y, err);
    if (!b) {
        st = err ? err->status : RW_ERR_INPUT;
        goto fail;
    }
    memcpy(b->filters, filters, sizeof b->filters);
    seen = calloc(b->n, 1);
    if (!seen) {
        st = rw_error_set(err, RW_ERR_NOMEM, "out of memory");
        goto fail;
    }
    for (size_t i = 0; i < b->n; i++)
        b->count[i] = NAN;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        if (!strchr(line, '\n') && !feof(f)) {
            st = rw_error_set(err, RW_ERR_INPUT, "%s:%ld: line too long", path, lineno);
            goto fail;
        }
        if (line[0] == '#' || line[0] == '\n' || !strncmp(line, "chrom\t", 6))
            continue;
        char chrom_name[64];
        long long start, end;
        double count;
        int consumed = 0;
        if (sscanf(line, "%63[^\t]\t%lld\t%lld\t%lf%n", chrom_name, &start, &end, &count,
                   &consumed) != 4 ||
            strspn(line + consumed, " \t\r\n") != strlen(line + consumed)) {
            st = rw_error_set(err, RW_ERR_INPUT,
                              "%s:%ld: expected 'chrom<TAB>start<TAB>end<TAB>count'", path, lineno);
            goto fail;
        }
        int c = rw_chrom_index(chrom_name);
        if (c < 0) {
            st = rw_error_set(err, RW_ERR_INPUT, "%s:%ld: unknown chromosome '%s'", path, lineno,
                              chrom_name);
            goto fail;
        }
        size_t i = rw_bins_index(b, c, start);
        if (i == (size_t)-1 || start != rw_bins_start(b, i) || end != rw_bins_end(b, i)) {
            st = rw_error_set(err, RW_ERR_INPUT, "%s:%ld: %s:%lld-%lld is not a %ld bp bin of %s",
                              path, lineno, chrom_name, start, end, bin_size, rw_build_name(build));
            goto fail;
        }
        if (!isfinite(count) || count < 0) {
            st = rw_error_set(err, RW_ERR_INPUT, "%s:%ld: count must be a finite number >= 0", path,
                              lineno);
            goto fail;
        }
        if (seen[i]++) {
            st = rw_error_set(err, RW_ERR_INPUT, "%s:%ld: duplicate bin %s:%lld-%lld", path, lineno,
                              chrom_name, start, end);
            goto fail;
        }
        b->count[i] = count;
    }
    if (ferror(f)) {
        st = rw_error_set(err, RW_ERR_IO, "%s: read error", path);
        goto fail;
    }
    size_t nseen = 0;
    for (size_t i = 0; i < b->n; i++)
        nseen += seen[i];
    if (nseen == 0) {
        st = rw_error_set(err, RW_ERR_INPUT, "%s: no bins", path);
        goto fail;
    }
    free(seen);
    fclose(f);
    *out = b;
    return RW_OK;
fail:
    free(seen);
    rw_bins_free(b);
    fclose(f);
    return st;
}

rw_status rw_bins_write(const rw_bins *b, const char *path, rw_error *err)
{
    char tmp[RW_ATOMIC_TMP_MAX];
    FILE *f;
    rw_status st = rw_atomic_open(path, tmp, &f, err);
    if (st != RW_OK)
        return st;
    fprintf(f, "%s\tversion=1\tbuild=%s\tbin_size=%d%s%s\nchrom\tstart\tend\tcount\n", BINS_MAGIC,
            rw_build_name(b->build), (int)b->bin_size, b->filters[0] ? "\tfilters=" : "",
            b->filters);
    for (size_t i = 0; i < b->n; i++) {
        if (isnan(b->count[i]))
            continue;
        fprintf(f, "%s\t%lld\t%lld\t%.10g\n", rw_chrom_name(rw_bins_chrom(b, i)),
                (long long)rw_bins_start(b, i), (long long)rw_bins_end(b, i), b->count[i]);
    }
    return rw_atomic_commit(f, tmp, path, err);
}
