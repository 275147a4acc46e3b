# Shared fixture of test_fhir.sh, test_hl7.sh and test_webhooks.sh (sourced after tests/lib.sh):
# simulated bins files (a panel of normals and a relapse series whose 5th draw raises
# early_relapse), and helpers that start a daemon, make the lims/clinician/viewer tokens, load
# the panel and run a patient's series through the real pipeline.
SIM=$t_tmp/sim
mkdir -p "$SIM"
jqb() { jq -r "$@" "$RW_BODY"; }

# interop_simulate: the panel (12 normals) and the relapse series R1..R6 (1q21.3 at CN 6 in 0,
# 0, 0.5, 2, 6 and 12% of the DNA: the 5th draw is the first alert, as in test_monitoring.sh).
interop_simulate() {
    "$RW_CLI" simulate --ideal --normals 12 --bins "$SIM/normals" --depth 0.1 --seed 100 \
        >/dev/null 2>&1
    "$RW_CLI" pon build -o "$SIM/pon.tsv" "$SIM"/normals/*.tsv >/dev/null 2>&1
    local i=0 f
    for f in 0 0 0.005 0.02 0.06 0.12; do
        i=$((i + 1))
        "$RW_CLI" simulate --ideal --depth 0.1 --seed $((500 + i)) --tumour-fraction "$f" \
            --events 1q21.3:6 --bins "$SIM/R$i.tsv" >/dev/null 2>&1
    done
    test -s "$SIM/pon.tsv" && test -s "$SIM/R6.tsv"
}

# interop_tokens: ADMIN, LIMS, CLIN, VIEW (viewer) of the running daemon.
interop_tokens() {
    ADMIN=$RW_ADMIN_TOKEN
    RW_TOKEN=$ADMIN rw_req POST /api/v1/tokens '{"role":"lims","label":"lims"}' >/dev/null
    LIMS=$(jqb .token)
    RW_TOKEN=$ADMIN rw_req POST /api/v1/tokens '{"role":"clinician","label":"dr-okafor"}' >/dev/null
    CLIN=$(jqb .token)
    RW_TOKEN=$ADMIN rw_req POST /api/v1/tokens '{"role":"viewer","label":"auditor"}' >/dev/null
    VIEW=$(jqb .token)
}

# interop_panel: uploads and activates the panel (as the admin). 0 on success.
interop_panel() {
    local code
    code=$(curl -s -o "$RW_BODY" -w '%{http_code}' -X POST -H "Authorization: Bearer $ADMIN" \
        -H 'Content-Type: text/tab-separated-values' --data-binary "@$SIM/pon.tsv" \
        "$RW_URL/api/v1/pons?name=interop")
    [ "$code" = 201 ] || return 1
    [ "$(RW_TOKEN=$ADMIN rw_req POST "/api/v1/pons/$(jqb .id)/activate")" = 202 ]
}

# interop_patient EXTERNAL_ID: a patient after surgery (2023-01-10); prints its id.
interop_patient() {
    RW_TOKEN=$LIMS rw_req POST /api/v1/patients \
        "{\"external_id\":\"$1\",\"diagnosis_date\":\"2022-12-01\"}" >/dev/null
    local id
    id=$(jqb .id)
    RW_TOKEN=$CLIN rw_req POST "/api/v1/patients/$id/treatments" \
        '{"kind":"surgery","start_date":"2023-01-10","end_date":"2023-01-10"}' >/dev/null
    echo "$id"
}

# interop_draw PATIENT ACCESSION DATE FILE: registers a bins sample, uploads FILE and waits
# for its job; prints the job's final state.
interop_draw() {
    RW_TOKEN=$LIMS rw_req POST "/api/v1/patients/$1/samples" \
        "{\"accession\":\"$2\",\"collected_at\":\"$3\",\"assay\":\"bins\"}" >/dev/null
    curl -s -o "$RW_BODY" -X PUT -H "Authorization: Bearer $LIMS" \
        -H 'Content-Type: text/tab-separated-values' --data-binary "@$4" \
        "$RW_URL/api/v1/samples/$2/bins"
    rw_wait_job "$(jqb .job.id)" 60 "$ADMIN"
}

# interop_series PATIENT PREFIX N: draws 1..N of the relapse series as PREFIX-1..PREFIX-N.
INTEROP_DATES="2023-02-01 2023-05-02 2023-08-01 2023-11-01 2024-02-01 2024-05-02"
interop_series() {
    local i=0 d
    for d in $INTEROP_DATES; do
        i=$((i + 1))
        [ "$i" -le "$3" ] || break
        check_eq "draw $2-$i analysed" "$(interop_draw "$1" "$2-$i" "$d" "$SIM/R$i.tsv")" done
    done
}
