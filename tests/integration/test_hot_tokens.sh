#!/bin/sh
# The hot read path keeps no stale credential and no stale answer (issue 14): a token found live
# is remembered for a second (server/auth.c), and a trend answer is found by one statement
# before any read transaction (server/api_trend.c). A token revoked, expired or changed behind
# the daemon's back, and a patient erased or changed, must show at the next request. Real
# daemon, HTTP and SQLite.
. "$RW_SRCDIR/tests/lib.sh"

D=$t_tmp/d
DB=$D/rw.db
sql() { sqlite3 -cmd '.timeout 5000' "$DB" "$1"; }
# get TOKEN PATH: the status of a GET with TOKEN, on a new connection.
get() { curl -s -o "$t_tmp/out.json" -w '%{http_code}' -H "Authorization: Bearer $1" "$RW_URL$2"; }
# burst TOKEN PATH N: N GETs on one connection (they land on the daemon's HTTP threads); prints
# their statuses sorted and counted, e.g. "8x200".
burst() {
    i=0
    while [ $i -lt "$3" ]; do printf 'url = "%s%s"\noutput = /dev/null\nwrite-out = "%%{http_code}\\n"\n' "$RW_URL" "$2"; i=$((i + 1)); done >"$t_tmp/burst.cfg"
    curl -s -H "Authorization: Bearer $1" -K "$t_tmp/burst.cfg" | sort | uniq -c | awk '{ printf "%s%sx%s", (NR > 1 ? " " : ""), $1, $2 }'
}
token() { # token ROLE LABEL [EXPIRES]: creates a token as the admin; sets TOK and TOK_ID
    RW_TOKEN=$RW_ADMIN_TOKEN rw_req POST /api/v1/tokens \
        "{\"role\":\"$1\",\"label\":\"$2\"${3:+,\"expires_at\":\"$3\"}}" >/dev/null
    TOK=$(jq -r .token "$RW_BODY")
    TOK_ID=$(jq -r .id "$RW_BODY")
}

rw_start_daemon "$D" || { done_tests; exit 1; }
token lims hot-lims
LIMS=$TOK
RW_TOKEN=$LIMS
rw_req POST /api/v1/patients '{"external_id":"P-HOT","diagnosis_date":"2024-01-01"}' >/dev/null
PAT=$(jq -r .id "$RW_BODY")
rw_req POST /api/v1/patients '{"external_id":"P-HOT-2","diagnosis_date":"2024-01-01"}' >/dev/null
PAT2=$(jq -r .id "$RW_BODY")

# ---------------------------------------------------------------- revocation through the API
token clinician hot-clin
CLIN=$TOK
CLIN_ID=$TOK_ID
check_eq "a clinician token works, remembered after its first uses" \
    "$(burst "$CLIN" "/api/v1/patients/$PAT/trend" 20)" "20x200"
check_eq "the admin revokes it" "$(RW_TOKEN=$RW_ADMIN_TOKEN rw_req DELETE "/api/v1/tokens/$CLIN_ID")" 200
check_eq "refused at the next request, on every HTTP thread" \
    "$(burst "$CLIN" "/api/v1/patients/$PAT/trend" 8)" "8x401"

# ---------------------------------------------------------------- a disabled owner
RW_TOKEN=$RW_ADMIN_TOKEN
rw_req POST /api/v1/users '{"name":"hotops","role":"clinician"}' >/dev/null
USER_ID=$(jq -r .id "$RW_BODY")
sql "INSERT INTO tokens (role, label, hash, created_at, owner_user_id) VALUES ('clinician', 'hot-owned', '$(printf 'rw_owned_secret_for_the_hot_test' | sha256sum | cut -d' ' -f1)', '2024-01-01T00:00:00Z', $USER_ID)"
OWNED=rw_owned_secret_for_the_hot_test
check_eq "a token owned by a user works" "$(burst "$OWNED" "/api/v1/patients/$PAT/trend" 10)" "10x200"
check_eq "the admin disables the user" \
    "$(RW_TOKEN=$RW_ADMIN_TOKEN rw_req PATCH "/api/v1/users/$USER_ID" '{"disabled":true}')" 200
check_eq "... her token is refused at the next request" \
    "$(burst "$OWNED" "/api/v1/patients/$PAT/trend" 8)" "8x401"

# ---------------------------------------------------------------- expiry
EXP_AT=$(($(date +%s) + 3))
token viewer hot-short "$(date -u -d "@$EXP_AT" +%Y-%m-%dT%H:%M:%SZ)"
SHORT=$TOK
check_eq "a token with an expiry works before it" "$(burst "$SHORT" "/api/v1/patients/$PAT/trend" 10)" "10x200"
while [ "$(date +%s)" -lt "$EXP_AT" ]; do sleep 0.1; done
check_eq "refused from its expiry on" "$(burst "$SHORT" "/api/v1/patients/$PAT/trend" 8)" "8x401"

# ---------------------------------------------------------------- behind the daemon's back
token clinician hot-sql
SQLTOK=$TOK
SQLTOK_ID=$TOK_ID
check_eq "another token works" "$(burst "$SQLTOK" "/api/v1/patients/$PAT/trend" 10)" "10x200"
sql "UPDATE tokens SET revoked_at = '2024-01-01T00:00:00Z' WHERE id = $SQLTOK_ID"
n=0
while [ "$(get "$SQLTOK" "/api/v1/patients/$PAT/trend")" = 200 ] && [ $n -lt 40 ]; do sleep 0.05; n=$((n + 1)); done
check "revoked with sqlite3: refused within 1 s (after $n polls of 50 ms)" [ $n -le 22 ]
check_eq "... and stays refused" "$(burst "$SQLTOK" "/api/v1/patients/$PAT/trend" 8)" "8x401"

# ---------------------------------------------------------------- the trend answer
token clinician hot-reader
READER=$TOK
check_eq "trend read (cached from now on)" "$(get "$READER" "/api/v1/patients/$PAT/trend")" 200
check_eq "... no treatment yet" "$(jq '.treatments | length' "$t_tmp/out.json")" 0
check_eq "a second read: the same answer" "$(get "$READER" "/api/v1/patients/$PAT/trend")" 200
token clinician hot-writer
RW_TOKEN=$TOK
check_eq "a treatment is added" "$(rw_req POST "/api/v1/patients/$PAT/treatments" '{"kind":"other","start_date":"2024-02-01"}')" 201
check_eq "the next trend read shows it" "$(get "$READER" "/api/v1/patients/$PAT/trend" && jq '.treatments | length' "$t_tmp/out.json")" "2001"
check_eq "the other patient's trend is hers (200)" "$(get "$READER" "/api/v1/patients/$PAT2/trend")" 200
check_eq "... with her own id" "$(jq '.patient.id' "$t_tmp/out.json")" "$PAT2"
check_eq "the admin erases the first patient" \
    "$(RW_TOKEN=$RW_ADMIN_TOKEN rw_req DELETE "/api/v1/patients/$PAT")" 200
check_eq "her cached trend is gone at the next read (404)" \
    "$(burst "$READER" "/api/v1/patients/$PAT/trend" 8)" "8x404"
check_eq "an id that is not one: 404" "$(get "$READER" /api/v1/patients/0x12/trend)" 404
check_eq "an unknown query parameter: 422" "$(get "$READER" "/api/v1/patients/$PAT2/trend?x=1")" 422

rw_stop_daemon
done_tests
