#!/bin/sh
# The role matrix of docs/api-infra.md against the real daemon: every compiled route
# (relapsewatchd --list-routes) is called as lims (token), clinician, viewer and admin (each signed
# in with a session cookie and the CSRF header) and without credentials; a 401/403 must match a
# `no` cell and anything else a `yes` cell. A compiled route without a row, or a row without a
# route, fails too. Ids are 999999 and bodies `{}`, so no call changes anything.
. "$RW_SRCDIR/tests/lib.sh"

MATRIX=$RW_SRCDIR/docs/api-infra.md
D=$t_tmp/d
rw_start_daemon "$D" || { done_tests; exit 1; }
RW_TOKEN=$RW_ADMIN_TOKEN
jqb() { jq -r "$@" "$RW_BODY"; }

# signin NAME PASSWORD: sets CODE (the status), SESSION (cookie value) and CSRF.
signin() {
    CODE=$(curl -s -o "$RW_BODY" -D "$t_tmp/headers" -w '%{http_code}' -X POST \
        -H 'Content-Type: application/json' \
        --data-binary "{\"name\":\"$1\",\"password\":\"$2\"}" "$RW_URL/api/v1/session")
    SESSION=$(sed -n 's/^[Ss]et-[Cc]ookie: rw_session=\([0-9a-f]*\);.*/\1/p' "$t_tmp/headers")
    CSRF=$(jq -r .csrf_token "$RW_BODY")
}
# person NAME PASSWORD NEWPASSWORD: signs in, changes the first password, keeps the session in
# SESSION_<NAME> and CSRF_<NAME>.
person() {
    signin "$1" "$2"
    check_eq "$1 signs in" "$CODE" 201
    code=$(curl -s -o "$RW_BODY" -w '%{http_code}' -X POST -H "Cookie: rw_session=$SESSION" \
        -H "X-CSRF-Token: $CSRF" -H "Origin: $RW_URL" -H 'Content-Type: application/json' \
        --data-binary "{\"current_password\":\"$2\",\"new_password\":\"$3\"}" \
        "$RW_URL/api/v1/session/password")
    check_eq "$1 changes the first password" "$code" 200
    eval "SESSION_$1=\$SESSION CSRF_$1=\$CSRF"
}

ADMIN_PW=$(sed -n 's/^admin account: admin password: \([^ ]*\).*/\1/p' "$D/stdout")
check "the first start prints the admin account's password" test -n "$ADMIN_PW"
rw_req POST /api/v1/tokens '{"role":"lims","label":"lims-roles"}' >/dev/null
LIMS=$(jqb .token)
rw_req POST /api/v1/users '{"name":"clinician","role":"clinician","password":"first-Doctor-pw-1"}' >/dev/null
rw_req POST /api/v1/users '{"name":"viewer","role":"viewer","password":"first-Reader-pw1"}' >/dev/null
check_eq "users created" "$(jqb .role)" viewer
person admin "$ADMIN_PW" "root-Roles-pw-2026"
person clinician first-Doctor-pw-1 "doctor-Roles-pw-1"
person viewer first-Reader-pw1 "reader-Roles-pw-1"

# The compiled routes and the documented rows, as "METHOD PATH" lines.
"$RW_DAEMON" --list-routes | awk '{print $1, $2}' | sort >"$t_tmp/compiled"
sed -n '/<!-- role-matrix:begin -->/,/<!-- role-matrix:end -->/p' "$MATRIX" |
    awk -F'|' 'NF >= 9 && $2 !~ /method|---/ {
        for (i = 2; i <= 8; i++) gsub(/^ +| +$/, "", $i);
        print $2, $3, $4, $5, $6, $7, $8 }' | sort >"$t_tmp/matrix"
awk '{print $1, $2}' "$t_tmp/matrix" >"$t_tmp/documented"
check "the compiled route table is not empty" test "$(wc -l <"$t_tmp/compiled")" -gt 20
missing=$(comm -23 "$t_tmp/compiled" "$t_tmp/documented")
stale=$(comm -13 "$t_tmp/compiled" "$t_tmp/documented")
check_eq "every compiled route has a row in the matrix" "$missing" ""
check_eq "every row of the matrix is a compiled route" "$stale" ""
check_eq "no row twice" "$(uniq -d "$t_tmp/documented")" ""

# call ROLE METHOD PATH: the status code of one request as ROLE (or none).
call() {
    local role=$1 method=$2 path=$3 session csrf
    set -- -s -o /dev/null -w '%{http_code}' -X "$method"
    case $method in POST | PUT | PATCH) set -- "$@" -H 'Content-Type: application/json' --data-binary '{}' ;; esac
    case $role in
    lims) set -- "$@" -H "Authorization: Bearer $LIMS" ;;
    none) ;;
    *)
        eval "session=\$SESSION_$role csrf=\$CSRF_$role"
        set -- "$@" -H "Cookie: rw_session=$session" -H "X-CSRF-Token: $csrf" -H "Origin: $RW_URL"
        ;;
    esac
    curl "$@" "$RW_URL$path"
}

# Every route x every role; DELETE /api/v1/session (which ends the session) goes last.
grep -v '^DELETE /api/v1/session ' "$t_tmp/matrix" >"$t_tmp/order"
grep '^DELETE /api/v1/session ' "$t_tmp/matrix" >>"$t_tmp/order"
n=0
while read -r method tpl c_lims c_clin c_view c_admin c_none; do
    path=$(echo "$tpl" | sed -e 's/{accession}/NO-SUCH-ACCESSION/g' -e 's/{[a-z_]*}/999999/g')
    for role in lims clinician viewer admin none; do
        case $role in
        lims) want=$c_lims ;; clinician) want=$c_clin ;; viewer) want=$c_view ;;
        admin) want=$c_admin ;; none) want=$c_none ;;
        esac
        code=$(call "$role" "$method" "$path")
        case $code in 401 | 403) got=no ;; 000 | 5*) got="error $code" ;; *) got=yes ;; esac
        check_eq "$method $tpl as $role ($code)" "$got" "$want"
        n=$((n + 1))
    done
done <"$t_tmp/order"
echo "$n calls: $(wc -l <"$t_tmp/order") routes x 5 callers"

check "clean shutdown (no sanitizer report)" rw_stop_daemon
done_tests
