#!/bin/sh
# FHIR R4 read endpoints (issue 13) against the real daemon: a patient's series through the real
# pipeline (5 draws: the 5th raises early_relapse, which a clinician acknowledges) plus a no-call
# draw; every resource and Bundle the API gives is validated against the official FHIR R4 JSON
# schema with ajv, and every reference in a Bundle must resolve (tests/fhir/validate.mjs); codes
# (Genomics Reporting IG profiles, LOINC), values equal to the stored results, roles and 404s.
. "$RW_SRCDIR/tests/lib.sh"
. "$RW_SRCDIR/tests/integration/interop_setup.sh"
command -v node >/dev/null || { echo "node missing"; exit 77; }
D=$t_tmp/d
F=$t_tmp/fhir
mkdir -p "$F"
sql() { sqlite3 -cmd '.timeout 5000' "$D/rw.db" "$@"; }
# get NAME PATH [TOKEN]: GETs PATH as TOKEN (clinician by default) into $F/NAME.json; prints
# "status content-type".
get() {
    curl -s -o "$F/$1.json" -w '%{http_code} %{content_type}' -H "Authorization: Bearer ${3:-$CLIN}" \
        "$RW_URL$2"
}
J() { jq -r "$2" "$F/$1.json"; }

check "simulated panel and series" interop_simulate
"$RW_CLI" simulate --ideal --wave-amp 0.2 --depth 0.1 --seed 802 --tumour-fraction 0 \
    --events 1q21.3:6 --bins "$SIM/Q.tsv" >/dev/null 2>&1
rw_start_daemon "$D" || { done_tests; exit 1; }
interop_tokens
check "panel loaded" interop_panel
P=$(interop_patient PT-FHIR)
interop_series "$P" FH 5
check_eq "a no-call draw analysed" "$(interop_draw "$P" FH-Q 2024-03-01 "$SIM/Q.tsv")" done
check_eq "  ... stored as a no-call" "$(sql "SELECT call FROM results r JOIN samples s ON s.id = r.sample_id WHERE accession = 'FH-Q'")" insufficient_quality
AL=$(sql "SELECT id FROM alerts WHERE patient_id = $P AND retracted_at IS NULL LIMIT 1")
check_eq "acknowledged" "$(RW_TOKEN=$CLIN rw_req POST "/api/v1/alerts/$AL/acknowledge" '{"comment":"CT ordered"}')" 200
S5=$(sql "SELECT id FROM samples WHERE accession = 'FH-5'")
S1=$(sql "SELECT id FROM samples WHERE accession = 'FH-1'")
SQ=$(sql "SELECT id FROM samples WHERE accession = 'FH-Q'")

# ---------------------------------------------------------------- every endpoint, every role
FJ="application/fhir+json"
check_eq "Patient" "$(get patient "/api/v1/fhir/Patient/$P")" "200 $FJ"
check_eq "\$everything (viewer)" "$(get everything "/api/v1/fhir/Patient/$P/\$everything" "$VIEW")" "200 $FJ"
check_eq "DiagnosticReport (admin)" "$(get report5 "/api/v1/fhir/DiagnosticReport/$S5" "$ADMIN")" "200 $FJ"
check_eq "Observation -cn" "$(get cn5 "/api/v1/fhir/Observation/$S5-cn")" "200 $FJ"
check_eq "Observation -tf" "$(get tf5 "/api/v1/fhir/Observation/$S5-tf")" "200 $FJ"
check_eq "Observation -qc" "$(get qc5 "/api/v1/fhir/Observation/$S5-qc")" "200 $FJ"
check_eq "Observation of draw 1" "$(get cn1 "/api/v1/fhir/Observation/$S1-cn")" "200 $FJ"
check_eq "Observation of the no-call" "$(get cnq "/api/v1/fhir/Observation/$SQ-cn")" "200 $FJ"
check_eq "quality of the no-call" "$(get qcq "/api/v1/fhir/Observation/$SQ-qc")" "200 $FJ"
check_eq "DetectedIssue" "$(get issue "/api/v1/fhir/DetectedIssue/$AL")" "200 $FJ"
check_eq "sample Bundle" "$(get sample "/api/v1/samples/FH-5/fhir" "$VIEW")" "200 $FJ"
code=$(curl -s -o "$F/metadata.json" -w '%{http_code} %{content_type}' "$RW_URL/api/v1/fhir/metadata")
check_eq "CapabilityStatement, without a token" "$code" "200 $FJ"
check_eq "  ... R4, JSON, the four resources and \$everything" \
    "$(J metadata '.fhirVersion + " " + .format[0] + " " + ([.rest[0].resource[].type] | join(",")) + " " + .rest[0].resource[0].operation[0].name')" \
    "4.0.1 json Patient,DiagnosticReport,Observation,DetectedIssue everything"
check_eq "lims may not read FHIR" "$(get x "/api/v1/fhir/Patient/$P" "$LIMS" | cut -c1-3)" 403
check_eq "nor the sample Bundle" "$(get x "/api/v1/samples/FH-5/fhir" "$LIMS" | cut -c1-3)" 403
check_eq "no token" "$(RW_TOKEN='' rw_req GET "/api/v1/fhir/Patient/$P")" 401
check_eq "unknown patient" "$(get x /api/v1/fhir/Patient/999999 | cut -c1-3)" 404
check_eq "unknown report" "$(get x /api/v1/fhir/DiagnosticReport/999999 | cut -c1-3)" 404
check_eq "unknown observation kind" "$(get x "/api/v1/fhir/Observation/$S5-zz" | cut -c1-3)" 404
check_eq "malformed observation id" "$(get x /api/v1/fhir/Observation/abc | cut -c1-3)" 404
check_eq "unknown alert" "$(get x /api/v1/fhir/DetectedIssue/999999 | cut -c1-3)" 404
RW_TOKEN=$LIMS rw_req POST "/api/v1/patients/$P/samples" \
    '{"accession":"FH-X","collected_at":"2024-06-01","assay":"bins"}' >/dev/null
SX=$(sql "SELECT id FROM samples WHERE accession = 'FH-X'")
check_eq "a sample without a result has no report" "$(get x "/api/v1/fhir/DiagnosticReport/$SX" | cut -c1-3)" 404
check_eq "  ... nor Bundle" "$(get x /api/v1/samples/FH-X/fhir | cut -c1-3)" 404
check_eq "unknown query key" "$(get x "/api/v1/fhir/Patient/$P?_format=xml" | cut -c1-3)" 422

# ---------------------------------------------------------------- the official R4 schema
echo '{"resourceType":"Observation","id":"x","status":"final","code":{"text":"t"},"valueQuantity":{"value":"1"}}' >"$F/bad.json"
jq '.entry |= map(select(.resource.resourceType != "Patient"))' "$F/sample.json" >"$F/dangling.json"
node "$RW_SRCDIR/tests/fhir/validate.mjs" "$F"/patient.json "$F"/everything.json "$F"/report5.json \
    "$F"/cn5.json "$F"/tf5.json "$F"/qc5.json "$F"/cn1.json "$F"/cnq.json "$F"/qcq.json \
    "$F"/issue.json "$F"/sample.json "$F"/metadata.json "$F"/bad.json "$F"/dangling.json >"$t_tmp/validate.out" 2>&1
check "every resource valid against FHIR R4, every Bundle reference resolves" \
    test "$(grep -c '^ok ' "$t_tmp/validate.out")" = 12
grep '^FAIL\|^  ' "$t_tmp/validate.out" | grep -v 'bad.json\|dangling.json' >&2
check "  ... and the validator does refuse an invalid resource" grep -q "^FAIL $F/bad.json" "$t_tmp/validate.out"
check "  ... and a dangling reference" grep -q "reference Patient/$P does not resolve" "$t_tmp/validate.out"

# ---------------------------------------------------------------- codes and values
check_eq "Patient.identifier: the external id and its system" \
    "$(J patient '.identifier[0] | .system + " " + .value')" "https://relapsewatch.example/fhir/sid/patient PT-FHIR"
check_eq "report profile (Genomics Reporting IG)" "$(J report5 '.meta.profile[0]')" \
    "http://hl7.org/fhir/uv/genomics-reporting/StructureDefinition/genomic-report"
check_eq "report code LOINC 51969-4, category GE" "$(J report5 '.code.coding[0].code + " " + .category[0].coding[0].code')" "51969-4 GE"
check_eq "report identifier: the accession" "$(J report5 '.identifier[0].value')" FH-5
check_eq "report results" "$(J report5 '[.result[].reference] | join(",")')" \
    "Observation/$S5-cn,Observation/$S5-tf,Observation/$S5-qc"
check_eq "report effective: the draw's day" "$(J report5 .effectiveDateTime)" 2024-02-01
check_eq "finding: variant profile, LOINC 69548-6" "$(J cn5 '.meta.profile[0] + " " + .code.coding[0].code')" \
    "http://hl7.org/fhir/uv/genomics-reporting/StructureDefinition/variant 69548-6"
check_eq "finding at draw 5: present, POS" "$(J cn5 '.valueCodeableConcept.coding[0].code + " " + .interpretation[0].coding[0].code')" "LA9633-4 POS"
check_eq "finding at draw 1: absent, NEG" "$(J cn1 '.valueCodeableConcept.coding[0].code + " " + .interpretation[0].coding[0].code')" "LA9634-2 NEG"
comp() { J "$1" ".component[] | select(.code.coding[0].code == \"$2\") | $3"; }
check_eq "copy number gain (SO:0001742)" "$(comp cn5 48019-4 .valueCodeableConcept.coding[0].code)" SO:0001742
check_eq "somatic (LA6684-0)" "$(comp cn5 48002-0 .valueCodeableConcept.coding[0].code)" LA6684-0
check_eq "1q21.3" "$(comp cn5 48001-2 .valueCodeableConcept.text)" 1q21.3
check_eq "hg38 chr1 (NC_000001.11)" "$(comp cn5 48013-7 .valueCodeableConcept.coding[0].code)" NC_000001.11
# (both sides rounded to 6 decimals, each its own way: equal within 1e-6)
stored() { sql "SELECT printf('%.6f', $1) FROM results WHERE sample_id = $S5"; }
check_near "copy ratio = stored" "$(comp cn5 copy-ratio-1q21.3 '.valueQuantity.value * 1000000 | round / 1000000')" \
    "$(stored ratio | sed 's/0*$//')"
check_near "its interval = stored" \
    "$(comp cn5 interval-low '.valueQuantity.value * 1000000 | round / 1000000') $(comp cn5 interval-high '.valueQuantity.value * 1000000 | round / 1000000')" \
    "$(stored ratio_low | sed 's/0*$//') $(stored ratio_high | sed 's/0*$//')"
check_near "z = stored" "$(comp cn5 z-score '.valueQuantity.value * 1000000 | round / 1000000')" "$(stored z | sed 's/0*$//')"
check_eq "the call as a code" "$(comp cn5 call-1q21.3 .valueCodeableConcept.coding[0].code)" amplified
check_eq "the local code system" "$(comp cn5 call-1q21.3 .valueCodeableConcept.coding[0].system)" \
    https://relapsewatch.example/fhir/CodeSystem/relapsewatch
check_eq "tumour fraction: percent, its method named" \
    "$(J tf5 '.valueQuantity.code + " " + (.method.text | length > 0 | tostring)')" "% true"
tflag=$(sql "SELECT json_extract(tumour_fraction, '$.flag') FROM results WHERE sample_id = $S5")
if [ "$tflag" = below_detection ]; then
    check_eq "below detection reads as an upper bound" "$(J tf5 .valueQuantity.comparator)" "<"
else
    check_eq "a detected fraction has no comparator" "$(J tf5 '.valueQuantity.comparator // "none"')" none
fi
check_eq "quality of a call: pass" "$(J qc5 .valueCodeableConcept.coding[0].code)" pass
check_eq "no-call: no variant profile, no value, why" \
    "$(J cnq '(.meta // {} | has("profile") | tostring) + " " + (has("valueCodeableConcept") | tostring) + " " + .dataAbsentReason.coding[0].code')" \
    "false false error"
check_eq "no-call: quality names the gate's verdict" "$(J qcq .valueCodeableConcept.coding[0].code)" \
    "$(sql "SELECT json_extract(quality, '$.code') FROM results WHERE sample_id = $SQ")"
check_eq "alert: DetectedIssue of the kind, high" "$(J issue '.code.coding[0].code + " " + .severity + " " + .status')" \
    "early_relapse high final"
check_eq "alert: implicates the report of its draw" "$(J issue '.implicated[0].reference')" "DiagnosticReport/$S5"
check_eq "alert: evidence points at the draw's finding" \
    "$(J issue '[.evidence[].detail[]?.reference] | index("Observation/'"$S5"'-cn") != null')" true
check_eq "alert: the acknowledgement as mitigation" "$(J issue '.mitigation[0] | .action.text + " / " + .author.display')" \
    "CT ordered / dr-okafor"
check_eq "\$everything: a searchset with its total" "$(J everything '.type + " " + ((.total == (.entry | length)) | tostring)')" "searchset true"
check_eq "\$everything: 1 patient, 6 reports, 1 alert" \
    "$(J everything '[.entry[].resource.resourceType] | (map(select(. == "Patient")) | length | tostring) + " " + (map(select(. == "DiagnosticReport")) | length | tostring) + " " + (map(select(. == "DetectedIssue")) | length | tostring)')" \
    "1 6 1"
check_eq "\$everything: the patient matches" "$(J everything '.entry[0].search.mode + " " + .entry[0].resource.resourceType')" "match Patient"
check_eq "sample Bundle: a collection with the patient" \
    "$(J sample '.type + " " + ([.entry[].resource.resourceType] | join(","))')" \
    "collection DiagnosticReport,Observation,Observation,Observation,Patient"
check_eq "fullUrl: absolute, on the request's host" "$(J sample '.entry[0].fullUrl')" "$RW_URL/api/v1/fhir/DiagnosticReport/$S5"
check "no identifier in the log" sh -c "! grep -q 'PT-FHIR\|FH-5' '$D/log'"
check "clean stop" rw_stop_daemon
done_tests
