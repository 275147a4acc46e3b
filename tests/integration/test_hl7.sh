#!/bin/sh
# HL7 v2.5.1 ORU^R01 over MLLP (issue 13), against the real daemon and a small MLLP receiver
# (tests/hl7/mllp_receiver.py) that rejects the first message (AR) and answers AE to the alert:
# a result per draw and the raised alert are sent in order, framed 0x0B ... 0x1C 0x0D; the
# rejected one is retried from the persistent outbox and delivered; the AE one fails for good.
# Every message, and GET /api/v1/samples/{accession}/hl7, is parsed by an independent parser
# (@medplum/core, tests/hl7/parse.mjs): codes, values equal to the stored result, and an
# identifier system full of | ^ & ~ \ that comes back whole once unescaped. Then corrections
# (retracted, reinstated, re-dated, moved, an alert retracted) reach the receiver as C or W, and
# an erasure blanks what named the patient; HL7 over TLS (mllps://) to a second receiver, one
# reached under a name its certificate lacks refused; and the failed deliveries, listed and sent
# again to the corrected address (one, a superseded one refused, then every one).
. "$RW_SRCDIR/tests/lib.sh"
. "$RW_SRCDIR/tests/integration/interop_setup.sh"
command -v node >/dev/null && command -v python3 >/dev/null || { echo "node/python3 missing"; exit 77; }
sql() { sqlite3 -cmd '.timeout 5000' "$t_tmp/d/rw.db" "$@"; }

check "simulated panel and series" interop_simulate
RX=$t_tmp/rx
mkdir -p "$RX"
python3 "$RW_SRCDIR/tests/hl7/mllp_receiver.py" "$RX" 1 monitoring-alert &
RX_PID=$!
trap 'kill $RX_PID 2>/dev/null; rw_kill_daemons; t_cleanup' EXIT
i=0
while [ ! -s "$RX/port" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
BASE='https://h.example/sid?a=1&b=^x|y~z\w'
rw_start_daemon "$t_tmp/d" --hl7-mllp "127.0.0.1:$(cat "$RX/port")" --outbox-retry-base 1 \
    --fhir-identifier-base "$BASE" || { done_tests; exit 1; }
interop_tokens
check "panel loaded" interop_panel
P=$(interop_patient PT-HL7)
interop_series "$P" HL 5

# ---------------------------------------------------------------- delivery over MLLP
# 5 results, then the alert of the 5th draw; the first is rejected once (AR) and sent again.
n=0
while [ $n -lt 300 ]; do
    [ "$(sql "SELECT count(*) FROM deliveries WHERE channel = 'hl7' AND state <> 'pending'")" = 6 ] && break
    sleep 0.1
    n=$((n + 1))
done
check_eq "six HL7 deliveries settled" \
    "$(sql "SELECT count(*) FROM deliveries WHERE channel = 'hl7' AND state <> 'pending'")" 6
check_eq "the receiver got 7 messages (one twice)" "$(ls "$RX"/msg-*.hl7 | wc -l)" 7
check_eq "the rejected one: delivered at its 2nd attempt after AR" \
    "$(sql "SELECT state, attempts, last_status FROM deliveries WHERE channel = 'hl7' ORDER BY id LIMIT 1")" \
    "delivered|2|AA"
check_eq "its attempt log" "$(sql "SELECT group_concat(outcome || ':' || status, ',') FROM \
    delivery_attempts WHERE delivery_id = (SELECT min(id) FROM deliveries WHERE channel = 'hl7')")" \
    "retry:AR,delivered:AA"
check_eq "the AR's error names it" "$(sql "SELECT error FROM delivery_attempts ORDER BY id LIMIT 1")" \
    "ACK AR: try later"
check_eq "AE: failed for good, not retried" \
    "$(sql "SELECT state, attempts, last_status FROM deliveries d JOIN outbox_events e ON e.id = d.event_id WHERE e.type = 'alert.raised'")" \
    "failed|1|AE"
check_eq "the others: delivered at once" \
    "$(sql "SELECT count(*) FROM deliveries WHERE channel = 'hl7' AND state = 'delivered' AND attempts = 1")" 4
first=$(od -An -tx1 -N1 "$RX/msg-3.hl7" | tr -d ' ')
last=$(tail -c 2 "$RX/msg-3.hl7" | od -An -tx1 | tr -d ' ')
check_eq "MLLP start block 0x0B" "$first" 0b
check_eq "MLLP end block 0x1C 0x0D" "$last" 1c0d

# ---------------------------------------------------------------- parsed independently
node "$RW_SRCDIR/tests/hl7/parse.mjs" $(ls "$RX"/msg-*.hl7 | sort -t- -k2 -n) >"$t_tmp/sent.json" 2>"$t_tmp/parse.err"
check "every message parses (@medplum/core)" test -s "$t_tmp/sent.json"
J() { jq -r "$@" "$t_tmp/sent.json"; }
check_eq "all ORU^R01 2.5.1" "$(J '[.[] | .type + " " + .version] | unique | join(",")')" "ORU^R01 2.5.1"
check_eq "order: result 1 twice, results 2-5, then the alert" "$(J '[.[].obr3] | join(" ")')" \
    "HL-1 HL-1 HL-2 HL-3 HL-4 HL-5 ALERT-1"
check_eq "the retry sent the same message" "$(J '.[0].control == .[1].control')" true
check_eq "segments of a result" "$(J '.[6 - 1].segments | join(",")')" "MSH,PID,OBR,OBX,OBX,OBX,OBX,OBX,OBX,OBX,NTE,OBX"
check_eq "PID-3: the external id" "$(J '[.[].pid3.id] | unique | join(",")')" PT-HL7
check_eq "PID-3 assigning authority: | ^ & ~ \\ escaped, whole again once unescaped" \
    "$(J '.[0].pid3.universal')" "$BASE/patient"
check_eq "PID-3: URI, PI" "$(J '.[0].pid3.kind + " " + .[0].pid3.type')" "URI PI"
check_eq "OBR-4 of a result: LOINC 51969-4" "$(J '.[2].obr4')" 51969-4
ob() { J ".[5].obx[] | select(.code == \"$1\") | $2"; } # OBX of HL-5's message
check_eq "HL-5: variant present (LOINC LA9633-4), abnormal" "$(ob 69548-6 '.value + " " + .flag + " " + .system')" "LA9633-4 A LN"
check_eq "HL-5: copy ratio equals the stored one" "$(ob copy-ratio-1q21.3 .value)" \
    "$(sql "SELECT printf('%.6g', ratio) FROM results r JOIN samples s ON s.id = r.sample_id WHERE accession = 'HL-5'")"
check_eq "HL-5: z equals the stored one" "$(ob z-score .value)" \
    "$(sql "SELECT printf('%.6g', z) FROM results r JOIN samples s ON s.id = r.sample_id WHERE accession = 'HL-5'")"
check_eq "HL-5: interval" "$(ob interval-low .system),$(ob interval-high .type)" "99RLW,NM"
check_eq "HL-5: call" "$(ob call-1q21.3 .value)" amplified
check_eq "HL-5: quality" "$(ob sample-quality .value)" pass
check_eq "HL-5: tumour fraction as SN" "$(ob tumour-fraction .type)" SN
check_eq "HL-1: variant absent (LA9634-2)" \
    "$(J '.[0].obx[] | select(.code == "69548-6") | .value + " " + .flag')" "LA9634-2 N"
check_eq "alert: OBR-4 and its kind" "$(J '.[6].obr4 + " " + (.[6].obx[0].value)')" \
    "monitoring-alert early_relapse"
check_eq "alert: its rule met, with the draws" "$(J '.[6].obx[1].value | startswith("strong_positive:")')" true

# ---------------------------------------------------------------- GET /samples/{accession}/hl7
code=$(curl -s -o "$t_tmp/get.hl7" -w '%{http_code} %{content_type}' -H "Authorization: Bearer $VIEW" \
    "$RW_URL/api/v1/samples/HL-5/hl7")
check_eq "GET hl7 (viewer): text/plain" "$code" "200 text/plain; charset=utf-8"
node "$RW_SRCDIR/tests/hl7/parse.mjs" "$t_tmp/get.hl7" >"$t_tmp/get.json"
check_eq "GET hl7: the OBX codes and values sent" \
    "$(jq -c '[.[0].obx[] | [.code, .value]]' "$t_tmp/get.json")" "$(J -c '[.[5].obx[] | [.code, .value]]')"
code=$(curl -s -o /dev/null -w '%{http_code} %{content_type}' -H "Authorization: Bearer $CLIN" \
    -H 'Accept: x-application/hl7-v2+er7' "$RW_URL/api/v1/samples/HL-5/hl7")
check_eq "GET hl7 (clinician) as ER7" "$code" "200 x-application/hl7-v2+er7"
check_eq "GET hl7: lims may not" "$(RW_TOKEN=$LIMS rw_req GET /api/v1/samples/HL-5/hl7)" 403
check_eq "GET hl7: no token" "$(RW_TOKEN='' rw_req GET /api/v1/samples/HL-5/hl7)" 401
check_eq "GET hl7: unknown accession" "$(RW_TOKEN=$CLIN rw_req GET /api/v1/samples/NOPE/hl7)" 404
RW_TOKEN=$LIMS rw_req POST "/api/v1/patients/$P/samples" \
    '{"accession":"HL-X","collected_at":"2024-06-01","assay":"bins"}' >/dev/null
check_eq "GET hl7: a sample without a result" "$(RW_TOKEN=$CLIN rw_req GET /api/v1/samples/HL-X/hl7)" 404
check_eq "GET hl7: unknown query key" "$(RW_TOKEN=$CLIN rw_req GET '/api/v1/samples/HL-5/hl7?x=1')" 422
# ---------------------------------------------------------------- corrections reach the receiver
# hl7_settled N: waits until N HL7 deliveries exist and none is pending.
hl7_settled() {
    n=0
    while [ $n -lt 300 ]; do
        [ "$(sql "SELECT count(*) || ',' || sum(state = 'pending') FROM deliveries WHERE channel = 'hl7'")" = "$1,0" ] && return 0
        sleep 0.1
        n=$((n + 1))
    done
    return 1
}
# last_sent: the newest message the receiver got, parsed.
last_sent() {
    node "$RW_SRCDIR/tests/hl7/parse.mjs" "$(ls "$RX"/msg-*.hl7 | sort -t- -k2 -n | tail -1)" >"$t_tmp/last.json"
}
L() { jq -r "$@" "$t_tmp/last.json"; }
last_raw() { tr '\r' '\n' <"$(ls "$RX"/msg-*.hl7 | sort -t- -k2 -n | tail -1)"; }

check_eq "retract HL-3" "$(RW_TOKEN=$CLIN rw_req POST /api/v1/samples/HL-3/retract '{"reason":"tube | haemolysed"}')" 200
check "its correction delivered" hl7_settled 7
last_sent
check_eq "retracted: OBR-3, OBR-25 C" "$(L '.[0].obr3 + " " + .[0].obr25')" "HL-3 C"
check_eq "retracted: every OBX posted as wrong (W)" "$(L '[.[0].obx[].status] | unique | join(",")')" W
check_eq "retracted: an NTE gives the reason" "$(last_raw | grep '^NTE|1||Result retracted' | head -1)" \
    'NTE|1||Result retracted: tube \F\ haemolysed'
check_eq "the event: result.corrected, retracted" \
    "$(sql "SELECT type || ' ' || json_extract(data, '\$.change') FROM outbox_events ORDER BY id DESC LIMIT 1")" \
    "result.corrected retracted"
curl -s -o "$t_tmp/get3.hl7" -H "Authorization: Bearer $CLIN" "$RW_URL/api/v1/samples/HL-3/hl7"
node "$RW_SRCDIR/tests/hl7/parse.mjs" "$t_tmp/get3.hl7" >"$t_tmp/get3.json"
check_eq "GET hl7 of a retracted draw: posted as wrong" \
    "$(jq -r '.[0].obr25 + " " + ([.[0].obx[].status] | unique | join(","))' "$t_tmp/get3.json")" "C W"
RW_TOKEN=$CLIN rw_req GET "/api/v1/fhir/DiagnosticReport/$(sql "SELECT id FROM samples WHERE accession = 'HL-3'")" >/dev/null
check_eq "FHIR: its report entered in error" "$(jqb .status)" entered-in-error

check_eq "reinstate HL-3" "$(RW_TOKEN=$CLIN rw_req DELETE /api/v1/samples/HL-3/retract)" 200
check "reinstated: delivered" hl7_settled 8
last_sent
check_eq "reinstated: replaces the wrong one (C, every OBX C)" \
    "$(L '.[0].obr3 + " " + .[0].obr25 + " " + ([.[0].obx[].status] | unique | join(","))')" "HL-3 C C"

check_eq "fix HL-2's collection date" \
    "$(RW_TOKEN=$ADMIN rw_req PATCH /api/v1/samples/HL-2 '{"collected_at":"2023-05-03"}')" 200
check "date fixed: delivered" hl7_settled 9
last_sent
check_eq "corrected: C, with the new date" \
    "$(L '.[0].obr3 + " " + .[0].obr25 + " " + ([.[0].obx[].status] | unique | join(","))')" "HL-2 C C"
check "corrected: OBR-7 the new day" sh -c "tr '\r' '\n' <'$(ls "$RX"/msg-*.hl7 | sort -t- -k2 -n | tail -1)' | grep -q '^OBR|1||HL-2^RELAPSEWATCH|[^|]*|||20230503|'"

P2=$(interop_patient PT-HL7-B)
check_eq "move HL-4 to another patient" \
    "$(RW_TOKEN=$ADMIN rw_req POST /api/v1/samples/HL-4/move "{\"patient_id\":$P2,\"reason\":\"swapped tubes\"}")" 200
check "moved: two messages" hl7_settled 11
node "$RW_SRCDIR/tests/hl7/parse.mjs" $(ls "$RX"/msg-*.hl7 | sort -t- -k2 -n | tail -2) >"$t_tmp/move.json"
check_eq "moved: posted as wrong under the former patient, then new under the right one" \
    "$(jq -r '[.[] | .pid3.id + " " + .obr3 + " " + .obr25 + " " + ([.obx[].status] | unique | join(","))] | join("; ")' "$t_tmp/move.json")" \
    "PT-HL7 HL-4 C W; PT-HL7-B HL-4 F F"
check_eq "moved: two control ids" "$(jq -r '[.[].control] | unique | length' "$t_tmp/move.json")" 2

check_eq "retract HL-5, the alert's draw" \
    "$(RW_TOKEN=$CLIN rw_req POST /api/v1/samples/HL-5/retract '{"reason":"mislabelled"}')" 200
check "its result and its alert posted as wrong" hl7_settled 13
node "$RW_SRCDIR/tests/hl7/parse.mjs" $(ls "$RX"/msg-*.hl7 | sort -t- -k2 -n | tail -2) >"$t_tmp/r5.json"
check_eq "HL-5 and ALERT-1: C and W" \
    "$(jq -r '[.[] | .obr3 + " " + .obr25 + " " + ([.obx[].status] | unique | join(","))] | sort | join("; ")' "$t_tmp/r5.json")" \
    "ALERT-1 C W; HL-5 C W"
check_eq "a sample without a result: fixed" \
    "$(RW_TOKEN=$ADMIN rw_req PATCH /api/v1/samples/HL-X '{"collected_at":"2024-05-30"}')" 200
check_eq "no event: there is no result to correct" \
    "$(sql "SELECT count(*) FROM outbox_events e JOIN samples s ON s.id = e.sample_id WHERE s.accession = 'HL-X'")" 0

# Erasing the former patient blanks her messages, the one that posted HL-4 as wrong under her
# included, and keeps HL-4's message under the patient it belongs to.
check_eq "erase PT-HL7" "$(RW_TOKEN=$ADMIN rw_req DELETE "/api/v1/patients/$P")" 200
check_eq "no message names her any more" "$(sql "SELECT count(*) FROM deliveries WHERE instr(body, 'PT-HL7^') > 0")" 0
check_eq "HL-4's message under PT-HL7-B kept" "$(sql "SELECT count(*) FROM deliveries WHERE instr(body, 'PT-HL7-B^') > 0")" 1
check_eq "the move's event forgets her id" \
    "$(sql "SELECT count(*) FROM outbox_events WHERE json_extract(data, '\$.change') = 'moved' AND json_extract(data, '\$.from_patient_id') IS NULL")" 1
check "no identifier in the log" sh -c "! grep -q 'PT-HL7\|HL-5\|haemolysed' '$t_tmp/d/log'"
check "clean stop" rw_stop_daemon

# ---------------------------------------------------------------- MLLP over TLS (mllps://)
# A receiver with a self-signed certificate for 127.0.0.1, trusted through --webhook-ca-file.
TX=$t_tmp/tx
mkdir -p "$TX"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
    -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 -keyout "$TX/key.pem" \
    -out "$TX/cert.pem" >/dev/null 2>&1
python3 "$RW_SRCDIR/tests/hl7/mllp_receiver.py" "$TX" 0 "" "$TX/cert.pem" "$TX/key.pem" &
TX_PID=$!
trap 'kill $RX_PID $TX_PID 2>/dev/null; rw_kill_daemons; t_cleanup' EXIT
i=0
while [ ! -s "$TX/port" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
rw_start_daemon "$t_tmp/d" --hl7-mllp "mllps://127.0.0.1:$(cat "$TX/port")" \
    --webhook-ca-file "$TX/cert.pem" --outbox-max-attempts 1 || { done_tests; exit 1; }
P3=$(interop_patient PT-HL7-TLS)
check_eq "a draw for the TLS receiver" "$(interop_draw "$P3" HL-T1 2023-02-01 "$SIM/R1.tsv")" done
check "delivered over TLS" hl7_settled 14
check_eq "  ... delivered, AA" "$(sql "SELECT state || ' ' || last_status FROM deliveries WHERE channel = 'hl7' ORDER BY id DESC LIMIT 1")" "delivered AA"
node "$RW_SRCDIR/tests/hl7/parse.mjs" "$TX/msg-1.hl7" >"$t_tmp/tls.json"
check_eq "  ... the receiver read it: ORU^R01 of HL-T1, F" \
    "$(jq -r '.[0] | .type + " " + .obr3 + " " + .obr25' "$t_tmp/tls.json")" "ORU^R01 HL-T1 F"
check "clean stop" rw_stop_daemon
# The same receiver reached by a name its certificate does not hold: refused, nothing sent.
rw_start_daemon "$t_tmp/d" --hl7-mllp "mllps://localhost:$(cat "$TX/port")" \
    --webhook-ca-file "$TX/cert.pem" --outbox-max-attempts 1 || { done_tests; exit 1; }
check_eq "another draw" "$(interop_draw "$P3" HL-T2 2023-05-02 "$SIM/R2.tsv")" done
check_eq "and a third" "$(interop_draw "$P3" HL-T3 2023-08-01 "$SIM/R3.tsv")" done
check_eq "and a fourth" "$(interop_draw "$P3" HL-T4 2023-11-01 "$SIM/R4.tsv")" done
check "their deliveries settle" hl7_settled 17
check_eq "  ... failed: the certificate does not name the host" \
    "$(sql "SELECT group_concat(state || ' ' || (instr(last_error, 'certificate is refused') > 0), ',') FROM (SELECT * FROM deliveries WHERE channel = 'hl7' ORDER BY id DESC LIMIT 3)")" "failed 1,failed 1,failed 1"
check_eq "  ... nothing reached the receiver" "$(ls "$TX"/msg-*.hl7 | wc -l)" 1

# ---------------------------------------------------------------- failed deliveries: seen, sent again
RW_TOKEN=$ADMIN rw_req GET '/api/v1/deliveries?channel=hl7&state=failed' >/dev/null
check_eq "admin lists the failed HL7 deliveries" "$(jqb '[.deliveries[].id] | join(",")')" \
    "$(sql "SELECT group_concat(id) FROM (SELECT id FROM deliveries WHERE channel = 'hl7' AND state = 'failed' ORDER BY id DESC)")"
T2=$(jqb '.deliveries[2].id')
T3=$(jqb '.deliveries[1].id')
check_eq "  ... the newest: HL-T4's, its error, no message" \
    "$(jqb '.deliveries[0] | "\(.event_type) \(.last_error | test("certificate is refused")) \(has("body")) \(.message_gone) \(.superseded)"')" \
    "result.ready true false false false"
check_eq "  ... the erased patient's: message gone" \
    "$(jqb '[.deliveries[] | select(.message_gone)] | length')" \
    "$(sql "SELECT count(*) FROM deliveries WHERE channel = 'hl7' AND state = 'failed' AND body = '{\"erased\":true}'")"
check_eq "a clinician may not list deliveries" "$(RW_TOKEN=$CLIN rw_req GET /api/v1/deliveries)" 403
check_eq "an unknown state" "$(RW_TOKEN=$ADMIN rw_req GET '/api/v1/deliveries?state=lost')" 422
check "clean stop" rw_stop_daemon
# The address corrected, the failed message is sent again, to the receiver configured now.
rw_start_daemon "$t_tmp/d" --hl7-mllp "mllps://127.0.0.1:$(cat "$TX/port")" \
    --webhook-ca-file "$TX/cert.pem" --outbox-max-attempts 1 || { done_tests; exit 1; }
check_eq "retry HL-T2's delivery" "$(RW_TOKEN=$ADMIN rw_req POST "/api/v1/deliveries/$T2/retry")" 200
check_eq "  ... pending again, to the corrected address" "$(jqb '.state + " " + .destination')" \
    "pending mllps://127.0.0.1:$(cat "$TX/port")"
check "  ... delivered" hl7_settled 17
check_eq "  ... the receiver got HL-T2" "$(ls "$TX"/msg-*.hl7 | wc -l) $(grep -c 'HL-T2' "$TX/msg-2.hl7")" "2 1"
check_eq "  ... its log keeps both attempts" \
    "$(sql "SELECT group_concat(outcome, ',') FROM delivery_attempts WHERE delivery_id = $T2")" "failed,delivered"
check_eq "  ... audited" "$(sql "SELECT count(*) FROM audit_log WHERE action = 'retry' AND entity_type = 'delivery' AND entity_id = $T2")" 1
check_eq "retry a delivered one: 409" "$(RW_TOKEN=$ADMIN rw_req POST "/api/v1/deliveries/$T2/retry")" 409
check_eq "retry an unknown one: 404" "$(RW_TOKEN=$ADMIN rw_req POST /api/v1/deliveries/999999/retry)" 404
ERASED=$(sql "SELECT min(id) FROM deliveries WHERE channel = 'hl7' AND body = '{\"erased\":true}' AND state = 'failed'")
check_eq "retry an erased message: 409 message_gone" \
    "$(RW_TOKEN=$ADMIN rw_req POST "/api/v1/deliveries/$ERASED/retry"; jqb .error.code)" "409message_gone"
check_eq "lims may not retry" "$(RW_TOKEN=$LIMS rw_req POST "/api/v1/deliveries/$T2/retry")" 403
# HL-T3's date fixed meanwhile: the correction (C) replaces the result its failed message held.
check_eq "fix HL-T3's date" "$(RW_TOKEN=$ADMIN rw_req PATCH /api/v1/samples/HL-T3 '{"collected_at":"2023-08-02"}')" 200
check "  ... its correction delivered" hl7_settled 18
check_eq "  ... as C" "$(node "$RW_SRCDIR/tests/hl7/parse.mjs" "$TX/msg-3.hl7" | jq -r '.[0].obr3 + " " + .[0].obr25')" "HL-T3 C"
check_eq "the older failed message of HL-T3: superseded, not sent again" \
    "$(RW_TOKEN=$ADMIN rw_req POST "/api/v1/deliveries/$T3/retry"; jqb .error.code)" "409superseded"
check_eq "retry all: neither channel nor webhook" "$(RW_TOKEN=$ADMIN rw_req POST /api/v1/deliveries/retry '{}')" 422
check_eq "retry all: both" "$(RW_TOKEN=$ADMIN rw_req POST /api/v1/deliveries/retry '{"channel":"hl7","webhook_id":1}')" 422
check_eq "retry all: an unknown channel" "$(RW_TOKEN=$ADMIN rw_req POST /api/v1/deliveries/retry '{"channel":"fax"}')" 422
check_eq "retry every failed HL7 delivery: HL-T4's only (the others gone or superseded)" \
    "$(RW_TOKEN=$ADMIN rw_req POST /api/v1/deliveries/retry '{"channel":"hl7"}'; jqb .requeued)" "2001"
check "  ... delivered" hl7_settled 18
check_eq "  ... the receiver got HL-T4" "$(ls "$TX"/msg-*.hl7 | wc -l) $(grep -c 'HL-T4' "$TX/msg-4.hl7")" "4 1"
check_eq "  ... the erased and superseded ones stay failed" \
    "$(sql "SELECT count(*) FROM deliveries WHERE channel = 'hl7' AND state = 'failed' AND body <> '{\"erased\":true}'")" 1
check_eq "  ... audited with the count" \
    "$(sql "SELECT json_extract(details, '\$.requeued') FROM audit_log WHERE action = 'retry' AND entity_type = 'deliveries'")" 1
[ "$t_failed" -gt 0 ] && grep -v " info " "$t_tmp/d/log" | tail -20 >&2 # why, for the reader of the log
check "clean stop" rw_stop_daemon
done_tests
