#!/bin/sh
# The pages' files (server/static_files.h) from the real daemon: validators (ETag, 304 on
# If-None-Match, a new ETag when the file changes), gzip for text files that equals the file,
# content types, and no way out of the web root.
. "$RW_SRCDIR/tests/lib.sh"
mkdir -p "$t_tmp/web"
cp "$RW_SRCDIR/web/app.js" "$RW_SRCDIR/web/index.html" "$t_tmp/web/"
printf '\211PNG\r\n\032\n0000' >"$t_tmp/web/x.png"
echo secret >"$t_tmp/outside.txt"
RW_WEB_ROOT="$t_tmp/web" rw_start_daemon "$t_tmp/d" || { fail "daemon start"; done_tests; exit 1; }
get() { rm -f "$t_tmp/body"; touch "$t_tmp/body"; curl -s -o "$t_tmp/body" -D "$t_tmp/head" -w '%{http_code}' "$@"; }
header() { tr -d '\r' <"$t_tmp/head" | sed -n "s/^$1: //Ip" | head -1; }

check_eq "app.js" "$(get "$RW_URL/app.js")" 200
check "app.js: the file's bytes" cmp -s "$t_tmp/body" "$t_tmp/web/app.js"
check_eq "app.js: type" "$(header Content-Type)" "text/javascript; charset=utf-8"
etag=$(header ETag)
check "app.js: an ETag ($etag)" [ -n "$etag" ]
check_eq "If-None-Match: 304" "$(get -H "If-None-Match: $etag" "$RW_URL/app.js")" 304
check_eq "304: no body" "$(wc -c <"$t_tmp/body" | tr -d ' ')" 0
check_eq "another tag: 200" "$(get -H 'If-None-Match: "other"' "$RW_URL/app.js")" 200
check_eq "gzip asked" "$(get -H 'Accept-Encoding: gzip, deflate' "$RW_URL/app.js")" 200
check_eq "gzip: Content-Encoding" "$(header Content-Encoding)" gzip
check "gzip: inflates to the file" sh -c "gunzip -c '$t_tmp/body' | cmp -s - '$t_tmp/web/app.js'"
check "gzip: smaller" [ "$(wc -c <"$t_tmp/body")" -lt "$(wc -c <"$t_tmp/web/app.js")" ]
check_eq "gzip;q=0 refused: plain" "$(get -H 'Accept-Encoding: gzip;q=0' "$RW_URL/app.js"; header Content-Encoding)" 200
check_eq "a PNG is never gzipped" "$(get -H 'Accept-Encoding: gzip' "$RW_URL/x.png"; header Content-Encoding)" 200
check "a PNG: its bytes" cmp -s "$t_tmp/body" "$t_tmp/web/x.png"
check_eq "/ is index.html" "$(get "$RW_URL/")" 200
check "/: the page" cmp -s "$t_tmp/body" "$t_tmp/web/index.html"
# The file changes: a new ETag, and the cached gzip form is not served for it.
sleep 1.1
echo '// changed' >>"$t_tmp/web/app.js"
check_eq "changed file: the old tag gives 200" "$(get -H "If-None-Match: $etag" -H 'Accept-Encoding: gzip' "$RW_URL/app.js")" 200
check "changed file: a new ETag" [ "$(header ETag)" != "$etag" ]
check "changed file: gzip of the new bytes" sh -c "gunzip -c '$t_tmp/body' | cmp -s - '$t_tmp/web/app.js'"
for p in /../outside.txt /%2e%2e/outside.txt /..%2foutside.txt /nope.js; do
    check_eq "no way out: $p" "$(get --path-as-is "$RW_URL$p")" 404
done
ln -s "$t_tmp/outside.txt" "$t_tmp/web/link.txt"
check_eq "no symlink out of the root" "$(get "$RW_URL/link.txt")" 404
done_tests
