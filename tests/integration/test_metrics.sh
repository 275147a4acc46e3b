#!/bin/sh
# GET /api/v1/metrics (Prometheus text) and the readiness of /api/v1/health, on the real daemon:
# counters by route template and status match the requests sent, the latency histogram agrees
# with them, the gauges are there; health answers 503 when the data folder vanishes, when no job
# worker runs, and when the free disk is under --disk-reserve.
. "$RW_SRCDIR/tests/lib.sh"

D="$t_tmp/d"
rw_start_daemon "$D" || { fail "daemon start"; done_tests; exit 1; }
ADMIN=$RW_ADMIN_TOKEN

# ---------------------------------------------------------------- health when ready
check_eq "health" "$(rw_req GET /api/v1/health)" 200
check_eq "health fields" "$(jq -c '[.status, .database, .workers, .disk.data_dir_writable,
    .queue.queued, .queue.oldest_age_seconds, (.disk.free_bytes > .disk.reserve_bytes)]' "$RW_BODY")" \
    '["ok","ok",{"configured":1,"alive":1},true,0,0,true]'

# ---------------------------------------------------------------- access
check_eq "metrics need a token" "$(rw_req GET /api/v1/metrics)" 401
RW_TOKEN=$ADMIN
check_eq "lims token" "$(rw_req POST /api/v1/tokens '{"role":"lims","label":"scraper?"}')" 201
RW_TOKEN=$(jq -r .token "$RW_BODY")
check_eq "metrics refused to lims" "$(rw_req GET /api/v1/metrics)" 403

# ---------------------------------------------------------------- known traffic
RW_TOKEN=""
for i in 1 2 3; do rw_req GET /api/v1/version >/dev/null; done
rw_req GET /api/v1/no-such-thing >/dev/null
RW_TOKEN=$ADMIN
rw_req GET /api/v1/patients/424242 >/dev/null
rw_req GET /api/v1/patients/424243 >/dev/null

scrape() { curl -s -D "$t_tmp/h" -H "Authorization: Bearer $ADMIN" "$RW_URL/api/v1/metrics"; }
scrape >"$t_tmp/m1"
check_eq "content type" "$(tr -d '\r' <"$t_tmp/h" | sed -n 's/^[Cc]ontent-[Tt]ype: //p')" \
    'text/plain; version=0.0.4; charset=utf-8'

# value FILE NAME{LABELS}: the sample's value ('' when absent).
value() { awk -v k="$2" 'index($0, k " ") == 1 { print substr($0, length(k) + 2) }' "$1"; }
req() { value "$1" "relapsewatch_http_requests_total{method=\"$2\",route=\"$3\",status=\"$4\"}"; }
check_eq "version counted" "$(req "$t_tmp/m1" GET /api/v1/version 200)" 3
check_eq "404 counted under (unknown)" "$(req "$t_tmp/m1" GET '(unknown)' 404)" 1
check_eq "by template, not raw path" "$(req "$t_tmp/m1" GET '/api/v1/patients/{id}' 404)" 2
check "no raw id in the metrics" sh -c '! grep -q 42424 "$1"' _ "$t_tmp/m1"
check_eq "401 counted" "$(req "$t_tmp/m1" GET /api/v1/metrics 401)" 1
check_eq "403 counted" "$(req "$t_tmp/m1" GET /api/v1/metrics 403)" 1

# The format: every sample line is NAME[{LABELS}] VALUE, each family has HELP and TYPE, the
# histogram's buckets grow, +Inf equals _count, and _count equals all the requests counted.
check "sample lines well formed" awk '
    /^#/ { next }
    !/^[a-z_]+(\{[a-z_]+="[^"]*"(,[a-z_]+="[^"]*")*\})? -?[0-9.e+]+$/ { print "bad: " $0; bad = 1 }
    END { exit bad }' "$t_tmp/m1"
check "HELP and TYPE for each family" awk '
    /^# TYPE / { typed[$3] = 1; next } /^# HELP / { helped[$3] = 1; next }
    { n = $1; sub(/\{.*/, "", n); sub(/_(bucket|sum|count)$/, "", n)
      if (!typed[n] || !helped[n]) { print "untyped: " n; bad = 1 } }
    END { exit bad }' "$t_tmp/m1"
consistency() {
    awk -v h=relapsewatch_http_request_duration_seconds '
        /^relapsewatch_http_requests_total\{/ { total += $NF }
        index($0, h "_bucket{") == 1 { if ($NF < last) bad = 1; last = $NF; inf = $NF }
        index($0, h "_count ") == 1 { count = $NF }
        END { if (bad || inf != count || count != total || total == 0) {
                  printf "buckets %s, +Inf %s, count %s, requests %s\n", bad ? "fall" : "ok",
                      inf, count, total; exit 1 } }' "$1"
}
check "latency histogram consistent with the counters" consistency "$t_tmp/m1"
check_eq "jobs by state" "$(grep -c '^relapsewatch_jobs{state="\(queued\|running\|done\|failed\)"} 0$' "$t_tmp/m1")" 4
check_eq "workers alive" "$(value "$t_tmp/m1" relapsewatch_workers_alive)" 1
check_eq "ready" "$(value "$t_tmp/m1" relapsewatch_ready)" 1
check_eq "queue age" "$(value "$t_tmp/m1" relapsewatch_queue_oldest_age_seconds)" 0
check "database size" test "$(value "$t_tmp/m1" relapsewatch_database_bytes)" -gt 0
check "free disk" test "$(value "$t_tmp/m1" relapsewatch_disk_free_bytes)" -gt 0
check "job duration histogram" grep -q '^relapsewatch_job_duration_seconds_count 0$' "$t_tmp/m1"
check "webhook/HL7 deliveries family" grep -q '^# TYPE relapsewatch_deliveries gauge$' "$t_tmp/m1"

# A second scrape: the first one is now counted, the others did not move.
scrape >"$t_tmp/m2"
check_eq "scrape counted" "$(req "$t_tmp/m2" GET /api/v1/metrics 200)" 1
check_eq "counters kept" "$(req "$t_tmp/m2" GET /api/v1/version 200)" 3
check "still consistent" consistency "$t_tmp/m2"

# ---------------------------------------------------------------- not ready
mv "$D/data" "$D/data.away"
RW_TOKEN=""
check_eq "data folder gone: 503" "$(rw_req GET /api/v1/health)" 503
check_eq "says why" "$(jq -c '[.status, .disk.data_dir_writable, .error.code, .error.message]' "$RW_BODY")" \
    '["unavailable",false,"unavailable","the data folder does not take new files"]'
check_eq "metrics: not ready" "$(scrape | sed -n 's/^relapsewatch_ready //p')" 0
mv "$D/data.away" "$D/data"
check_eq "back: 200" "$(rw_req GET /api/v1/health)" 200
check "clean shutdown" rw_stop_daemon

# A daemon that is not ready never passes rw_start_daemon's wait: start it by hand.
# unready NAME FLAGS...: starts one, prints the health status and leaves the body in $RW_BODY.
unready() {
    local dir="$t_tmp/$1" i=0
    shift
    mkdir -p "$dir"
    "$RW_DAEMON" --db "$dir/rw.db" --listen 127.0.0.1:0 --port-file "$dir/port" \
        --data-dir "$dir/data" --web-root "$RW_SRCDIR/web" "$@" >"$dir/out" 2>"$dir/log" &
    pid=$!
    rw_daemon_pids="$rw_daemon_pids $pid"
    while [ ! -s "$dir/port" ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
    curl -s -o "$RW_BODY" -w '%{http_code}' "http://127.0.0.1:$(cat "$dir/port")/api/v1/health"
    kill "$pid" && wait "$pid"
}
check_eq "no workers: 503" "$(unready w0 --workers 0)" 503
check_eq "no workers: why" "$(jq -c '[.workers, .error.message]' "$RW_BODY")" \
    '[{"configured":0,"alive":0},"job workers: 0 of 0 alive (at least 1 needed)"]'
check_eq "disk under the reserve: 503" "$(unready full --workers 1 --disk-reserve 1000T)" 503
check_eq "disk: why" "$(jq -r '.error.message | sub("[(].*"; "")' "$RW_BODY")" \
    'free disk under the reserve '
done_tests
