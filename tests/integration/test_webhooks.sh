#!/bin/sh
# Webhooks (issue 13) against the real daemon and a local receiver (tests/webhooks/receiver.py)
# that answers 500 first and 200 afterwards and checks every signature: an admin subscribes
# (the secret is shown once and stored sealed), a result's event fails, the daemon restarts,
# and the persistent outbox delivers it on the retry; the delivery log shows both attempts.
# Alerts raised and acknowledged arrive too; a refused write (a second acknowledgement) sends
# nothing; a subscription gets only its event types, from its creation on; a retraction comes as
# result.corrected; DELETE stops it. At the end: old settled messages are pruned at start-up
# (--outbox-keep-days), and a subscription's failed deliveries are sent again.
. "$RW_SRCDIR/tests/lib.sh"
. "$RW_SRCDIR/tests/integration/interop_setup.sh"
command -v python3 >/dev/null || { echo "python3 missing"; exit 77; }
D=$t_tmp/d
sql() { sqlite3 -cmd '.timeout 5000' "$D/rw.db" "$@"; }
# wait_sql QUERY WANT: polls QUERY until it prints WANT (20 s at most).
wait_sql() {
    local n=0
    while [ $n -lt 200 ]; do
        [ "$(sql "$1")" = "$2" ] && return 0
        sleep 0.1
        n=$((n + 1))
    done
    return 1
}

check "simulated panel and series" interop_simulate
RX=$t_tmp/rx
mkdir -p "$RX"
python3 "$RW_SRCDIR/tests/webhooks/receiver.py" "$RX" 1 &
RX_PID=$!
trap 'kill $RX_PID 2>/dev/null; rw_kill_daemons; t_cleanup' EXIT
i=0
while [ ! -s "$RX/port" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
HOOK="http://127.0.0.1:$(cat "$RX/port")/hook"
# An HTTPS receiver with a self-signed certificate for 127.0.0.1, trusted through
# --webhook-ca-file.
TX=$t_tmp/tx
mkdir -p "$TX"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
    -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 -keyout "$TX/key.pem" \
    -out "$TX/cert.pem" >/dev/null 2>&1
python3 "$RW_SRCDIR/tests/webhooks/receiver.py" "$TX" 0 "$TX/cert.pem" "$TX/key.pem" &
TX_PID=$!
trap 'kill $RX_PID $TX_PID 2>/dev/null; rw_kill_daemons; t_cleanup' EXIT
i=0
while [ ! -s "$TX/port" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
rw_start_daemon "$D" --outbox-retry-base 3 --webhook-ca-file "$TX/cert.pem" || { done_tests; exit 1; }
interop_tokens
check "panel loaded" interop_panel
RW_TOKEN=$ADMIN

# ---------------------------------------------------------------- subscribing
body="{\"url\":\"$HOOK\",\"events\":[\"result.ready\",\"alert.raised\",\"alert.acknowledged\"],\"description\":\"LIMS\"}"
check_eq "a clinician may not subscribe" "$(RW_TOKEN=$CLIN rw_req POST /api/v1/webhooks "$body")" 403
check_eq "nor list" "$(RW_TOKEN=$VIEW rw_req GET /api/v1/webhooks)" 403
check_eq "not http" "$(rw_req POST /api/v1/webhooks '{"url":"ftp://x/y","events":["result.ready"]}')" 422
check_eq "bad port" "$(rw_req POST /api/v1/webhooks '{"url":"http://x:99999/","events":["result.ready"]}')" 422
check_eq "events missing" "$(rw_req POST /api/v1/webhooks "{\"url\":\"$HOOK\"}")" 422
check_eq "  ... named" "$(jqb .error.field)" events
check_eq "unknown event" "$(rw_req POST /api/v1/webhooks "{\"url\":\"$HOOK\",\"events\":[\"alert.eaten\"]}")" 422
check_eq "event twice" "$(rw_req POST /api/v1/webhooks "{\"url\":\"$HOOK\",\"events\":[\"job.failed\",\"job.failed\"]}")" 422
check_eq "no events" "$(rw_req POST /api/v1/webhooks "{\"url\":\"$HOOK\",\"events\":[]}")" 422
check_eq "unknown field" "$(rw_req POST /api/v1/webhooks "{\"url\":\"$HOOK\",\"events\":[\"job.failed\"],\"secret\":\"x\"}")" 422
check_eq "refused requests created nothing" "$(sql 'SELECT count(*) FROM webhooks')" 0
check_eq "subscribe" "$(rw_req POST /api/v1/webhooks "$body")" 201
W1=$(jqb .id)
SECRET=$(jqb .secret)
check "the secret: whsec_ and 64 hex digits" sh -c "echo '$SECRET' | grep -Eq '^whsec_[0-9a-f]{64}$'"
check_eq "the answer shows the subscription" "$(jqb '.url + " " + (.events | join(",")) + " " + .description')" \
    "$HOOK result.ready,alert.raised,alert.acknowledged LIMS"
echo "$SECRET" >>"$RX/secrets"
rw_req GET "/api/v1/webhooks/$W1" >/dev/null
check_eq "the secret is shown once" "$(jqb 'has("secret")')" false
check "the secret is not in the database files" sh -c "! cat '$D'/rw.db* | grep -aq '$SECRET'"
check "nor in the audit row" sh -c "[ \"\$(sqlite3 '$D/rw.db' \"SELECT count(*) FROM audit_log WHERE entity_type = 'webhook' AND details NOT LIKE '%whsec%'\")\" = 1 ]"
check_eq "the sealing key: 32 bytes, mode 600" "$(stat -c '%s %a' "$D/data/webhook.key")" "32 600"

# ---------------------------------------------------------------- a failure, a restart, the retry
P=$(interop_patient PT-WH)
check_eq "first draw analysed" "$(interop_draw "$P" WH-1 2023-02-01 "$SIM/R1.tsv")" done
check "the first attempt fails (500)" wait_sql "SELECT count(*) FROM delivery_attempts" 1
check_eq "  ... recorded as a retry" "$(sql 'SELECT outcome, status FROM delivery_attempts')" "retry|500"
check "stop before the retry" rw_stop_daemon
check_eq "the delivery waits in the outbox" "$(sql 'SELECT state, attempts FROM deliveries')" "pending|1"
rw_start_daemon "$D" --outbox-retry-base 3 --webhook-ca-file "$TX/cert.pem" || { done_tests; exit 1; }
check "after the restart it is delivered" wait_sql "SELECT state, attempts FROM deliveries" "delivered|2"
check_eq "the receiver got it twice" "$(ls "$RX"/req-*.json | wc -l)" 2
R() { jq -r "$2" "$RX/req-$1.json"; }
check_eq "both signatures valid" "$(R 1 .valid) $(R 2 .valid)" "true true"
check_eq "the same delivery both times" "$(R 1 .delivery)" "$(R 2 .delivery)"
check_eq "event header and type" "$(R 2 '.event + " " + .body.type + " " + .content_type')" \
    "result.ready result.ready application/json"
check_eq "the result in the body" "$(R 2 '.body.data.result.accession + " " + .body.data.result.call')" \
    "WH-1 $(sql "SELECT call FROM results r JOIN samples s ON s.id = r.sample_id WHERE accession = 'WH-1'")"
check_eq "the event id" "$(R 2 .body.id)" "evt_$(sql "SELECT id FROM outbox_events WHERE type = 'result.ready'")"
rw_req GET "/api/v1/webhooks/$W1/deliveries" >/dev/null
check_eq "delivery log: one delivery, two attempts" \
    "$(jqb '.deliveries[0] | .state + " " + (.attempts | tostring) + " " + ([.attempts_log[] | .outcome + ":" + .status] | join(","))')" \
    "delivered 2 retry:500,delivered:200"
check_eq "delivery log: the body sent" "$(jqb '.deliveries[0].body.type')" result.ready

# ---------------------------------------------------------------- alerts, acknowledgement
check_eq "a second subscription, acknowledgements only" \
    "$(rw_req POST /api/v1/webhooks "{\"url\":\"$HOOK\",\"events\":[\"alert.acknowledged\"]}")" 201
W2=$(jqb .id)
jqb .secret >>"$RX/secrets"
i=1
for d in 2023-05-02 2023-08-01 2023-11-01 2024-02-01; do
    i=$((i + 1))
    check_eq "draw $i analysed" "$(interop_draw "$P" "WH-$i" "$d" "$SIM/R$i.tsv")" done
done
AL=$(sql "SELECT id FROM alerts WHERE patient_id = $P")
check "the alert is raised" test -n "$AL"
check_eq "ack" "$(RW_TOKEN=$CLIN rw_req POST "/api/v1/alerts/$AL/acknowledge" '{"comment":"CT | ordered"}')" 200
check_eq "a second ack is refused" "$(RW_TOKEN=$CLIN rw_req POST "/api/v1/alerts/$AL/acknowledge" '{"comment":"again"}')" 409
check "every delivery made" wait_sql "SELECT count(*) FROM deliveries WHERE state = 'delivered'" 8
check_eq "the refused write sent nothing" "$(sql "SELECT count(*) FROM outbox_events WHERE type = 'alert.acknowledged'")" 1
check_eq "first subscription: 5 results, the alert, the ack" \
    "$(sql "SELECT group_concat(type, ',') FROM (SELECT e.type FROM deliveries d JOIN outbox_events e ON e.id = d.event_id WHERE webhook_id = $W1 ORDER BY d.id)")" \
    "result.ready,result.ready,result.ready,result.ready,result.ready,alert.raised,alert.acknowledged"
check_eq "second: only the ack (its type, after its creation)" \
    "$(sql "SELECT group_concat(e.type) FROM deliveries d JOIN outbox_events e ON e.id = d.event_id WHERE webhook_id = $W2")" \
    alert.acknowledged
last=$(ls "$RX"/req-*.json | wc -l)
check_eq "every signature valid" "$(cat "$RX"/req-*.json | jq -s '[.[].valid] | all')" true
ack=$(cat "$RX"/req-*.json | jq -s -c '[.[] | select(.event == "alert.acknowledged")][0].body.data')
check_eq "the ack's comment and author" "$(echo "$ack" | jq -r '.comment + " / " + .acknowledged_by')" "CT | ordered / dr-okafor"
check_eq "the alert with its evidence" "$(echo "$ack" | jq -r '.alert.kind + " " + (.alert.evidence.rules | length > 0 | tostring)')" \
    "early_relapse true"

# ---------------------------------------------------------------- closing: a retracted draw
check_eq "a third subscription, closings and corrections" \
    "$(rw_req POST /api/v1/webhooks "{\"url\":\"$HOOK\",\"events\":[\"alert.closed\",\"result.corrected\"]}")" 201
W3=$(jqb .id)
jqb .secret >>"$RX/secrets"
check_eq "an https subscription" \
    "$(rw_req POST /api/v1/webhooks "{\"url\":\"https://127.0.0.1:$(cat "$TX/port")/hook\",\"events\":[\"alert.closed\"]}")" 201
W4=$(jqb .id)
jqb .secret >>"$TX/secrets"
check_eq "one whose name the certificate does not hold" \
    "$(rw_req POST /api/v1/webhooks "{\"url\":\"https://localhost:$(cat "$TX/port")/hook\",\"events\":[\"alert.closed\"]}")" 201
W5=$(jqb .id)
check_eq "the alert's draw retracted" \
    "$(RW_TOKEN=$CLIN rw_req POST /api/v1/samples/WH-5/retract '{"reason":"tube mislabelled"}')" 200
check "its closing and the result's correction are delivered" wait_sql \
    "SELECT count(*) FROM deliveries WHERE webhook_id = $W3 AND state = 'delivered'" 2
check "over https too" wait_sql \
    "SELECT count(*) FROM deliveries WHERE webhook_id = $W4 AND state = 'delivered'" 1
check_eq "  ... its signature valid" "$(jq -r '.valid' "$TX/req-1.json")" true
check "the certificate that does not name the host is refused" wait_sql \
    "SELECT count(*) FROM delivery_attempts a JOIN deliveries d ON d.id = a.delivery_id WHERE d.webhook_id = $W5 AND a.error LIKE '%certificate is refused%'" 1
check_eq "  ... nothing reached the receiver for it" "$(ls "$TX"/req-*.json | wc -l)" 1
closed=$(cat "$RX"/req-*.json | jq -s -c '[.[] | select(.event == "alert.closed")][0].body.data')
check_eq "  ... as retracted, the alert with it" \
    "$(echo "$closed" | jq -r '.reason + " " + (.alert_id | tostring) + " " + (.alert.retracted_at != null | tostring)')" \
    "retracted $AL true"

corrected=$(cat "$RX"/req-*.json | jq -s -c '[.[] | select(.event == "result.corrected")][0].body.data')
check_eq "  ... the correction: what changed, why, and the result" \
    "$(echo "$corrected" | jq -r '.change + " / " + .reason + " / " + .result.accession')" \
    "retracted / tube mislabelled / WH-5"

# ---------------------------------------------------------------- delete
check_eq "delete" "$(rw_req DELETE "/api/v1/webhooks/$W2")" 200
check "  ... marked" sh -c "[ \"\$(jq -r '.deleted_at != null' '$RW_BODY')\" = true ]"
check_eq "delete again" "$(rw_req DELETE "/api/v1/webhooks/$W2")" 409
check_eq "delete unknown" "$(rw_req DELETE /api/v1/webhooks/999999)" 404
rw_req GET /api/v1/webhooks >/dev/null
check_eq "the list keeps both, counts" "$(jqb '[.webhooks[] | (.id | tostring) + ":" + (.delivered | tostring)] | join(",")')" \
    "$W1:7,$W2:1,$W3:2,$W4:1,$W5:0"
check_eq "deliveries of unknown webhook" "$(rw_req GET /api/v1/webhooks/999999/deliveries)" 404
check_eq "deliveries: bad limit" "$(rw_req GET "/api/v1/webhooks/$W1/deliveries?limit=0")" 422
rw_req GET "/api/v1/webhooks/$W1/deliveries" >/dev/null
whole=$(jq -r '[.deliveries[].id] | join(" ")' "$RW_BODY")
check_eq "deliveries: pages of 2 give the whole log, newest first" \
    "$(rw_page_ids deliveries "/api/v1/webhooks/$W1/deliveries")" "$whole"
rw_req GET /api/v1/webhooks >/dev/null
whole=$(jq -r '[.webhooks[].id] | join(" ")' "$RW_BODY")
check_eq "webhooks: pages of 2 give the whole list" "$(rw_page_ids webhooks /api/v1/webhooks)" "$whole"
check "no identifier nor secret in the log" sh -c "! grep -q 'PT-WH\|WH-1\|whsec_' '$D/log'"
check "clean stop" rw_stop_daemon
# The event triggers are all there (a later migration rebuilding alerts, results, jobs or samples
# would drop them), and job.failed comes from a job's state as any writer sets it.
check_eq "eight event triggers" \
    "$(sql "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'outbox\\_%' ESCAPE '\\'")" 8
sql "UPDATE jobs SET state = 'failed', error = 'test' WHERE id = (SELECT min(id) FROM jobs)"
check_eq "job.failed from a failed job" \
    "$(sql "SELECT type || ' ' || json_extract(data, '\$.error') FROM outbox_events WHERE type = 'job.failed'")" "job.failed test"

# ---------------------------------------------------------------- retention (--outbox-keep-days)
# Three delivered messages made old, and an old one still pending: at start-up the settled old
# ones lose their body, the pending one and the recent ones keep theirs.
sql "UPDATE deliveries SET created_at = '2020-01-01T00:00:00Z' WHERE id IN (SELECT id FROM deliveries WHERE webhook_id = $W1 AND state = 'delivered' ORDER BY id LIMIT 3)"
sql "INSERT INTO deliveries (event_id, channel, destination, body, created_at, next_attempt_at) SELECT min(event_id), 'hl7', '127.0.0.1:1', 'MSH|pending', '2020-01-01T00:00:00Z', unixepoch() + 86400 FROM deliveries"
recent=$(sql "SELECT count(*) FROM deliveries WHERE created_at > '2021' AND body <> '{\"pruned\":true}'")
# The subscription whose receiver refuses us ran out of attempts (as after a long outage).
sql "UPDATE deliveries SET state = 'failed' WHERE webhook_id = $W5"
w5=$(sql "SELECT count(*) FROM deliveries WHERE webhook_id = $W5")
rw_start_daemon "$D" --outbox-keep-days 30 || { done_tests; exit 1; }
check "the old settled messages are dropped" wait_sql "SELECT count(*) FROM deliveries WHERE body = '{\"pruned\":true}'" 3
check_eq "  ... only those" "$(sql "SELECT group_concat(id) FROM deliveries WHERE body = '{\"pruned\":true}'")" \
    "$(sql "SELECT group_concat(id) FROM deliveries WHERE created_at < '2021' AND state <> 'pending'")"
check_eq "the old pending one keeps its message" "$(sql "SELECT body FROM deliveries WHERE channel = 'hl7' AND state = 'pending'")" "MSH|pending"
check_eq "the recent ones keep theirs" \
    "$(sql "SELECT count(*) FROM deliveries WHERE created_at > '2021' AND body <> '{\"pruned\":true}'")" "$recent"
check_eq "the deliveries, their attempts and events stay" \
    "$(sql "SELECT count(*) FROM delivery_attempts a JOIN deliveries d ON d.id = a.delivery_id WHERE d.body = '{\"pruned\":true}'")" 4
rw_req GET "/api/v1/webhooks/$W1/deliveries?limit=100" >/dev/null
check_eq "the delivery log shows them pruned" "$(jqb '[.deliveries[] | select(.body.pruned)] | length')" 3
check "the log says how many" grep -q '3 delivery message(s) older than 30 days dropped' "$D/log"
RW_TOKEN=$ADMIN rw_req GET "/api/v1/deliveries?webhook_id=$W5&state=failed" >/dev/null
check "it has some" [ "$w5" -ge 1 ]
check_eq "its failed deliveries listed" "$(jqb '.deliveries | length')" "$w5"
check_eq "all sent again" "$(RW_TOKEN=$ADMIN rw_req POST /api/v1/deliveries/retry "{\"webhook_id\":$W5}"; jqb .requeued)" "200$w5"
check_eq "  ... pending" "$(sql "SELECT count(*) FROM deliveries WHERE webhook_id = $W5 AND state = 'pending'")" "$w5"
check_eq "a deleted subscription's: none" "$(RW_TOKEN=$ADMIN rw_req POST /api/v1/deliveries/retry "{\"webhook_id\":$W2}"; jqb .requeued)" "2000"
check "clean stop" rw_stop_daemon
done_tests
