#!/bin/sh
# HTTPS: the real daemon with a certificate made here (openssl), checked with curl and openssl
# s_client: TLS 1.2 and 1.3 work and verify against the certificate, TLS 1.1 is refused, plain
# HTTP to the TLS port gets no answer, HSTS is sent; clear HTTP on a non-loopback address needs
# --insecure-http; the two files go together.
. "$RW_SRCDIR/tests/lib.sh"
command -v openssl >/dev/null || { echo "openssl missing: skipped"; exit 77; }

d=$t_tmp/tls
mkdir -p "$d"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
    -keyout "$d/key.pem" -out "$d/cert.pem" -subj /CN=127.0.0.1 \
    -addext "subjectAltName=IP:127.0.0.1" 2>"$d/openssl.log" || { fail "openssl req"; done_tests; exit 1; }

RW_SCHEME=https RW_CACERT=$d/cert.pem rw_start_daemon "$d/run" --tls-cert "$d/cert.pem" \
    --tls-key "$d/key.pem" || { fail "daemon with TLS did not start"; done_tests; exit 1; }
check_eq "the URL is https" "${RW_URL%%:*}" "https"

# Verified against the certificate (no -k): the daemon serves the certificate given.
code=$(curl -s --cacert "$d/cert.pem" -D "$d/h" -o "$d/body" -w '%{http_code}' "$RW_URL/api/v1/health")
check_eq "health over TLS" "$code" 200
check "HSTS under TLS" grep -qi '^Strict-Transport-Security: max-age=31536000' "$d/h"
check "CSP under TLS" grep -qi "^Content-Security-Policy: default-src 'self'" "$d/h"
# An unknown CA is refused by curl: the test above really verified.
code=$(curl -s -o /dev/null -w '%{http_code}' "$RW_URL/api/v1/health")
check_eq "no CA: curl refuses the certificate" "$code" 000

# Protocol versions: 1.3 and 1.2 negotiate; 1.1 is refused by the server (the client is allowed
# to offer it at security level 0, so the refusal is the daemon's).
for v in 1_3 1_2; do
    echo | timeout 10 openssl s_client -connect "127.0.0.1:$RW_PORT" "-tls$v" \
        -CAfile "$d/cert.pem" >"$d/s$v" 2>&1
    check "TLS ${v%_*}.${v#*_} negotiated" grep -q "New, TLSv${v%_*}.${v#*_}," "$d/s$v"
    check "TLS ${v%_*}.${v#*_} verified" grep -q "Verify return code: 0 (ok)" "$d/s$v"
done
echo | timeout 10 openssl s_client -connect "127.0.0.1:$RW_PORT" -tls1_1 \
    -cipher 'DEFAULT:@SECLEVEL=0' >"$d/s1_1" 2>&1
check "TLS 1.1 refused" grep -q "Cipher is (NONE)" "$d/s1_1"
code=$(curl -s --cacert "$d/cert.pem" --tlsv1.0 --tls-max 1.1 -o /dev/null -w '%{http_code}' \
    "$RW_URL/api/v1/health")
check_eq "curl limited to TLS 1.1 gets nothing" "$code" 000

# Plain HTTP to the TLS port: no HTTP answer at all.
code=$(curl -s -m 5 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$RW_PORT/api/v1/health")
check_eq "plain HTTP to the TLS port" "$code" 000

# The sign-in cookie is Secure under TLS (cfg->tls_enabled, used by the session code).
pw=$(sed -n 's/^admin account: admin password: \([^ ]*\).*/\1/p' "$d/run/stdout")
if [ -n "$pw" ]; then
    curl -s --cacert "$d/cert.pem" -D "$d/sh" -o /dev/null -H 'Content-Type: application/json' \
        --data "{\"name\":\"admin\",\"password\":\"$pw\"}" "$RW_URL/api/v1/session"
    check "session cookie is Secure under TLS" grep -qi '^Set-Cookie:.*; Secure' "$d/sh"
fi
check "daemon stops cleanly" rw_stop_daemon

# Clear HTTP: no HSTS on loopback.
rw_start_daemon "$d/plain" || { fail "plain daemon did not start"; done_tests; exit 1; }
curl -s -D "$d/ph" -o /dev/null "$RW_URL/api/v1/health"
check "no HSTS over clear HTTP" sh -c "! grep -qi '^Strict-Transport-Security' '$d/ph'"
rw_stop_daemon

# Start-up refusals, each with a clear message and exit status.
start_fails() { # start_fails NAME WANT_TEXT FLAGS...: the daemon exits at once, saying WANT_TEXT
    local name=$1 want=$2
    shift 2
    "$RW_DAEMON" --db "$d/$name.db" --data-dir "$d/$name-data" --web-root "$RW_SRCDIR/web" \
        --threads 1 --workers 0 "$@" >"$d/$name.out" 2>"$d/$name.log" </dev/null
    rc=$?
    check "$name: exit status non-zero" [ "$rc" -ne 0 ]
    check "$name: says '$want'" grep -q -- "$want" "$d/$name.log"
}
start_fails all-addresses "not a loopback address" --listen 0.0.0.0:0
start_fails cert-alone "go together" --listen 127.0.0.1:0 --tls-cert "$d/cert.pem"
printf 'not a key\n' >"$d/bad.pem"
start_fails bad-key "certificate and key" --listen 127.0.0.1:0 --tls-cert "$d/cert.pem" \
    --tls-key "$d/bad.pem"
start_fails missing-cert "cannot read --tls-cert" --listen 127.0.0.1:0 --tls-cert "$d/nope.pem" \
    --tls-key "$d/key.pem"

# --insecure-http lets it start on all addresses, with a warning in the log.
rw_start_daemon "$d/insecure" --listen 0.0.0.0:0 --insecure-http ||
    fail "--insecure-http on 0.0.0.0 did not start"
check "insecure: warning logged" grep -q "clear-text HTTP on 0.0.0.0:0 (--insecure-http)" \
    "$d/insecure/log"
rw_stop_daemon
done_tests
