#!/usr/bin/env bash
# bench/load.sh BUILD [PATIENTS...]: the daemon's read paths under load, on stores seeded through
# the API (bench/load_seed.py: per patient a registration, a surgery and DRAWS ddPCR draws, sent
# as CSV imports by default), against nginx serving the same answers as static files in the
# same run (issue 14).
#
# Each store is the demo cohort (tools/load-demo.sh: 11 patients through the real pipeline)
# plus PATIENTS - 11 seeded ones. For each size (default: 11 and 10000) it measures with wrk,
# DURATION each: the HTTP layer alone (GET /version), trend, the cohort list (plain and sorted by
# alerts), the cohort summary, the alert list, a profile (260 KB JSON of a bins draw: plain, and
# gzip as a browser asks), the app's script, and a small ingest request (POST patient), at 8 and
# 64 connections; nginx serves the trend and profile JSON and app.js from a folder.
# Prints a markdown table: req/s, p50, p99, non-2xx, the ratio to nginx where nginx serves the
# same bytes, and the daemon's resident memory before and after each measurement.
# Environment: DRAWS (8), DURATION (10s), CONNS ("8 64"), KEEP=1 keeps the work folder,
# STORES=DIR keeps each seeded store in DIR/store-N and reuses it on the next run (10,000
# patients: 3 min to import, 15 min to analyse here; 100,000: 25 min to import, hours to
# analyse), SEED_MODE (import or api: load_seed.py), RW_DAEMON (the daemon to measure; default
# BUILD/relapsewatchd, whose CLI seeds the demo cohort), WORKERS (2; 0 measures a store whose
# analyses are still queued without running them).
# Needs: wrk, nginx (nginx-light), python3, curl, jq, sqlite3.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
BUILD=$(cd "${1:?usage: bench/load.sh BUILD [PATIENTS...]}" && pwd)
shift
SIZES=${*:-11 10000}
DRAWS=${DRAWS:-8}
DURATION=${DURATION:-10s}
CONNS=${CONNS:-8 64}
for t in wrk nginx python3 curl jq; do
    command -v $t >/dev/null || [ -x /usr/sbin/$t ] || { echo "load.sh: needs $t" >&2; exit 2; }
done
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
W=$(mktemp -d /tmp/rw-load.XXXXXX)
STORES=${STORES:-$W}
mkdir -p "$STORES"
cleanup() {
    [ -f "$W/nginx.pid" ] && kill "$(cat "$W/nginx.pid")" 2>/dev/null || true
    [ -n "${DPID:-}" ] && kill "$DPID" 2>/dev/null || true
    [ -n "${KEEP:-}" ] || rm -rf "$W"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
rss_mb() { awk '/VmRSS/ { printf "%.0f", $2 / 1024 }' "/proc/$DPID/status"; }

# wrk_run NAME CONNS URL [HEADER] [SCRIPT]: one measurement as a table row.
wrk_run() {
    local name=$1 c=$2 url=$3 hdr=${4:-} script=${5:-} out before after
    before=$( [ -n "${DPID:-}" ] && rss_mb || echo -)
    out=$(wrk -t2 -c"$c" -d"$DURATION" --latency ${hdr:+-H "$hdr"} ${script:+-s "$script"} "$url")
    after=$( [ -n "${DPID:-}" ] && rss_mb || echo -)
    local rps p50 p99 bad
    rps=$(awk '/^Requests\/sec/ { print $2 }' <<<"$out")
    p50=$(awk '$1 == "50%" { print $2 }' <<<"$out")
    p99=$(awk '$1 == "99%" { print $2 }' <<<"$out")
    bad=$(awk '/Non-2xx/ { print $5 }' <<<"$out")
    echo "$name|$c|$rps|$p50|$p99|${bad:-0}|$before|$after"
}

# wait_jobs URL TOKEN: until no analysis job is queued or running.
wait_jobs() {
    local n
    for state in queued running; do
        while n=$(curl -sf "$1/api/v1/jobs?state=$state&limit=1" -H "Authorization: Bearer $2" |
            jq '.jobs | length') && [ "$n" != 0 ]; do sleep 2; done
    done
}

for N in $SIZES; do
    D="$STORES/store-$N" && mkdir -p "$D"
    seeded=$([ -f "$D/seeded" ] && echo 1 || echo "")
    PORT=$(free_port)
    "${RW_DAEMON:-$BUILD/relapsewatchd}" --db "$D/rw.db" --data-dir "$D/data" --listen "127.0.0.1:$PORT" \
        --web-root "$HERE/../web" --workers "${WORKERS:-2}" --log-level warn --max-connections-per-ip 0 \
        >"$D/stdout" 2>"$D/log" &
    DPID=$!
    URL="http://127.0.0.1:$PORT"
    # /version answers once the daemon listens (a big store's migration, with its backup copy,
    # takes minutes), whether or not the health check counts workers.
    for _ in $(seq 6000); do curl -sf "$URL/api/v1/version" >/dev/null && break; sleep 0.1; done
    [ -z "$seeded" ] && sed -n 's/^admin token: //p' "$D/stdout" >"$D/admin.token"
    ADMIN=$(cat "$D/admin.token")
    tok() { curl -sf -X POST "$URL/api/v1/tokens" -H "Authorization: Bearer $ADMIN" \
        -H 'Content-Type: application/json' -d "{\"role\": \"$1\", \"label\": \"load-$1\"}" | jq -r .token; }
    LIMS=$(tok lims) DOC=$(tok clinician)
    if [ -z "$seeded" ]; then
        t0=$(date +%s)
        # The demo cohort (11 patients through the real pipeline: panel, bins, BAMs, ddPCR),
        # then N - 11 patients of ddPCR draws.
        RW_CLI="$BUILD/relapsewatch" RW_DEMO_DIR="$D/demo" "$HERE/../tools/load-demo.sh" "$URL" "$ADMIN" \
            >"$D/demo.log" 2>&1 || { echo "load.sh: the demo cohort did not load: $D/demo.log" >&2; exit 1; }
        if [ "$N" -gt 11 ]; then
            [ "${SEED_MODE:-import}" = import ] && seeder=$ADMIN || seeder=$LIMS
            MODE=${SEED_MODE:-import} python3 "$HERE/load_seed.py" "$URL" "$seeder" "$((N - 11))" "$DRAWS"
        fi
        t1=$(date +%s)
        wait_jobs "$URL" "$ADMIN"
        echo "store of $N patients x $DRAWS draws seeded through the API (${SEED_MODE:-import}) in" \
            "$((t1 - t0)) s, all analysed $(($(date +%s) - t0)) s after the start" \
            "($(du -sh "$D/rw.db" | cut -f1) database)" | tee "$D/seeded" >&2
    else
        [ "${WORKERS:-2}" = 0 ] || wait_jobs "$URL" "$ADMIN"
        echo "store of $N patients reused: $(cat "$D/seeded")" >&2
    fi
    echo "analyses: $(sqlite3 -cmd '.timeout 5000' "$D/rw.db" \
        "SELECT group_concat(state || ' ' || n, ', ') FROM (SELECT state, count(*) n FROM jobs GROUP BY state)" \
        2>/dev/null || echo '?'); load average before: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
    PID=$(curl -sf "$URL/api/v1/patients?limit=1" -H "Authorization: Bearer $DOC" | jq -r '.patients[0].id')
    ACC=$(curl -sf "$URL/api/v1/patients/$PID/trend" -H "Authorization: Bearer $DOC" |
        jq -r '[.series[] | select(.assay != "ddpcr")][-1].accession')

    # nginx serves the same bytes as static files.
    mkdir -p "$D/static"
    curl -sf "$URL/api/v1/patients/$PID/trend" -H "Authorization: Bearer $DOC" >"$D/static/trend.json"
    curl -sf "$URL/api/v1/samples/$ACC/profile" -H "Authorization: Bearer $DOC" \
        >"$D/static/profile.json" || echo '{}' >"$D/static/profile.json"
    cp "$HERE/../web/app.js" "$D/static/app.js"
    NPORT=$(free_port)
    cat >"$D/nginx.conf" <<NGX
worker_processes 2;
pid $W/nginx.pid;
error_log $D/nginx.err;
events { worker_connections 1024; }
http { access_log off; types { application/json json; application/javascript js; }
  server { listen 127.0.0.1:$NPORT; root $D/static; } }
NGX
    "$NGINX" -c "$D/nginx.conf" -p "$D"
    NURL="http://127.0.0.1:$NPORT"
    cat >"$D/ingest.lua" <<'LUA'
n = 0
request = function()
  n = n + 1
  local h = {}
  for k, v in pairs(wrk.headers) do h[k] = v end
  h["Content-Type"] = "application/json"
  local body = '{"external_id": "INGEST-' .. math.random(1, 1e9) .. '-' .. n .. '", "diagnosis_date": "2024-01-15"}'
  return wrk.format("POST", "/api/v1/patients", h, body)
end
LUA
    cat >"$D/gzip.lua" <<'LUA'
wrk.headers["Accept-Encoding"] = "gzip"
LUA
    AUTH="Authorization: Bearer $DOC"
    gz_bytes=$(curl -sf -H "$AUTH" -H 'Accept-Encoding: gzip' "$URL/api/v1/samples/$ACC/profile" | wc -c)
    echo "profile: $(wc -c <"$D/static/profile.json") bytes plain, $gz_bytes gzip on the wire" >&2
    echo
    echo "### $N patients x $DRAWS draws"
    echo
    echo "| request | conns | req/s | p50 | p99 | non-2xx | nginx req/s | ratio | RSS MB before/after |"
    echo "|---|---|---|---|---|---|---|---|---|"
    for c in $CONNS; do
        rows=(
            "$(wrk_run "GET /version (HTTP layer)" "$c" "$URL/api/v1/version")"
            "$(wrk_run "GET /patients/{id}/trend" "$c" "$URL/api/v1/patients/$PID/trend" "$AUTH")"
            "$(wrk_run "GET /patients?limit=50" "$c" "$URL/api/v1/patients?limit=50" "$AUTH")"
            "$(wrk_run "GET /patients?sort=alerts&limit=50" "$c" "$URL/api/v1/patients?sort=alerts&limit=50" "$AUTH")"
            "$(wrk_run "GET /cohort/summary" "$c" "$URL/api/v1/cohort/summary" "$AUTH")"
            "$(wrk_run "GET /alerts?open=1&limit=50" "$c" "$URL/api/v1/alerts?open=1&limit=50" "$AUTH")"
            "$(wrk_run "GET /samples/{acc}/profile" "$c" "$URL/api/v1/samples/$ACC/profile" "$AUTH")"
            "$(wrk_run "GET /samples/{acc}/profile (gzip)" "$c" "$URL/api/v1/samples/$ACC/profile" "$AUTH" "" "$D/gzip.lua")"
            "$(wrk_run "GET /app.js" "$c" "$URL/app.js")"
            "$(wrk_run "POST /patients (ingest)" "$c" "$URL" "Authorization: Bearer $LIMS" "$D/ingest.lua")"
        )
        saved=$DPID && DPID=""
        declare -A peer=(
            ["GET /patients/{id}/trend"]="$(wrk_run n "$c" "$NURL/trend.json" | cut -d'|' -f3)"
            ["GET /samples/{acc}/profile"]="$(wrk_run n "$c" "$NURL/profile.json" | cut -d'|' -f3)"
            ["GET /app.js"]="$(wrk_run n "$c" "$NURL/app.js" | cut -d'|' -f3)"
        )
        DPID=$saved
        for r in "${rows[@]}"; do
            IFS='|' read -r name cc rps p50 p99 bad before after <<<"$r"
            nrps=${peer[$name]:-}
            ratio=$( [ -n "$nrps" ] && awk -v a="$rps" -v b="$nrps" 'BEGIN { printf "%.2f", a / b }' || echo "")
            echo "| \`$name\` | $cc | $rps | $p50 | $p99 | $bad | ${nrps:--} | ${ratio:--} | $before/$after |"
        done
        unset peer
    done
    echo
    echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
    kill "$(cat "$W/nginx.pid")" && rm -f "$W/nginx.pid"
    kill "$DPID" && wait "$DPID" 2>/dev/null || true
    DPID=""
done
