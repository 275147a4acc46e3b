#!/bin/sh
# The OpenAPI document against the daemon it describes (tests/integration/openapi.mjs): valid
# OpenAPI 3.1 (swagger-parser), every compiled route documented and nothing more (both ways,
# roles too), the LIMS flow's documented examples sent to the real daemon and each answer checked
# against its documented schema (ajv); and the document the daemon serves is the built one.
. "$RW_SRCDIR/tests/lib.sh"
command -v node >/dev/null && [ -d "$RW_SRCDIR/node_modules/@apidevtools/swagger-parser" ] || {
    echo "node or node_modules missing: skipped"
    exit 77
}
doc="$RW_BUILDDIR/docs/openapi.json"
"$RW_DAEMON" --list-routes >"$t_tmp/routes" || fail "relapsewatchd --list-routes"
"$RW_BUILDDIR/tests/unit/list_routes" >"$t_tmp/query" || fail "list_routes"
check "the compiled routes are listed" test -s "$t_tmp/routes"
rw_start_daemon "$t_tmp/d" || exit 1

# Served public (no token), and the same bytes as the installed file.
check_eq "GET /api/v1/openapi.json" "$(RW_TOKEN='' rw_req GET /api/v1/openapi.json)" 200
check "served document = built document" cmp -s "$RW_BODY" "$doc"

RW_SRCDIR=$RW_SRCDIR node "$RW_SRCDIR/tests/integration/openapi.mjs" "$doc" "$t_tmp/routes" \
    "$t_tmp/query" "$RW_URL" "$RW_ADMIN_TOKEN" >"$t_tmp/node.out" 2>&1
rc=$?
grep '^FAIL' "$t_tmp/node.out" >&2
tail -n 1 "$t_tmp/node.out"
check_eq "openapi.mjs" "$rc" 0

# The merge refuses a fragment that redefines another's operation or component.
mkdir -p "$t_tmp/frag"
printf '{"paths": {"/api/v1/health": {"get": {"operationId": "x"}}}}' >"$t_tmp/frag/dup.json"
if "$RW_BUILDDIR/tools/gen-openapi" -o "$t_tmp/m.json" "$RW_SRCDIR/docs/openapi/base.json" \
    "$RW_SRCDIR/docs/openapi/health.json" "$t_tmp/frag/dup.json" 2>"$t_tmp/gen.err"; then
    fail "gen-openapi accepted a duplicate operation"
else
    check "the duplicate is named" grep -q 'operation of /api/v1/health "get" is defined twice' "$t_tmp/gen.err"
fi
printf '{"info": {}}' >"$t_tmp/frag/bad.json"
if "$RW_BUILDDIR/tools/gen-openapi" -o "$t_tmp/m.json" "$RW_SRCDIR/docs/openapi/base.json" \
    "$t_tmp/frag/bad.json" 2>/dev/null; then
    fail "gen-openapi accepted a fragment with info"
else
    ok
fi
check "the daemon stops cleanly" rw_stop_daemon
done_tests
