#!/bin/sh
# Runs `make distcheck` in a temporary folder: the tarball is made, unpacked read-only, built
# out of tree, checked, installed, uninstalled and cleaned, and must leave nothing behind.
# Usage: tools/distcheck.sh [--quick]   (run from anywhere; ./configure must exist: autoreconf -fi)
#   --quick  the tarball's check runs only the tests that read the source tree (docs, install,
#            format, metrics, the workflow, the package) instead of the whole suite (~4 min on
#            2 busy cores instead of ~25); RW_DISTCHECK_TESTS='tests/...' picks another list
# Prints the time taken and the tarball's name; exit status is make's.
set -e
top=$(cd "$(dirname "$0")/.." && pwd)
quick=
[ "${1:-}" = --quick ] && quick=1
tmp=$(mktemp -d "${TMPDIR:-/tmp}/rw-distcheck.XXXXXX")
# distcheck makes its copy read-only: give write back before removing it.
trap 'chmod -R u+w "$tmp" 2>/dev/null; rm -rf "$tmp"' EXIT
cd "$tmp"
start=$(date +%s)
"$top/configure" >configure.log 2>&1 || { tail -20 configure.log >&2; exit 1; }
jobs=${RW_JOBS:-2}
# Regenerate a Makefile.in older than its Makefile.am/local.mk in the source tree first: a stale
# one would make the tarball's build re-run automake and configure inside the distcheck.
make am--refresh >refresh.log 2>&1 || { tail -20 refresh.log >&2; exit 1; }
set +e
if [ -n "$quick" ]; then
    make -j"$jobs" distcheck >distcheck.log 2>&1 \
        TESTS="${RW_DISTCHECK_TESTS:-tests/check_docs.sh tests/check_format.sh tests/integration/test_install.sh tests/integration/test_metrics.sh tests/integration/test_workflow.sh tests/integration/test_package.sh}"
else
    make -j"$jobs" distcheck >distcheck.log 2>&1
fi
rc=$?
set -e
end=$(date +%s)
if [ $rc -ne 0 ]; then
    grep -E '^(FAIL|ERROR|make.*Error)|failed|FAIL:' distcheck.log | head -40 >&2
    tail -30 distcheck.log >&2
    # Keep the logs of the failing tests where a reader can find them.
    find "$tmp" -name 'test-suite.log' -exec cp {} "${TMPDIR:-/tmp}/rw-distcheck-test-suite.log" \; 2>/dev/null
fi
tail -n 4 distcheck.log | grep -E 'archives ready|relapsewatch-' || true
echo "distcheck${quick:+ (quick)}: exit $rc in $((end - start)) s"
exit $rc
