#!/bin/sh
# Overload: the real daemon under misbehaving clients (tests/integration/slowclient.py, all on
# loopback, each bounded in time). 1,100 sockets from 127.0.0.1 that send part of a head and
# trickle (reconnecting when cut) must not stop /api/v1/health from another address (127.0.0.2)
# from answering within 1 s; a client trickling header lines is cut at --head-timeout; a body
# below --min-body-rate is cut; an overlong URL gets 414, an overlong head 431, and a query
# string of 256 KiB an answer at once.
. "$RW_SRCDIR/tests/lib.sh"
command -v python3 >/dev/null || { echo "python3 missing: skipped"; exit 77; }
slow="$RW_SRCDIR/tests/integration/slowclient.py"
d=$t_tmp/overload

rw_start_daemon "$d" --head-timeout 3 --min-body-rate 1K --max-connections-per-ip 32 ||
    { fail "daemon did not start"; done_tests; exit 1; }
# 127.0.0.2 is this machine too (all of 127/8 is loopback on Linux): the other client.
code=$(curl -s --interface 127.0.0.2 -o /dev/null -w '%{http_code}' "$RW_URL/api/v1/health")
check_eq "health from 127.0.0.2 before the flood" "$code" 200

# ---------------------------------------------------------------- 1,100 slow sockets
python3 "$slow" hold "$RW_PORT" 1100 9 "$d/ready" >"$d/hold.out" 2>&1 &
hold_pid=$!
i=0
while [ ! -s "$d/ready" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
check "1,100 slow sockets opened" test -s "$d/ready"
sleep 1 # the flood is on: the per-address cap is full, the rest are refused and reconnect
worst=0
n_ok=0
for k in 1 2 3 4 5 6; do
    out=$(curl -s --interface 127.0.0.2 -m 5 -o /dev/null -w '%{http_code} %{time_total}' \
        "$RW_URL/api/v1/health")
    echo "health under the flood: $out"
    [ "${out%% *}" = 200 ] && n_ok=$((n_ok + 1))
    t=${out#* }
    worst=$(awk -v a="$worst" -v b="$t" 'BEGIN { print (b > a) ? b : a }')
    sleep 1
done
wait $hold_pid
echo "slow client: $(cat "$d/hold.out"); worst health latency ${worst}s"
check_eq "health answered 6 of 6 times under 1,100 slow sockets" "$n_ok" 6
check "health within 1 s under the flood (worst ${worst}s)" \
    awk -v t="$worst" 'BEGIN { exit !(t < 1.0) }'
check "the slow sockets were cut or refused (reopened > 0)" \
    grep -q 'reopened=[1-9]' "$d/hold.out"
check "cuts logged" grep -q 'sweep: cut [0-9]* connections\{0,1\} (no complete request head' "$d/log"
check "MHD's refusals rate-limited in the log" \
    awk '/libmicrohttpd: Server reached/ { n++ } END { exit !(n < 300) }' "$d/log"
check "the daemon survived" kill -0 "$RW_PID"

# ---------------------------------------------------------------- deadlines
out=$(python3 "$slow" trickle "$RW_PORT" 10)
echo "trickling client: $out"
secs=$(echo "$out" | sed -n 's/^closed=\([0-9.]*\) .*/\1/p')
check "a trickling head is cut (not left open)" [ -n "$secs" ]
check "cut after the 3 s head deadline, within 5 s ($secs s)" \
    awk -v t="${secs:-99}" 'BEGIN { exit !(t >= 2.9 && t < 5) }'
check_eq "the trickling client got no answer" "${out#* }" "answer=0"

out=$(python3 "$slow" slowbody "$RW_PORT" "$RW_ADMIN_TOKEN" 100 12)
echo "slow body (100 B/s, floor 1 KiB/s): $out"
secs=$(echo "$out" | sed -n 's/^closed=\([0-9.]*\) .*/\1/p')
check "a slow body is cut at the rate floor (3 s grace + 1 s a KiB: ~3.4 s; got $secs s)" \
    awk -v t="${secs:-99}" 'BEGIN { exit !(t >= 3 && t < 6) }'
check_eq "the cut request created no token" \
    "$(RW_TOKEN=$RW_ADMIN_TOKEN rw_req GET /api/v1/tokens >/dev/null; jq '.tokens | length' "$RW_BODY")" 1

# ---------------------------------------------------------------- size caps
long=$(head -c 9000 /dev/zero | tr '\0' a)
code=$(curl -s -o "$d/b414" -w '%{http_code}' "$RW_URL/api/v1/health?x=$long")
check_eq "URL over 8 KiB: 414" "$code" 414
check_eq "414 is a JSON error" "$(jq -r .error.code "$d/b414")" uri_too_long
code=$(curl -s -o "$d/b431" -w '%{http_code}' -H "X-Big: $(head -c 40000 /dev/zero | tr '\0' b)" \
    "$RW_URL/api/v1/health")
check_eq "head over 32 KiB: 431" "$code" 431
check_eq "431 is a JSON error" "$(jq -r .error.code "$d/b431")" headers_too_large
for n in 262144 200000; do
    out=$(python3 "$slow" bighead "$RW_PORT" $n)
    echo "query of $n bytes: $out"
    check "query of $n bytes answered 414 at once ($out)" \
        sh -c "echo '$out' | grep -q '^status=414 seconds=0\.'"
done
check "daemon stops cleanly" rw_stop_daemon
done_tests
