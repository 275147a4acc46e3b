#!/bin/sh
# Logging against the real daemon: every answer has an X-Request-Id that its log line shows, with
# the client's address; a client's method cannot forge a line (CR, LF, control bytes escaped);
# raw paths (accessions), tokens and passwords never reach the log; a sign-in failure names the
# address; --log-file is created 0600 and reopened on SIGHUP (logrotate); under journald
# (JOURNAL_STREAM naming stderr) lines carry "<N>" priorities and no timestamps.
. "$RW_SRCDIR/tests/lib.sh"
d=$t_tmp/logging

rw_start_daemon "$d/a" || { fail "daemon did not start"; done_tests; exit 1; }
H=$t_tmp/headers
rid() { sed -n 's/^[Xx]-[Rr]equest-[Ii]d: \([^[:space:]]*\).*/\1/p' "$H"; }

# ---------------------------------------------------------------- request ids
curl -s -D "$H" -o /dev/null "$RW_URL/api/v1/health"
id1=$(rid)
check "health has an X-Request-Id" [ -n "$id1" ]
curl -s -D "$H" -o /dev/null "$RW_URL/api/v1/health"
id2=$(rid)
check "ids differ between requests" [ "$id1" != "$id2" ]
check_eq "ids share the start's prefix, then count" "${id1%-*}" "${id2%-*}"
for path in / /index.html /nope.html /api/v1/no-such /api/v1/patients; do
    curl -s -D "$H" -o /dev/null "$RW_URL$path"
    check "X-Request-Id on $path" [ -n "$(rid)" ]
done
curl -s -D "$H" -o /dev/null "$RW_URL/api/v1/samples/ACC-SECRET-4711"
id3=$(rid)
sleep 0.3 # the completion callback writes the line after the answer
check "the log line has the request id and client address" \
    grep -q "request: req=$id1 client=127.0.0.1 GET /api/v1/health 200 " "$d/a/log"
check "the raw path (an accession) never reaches the log" sh -c "! grep -q ACC-SECRET '$d/a/log'"
check "... its line shows the route template" \
    grep -q "req=$id3 client=127.0.0.1 GET /api/v1/samples/{accession} 401 " "$d/a/log"

# ---------------------------------------------------------------- forged lines
curl -s -o /dev/null -X "$(printf 'GE\rT')" "$RW_URL/api/v1/health"
curl -s -o /dev/null -X "$(printf 'GE\nFAKE')" "$RW_URL/api/v1/health" # MHD: a broken head
curl -s -o /dev/null -X "$(printf 'P\001\033[31mX')" "$RW_URL/api/v1/health"
sleep 0.3
check "CR in a method is escaped" grep -q 'client=127.0.0.1 GE\\rT ' "$d/a/log"
check "control bytes in a method are escaped" grep -q 'client=127.0.0.1 P\\x01\\x1b\[31mX ' "$d/a/log"
check "no line starts with the forged text" sh -c "! grep -q '^FAKE' '$d/a/log'"
check "no raw control byte in the log" sh -c "! LC_ALL=C grep -q \"\$(printf '[\\001-\\010\\013-\\037]')\" '$d/a/log'"

# ---------------------------------------------------------------- sign-in failures and secrets
pw=$(sed -n 's/^admin account: admin password: \([^ ]*\).*/\1/p' "$d/a/stdout")
curl -s -o /dev/null -H 'Content-Type: application/json' \
    --data '{"name":"admin","password":"wrong-password-1"}' "$RW_URL/api/v1/session"
curl -s -o /dev/null -H "Authorization: Bearer rw_not_a_real_token_000" "$RW_URL/api/v1/patients"
sleep 0.3
check "a failed sign-in names the client address" grep -q 'sign-in failed.* from 127.0.0.1' "$d/a/log"
check "a refused token's line names the client address" \
    grep -q 'client=127.0.0.1 GET /api/v1/patients 401 ' "$d/a/log"
check "the wrong password is not logged" sh -c "! grep -q wrong-password-1 '$d/a/log'"
check "the refused token is not logged" sh -c "! grep -q rw_not_a_real_token '$d/a/log'"
check "the admin token is not logged" sh -c "! grep -qF '$RW_ADMIN_TOKEN' '$d/a/log'"
[ -n "$pw" ] && check "the admin password is not logged" sh -c "! grep -qF '$pw' '$d/a/log'"
rw_stop_daemon

# ---------------------------------------------------------------- --log-file and SIGHUP
mkdir -p "$d/b"
rw_start_daemon "$d/b" --log-file "$d/b/daemon.log" || fail "daemon with --log-file did not start"
check_eq "the log file is private" "$(stat -c %a "$d/b/daemon.log")" 600
check "lines go to the log file" grep -q 'listening on' "$d/b/daemon.log"
mv "$d/b/daemon.log" "$d/b/daemon.log.1" # what logrotate does
kill -HUP "$RW_PID"
i=0
while [ ! -s "$d/b/daemon.log" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
curl -s -D "$H" -o /dev/null "$RW_URL/api/v1/health"
id4=$(rid)
sleep 0.3
check "SIGHUP: a new file" grep -q 'log file reopened' "$d/b/daemon.log"
check "SIGHUP: new lines in the new file" grep -q "req=$id4 " "$d/b/daemon.log"
check "SIGHUP: not in the old one" sh -c "! grep -q 'req=$id4 ' '$d/b/daemon.log.1'"
check "SIGHUP did not stop the daemon" kill -0 "$RW_PID"
check_eq "the new file is private too" "$(stat -c %a "$d/b/daemon.log")" 600
check "stops cleanly" rw_stop_daemon

# ---------------------------------------------------------------- journald
mkdir -p "$d/c"
: >"$d/c/log"
JOURNAL_STREAM=$(stat -c '%d:%i' "$d/c/log") rw_start_daemon "$d/c" ||
    fail "daemon under JOURNAL_STREAM did not start"
curl -s -o /dev/null "$RW_URL/api/v1/health"
sleep 0.3
check "journald: info lines as <6>" grep -q '^<6>request: req=' "$d/c/log"
check "journald: no timestamps" sh -c "! grep -q '^20[0-9][0-9]-' '$d/c/log'"
rw_stop_daemon
# JOURNAL_STREAM naming another stream (stderr redirected since): plain lines.
mkdir -p "$d/e"
JOURNAL_STREAM=1:1 rw_start_daemon "$d/e" || fail "daemon with a stale JOURNAL_STREAM"
check "a stale JOURNAL_STREAM: timestamps kept" grep -q '^20[0-9][0-9]-.* info  main: listening' "$d/e/log"
rw_stop_daemon
done_tests
