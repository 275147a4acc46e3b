#!/bin/sh
# GET /api/v1/admin/backups pages by cursor like every other list: three backups made over the
# API come back one a page, in name order (their creation order), each exactly once; a cursor
# the server did not give and an unknown parameter are refused.
. "$RW_SRCDIR/tests/lib.sh"

rw_start_daemon "$t_tmp/d" || { done_tests; exit 1; }
RW_TOKEN=$RW_ADMIN_TOKEN
made=""
for i in 1 2 3; do
    check_eq "backup $i: 201" "$(rw_req POST /api/v1/admin/backups)" 201
    made="$made $(jq -r .backup.name "$RW_BODY")"
done
made=$(echo $made)

check_eq "one page holds all three, in name order" \
    "$(rw_req GET /api/v1/admin/backups >/dev/null && jq -r '[.backups[].name] | join(" ")' "$RW_BODY")" "$made"
check_eq "... and no next page" "$(jq -r .next_cursor "$RW_BODY")" null
check_eq "limit=1 pages through the three in order" \
    "$(rw_page_ids backups /api/v1/admin/backups name 1)" "$made"
rw_req GET '/api/v1/admin/backups?limit=1' >/dev/null
first=$(jq -r '.backups[0].name' "$RW_BODY")
cursor=$(jq -r .next_cursor "$RW_BODY")
check_eq "the first page of one is the oldest" "$first" "${made%% *}"
check_eq "limit=2 after the first page: the other two" \
    "$(rw_req GET "/api/v1/admin/backups?limit=2&cursor=$cursor" >/dev/null &&
        jq -r '([.backups[].name] | join(" ")) + " " + (.next_cursor | tostring)' "$RW_BODY")" \
    "${made#* } null"

check_eq "a cursor the server did not give: 422" \
    "$(rw_req GET '/api/v1/admin/backups?cursor=not-a-cursor')" 422
check_eq "... naming the cursor" "$(jq -r '.error.field // .field' "$RW_BODY")" cursor
check_eq "limit=0: 422" "$(rw_req GET '/api/v1/admin/backups?limit=0')" 422
check_eq "an unknown parameter: 422" "$(rw_req GET '/api/v1/admin/backups?sort=name')" 422
RW_TOKEN=""
check_eq "without a token: 401" "$(rw_req GET /api/v1/admin/backups)" 401
done_tests
