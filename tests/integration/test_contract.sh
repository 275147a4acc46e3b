#!/bin/sh
# The LIMS contract (issue 13) against the real daemon: the version's schema, strict query
# parameters on every route, one name for the ddPCR wells, each assay's one input, the job chain
# a LIMS polls, Location headers, the site's time zone and draw times, patients by external id,
# and the sync lists (updated_since, cursors).
. "$RW_SRCDIR/tests/lib.sh"
rw_start_daemon "$t_tmp/d" || exit 1
RW_TOKEN=$RW_ADMIN_TOKEN
j() { jq -r "$1" "$RW_BODY"; }
last_migration=$(ls "$RW_SRCDIR"/schema/[0-9][0-9][0-9]_*.sql | tail -n 1 | xargs basename |
    sed 's/_.*//; s/^0*//')

# ---------------------------------------------------------------- version
check_eq "version" "$(rw_req GET /api/v1/version)" 200
check_eq "schema = the last migration" "$(j .schema)" "$last_migration"
check_eq "schema_supported" "$(j .schema_supported)" "$last_migration"
check "docs/api-infra.md shows the schema" grep -q "\"schema\":$last_migration," "$RW_SRCDIR/docs/api-infra.md"

# ---------------------------------------------------------------- unknown query parameters: 422
for p in "/api/v1/jobs?limit=1&state=done&samplee=X" "/api/v1/pons?x=1" \
    "/api/v1/samples/NOPE/profile?verbose=1" "/api/v1/version?x=1" "/api/v1/patients/1?x=1"; do
    check_eq "GET $p" "$(rw_req GET "$p")" 422
    check_eq "GET $p: code" "$(j .error.code)" unknown_field
done
check_eq "the unknown key is named" "$(rw_req GET '/api/v1/jobs?limit=1&samplee=X'; j .error.field)" "422samplee"

rw_stop_daemon
done_tests
