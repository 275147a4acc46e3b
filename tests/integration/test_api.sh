#!/bin/sh
# Integration test of the daemon's infrastructure over real HTTP: health/version, the first admin
# token, token admin, every error class of the router with its exact JSON body, static files,
# config file, clean SIGTERM shutdown with a request in flight, restart, newer-database refusal.
. "$RW_SRCDIR/tests/lib.sh"
command -v curl >/dev/null && command -v jq >/dev/null || { echo "SKIP: curl and jq needed"; exit 77; }

# A web root of our own: the real web/ belongs to the pages and may change.
RW_WEB_ROOT="$t_tmp/web"
mkdir -p "$RW_WEB_ROOT/js" "$t_tmp/outside"
echo '<!doctype html><title>rw</title>' >"$RW_WEB_ROOT/index.html"
echo 'console.log(1);' >"$RW_WEB_ROOT/js/app.js"
echo 'body{}' >"$RW_WEB_ROOT/style.css"
echo 'secret' >"$t_tmp/outside/secret.txt"
ln -s "$t_tmp/outside/secret.txt" "$RW_WEB_ROOT/link.txt"

D="$t_tmp/d"
# ---------------------------------------------------------------- CLI surface
out=$("$RW_DAEMON" --help)
check "--help exits 0" [ $? -eq 0 ]
for opt in db listen web-root data-dir port-file threads workers max-body max-upload log-level config; do
    check "--help lists --$opt" sh -c "printf '%s' \"\$1\" | grep -q -- '--$opt'" _ "$out"
done
check "--help shows defaults" sh -c "printf '%s' \"\$1\" | grep -q 'default: 127.0.0.1:8080'" _ "$out"
ver=$("$RW_DAEMON" --version)
check "--version" sh -c "printf '%s' \"\$1\" | grep -Eq '^relapsewatchd [0-9]+\.[0-9]+\.[0-9]+ \(core '" _ "$ver"
"$RW_DAEMON" --threads 0 >/dev/null 2>&1
check_eq "bad flag exits 2" $? 2
"$RW_DAEMON" --bogus >/dev/null 2>&1
check_eq "unknown flag exits 2" $? 2

# ---------------------------------------------------------------- first start
rw_start_daemon "$D" || { fail "daemon did not start"; done_tests; exit 1; }
ADMIN=$RW_ADMIN_TOKEN
check "admin token printed" sh -c "printf '%s' \"\$1\" | grep -Eq '^rw_[0-9a-f]{48}$'" _ "$ADMIN"
check_eq "admin token line printed once" "$(grep -c '^admin token: ' "$D/stdout")" 1
check "bound port logged" grep -q "port $RW_PORT" "$D/log"
# A second daemon on the same port fails before creating (and printing) any token.
"$RW_DAEMON" --db "$t_tmp/other.db" --listen "127.0.0.1:$RW_PORT" --web-root "$RW_WEB_ROOT" \
    >"$t_tmp/other.out" 2>"$t_tmp/other.log"
check_eq "port in use: exit 1" $? 1
check_eq "port in use: no token printed" "$(cat "$t_tmp/other.out")" ""
check "port in use: said so" grep -q 'cannot listen on' "$t_tmp/other.log"

RW_TOKEN=""
check_eq "health status" "$(rw_req GET /api/v1/health)" 200
check_eq "health body" "$(jq -c '{status, database}' "$RW_BODY")" '{"status":"ok","database":"ok"}'
check_eq "version status" "$(rw_req GET /api/v1/version)" 200
check_eq "version package" "$(jq -r .package "$RW_BODY")" "$(echo "$ver" | cut -d' ' -f2)"
check_eq "version api" "$(jq -r .api "$RW_BODY")" v1
check "version schema" [ "$(jq -r .schema "$RW_BODY")" -ge 2 ]
check_eq "version schema = supported" "$(jq -r .schema "$RW_BODY")" "$(jq -r .schema_supported "$RW_BODY")"
check_eq "HEAD health" "$(curl -s -o /dev/null -w '%{http_code}' -I "$RW_URL/api/v1/health")" 200

# ---------------------------------------------------------------- tokens
RW_TOKEN=$ADMIN
check_eq "create lims" "$(rw_req POST /api/v1/tokens '{"role":"lims","label":"LIMS prod"}')" 201
check_eq "create keys" "$(jq -c 'keys' "$RW_BODY")" '["expires_at","id","label","role","token"]'
LIMS=$(jq -r .token "$RW_BODY")
LIMS_ID=$(jq -r .id "$RW_BODY")
check "lims secret shape" sh -c "printf '%s' \"\$1\" | grep -Eq '^rw_[0-9a-f]{48}$'" _ "$LIMS"
check_eq "create clinician" "$(rw_req POST /api/v1/tokens '{"role":"clinician","label":"dr"}')" 201
CLIN=$(jq -r .token "$RW_BODY")
CLIN_ID=$(jq -r .id "$RW_BODY")
check_eq "list" "$(rw_req GET /api/v1/tokens)" 200
check_eq "list ids and roles" "$(jq -c '[.tokens[] | [.id, .role, .label]]' "$RW_BODY")" \
    "[[1,\"admin\",\"initial admin\"],[$LIMS_ID,\"lims\",\"LIMS prod\"],[$CLIN_ID,\"clinician\",\"dr\"]]"
check_eq "list shows no secret" "$(jq -c '[.tokens[] | keys] | unique' "$RW_BODY")" \
    '[["created_at","expires_at","id","label","last_used_at","owner","revoked_at","role"]]'
check "list body has no secret text" sh -c "! grep -q -e \"\$1\" -e \"\$2\" \"\$3\"" _ "$LIMS" "$ADMIN" "$RW_BODY"

# ---------------------------------------------------------------- errors, exact bodies
RW_TOKEN=""
check_eq "401 no token" "$(rw_req GET /api/v1/tokens)" 401
check_eq "401 body" "$(rw_body)" '{"error":{"code":"unauthorized","message":"sign in, or send a valid API token (Authorization: Bearer rw_...)"}}'
RW_TOKEN="rw_0123456789abcdef0123456789abcdef0123456789abcdef"
check_eq "401 unknown token" "$(rw_req GET /api/v1/tokens)" 401
RW_TOKEN=$CLIN
check_eq "403 clinician" "$(rw_req GET /api/v1/tokens)" 403
check_eq "403 body" "$(rw_body)" '{"error":{"code":"forbidden","message":"the clinician role may not do this"}}'
RW_TOKEN=$LIMS
check_eq "403 lims create" "$(rw_req POST /api/v1/tokens '{"role":"admin","label":"x"}')" 403
RW_TOKEN=$ADMIN
check_eq "404" "$(rw_req GET /api/v1/nothing/here)" 404
check_eq "404 body" "$(rw_body)" '{"error":{"code":"not_found","message":"no such endpoint"}}'
check_eq "404 token id" "$(rw_req DELETE /api/v1/tokens/9999)" 404
check_eq "404 token id body" "$(rw_body)" '{"error":{"code":"not_found","message":"no such token"}}'
check_eq "404 non-numeric id" "$(rw_req DELETE /api/v1/tokens/abc)" 404
check_eq "405" "$(rw_req PUT /api/v1/tokens)" 405
check_eq "405 body" "$(rw_body)" '{"error":{"code":"method_not_allowed","message":"PUT is not allowed here (allowed: POST, GET, HEAD)"}}'
allow=$(curl -s -D - -o /dev/null -X PATCH -H "Authorization: Bearer $ADMIN" "$RW_URL/api/v1/tokens/1" | tr -d '\r' | sed -n 's/^Allow: //Ip')
check_eq "405 Allow header" "$allow" DELETE
code=$(curl -s -o "$RW_BODY" -w '%{http_code}' -H "Authorization: Bearer $ADMIN" -H 'Content-Type: text/plain' -d '{"role":"lims","label":"x"}' "$RW_URL/api/v1/tokens")
check_eq "415" "$code" 415
check_eq "415 body" "$(rw_body)" '{"error":{"code":"unsupported_media_type","message":"the body must be sent as Content-Type: application/json"}}'
check_eq "400 malformed" "$(rw_req POST /api/v1/tokens '{"role":')" 400
check_eq "400 malformed code" "$(jq -r .error.code "$RW_BODY")" invalid_json
check_eq "400 not an object" "$(rw_req POST /api/v1/tokens '["lims"]')" 400
check_eq "400 not an object body" "$(rw_body)" '{"error":{"code":"invalid_json","message":"the body must be a JSON object"}}'
check_eq "400 empty body" "$(rw_req POST /api/v1/tokens '')" 400
check_eq "400 duplicate keys" "$(rw_req POST /api/v1/tokens '{"role":"lims","role":"admin","label":"x"}')" 400
check_eq "400 body on GET" "$(rw_req GET /api/v1/tokens '{}')" 400
check_eq "400 body on GET code" "$(jq -r .error.code "$RW_BODY")" unexpected_body
check_eq "422 unknown field" "$(rw_req POST /api/v1/tokens '{"role":"lims","label":"x","admin":true}')" 422
check_eq "422 unknown field body" "$(rw_body)" '{"error":{"code":"unknown_field","message":"admin: is not a known field","field":"admin"}}'
check_eq "422 bad role" "$(rw_req POST /api/v1/tokens '{"role":"root","label":"x"}')" 422
check_eq "422 bad role body" "$(rw_body)" '{"error":{"code":"invalid_value","message":"role: must be one of lims, clinician, viewer, admin","field":"role"}}'
check_eq "422 label type" "$(rw_req POST /api/v1/tokens '{"role":"lims","label":5}')" 422
check_eq "422 label type field" "$(jq -r .error.field "$RW_BODY")" label
check_eq "422 missing label" "$(rw_req POST /api/v1/tokens '{"role":"lims"}')" 422
check_eq "422 missing code" "$(jq -r .error.code "$RW_BODY")" missing_field
# 413: announced by Content-Length (answered before reading) and chunked (while buffering).
head -c 1100000 /dev/zero | tr '\0' ' ' >"$t_tmp/big.json"
code=$(curl -s -o "$RW_BODY" -w '%{http_code}' -H "Authorization: Bearer $ADMIN" -H 'Content-Type: application/json' --data-binary @"$t_tmp/big.json" "$RW_URL/api/v1/tokens")
check_eq "413 content-length" "$code" 413
check_eq "413 body" "$(rw_body)" '{"error":{"code":"body_too_large","message":"the body is larger than the limit of 1048576 bytes"}}'
code=$(curl -s -o "$RW_BODY" -w '%{http_code}' -H "Authorization: Bearer $ADMIN" -H 'Content-Type: application/json' -H 'Transfer-Encoding: chunked' --data-binary @"$t_tmp/big.json" "$RW_URL/api/v1/tokens")
check_eq "413 chunked" "$code" 413
check_eq "413 chunked body" "$(jq -r .error.code "$RW_BODY")" body_too_large
# A rejected request changes nothing: still three tokens.
check_eq "list after errors" "$(rw_req GET /api/v1/tokens)" 200
check_eq "errors created nothing" "$(jq '.tokens | length' "$RW_BODY")" 3
check_eq "last admin kept" "$(rw_req DELETE /api/v1/tokens/1)" 409

# ---------------------------------------------------------------- revocation
RW_TOKEN=$LIMS
check_eq "lims token works" "$(rw_req GET /api/v1/health)" 200
RW_TOKEN=$ADMIN
check_eq "revoke" "$(rw_req DELETE /api/v1/tokens/$LIMS_ID)" 200
check "revoked_at set" [ "$(jq -r .revoked_at "$RW_BODY")" != null ]
check_eq "revoke again is a no-op" "$(rw_req DELETE /api/v1/tokens/$LIMS_ID)" 200
RW_TOKEN=$LIMS
check_eq "revoked token refused" "$(rw_req POST /api/v1/tokens '{"role":"lims","label":"x"}')" 401

# ---------------------------------------------------------------- static files
ctype() { curl -s -o /dev/null -w '%{content_type}' "$RW_URL$1"; }
check_eq "index" "$(curl -s "$RW_URL/")" '<!doctype html><title>rw</title>'
check_eq "index type" "$(ctype /)" 'text/html; charset=utf-8'
check_eq "js type" "$(ctype /js/app.js)" 'text/javascript; charset=utf-8'
check_eq "css type" "$(ctype /style.css)" 'text/css; charset=utf-8'
check_eq "missing file" "$(curl -s -o "$RW_BODY" -w '%{http_code}' "$RW_URL/nope.html")" 404
check "404 page is HTML, not JSON" grep -q '<h1>Not found</h1>' "$RW_BODY"
check_eq "traversal" "$(curl -s --path-as-is -o /dev/null -w '%{http_code}' "$RW_URL/../outside/secret.txt")" 404
check_eq "encoded traversal" "$(curl -s --path-as-is -o /dev/null -w '%{http_code}' "$RW_URL/%2e%2e/outside/secret.txt")" 404
check_eq "symlink out of the root" "$(curl -s -o /dev/null -w '%{http_code}' "$RW_URL/link.txt")" 404
check_eq "POST outside /api" "$(curl -s -o /dev/null -w '%{http_code}' -d x "$RW_URL/index.html")" 405

# ---------------------------------------------------------------- clean shutdown, in flight
# A 200 kB body sent at 100 kB/s is still arriving when SIGTERM comes: it must be answered.
{ printf '{"role":"lims","label":"slow"'; head -c 200000 /dev/zero | tr '\0' ' '; printf '}'; } >"$t_tmp/slow.json"
curl -s -o "$t_tmp/slow.out" -w '%{http_code}' --limit-rate 100k -H "Authorization: Bearer $ADMIN" \
    -H 'Content-Type: application/json' --data-binary @"$t_tmp/slow.json" "$RW_URL/api/v1/tokens" >"$t_tmp/slow.code" &
curl_pid=$!
sleep 0.7
rw_stop_daemon TERM
check_eq "SIGTERM exit status" $? 0
wait $curl_pid
check_eq "in-flight request answered" "$(cat "$t_tmp/slow.code")" 201
check "shutdown logged" grep -q 'stopped cleanly' "$D/log"
if command -v sqlite3 >/dev/null; then
    check_eq "database intact" "$(sqlite3 "$D/rw.db" 'PRAGMA integrity_check')" ok
    check_eq "writes audited" "$(sqlite3 "$D/rw.db" "SELECT count(*) FROM audit_log WHERE entity_type = 'token'")" 5
fi

# ---------------------------------------------------------------- restart keeps everything
rw_start_daemon "$D" || { fail "restart failed"; done_tests; exit 1; }
check_eq "no new admin token printed" "$(cat "$D/stdout")" ""
RW_TOKEN=$ADMIN
check_eq "admin token survives restart" "$(rw_req GET /api/v1/tokens)" 200
check_eq "tokens survive restart" "$(jq '.tokens | length' "$RW_BODY")" 4
RW_TOKEN=$CLIN
check_eq "clinician still 403 on admin route" "$(rw_req GET /api/v1/tokens)" 403
RW_TOKEN=$LIMS
check_eq "revocation survives restart" "$(rw_req GET /api/v1/tokens)" 401
rw_stop_daemon INT
check_eq "SIGINT exit status" $? 0

# ---------------------------------------------------------------- config file
printf '# test config\nmax-body = 2K\nlog-level = warn\n' >"$t_tmp/rw.conf"
rw_start_daemon "$D" --config "$t_tmp/rw.conf" || { fail "start with config failed"; done_tests; exit 1; }
RW_TOKEN=$ADMIN
head -c 3000 /dev/zero | tr '\0' ' ' >"$t_tmp/3k.json"
code=$(curl -s -o "$RW_BODY" -w '%{http_code}' -H "Authorization: Bearer $ADMIN" -H 'Content-Type: application/json' --data-binary @"$t_tmp/3k.json" "$RW_URL/api/v1/tokens")
check_eq "max-body from the config file" "$code" 413
check_eq "limit in the message" "$(jq -r .error.message "$RW_BODY")" "the body is larger than the limit of 2048 bytes"
rw_stop_daemon
check_eq "exit after config run" $? 0

# ---------------------------------------------------------------- the log
for secret in "$ADMIN" "$LIMS" "$CLIN"; do
    check "no token in the log" sh -c "! grep -qF \"\$1\" \"\$2\"" _ "$secret" "$D/log"
done
check "log has request lines with templates" grep -q 'DELETE /api/v1/tokens/{id} 200' "$D/log"
check "log has no raw id path" sh -c "! grep -q 'tokens/$LIMS_ID' \"\$1\"" _ "$D/log"

# ---------------------------------------------------------------- a newer database is refused
if command -v sqlite3 >/dev/null; then
    sqlite3 "$D/rw.db" 'PRAGMA user_version = 999'
    "$RW_DAEMON" --db "$D/rw.db" --listen 127.0.0.1:0 --web-root "$RW_WEB_ROOT" >/dev/null 2>"$t_tmp/newer.log"
    check "newer database: non-zero exit" [ $? -ne 0 ]
    check "newer database: clear message" grep -q 'schema version 999' "$t_tmp/newer.log"
fi
done_tests
