/* The per-bin BLOBs of the results table (counts, log2 ratios): little-endian float32, 4 bytes
 * a bin, NaN kept. A BLOB does not say its layout: the row's build and bin size do, and the
 * number of bins (with or without chrY) follows from its length. */
#ifndef SRV_BLOB_H
#define SRV_BLOB_H

#include <stddef.h>
#include <stdint.h>

#include "core/bins.h"

/* n values as float32, new (free()); NULL when out of memory. */
unsigned char *srv_blob_f32_encode(const double *v, size_t n);
/* Decodes n values (the BLOB holds at least 4 n bytes) into out. */
void srv_blob_f32_decode(const void *blob, size_t n, double *out);
/* Empty bins (zero counts) of build and bin size with or without chrY, whichever has
 * nbytes / 4 bins; new (rw_bins_free()), or NULL when neither fits (or out of memory). */
rw_bins *srv_blob_layout_new(const char *build, int32_t bin_size, size_t nbytes);

#endif
