#!/bin/sh
# bench/harsh.sh [BUILDDIR]: the 1q21.3 call when the genomic waves are stronger than the real
# plasma the simulator is calibrated on (README, "Harsher than the real data"). One panel of 30
# realistic normals (0.1x, hg38, 500 kb, with the simulator's GC), then samples whose random and
# GC-tied waves are 1x, 2x and 3x the calibrated SD (0.01 each), scored by `relapsewatch call`:
# NULL normals and REP samples at f = 5% and 10% (CN 6 at 1q21.3) per amplitude. Prints
# "wave=A f=F n=N amplified=K nocall=M" per row. About 10 min here (2 busy cores).
set -eu
B=${1:-build/serve}
RW=$B/relapsewatch
[ -x "$RW" ] || { echo "no $RW: build first (./quickstart serve, or make in $B)" >&2; exit 2; }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
"$RW" simulate --normals 30 --depth 0.1 --seed 1000 --bins "$T/n" >/dev/null 2>&1
"$RW" pon build --gc-simulated -o "$T/pon.tsv" "$T"/n/*.tsv >/dev/null 2>&1
for w in 0.01 0.02 0.03; do
    for f in 0 0.05 0.10; do
        n=${REP:-50}
        [ "$f" = 0 ] && n=${NULL:-100}
        det=0 nc=0 i=0
        while [ $i -lt "$n" ]; do
            i=$((i + 1))
            seed=$((i * 7 + $(echo "$f" | tr -d . | sed 's/^0*//;s/^$/0/') * 1000))
            "$RW" simulate --bins "$T/s.tsv" --depth 0.1 --seed $seed --wave-amp $w \
                --wave-gc-amp $w --tumour-fraction "$f" --events 1q21.3:6 >/dev/null 2>&1
            "$RW" call --pon "$T/pon.tsv" "$T/s.tsv" -o "$T/s.json" >/dev/null 2>&1
            case $(jq -r .call "$T/s.json") in
            amplified) det=$((det + 1)) ;;
            insufficient_quality) nc=$((nc + 1)) ;;
            esac
        done
        echo "wave=$w f=$f n=$n amplified=$det nocall=$nc"
    done
done
