/* HMMcopy WIG read counts and GC/mappability tracks (core/wig.h). */
#include <stdlib.h>

#include "core/bins.h"
#include "core/wig.h"
#include "fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static rw_bins *layout;
    rw_error err;
    if (!layout && !(layout = rw_bins_new(RW_BUILD_HG19, 1000000, 0, &err)))
        abort();
    const char *path = fuzz_path(data, size);
    if (!path)
        return 0;
    rw_wig_sniff(path);
    rw_bins *b = NULL;
    if (rw_wig_read_bins(path, &b, &err) == RW_OK)
        rw_bins_free(b);
    double *values = malloc(layout->n * sizeof *values);
    if (values && rw_wig_read_track(path, layout, values, &err) != RW_OK) {
        /* an error leaves nothing to check */
    }
    free(values);
    return 0;
}
