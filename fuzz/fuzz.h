/* Fuzzing harnesses: each fuzz_*.c defines LLVMFuzzerTestOneInput for one parser that takes
 * outside input. Built two ways: with libFuzzer by fuzz/run.sh (the campaign), and with
 * fuzz/driver.c as a plain program that replays the seed corpus and every past finding in
 * `make check` (tests/check_fuzz_corpus.sh). */
#ifndef RW_FUZZ_H
#define RW_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
/* Optional per-harness set-up (libFuzzer calls it once; so does the driver). */
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* The parsers read files: data is written to an in-memory file whose /proc/self/fd path is
 * returned (static storage, valid until the next call). NULL when memory is short. */
const char *fuzz_path(const uint8_t *data, size_t size);

#endif
