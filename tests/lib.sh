# Shared helpers for shell tests (sourced). Counts assertions and prints "N passed, N failed".
: "${RW_BUILDDIR:?run through make check}"
RW_CLI="$RW_BUILDDIR/relapsewatch"
RW_DAEMON="$RW_BUILDDIR/relapsewatchd"
t_passed=0
t_failed=0
ok() { t_passed=$((t_passed + 1)); }
fail() { t_failed=$((t_failed + 1)); echo "FAIL: $*" >&2; }
# check DESCRIPTION COMMAND...: passes when the command succeeds.
check() { local d=$1; shift; if "$@"; then ok; else fail "$d"; fi; }
# check_eq DESCRIPTION GOT WANT
check_eq() { if [ "$2" = "$3" ]; then ok; else fail "$1: got '$2', want '$3'"; fi; }
t_tmp=$(mktemp -d "${TMPDIR:-/tmp}/rwtest.XXXXXX")
t_cleanup() { rm -rf "$t_tmp"; }
trap t_cleanup EXIT
done_tests() {
    echo "$t_passed passed, $t_failed failed"
    [ "$t_failed" -eq 0 ]
}
