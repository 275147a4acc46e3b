#!/bin/sh
# The README's walkthrough runs verbatim against a daemon set up like `./quickstart serve` (a
# panel of normals active), twice (every step is idempotent), and says what the README says.
. "$RW_SRCDIR/tests/lib.sh"
command -v bash >/dev/null || { echo "SKIP: bash missing"; exit 77; }

rw_start_daemon "$t_tmp/d" --workers 2 || { fail "daemon start"; done_tests; exit 1; }
# The two secrets of the first start, as the README shows them.
check "README shows the admin account line" grep -q '^admin account: admin password: ' "$RW_SRCDIR/README.md"
check "the daemon prints the admin token" grep -q '^admin token: rw_[0-9a-f]\{48\}$' "$t_tmp/d/stdout"
check "... and the admin account's password" \
    grep -q '^admin account: admin password: [A-Za-z0-9]\{20\} (change it at the first sign-in)$' "$t_tmp/d/stdout"
RW_TOKEN=$RW_ADMIN_TOKEN
"$RW_CLI" simulate --ideal --normals 10 --bins "$t_tmp/normals" --seed 900 >/dev/null 2>&1
"$RW_CLI" pon build -o "$t_tmp/pon.tsv" "$t_tmp"/normals/*.tsv >/dev/null 2>&1
pon_id=$(curl -s -H "Authorization: Bearer $RW_TOKEN" -H 'Content-Type: text/tab-separated-values' \
    --data-binary @"$t_tmp/pon.tsv" "$RW_URL/api/v1/pons" | jq -r .id)
check_eq "panel activated" "$(rw_req POST "/api/v1/pons/$pon_id/activate")" 202

# The block between the walkthrough markers, with this daemon's URL, token and CLI.
sed -n '/^<!-- walkthrough -->$/,/^<!-- \/walkthrough -->$/p' "$RW_SRCDIR/README.md" |
    sed -e '/^```/d' -e '/^<!--/d' \
        -e "s|^URL=http://127.0.0.1:8080\$|URL=$RW_URL|" \
        -e "s|^ADMIN=rw_\.\.\..*|ADMIN=$RW_ADMIN_TOKEN|" \
        -e "s|^RW=build/serve/relapsewatch .*|RW=$RW_CLI|" >"$t_tmp/walk.sh"
check "walkthrough extracted" grep -q 'api/v1/alerts/$AID/acknowledge' "$t_tmp/walk.sh"
mkdir -p "$t_tmp/run"
cd "$t_tmp/run" || exit 1
if timeout 300 bash -e "$t_tmp/walk.sh" >"$t_tmp/out1" 2>&1; then ok; else fail "walkthrough run 1"; fi
cat "$t_tmp/out1"
check_eq "state" "$(head -1 "$t_tmp/out1")" '"early_relapse"'
check_eq "three draws" "$(grep -c '"date"' "$t_tmp/out1")" 3
check "alert with its rule" grep -q '"kind":"early_relapse","rule":"strong_positive"' "$t_tmp/out1"
check_eq "acknowledged" "$(tail -1 "$t_tmp/out1")" \
    '{"kind":"early_relapse","acknowledged_by":"dr-readme","comment":"CT scan ordered"}'
# A second run changes nothing but the tokens, and the acknowledgement is refused as a repeat.
if timeout 300 bash -e "$t_tmp/walk.sh" >"$t_tmp/out2" 2>&1; then ok; else fail "walkthrough run 2"; fi
check_eq "same trend on the second run" "$(sed -n '1,4p' "$t_tmp/out2")" "$(sed -n '1,4p' "$t_tmp/out1")"
check "second acknowledgement refused" grep -q '"kind":null' "$t_tmp/out2"
check "clean shutdown" rw_stop_daemon
done_tests
