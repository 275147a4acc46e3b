/* A main() for the harnesses without libFuzzer: runs LLVMFuzzerTestOneInput once on each file
 * named on the command line (the seed corpus and the regressions), so a gcc/ASan build replays
 * them in `make check`. Prints how many inputs ran; a crash aborts as it would under the fuzzer. */
#include <stdio.h>
#include <stdlib.h>

#include "fuzz/fuzz.h"

__attribute__((weak)) int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    return 0;
}

int main(int argc, char **argv)
{
    LLVMFuzzerInitialize(&argc, &argv);
    int ran = 0;
    for (int i = 1; i < argc; i++) {
        FILE *f = fopen(argv[i], "rb");
        if (!f) {
            fprintf(stderr, "%s: cannot open %s\n", argv[0], argv[i]);
            return 2;
        }
        size_t cap = 1 << 16, n = 0, got;
        unsigned char *buf = malloc(cap);
        while (buf && (got = fread(buf + n, 1, cap - n, f)) > 0)
            if ((n += got) == cap) {
                unsigned char *bigger = realloc(buf, cap *= 2);
                if (!bigger)
                    free(buf);
                buf = bigger;
            }
        fclose(f);
        if (!buf) {
            fprintf(stderr, "%s: out of memory reading %s\n", argv[0], argv[i]);
            return 2;
        }
        LLVMFuzzerTestOneInput(buf, n);
        free(buf);
        ran++;
    }
    printf("%d inputs\n", ran);
    return 0;
}
