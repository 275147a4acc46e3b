#!/bin/sh
# `make install` gives a daemon that runs without the source tree: migrations embedded, web pages
# (with the Chart.js copy) and schema files under $(pkgdatadir), CLI and daemon in $(bindir).
. "$RW_SRCDIR/tests/lib.sh"

dest="$t_tmp/root"
prefix=$(sed -n 's/^prefix = //p' "$RW_BUILDDIR/Makefile")
pkgdata="$dest$prefix/share/relapsewatch"
check "make install" make -s -C "$RW_BUILDDIR" install DESTDIR="$dest" >"$t_tmp/install.log" 2>&1
check "daemon installed" test -x "$dest$prefix/bin/relapsewatchd"
check "CLI installed" test -x "$dest$prefix/bin/relapsewatch"
check "pages installed" test -f "$pkgdata/web/index.html"
check "chart library installed" test -s "$pkgdata/web/vendor/chart.min.js"
check "migrations installed" test -f "$pkgdata/001_init.sql"

# Run the installed daemon from an empty folder, far from the sources.
cd "$t_tmp" || exit 1
RW_DAEMON="$dest$prefix/bin/relapsewatchd" RW_WEB_ROOT="$pkgdata/web" rw_start_daemon "$t_tmp/d"
check "installed daemon answers" test -n "$RW_URL"
check_eq "health" "$(rw_req GET /api/v1/health)" 200
n_migrations=$(ls "$RW_SRCDIR"/schema/[0-9][0-9][0-9]_*.sql | wc -l)
check_eq "every migration applied" "$(sqlite3 "$t_tmp/d/rw.db" 'SELECT count(*) FROM schema_migrations')" \
    "$n_migrations"
check_eq "index page served" "$(curl -s -o /dev/null -w '%{http_code}' "$RW_URL/")" 200
check_eq "chart library served" \
    "$(curl -s -o /dev/null -w '%{http_code} %{content_type}' "$RW_URL/vendor/chart.min.js" | cut -d';' -f1)" \
    "200 text/javascript"
check "CLI runs" "$dest$prefix/bin/relapsewatch" --version
check "clean shutdown" rw_stop_daemon
done_tests
