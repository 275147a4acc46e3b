/* Panel-of-normals files (core/pon.h): an admin uploads them, the daemon reads them back. */
#include "core/pon.h"
#include "fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_path(data, size);
    rw_pon *p = NULL;
    rw_error err;
    if (path && rw_pon_read(path, &p, &err) == RW_OK) {
        rw_pon_usable(p);
        rw_pon_has_gc(p);
        rw_pon_free(p);
    }
    return 0;
}
