/* float32 BLOBs of the results table (see blob.h). */
#include "server/blob.h"

#include <stdlib.h>
#include <string.h>

unsigned char *srv_blob_f32_encode(const double *v, size_t n)
{
    unsigned char *b = malloc(n ? n * 4 : 1);
    if (!b)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        float f = (float)v[i];
        uint32_t u;
        memcpy(&u, &f, 4);
        b[4 * i] = (unsigned char)(u & 0xff);
        b[4 * i + 1] = (unsigned char)((u >> 8) & 0xff);
        b[4 * i + 2] = (unsigned char)((u >> 16) & 0xff);
        b[4 * i + 3] = (unsigned char)(u >> 24);
    }
    return b;
}

void srv_blob_f32_decode(const void *blob, size_t n, double *out)
{
    const unsigned char *b = blob;
    for (size_t i = 0; i < n; i++) {
        uint32_t u = (uint32_t)b[4 * i] | (uint32_t)b[4 * i + 1] << 8 |
                     (uint32_t)b[4 * i + 2] << 16 | (uint32_t)b[4 * i + 3] << 24;
        float f;
        memcpy(&f, &u, 4);
        out[i] = f;
    }
}

rw_bins *srv_blob_layout_new(const char *build, int32_t bin_size, size_t nbytes)
{
    rw_build b = rw_build_parse(build);
    for (int y = 0; y <= 1; y++) {
        rw_bins *bins = rw_bins_new(b, bin_size, y, NULL);
        if (bins && bins->n * 4 == nbytes)
            return bins;
        rw_bins_free(bins);
    }
    return NULL;
}
