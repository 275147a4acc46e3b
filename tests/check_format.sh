#!/bin/sh
# Every C file follows the repository's .clang-format (skipped when clang-format is missing).
. "$RW_SRCDIR/tests/lib.sh"
command -v clang-format >/dev/null || { echo "SKIP: clang-format not installed"; exit 77; }
cd "$RW_SRCDIR" || exit 1
for f in core/*.[ch] json/*.[ch] cli/*.[ch] server/*.[ch] fuzz/*.[ch] tools/*.c tests/unit/*.[ch]; do
    if clang-format --dry-run -Werror "$f" >/dev/null 2>&1; then ok; else fail "$f is not clang-formatted (clang-format -i $f)"; fi
done
done_tests
