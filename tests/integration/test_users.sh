#!/bin/sh
# People's accounts against the real daemon: the first admin account and its forced password
# change, the password policy, session cookies (attributes, only a hash stored, sign-out ends it
# on the server), the CSRF defence, throttled and locked sign-ins (per name and per address),
# disabled users whose sessions and tokens stop at once, token expiry, owner and last use, the
# re-check before commit (a token revoked mid-upload writes nothing), idle and absolute expiry.
. "$RW_SRCDIR/tests/lib.sh"

D=$t_tmp/d
rw_start_daemon "$D" --signin-max-failures 5 || { done_tests; exit 1; }
ADMIN_TOKEN=$RW_ADMIN_TOKEN
jqb() { jq -r "$@" "$RW_BODY"; }
db() { sqlite3 "$D/rw.db" "$1"; }
H=$t_tmp/headers

# signin NAME PASSWORD: the status in CODE; SESSION and CSRF from the answer, headers in $H.
signin() {
    CODE=$(curl -s -o "$RW_BODY" -D "$H" -w '%{http_code}' -X POST \
        -H 'Content-Type: application/json' \
        --data-binary "{\"name\":\"$1\",\"password\":\"$2\"}" "$RW_URL/api/v1/session")
    SESSION=$(sed -n 's/^[Ss]et-[Cc]ookie: rw_session=\([0-9a-f]*\);.*/\1/p' "$H")
    CSRF=$(jq -r '.csrf_token // empty' "$RW_BODY")
}
# as METHOD PATH [JSON [EXTRA CURL ARGS...]]: a request with the session cookie, the CSRF header
# and Origin $ORIGIN (default: the daemon's own); prints the status.
as() {
    local method=$1 path=$2 body=${3:-}
    shift 2
    [ $# -gt 0 ] && shift
    curl -s -o "$RW_BODY" -D "$H" -w '%{http_code}' -X "$method" -H "Cookie: rw_session=$SESSION" \
        -H "X-CSRF-Token: $CSRF" -H "Origin: ${ORIGIN:-$RW_URL}" \
        ${body:+-H 'Content-Type: application/json' --data-binary "$body"} "$@" "$RW_URL$path"
}
pwchange() { as POST /api/v1/session/password "{\"current_password\":\"$1\",\"new_password\":\"$2\"}"; }

# ---------------------------------------------------------------- the first admin account
ADMIN_PW=$(sed -n 's/^admin account: admin password: \([^ ]*\).*/\1/p' "$D/stdout")
check_eq "the first start prints a 20-character admin password" "${#ADMIN_PW}" 20
check_eq "... and still the admin token" "$(grep -c '^admin token: rw_' "$D/stdout")" 1
check_eq "only an Argon2id hash is stored" "$(db "SELECT substr(password_hash, 1, 10) FROM users")" '$argon2id$'
check_eq "the password is nowhere in the database file" "$(grep -c "$ADMIN_PW" "$D/rw.db")" 0
signin admin wrong-password-123; check_eq "wrong password" "$CODE" 401
check_eq "... code" "$(jqb .error.code)" invalid_credentials
signin nobody wrong-password-123; check_eq "unknown name: the same answer" "$CODE" 401
signin Admin "$ADMIN_PW"; check_eq "sign in with the printed password" "$CODE" 201
check_eq "must change the password" "$(jqb .must_change_password)" true
check "cookie: HttpOnly, SameSite=Strict, Path=/, Max-Age" \
    grep -qi '^set-cookie: rw_session=[0-9a-f]\{64\}; Max-Age=43200; Path=/; HttpOnly; SameSite=Strict' "$H"
check "no Secure flag without TLS" sh -c "! grep -qi 'secure' '$H'"
check_eq "only the cookie's SHA-256 is stored" \
    "$(db "SELECT hash FROM sessions")" "$(printf %s "$SESSION" | sha256sum | cut -d' ' -f1)"
check_eq "until changed, nothing else" "$(as GET /api/v1/users)" 403
check_eq "... code" "$(jqb .error.code)" password_change_required
check_eq "who am I works" "$(as GET /api/v1/session)" 200
check_eq "... names the user and the CSRF token" "$(jqb --arg c "$CSRF" '"\(.name) \(.role) \(.csrf_token == $c)"')" "admin admin true"
check_eq "policy: 12 characters" "$(pwchange "$ADMIN_PW" short-pw)" 422
check_eq "policy: not the user name (nor containing it)" "$(pwchange "$ADMIN_PW" My-ADMIN-password)" 422
check_eq "policy: a common password" "$(pwchange "$ADMIN_PW" Password1234)" 422
check_eq "... code" "$(jqb .error.code)" weak_password
check_eq "wrong current password" "$(pwchange not-the-password Strong-root-pw-1)" 422
check_eq "password changed" "$(pwchange "$ADMIN_PW" Strong-root-pw-1)" 200
check_eq "then the session may work" "$(as GET /api/v1/users)" 200
check_eq "one user" "$(jqb '.users | length')" 1

# ---------------------------------------------------------------- CSRF
U='{"name":"dr-ada","role":"clinician","password":"ada-First-pw-1"}'
check_eq "a cookie write without X-CSRF-Token" "$(curl -s -o "$RW_BODY" -w '%{http_code}' -X POST \
    -H "Cookie: rw_session=$SESSION" -H 'Content-Type: application/json' --data-binary "$U" \
    "$RW_URL/api/v1/users")" 403
check_eq "... code csrf" "$(jqb .error.code)" csrf
check_eq "a wrong X-CSRF-Token" "$(CSRF=$(printf '%064d' 0) as POST /api/v1/users "$U")" 403
check_eq "another site's Origin" "$(ORIGIN=https://evil.example as POST /api/v1/users "$U")" 403
check_eq "another site's Referer (no Origin)" "$(curl -s -o "$RW_BODY" -w '%{http_code}' -X POST \
    -H "Cookie: rw_session=$SESSION" -H "X-CSRF-Token: $CSRF" -H 'Referer: https://evil.example/x' \
    -H 'Content-Type: application/json' --data-binary "$U" "$RW_URL/api/v1/users")" 403
check_eq "nothing was created" "$(db "SELECT count(*) FROM users")" 1
check_eq "same-site Origin and the token: created" "$(as POST /api/v1/users "$U")" 201
check_eq "... must change at first sign-in" "$(jqb .must_change_password)" true
check_eq "... no password in the answer when the admin chose it" "$(jqb 'has("initial_password")')" false
check_eq "a generated first password" "$(as POST /api/v1/users '{"name":"ops","role":"admin"}')" 201
OPS_PW=$(jqb .initial_password)
OPS_ID=$(jqb .id)
check_eq "... 20 characters, shown once" "${#OPS_PW}" 20
check_eq "a name taken" "$(as POST /api/v1/users '{"name":"ops","role":"viewer"}')" 409
check_eq "a bad name" "$(as POST /api/v1/users '{"name":"Bad Name","role":"viewer"}')" 422
check_eq "lims is not a person's role" "$(as POST /api/v1/users '{"name":"lab","role":"lims"}')" 422
check_eq "a Bearer token needs no CSRF header" "$(RW_TOKEN=$ADMIN_TOKEN rw_req POST /api/v1/users \
    '{"name":"aud","role":"viewer","password":"reads-only-pw-2026"}')" 201
ADMIN_SESSION=$SESSION ADMIN_CSRF=$CSRF

# ---------------------------------------------------------------- sign-out
signin ops "$OPS_PW"; check_eq "ops signs in" "$CODE" 201
OPS_OLD=$SESSION
check_eq "ops changes the password" "$(pwchange "$OPS_PW" Second-opr-pw-22)" 200
check_eq "sign out" "$(as DELETE /api/v1/session)" 200
check "... clears the cookie" grep -qi '^set-cookie: rw_session=; Max-Age=0' "$H"
check_eq "the same cookie is dead on the server" "$(as GET /api/v1/session)" 401
check_eq "ended in the database" "$(db "SELECT ended_unix IS NOT NULL FROM sessions WHERE hash = '$(printf %s "$OPS_OLD" | sha256sum | cut -d' ' -f1)'")" 1

# ---------------------------------------------------------------- disabled user: sessions and tokens stop
signin ops Second-opr-pw-22; check_eq "ops signs in again" "$CODE" 201
check_eq "ops makes a lims token (owner ops)" "$(as POST /api/v1/tokens '{"role":"lims","label":"ops-lims"}')" 201
OPS_TOKEN=$(jqb .token)
OPS_TOKEN_ID=$(jqb .id)
check_eq "the token works" "$(RW_TOKEN=$OPS_TOKEN rw_req GET /api/v1/session)" 200
SESSION=$ADMIN_SESSION CSRF=$ADMIN_CSRF
check_eq "tokens list the owner" "$(as GET /api/v1/tokens)" 200
check_eq "... and the last use" "$(jqb ".tokens[] | select(.id == $OPS_TOKEN_ID) | \"\(.owner) \(.last_used_at != null)\"")" "ops true"
check_eq "admin disables ops" "$(as PATCH "/api/v1/users/$OPS_ID" '{"disabled":true}')" 200
check_eq "... disabled" "$(jqb .disabled)" true
check_eq "ops's token stops at once" "$(RW_TOKEN=$OPS_TOKEN rw_req GET /api/v1/session)" 401
signin ops Second-opr-pw-22; check_eq "ops's password no longer opens a session" "$CODE" 403
check_eq "... account_disabled" "$(jqb .error.code)" account_disabled
SESSION=$ADMIN_SESSION CSRF=$ADMIN_CSRF
check_eq "the last enabled admin account cannot be disabled" "$(as PATCH /api/v1/users/1 '{"disabled":true}')" 409
check_eq "... nor demoted" "$(as PATCH /api/v1/users/1 '{"role":"viewer"}')" 409
check_eq "audit: user changes by the admin's name" \
    "$(db "SELECT actor || ' ' || action FROM audit_log WHERE entity_type = 'user' AND action = 'update'")" "admin update"

# ---------------------------------------------------------------- token expiry
EXP=$(date -u -d '+2 seconds' +%Y-%m-%dT%H:%M:%SZ)
check_eq "a token with an expiry" "$(as POST /api/v1/tokens "{\"role\":\"viewer\",\"label\":\"short\",\"expires_at\":\"$EXP\"}")" 201
SHORT=$(jqb .token)
check_eq "an expiry in the past is refused" "$(as POST /api/v1/tokens '{"role":"viewer","label":"x","expires_at":"2020-01-01T00:00:00Z"}')" 422
check_eq "works before its expiry" "$(RW_TOKEN=$SHORT rw_req GET /api/v1/session)" 200

# ---------------------------------------------------------------- re-check before commit
# revoked_midway METHOD PATH PREFIX: a new lims token sends PREFIX + 3000 spaces + "}" (valid
# JSON) at 1 KB/s; the token is revoked a second in. The status goes to $t_tmp/slow.code.
revoked_midway() {
    RW_TOKEN=$ADMIN_TOKEN rw_req POST /api/v1/tokens '{"role":"lims","label":"lims-slow"}' >/dev/null
    local tok id slow
    tok=$(jqb .token)
    id=$(jqb .id)
    { printf '%s' "$3"; head -c 3000 /dev/zero | tr '\0' ' '; printf '}'; } >"$t_tmp/slow.json"
    curl -s -o "$t_tmp/slow.out" -w '%{http_code}' -X "$1" -H "Authorization: Bearer $tok" \
        -H 'Content-Type: application/json' --limit-rate 1K --data-binary "@$t_tmp/slow.json" \
        "$RW_URL$2" >"$t_tmp/slow.code" &
    slow=$!
    sleep 1
    check_eq "revoked during the request" "$(RW_TOKEN=$ADMIN_TOKEN rw_req DELETE "/api/v1/tokens/$id")" 200
    wait $slow
}
RW_TOKEN=$ADMIN_TOKEN rw_req POST /api/v1/tokens '{"role":"lims","label":"lims"}' >/dev/null
LIMS=$(jqb .token)
RW_TOKEN=$LIMS rw_req POST /api/v1/patients '{"external_id":"AUTH-1","diagnosis_date":"2020-01-01"}' >/dev/null
PID=$(jqb .id)
RW_TOKEN=$LIMS rw_req POST "/api/v1/patients/$PID/samples" \
    '{"accession":"AUTH-S1","collected_at":"2024-03-01","assay":"ddpcr"}' >/dev/null
revoked_midway PUT /api/v1/samples/AUTH-S1/ddpcr \
    '{"wells":[{"target_positive":2400,"reference_positive":1300,"droplets":15000}]'
check_eq "the upload gets no 2xx" "$(cat "$t_tmp/slow.code")" 401
check_eq "... but 401 unauthorized" "$(jq -r .error.code "$t_tmp/slow.out")" unauthorized
check_eq "... and no row" "$(db "SELECT count(*) FROM jobs j JOIN samples s ON s.id = j.sample_id WHERE s.accession = 'AUTH-S1'")" 0
check_eq "... the sample still waits" "$(db "SELECT status FROM samples WHERE accession = 'AUTH-S1'")" received
# The LIMS reads its own jobs: those of the inputs its token uploaded.
RW_TOKEN=$LIMS rw_req POST "/api/v1/patients/$PID/samples" \
    '{"accession":"AUTH-S2","collected_at":"2024-03-01","assay":"ddpcr"}' >/dev/null
check_eq "an upload by the lims token" "$(RW_TOKEN=$LIMS rw_req PUT /api/v1/samples/AUTH-S2/ddpcr \
    '{"wells":[{"target_positive":2400,"reference_positive":1300,"droplets":15000}]}')" 202
JOB=$(jqb .job.id)
check_eq "... its job, read by that token" "$(RW_TOKEN=$LIMS rw_req GET "/api/v1/jobs/$JOB")" 200
RW_TOKEN=$ADMIN_TOKEN rw_req POST /api/v1/tokens '{"role":"lims","label":"other-lims"}' >/dev/null
check_eq "... not by another LIMS's token (404)" "$(RW_TOKEN=$(jqb .token) rw_req GET "/api/v1/jobs/$JOB")" 404
RW_TOKEN=$ADMIN_TOKEN rw_req POST /api/v1/tokens '{"role":"lims","label":"lims"}' >/dev/null
check_eq "... but by a new token of the same label (rotation)" "$(RW_TOKEN=$(jqb .token) rw_req GET "/api/v1/jobs/$JOB")" 200
# The same for a clinical write (the generic record path): a patient sent slowly.
revoked_midway POST /api/v1/patients '{"external_id":"AUTH-2","diagnosis_date":"2020-01-01"'
check_eq "a patient sent while its token is revoked: 401" "$(cat "$t_tmp/slow.code")" 401
check_eq "... no patient row" "$(db "SELECT count(*) FROM patients WHERE external_id = 'AUTH-2'")" 0
check_eq "... no audit row" "$(db "SELECT count(*) FROM audit_log WHERE entity_type = 'patient'")" 1
check_eq "the expired token is refused" "$(RW_TOKEN=$SHORT rw_req GET /api/v1/session)" 401

# ---------------------------------------------------------------- throttling and lock-out
# --signin-max-failures 5: 3 free failures, then waits of 1 s and 2 s, then the name is locked.
ADA_PW=ada-First-pw-1
t0=$(date +%s.%N)
for i in 1 2 3; do signin dr-ada wrong-password-$i; check_eq "failure $i costs nothing" "$CODE" 401; done
signin dr-ada wrong-password-4; check_eq "the 4th at once: 429" "$CODE" 429
check_eq "... Retry-After 1" "$(sed -n 's/^[Rr]etry-[Aa]fter: \([0-9]*\).*/\1/p' "$H")" 1
signin dr-ada "$ADA_PW"; check_eq "... even with the right password" "$CODE" 429
sleep 1.1
signin dr-ada wrong-password-4; check_eq "after 1 s it is heard again (wrong: 4)" "$CODE" 401
signin dr-ada wrong-password-5; check_eq "the 5th at once: 429" "$CODE" 429
check_eq "... Retry-After 2" "$(sed -n 's/^[Rr]etry-[Aa]fter: \([0-9]*\).*/\1/p' "$H")" 2
sleep 2.1
signin dr-ada wrong-password-5; check_eq "5th failure" "$CODE" 401
signin dr-ada "$ADA_PW"; check_eq "now locked, even with the right password" "$CODE" 423
check_eq "... account_locked" "$(jqb .error.code)" account_locked
t1=$(date +%s.%N)
echo "throttling: 5 failures, 2 refusals (429 after 3 and 4), lock at 5 in $(echo "$t1 - $t0" | bc) s"
check "failures logged with the client address" grep -q 'sign-in failed for user id .* from 127.0.0.1' "$D/log"
check_eq "failures audited with the address" \
    "$(db "SELECT count(*) FROM audit_log WHERE action = 'signin_failed' AND details LIKE '%127.0.0.1%'")" 7
check_eq "no password in the log" "$(grep -c 'wrong-password\|ada-First\|Strong-root' "$D/log")" 0
check_eq "no password in the audit log" "$(db "SELECT count(*) FROM audit_log WHERE details LIKE '%password-%' OR details LIKE '%Strong%'")" 0
SESSION=$ADMIN_SESSION CSRF=$ADMIN_CSRF
check_eq "the admin sees the lock" "$(as GET /api/v1/users)" 200
check_eq "... locked" "$(jqb '.users[] | select(.name == "dr-ada") | .locked')" true
ADA_ID=$(jqb '.users[] | select(.name == "dr-ada") | .id')
check_eq "a reset unlocks" "$(as POST "/api/v1/users/$ADA_ID/password" '{"password":"ada-Reset-pw-2"}')" 200
check_eq "... and forces a change" "$(jqb '"\(.locked) \(.must_change_password)"')" "false true"
signin dr-ada ada-Reset-pw-2; check_eq "dr-ada signs in" "$CODE" 201
check_eq "dr-ada changes it" "$(pwchange ada-Reset-pw-2 ada-Own-pw-333)" 200
ADA_SESSION=$SESSION ADA_CSRF=$CSRF
check_eq "a clinician may not manage users" "$(as GET /api/v1/users)" 403

# ---------------------------------------------------------------- idle and absolute expiry
rw_stop_daemon
rw_start_daemon "$D" --session-idle 3s --session-max 5s || { done_tests; exit 1; }
check_eq "no second admin account nor password printed" "$(grep -c 'admin account' "$D/stdout")" 0
# Whole seconds: a limit of N s ends a session between N and N + 1 s after it.
signin dr-ada ada-Own-pw-333; check_eq "sign in" "$CODE" 201
check_eq "a request within the idle time" "$(as GET /api/v1/session)" 200
sleep 2
check_eq "2 s later: alive (the last request renewed it)" "$(as GET /api/v1/session)" 200
sleep 4.2
check_eq "4.2 s idle (limit 3 s): ended" "$(as GET /api/v1/session)" 401
signin dr-ada ada-Own-pw-333; check_eq "sign in again" "$CODE" 201
for i in 1 2 3 4; do
    sleep 1
    check_eq "active, $i s after sign-in: alive" "$(as GET /api/v1/session)" 200
done
sleep 2.2
check_eq "active but past --session-max 5s: ended" "$(as GET /api/v1/session)" 401

# The list pages by cursor: pages of 2 give the whole list, in id order.
RW_TOKEN=$ADMIN_TOKEN rw_req GET "/api/v1/users?limit=1000" >/dev/null
whole=$(jq -r '[.users[].id] | join(" ")' "$RW_BODY")
check_eq "users: pages of 2 give the whole list" \
    "$(RW_TOKEN=$ADMIN_TOKEN rw_page_ids users /api/v1/users)" "$whole"
check "users: more than one page" [ "$(echo "$whole" | wc -w)" -gt 2 ]
check_eq "users: a cursor not ours" "$(RW_TOKEN=$ADMIN_TOKEN rw_req GET '/api/v1/users?cursor=zz!')" 422

# ---------------------------------------------------------------- per-address throttling
# 20 failures from one address over any names are free; the next attempt waits.
before=$(db "SELECT failures FROM signin_failures WHERE kind = 'address' AND key = '127.0.0.1'")
i=0
while [ $i -lt 30 ] && signin "ghost$i" wrong-password-x && [ "$CODE" = 401 ]; do i=$((i + 1)); done
check_eq "after $before + $i failures from this address (other names): 429" "$(jqb .error.code)" too_many_attempts
check_eq "... at the 20th" "$(db "SELECT failures FROM signin_failures WHERE kind = 'address' AND key = '127.0.0.1'")" 20
echo "per-address: $before earlier failures + $i new names, then 429 Retry-After $(sed -n 's/^[Rr]etry-[Aa]fter: \([0-9]*\).*/\1/p' "$H")"

check "clean shutdown (no sanitizer report)" rw_stop_daemon

# ---------------------------------------------------------------- HTTPS: the cookie is Secure
if command -v openssl >/dev/null; then
    T=$t_tmp/tls
    mkdir -p "$T"
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
        -keyout "$T/key.pem" -out "$T/cert.pem" -subj /CN=127.0.0.1 \
        -addext "subjectAltName=IP:127.0.0.1" 2>"$T/openssl.log"
    RW_SCHEME=https RW_CACERT=$T/cert.pem rw_start_daemon "$T/run" --tls-cert "$T/cert.pem" \
        --tls-key "$T/key.pem" || { done_tests; exit 1; }
    TPW=$(sed -n 's/^admin account: admin password: \([^ ]*\).*/\1/p' "$T/run/stdout")
    code=$(curl -s --cacert "$T/cert.pem" -o "$RW_BODY" -D "$H" -w '%{http_code}' -X POST \
        -H 'Content-Type: application/json' --data-binary "{\"name\":\"admin\",\"password\":\"$TPW\"}" \
        "$RW_URL/api/v1/session")
    check_eq "sign-in over HTTPS" "$code" 201
    check "under TLS the cookie is Secure" grep -qi '^set-cookie: rw_session=[0-9a-f]*;.*; Secure' "$H"
    check "clean shutdown of the TLS daemon" rw_stop_daemon
fi
done_tests
