# Shared helpers for shell tests (sourced). Counts assertions and prints "N passed, N failed".
: "${RW_BUILDDIR:?run through make check}"
RW_CLI="$RW_BUILDDIR/relapsewatch"
RW_DAEMON="$RW_BUILDDIR/relapsewatchd"
t_passed=0
t_failed=0
ok() { t_passed=$((t_passed + 1)); }
fail() { t_failed=$((t_failed + 1)); echo "FAIL: $*" >&2; }
# check DESCRIPTION COMMAND...: passes when the command succeeds.
check() { local d=$1; shift; if "$@"; then ok; else fail "$d"; fi; }
# check_eq DESCRIPTION GOT WANT
check_eq() { if [ "$2" = "$3" ]; then ok; else fail "$1: got '$2', want '$3'"; fi; }
# check_near DESCRIPTION GOT WANT [TOLERANCE]: numbers (space-separated lists of them) equal
# within TOLERANCE (default 1e-6), for values that went through a rounded text form.
check_near() {
    if awk -v g="$2" -v w="$3" -v t="${4:-1e-6}" 'BEGIN {
        n = split(g, a, " "); if (n != split(w, b, " ") || n == 0) exit 1
        for (i = 1; i <= n; i++) { d = a[i] - b[i]; if (d > t || -d > t) exit 1 }
    }'; then ok; else fail "$1: got '$2', want '$3' (within ${4:-1e-6})"; fi
}
t_tmp=$(mktemp -d "${TMPDIR:-/tmp}/rwtest.XXXXXX")
t_cleanup() { rm -rf "$t_tmp"; }
trap t_cleanup EXIT
done_tests() {
    echo "$t_passed passed, $t_failed failed"
    [ "$t_failed" -eq 0 ]
}

# ---------------------------------------------------------------- daemon helpers
# rw_start_daemon DIR [EXTRA FLAGS...]: starts the real relapsewatchd with DIR/rw.db on a free
# port (--listen 127.0.0.1:0, the port read back from DIR/port) and waits for /api/v1/health.
# Sets RW_PID, RW_PORT, RW_URL (http://127.0.0.1:PORT); on a first start also RW_ADMIN_TOKEN
# (read from DIR/stdout, where the daemon prints it once). The log goes to DIR/log (appended over
# restarts). RW_WEB_ROOT overrides the web root (default $RW_SRCDIR/web). Returns 1 on failure.
# For a daemon started with --tls-cert/--tls-key: RW_SCHEME=https and RW_CACERT=the CA file.
# RW_READY_PATH=/api/v1/version waits for a daemon that is up but not healthy (a test of 503s).
rw_daemon_pids=""
rw_start_daemon() {
    local dir=$1 i tok
    shift
    mkdir -p "$dir"
    rm -f "$dir/port" "$dir/pid" "$dir/exit"
    # Double fork: the daemon is not a job of this shell, so a bare `wait` in a test (for its own
    # background curls) does not wait for the daemon too. The inner shell records the exit status.
    ( (
        "$RW_DAEMON" --db "$dir/rw.db" --listen 127.0.0.1:0 --port-file "$dir/port" \
            --web-root "${RW_WEB_ROOT:-$RW_SRCDIR/web}" --data-dir "$dir/data" --threads 2 \
            --workers 1 "$@" >"$dir/stdout" 2>>"$dir/log" </dev/null &
        echo $! >"$dir/pid.tmp" && mv "$dir/pid.tmp" "$dir/pid"
        wait $!
        echo $? >"$dir/exit.tmp" && mv "$dir/exit.tmp" "$dir/exit"
    ) & )
    i=0
    while [ ! -s "$dir/pid" ] && [ $i -lt 100 ]; do
        sleep 0.05
        i=$((i + 1))
    done
    RW_PID=$(cat "$dir/pid" 2>/dev/null)
    RW_DIR=$dir
    rw_daemon_pids="$rw_daemon_pids $RW_PID"
    i=0
    while [ $i -lt 300 ]; do # up to 30 s: ASan builds start slowly on a busy machine
        if [ -s "$dir/port" ]; then
            RW_PORT=$(cat "$dir/port")
            RW_URL="${RW_SCHEME:-http}://127.0.0.1:$RW_PORT" # RW_SCHEME=https: a TLS test
            if curl -sf ${RW_CACERT:+--cacert "$RW_CACERT"} -o /dev/null "$RW_URL${RW_READY_PATH:-/api/v1/health}"; then
                tok=$(sed -n 's/^admin token: //p' "$dir/stdout")
                [ -n "$tok" ] && RW_ADMIN_TOKEN=$tok
                return 0
            fi
        fi
        if [ -z "$RW_PID" ] || ! kill -0 "$RW_PID" 2>/dev/null; then
            echo "relapsewatchd exited at start-up; log:" >&2
            tail -n 20 "$dir/log" >&2
            return 1
        fi
        sleep 0.1
        i=$((i + 1))
    done
    echo "relapsewatchd did not answer /api/v1/health within 30 s" >&2
    return 1
}

# rw_stop_daemon [SIGNAL]: stops the daemon started last (SIGTERM by default) and waits for it;
# returns its exit status (0 after a clean shutdown; ASan's leak report makes it non-zero).
rw_stop_daemon() {
    local sig=${1:-TERM} i=0
    [ -n "$RW_PID" ] || return 1
    kill -s "$sig" "$RW_PID" 2>/dev/null
    while [ ! -s "$RW_DIR/exit" ] && [ $i -lt 600 ]; do # up to 60 s
        sleep 0.1
        i=$((i + 1))
    done
    RW_PID=""
    [ -s "$RW_DIR/exit" ] || { echo "relapsewatchd did not stop within 60 s" >&2; return 1; }
    return "$(cat "$RW_DIR/exit")"
}

# rw_req METHOD PATH [JSON]: one HTTP request to the running daemon, with "Authorization: Bearer
# $RW_TOKEN" when RW_TOKEN is set and a JSON body when given. Prints the status code; the body
# is in the file $RW_BODY (print it with rw_body).
RW_BODY="$t_tmp/last_body"
rw_req() {
    local method=$1 path=$2
    if [ $# -ge 3 ]; then
        curl -s -o "$RW_BODY" -w '%{http_code}' -X "$method" \
            ${RW_TOKEN:+-H "Authorization: Bearer $RW_TOKEN"} \
            -H 'Content-Type: application/json' --data-binary "$3" "$RW_URL$path"
    else
        curl -s -o "$RW_BODY" -w '%{http_code}' -X "$method" \
            ${RW_TOKEN:+-H "Authorization: Bearer $RW_TOKEN"} "$RW_URL$path"
    fi
}
rw_body() { cat "$RW_BODY"; }

# rw_page_ids KEY PATH [FIELD [LIMIT]]: follows a list's cursor (GET PATH with limit=LIMIT,
# default 2, then each next_cursor, with $RW_TOKEN) and prints the FIELD (default id) of every
# page's KEY array on one line; at most 500 pages.
rw_page_ids() {
    local key=$1 path=$2 field=${3:-id} limit=${4:-2} ids="" cursor="" sep='?' pages=0
    case $path in *\?*) sep='&' ;; esac
    while [ $pages -lt 500 ]; do
        rw_req GET "$path${sep}limit=$limit${cursor:+&cursor=$cursor}" >/dev/null
        ids="$ids $(jq -r ".$key[].$field" "$RW_BODY")"
        cursor=$(jq -r '.next_cursor // empty' "$RW_BODY")
        [ -n "$cursor" ] || break
        pages=$((pages + 1))
    done
    echo $ids
}

# rw_wait_job ID [SECONDS [TOKEN]]: polls GET /api/v1/jobs/ID (with TOKEN, default $RW_TOKEN)
# until the job is done or failed, SECONDS at most (default 60), or the daemon died; prints the
# last state and leaves the last answer in $t_tmp/job.json.
rw_wait_job() {
    local id=$1 n=$((${2:-60} * 10)) tok=${3:-$RW_TOKEN} s=""
    while [ "$n" -gt 0 ]; do
        curl -s -H "Authorization: Bearer $tok" "$RW_URL/api/v1/jobs/$id" >"$t_tmp/job.json"
        s=$(jq -r .state "$t_tmp/job.json")
        case $s in done | failed) break ;; esac
        kill -0 "$RW_PID" 2>/dev/null || break # the daemon died: no use waiting
        sleep 0.1
        n=$((n - 1))
    done
    echo "$s"
}

# Any daemon still running when the test ends is killed before the temp folder goes.
rw_kill_daemons() {
    local p i
    for p in $rw_daemon_pids; do
        kill -s KILL "$p" 2>/dev/null || continue
        i=0
        while kill -0 "$p" 2>/dev/null && [ $i -lt 50 ]; do
            sleep 0.05
            i=$((i + 1))
        done
    done
    sleep 0.1 # let the watching shell write its exit file before the folder goes
    return 0
}
trap 'rw_kill_daemons; t_cleanup' EXIT
# A test killed by a signal still runs the EXIT trap, so no daemon outlives it.
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM
