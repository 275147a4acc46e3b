/* Uploaded reads: BAM, CRAM, SAM or a bins file, sniffed and counted (core/count.h). */
#include <stdlib.h>

#include "core/count.h"
#include "fuzz/fuzz.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    /* A CRAM without its reference must not make htslib fetch it from the network. */
    setenv("REF_PATH", "/nonexistent", 1);
    setenv("REF_CACHE", "/nonexistent", 1);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_path(data, size);
    if (!path)
        return 0;
    rw_count_opts o;
    rw_count_opts_init(&o);
    rw_bins *b = NULL;
    rw_count_qc qc;
    rw_error err;
    if (rw_count_load(path, &o, &b, &qc, NULL, NULL, &err) == RW_OK)
        rw_bins_free(b);
    return 0;
}
