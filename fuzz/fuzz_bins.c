/* Bins files (core/bins.h): the pre-binned read counts a LIMS uploads, and WIG through them. */
#include "core/bins.h"
#include "fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_path(data, size);
    rw_bins *b = NULL;
    rw_error err;
    if (path && rw_bins_read(path, &b, &err) == RW_OK)
        rw_bins_free(b);
    return 0;
}
