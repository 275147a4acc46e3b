#!/bin/sh
# The scale-out workflow (workflow/Snakefile) with `snakemake --cores 2` on three simulated BAMs
# against the real daemon: counted, patients and samples registered, bins pushed, jobs run,
# summary written. Run again: nothing to do. Pushes forced again: the daemon answers "already
# there" to each and no row of the database changes.
. "$RW_SRCDIR/tests/lib.sh"
command -v snakemake >/dev/null || { echo "SKIP: snakemake not installed"; exit 77; }
command -v python3 >/dev/null || { echo "SKIP: python3 missing"; exit 77; }

rw_start_daemon "$t_tmp/d" --workers 2 || { fail "daemon start"; done_tests; exit 1; }
RW_TOKEN=$RW_ADMIN_TOKEN
"$RW_CLI" simulate --ideal --normals 10 --bins "$t_tmp/normals" --seed 900 >/dev/null 2>&1
"$RW_CLI" pon build -o "$t_tmp/pon.tsv" "$t_tmp"/normals/*.tsv >/dev/null 2>&1
pon_id=$(curl -s -H "Authorization: Bearer $RW_TOKEN" -H 'Content-Type: text/tab-separated-values' \
    --data-binary @"$t_tmp/pon.tsv" "$RW_URL/api/v1/pons" | jq -r .id)
check_eq "panel activated" "$(rw_req POST "/api/v1/pons/$pon_id/activate")" 202
check_eq "lims token" "$(rw_req POST /api/v1/tokens '{"role":"lims","label":"workflow"}')" 201
lims=$(jq -r .token "$RW_BODY")

# Three small BAMs (~30k reads each), one with a 1q21.3 gain; two patients.
mkdir -p "$t_tmp/reads"
for s in 1 2; do
    "$RW_CLI" simulate --ideal --depth 0.001 --seed "$s" -o "$t_tmp/reads/s$s.bam" \
        >/dev/null 2>&1 || fail "simulate s$s"
done
"$RW_CLI" simulate --ideal --depth 0.001 --seed 3 --tumour-fraction 0.3 --events 1q21.3:6 \
    -o "$t_tmp/reads/s3.bam" >/dev/null 2>&1 || fail "simulate s3"
printf 'accession\tpatient\tdiagnosis_date\tcollected_at\treads\tprimary_1q213_status\n' >"$t_tmp/sheet.tsv"
printf 'WF-S1\tWF-P1\t2023-01-10\t2023-06-01\t%s\tamplified\n' "$t_tmp/reads/s1.bam" >>"$t_tmp/sheet.tsv"
printf 'WF-S2\tWF-P1\t2023-01-10\t2023-09-01\t%s\tamplified\n' "$t_tmp/reads/s2.bam" >>"$t_tmp/sheet.tsv"
printf 'WF-S3\tWF-P2\t2022-11-02\t2023-07-15\t%s\t\n' "$t_tmp/reads/s3.bam" >>"$t_tmp/sheet.tsv"
cat >"$t_tmp/config.yaml" <<EOF
samples: $t_tmp/sheet.tsv
url: $RW_URL
relapsewatch: $RW_CLI
count_threads: 2
wait_seconds: 60
EOF

# snakemake keeps .snakemake/ in the working folder and caches under XDG_CACHE_HOME: both here.
work="$t_tmp/work"
mkdir -p "$work"
flow() {
    RW_TOKEN=$lims XDG_CACHE_HOME="$t_tmp/cache" timeout 300 snakemake --snakefile \
        "$RW_SRCDIR/workflow/Snakefile" --directory "$work" --configfile "$t_tmp/config.yaml" \
        --cores 2 --printshellcmds "$@" >>"$t_tmp/snakemake.log" 2>&1
}
db() { sqlite3 "$t_tmp/d/rw.db" "$1"; }
state() { # every row the workflow can write (reads are audited too: not counted)
    db "SELECT count(*) FROM patients; SELECT count(*) FROM samples; SELECT count(*) FROM jobs;
        SELECT count(*) FROM sample_inputs; SELECT group_concat(sha256) FROM sample_inputs;
        SELECT max(updated_at) FROM samples; SELECT count(*) FROM audit_log WHERE action <> 'read';" 2>&1
}

check "first run" flow
check_eq "summary lines" "$(wc -l <"$work/summary.tsv")" 4
check_eq "summary" "$(cut -f1,5,6,8,9 "$work/summary.tsv" | tr '\t' ' ')" \
    "accession sample bins job_state call
WF-S1 created queued done -
WF-S2 created queued done -
WF-S3 created queued done -"
# WF-S1 and WF-S2 share a patient; their pushes run at once: one creates it, the other finds it.
check_eq "patients created once" "$(cut -f4 "$work/summary.tsv" | sed 1d | sort | uniq -c | tr -s ' ')" \
    " 2 created
 1 existing"
check "reads counted" awk -F'\t' 'NR > 1 && $3 < 10000 { bad = 1 } END { exit bad }' \
    "$work/summary.tsv"
check_eq "threads from the engine" "$(grep -c -- '--threads 2' "$t_tmp/snakemake.log")" 3
RW_TOKEN=$RW_ADMIN_TOKEN
check_eq "sample registered as bins" "$(rw_req GET /api/v1/samples/WF-S3)" 200
check_eq "its assay and patient" "$(jq -c '[.assay, .collected_at, .status]' "$RW_BODY")" \
    '["bins","2023-07-15","done"]'
before=$(state)
check_eq "rows" "$(echo "$before" | head -4 | tr '\n' ' ')" "2 3 3 3 "
# The lims token the workflow uses may not read results ("-" in the call column); an admin may.
check_eq "the call, read by an admin" "$(rw_req GET /api/v1/samples/WF-S3/profile)" 200
check_eq "the call" "$(jq -r .call.call "$RW_BODY" | grep -cE '^(amplified|not_detected|insufficient_quality)$')" 1
summary_sum=$(cksum <"$work/summary.tsv")

# Second run: snakemake finds everything up to date.
check "second run" flow
check "nothing to be done" grep -q 'Nothing to be done' "$t_tmp/snakemake.log"
check_eq "summary untouched" "$(cksum <"$work/summary.tsv")" "$summary_sum"
check_eq "daemon unchanged" "$(state)" "$before"

# Pushes forced again (as after a lost receipt): each answer is 'already there', nothing written.
rm -f "$work"/pushed/WF-S1.json
check "forced pushes" flow --forcerun push
check_eq "receipts" "$(cat "$work"/pushed/*.json | jq -r '[.patient, .sample, .bins] | join(" ")' | sort -u)" \
    "existing existing unchanged"
check_eq "daemon unchanged after forced pushes" "$(state)" "$before"

# A sheet that disagrees with the daemon (another collection date) stops with the conflict.
sed 's/2023-09-01/2023-09-02/' "$t_tmp/sheet.tsv" >"$t_tmp/sheet2.tsv"
sed "s|$t_tmp/sheet.tsv|$t_tmp/sheet2.tsv|" "$t_tmp/config.yaml" >"$t_tmp/config2.yaml"
if RW_TOKEN=$lims XDG_CACHE_HOME="$t_tmp/cache" timeout 300 snakemake --snakefile \
    "$RW_SRCDIR/workflow/Snakefile" --directory "$work" --configfile "$t_tmp/config2.yaml" \
    --cores 2 --forcerun push >"$t_tmp/conflict.log" 2>&1; then
    fail "a conflicting sheet must stop the workflow"
else ok; fi
check "the conflict is named" grep -q 'sample WF-S2: HTTP 409' "$work/logs/push/WF-S2.log"
check_eq "daemon unchanged after the conflict" "$(state)" "$before"

# The Slurm profile (workflow/profiles/slurm) on a one-node cluster started here: munged,
# slurmctld and slurmd on free loopback ports, private to this test (slurmd needs root). Two
# more draws of WF-P2 are counted as Slurm jobs; push and summary stay local rules.
slurm_stop() { # then what tests/lib.sh's own EXIT trap does
    for d in slurmd slurmctld munged; do
        [ -f "$t_tmp/slurm/$d.pid" ] && kill "$(cat "$t_tmp/slurm/$d.pid")" 2>/dev/null
    done
    rw_kill_daemons
    t_cleanup
}
if [ "$(id -u)" -ne 0 ] || ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null ||
    ! command -v sbatch >/dev/null || ! [ -x /usr/sbin/munged ] || ! [ -r /etc/munge/munge.key ]; then
    echo "SKIP (Slurm part): needs root and Debian's slurmctld, slurmd, slurm-client and munge"
else
    trap slurm_stop EXIT
    S="$t_tmp/slurm"
    mkdir -p "$S/state" "$S/spool"
    ports=$(python3 -c 'import socket
ss = [socket.socket() for _ in range(2)]
for s in ss: s.bind(("127.0.0.1", 0))
print(*[s.getsockname()[1] for s in ss])')
    {
        echo "ClusterName=rwtest"
        echo "SlurmctldHost=localhost"
        echo "SlurmUser=root"
        echo "SlurmdUser=root"
        echo "AuthType=auth/munge"
        echo "AuthInfo=socket=$S/munge.sock"
        echo "SlurmctldPort=${ports% *}"
        echo "SlurmdPort=${ports#* }"
        echo "StateSaveLocation=$S/state"
        echo "SlurmdSpoolDir=$S/spool"
        echo "SlurmctldPidFile=$S/slurmctld.pid"
        echo "SlurmdPidFile=$S/slurmd.pid"
        echo "SlurmctldLogFile=$S/slurmctld.log"
        echo "SlurmdLogFile=$S/slurmd.log"
        echo "ProctrackType=proctrack/linuxproc"
        echo "TaskPlugin=task/none"
        echo "MpiDefault=none"
        echo "ReturnToService=2"
        echo "SelectType=select/cons_tres"
        echo "SelectTypeParameters=CR_Core_Memory"
        echo "JobAcctGatherType=jobacct_gather/none"
        echo "AccountingStorageType=accounting_storage/none"
        echo "NodeName=localhost CPUs=2 RealMemory=4000 State=UNKNOWN"
        echo "PartitionName=rw Nodes=localhost Default=YES MaxTime=INFINITE State=UP"
    } >"$S/slurm.conf"
    export SLURM_CONF="$S/slurm.conf"
    /usr/sbin/munged --force --socket="$S/munge.sock" --pid-file="$S/munged.pid" \
        --log-file="$S/munged.log" --seed-file="$S/munged.seed" &&
        slurmctld -f "$SLURM_CONF" && slurmd -f "$SLURM_CONF" -N localhost
    check_eq "cluster started" "$?" 0
    i=0
    until sinfo -h -o %t 2>/dev/null | grep -q idle || [ $i -ge 50 ]; do sleep 0.2; i=$((i + 1)); done
    check_eq "its node is idle" "$(sinfo -h -o %t 2>&1)" idle
    {
        printf 'accession\tpatient\tdiagnosis_date\tcollected_at\treads\tprimary_1q213_status\n'
        printf 'WF-S4\tWF-P2\t2022-11-02\t2023-10-15\t%s\t\n' "$t_tmp/reads/s1.bam"
        printf 'WF-S5\tWF-P2\t2022-11-02\t2024-01-15\t%s\t\n' "$t_tmp/reads/s3.bam"
    } >"$t_tmp/sheet3.tsv"
    sed "s|$t_tmp/sheet.tsv|$t_tmp/sheet3.tsv|" "$t_tmp/config.yaml" >"$t_tmp/config3.yaml"
    mkdir -p "$t_tmp/work3"
    RW_TOKEN=$lims XDG_CACHE_HOME="$t_tmp/cache" timeout 600 snakemake --snakefile \
        "$RW_SRCDIR/workflow/Snakefile" --directory "$t_tmp/work3" \
        --configfile "$t_tmp/config3.yaml" --profile "$RW_SRCDIR/workflow/profiles/slurm" \
        --latency-wait 5 >"$t_tmp/slurm.log" 2>&1
    check_eq "workflow through Slurm" "$?" 0
    check_eq "each count was a Slurm job (its log named by its job id)" \
        "$(ls "$t_tmp/work3/logs/slurm" 2>&1 | sed 's/\.[0-9]*\.log$//' | sort | tr '\n' ' ')" \
        "count.WF-S4 count.WF-S5 "
    check "sbatch gave the job ids" grep -q "external jobid '[0-9]*'" "$t_tmp/slurm.log"
    check_eq "summary" "$(cut -f1,5,6,8 "$t_tmp/work3/summary.tsv" 2>&1 | sed 1d | tr '\t' ' ')" \
        "WF-S4 created queued done
WF-S5 created queued done"
    check_eq "the patient's draws" "$(db "SELECT count(*) FROM samples s JOIN patients p
        ON p.id = s.patient_id WHERE p.external_id = 'WF-P2'")" 3
    [ "$t_failed" -eq 0 ] || tail -30 "$t_tmp/slurm.log" "$S/slurmctld.log" "$S/slurmd.log" >&2
fi
[ "$t_failed" -eq 0 ] || tail -40 "$t_tmp/snakemake.log" >&2
done_tests
