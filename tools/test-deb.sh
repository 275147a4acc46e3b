#!/bin/sh
# Builds the Debian package from the `make dist` tarball (so no build folder, node_modules or
# local state can slip in) with `dpkg-buildpackage -b -us -uc`, then checks it (without installing
# it unless --install): lintian, its file list, its maintainer scripts, the unit (systemd-analyze verify
# against the unpacked tree), and the unpacked daemon run from a temporary root (--help shows the
# installed defaults; a short serve answers health, metrics and the pages; SIGTERM stops it).
# Usage: tools/test-deb.sh [--check] [--install]   (--check also runs the package build's own
# tests; --install also installs it with apt-get, serves as the service user and purges: root; KEEP=1
# keeps the work folder with the package, its build log and lintian's report)
# Prints the build time; exit 0 when every check passes. Needs debhelper, dpkg-dev, fakeroot.
set -e
top=$(cd "$(dirname "$0")/.." && pwd)
for tool in dpkg-buildpackage dh fakeroot curl jq; do
    command -v "$tool" >/dev/null || { echo "SKIP: $tool missing"; exit 77; }
done
opts="nocheck"
install=0
for arg in "$@"; do
    case $arg in
    --check) opts="" ;;
    --install) install=1 ;;
    *) echo "usage: tools/test-deb.sh [--check] [--install]" >&2; exit 2 ;;
    esac
done
tmp=$(mktemp -d "${TMPDIR:-/tmp}/rw-deb.XXXXXX")
pid=""
cleanup() {
    [ -n "$pid" ] && kill "$pid" 2>/dev/null
    chmod -R u+w "$tmp" 2>/dev/null
    if [ -n "${KEEP:-}" ]; then echo "work folder kept: $tmp"; else rm -rf "$tmp"; fi
}
trap cleanup EXIT
passed=0
failed=0
ok() { passed=$((passed + 1)); }
fail() { failed=$((failed + 1)); echo "FAIL: $*" >&2; }
check() { d=$1; shift; if "$@"; then ok; else fail "$d"; fi; }

# ---------------------------------------------------------------- tarball, then the package
cd "$tmp"
start=$(date +%s)
mkdir dist && cd dist
"$top/configure" >configure.log 2>&1 || { tail configure.log >&2; exit 1; }
make -j2 dist-gzip >dist.log 2>&1 || { tail -20 dist.log >&2; exit 1; }
tarball=$(ls relapsewatch-*.tar.gz)
cd "$tmp"
tar xzf "dist/$tarball"
src=$tmp/${tarball%.tar.gz}
cd "$src"
if DEB_BUILD_OPTIONS="$opts parallel=2" dpkg-buildpackage -b -us -uc >"$tmp/build.log" 2>&1; then ok; else
    fail "dpkg-buildpackage"
    tail -30 "$tmp/build.log" >&2
    exit 1
fi
end=$(date +%s)
echo "dpkg-buildpackage (from $tarball${opts:+, $opts}): $((end - start)) s"
cd "$tmp"
deb=$(ls relapsewatch_*.deb)
echo "$deb: $(du -k "$deb" | cut -f1) KiB"

# ---------------------------------------------------------------- contents
dpkg-deb -c "$deb" | awk '{ print $6 }' | sed 's|^\./|/|' >contents
for f in /usr/bin/relapsewatch /usr/bin/relapsewatchd /lib/systemd/system/relapsewatchd.service \
    /etc/relapsewatch/relapsewatchd.conf /usr/share/man/man1/relapsewatch.1.gz \
    /usr/share/man/man8/relapsewatchd.8.gz /usr/share/relapsewatch/web/index.html \
    /usr/share/relapsewatch/web/vendor/chart.min.js /usr/share/relapsewatch/001_init.sql \
    /usr/share/doc/relapsewatch/copyright /usr/share/doc/relapsewatch/deploy.md.gz \
    /usr/lib/sysusers.d/relapsewatch.conf; do
    check "package holds $f" grep -qx "$f" contents
done
check "no build folder, node_modules or state in the package" \
    sh -c '! grep -E "/build/|node_modules|\.snakemake|/var/lib/" contents'
dpkg-deb -e "$deb" control
check "conffile" grep -qx /etc/relapsewatch/relapsewatchd.conf control/conffiles
check "postinst creates the user" grep -q 'adduser --system' control/postinst
check "postinst: state folder 0700" grep -q 'install -d -o relapsewatch -g relapsewatch -m 0700 /var/lib/relapsewatch' control/postinst
check "postinst enables the unit (dh_installsystemd)" grep -q 'deb-systemd-helper' control/postinst
check "depends on adduser and the libraries" sh -c 'grep "^Depends:" control/control | grep -q adduser &&
    grep "^Depends:" control/control | grep -q libmicrohttpd'

# ---------------------------------------------------------------- lintian, Debian's policy checker
# Installed when missing (as the bench scripts install their peers). Errors fail; the warnings
# are listed, each with its reason in debian/relapsewatch.lintian-overrides when it is kept.
if ! command -v lintian >/dev/null; then
    sudo=$([ "$(id -u)" = 0 ] || echo sudo)
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends lintian \
        >lintian-install.log 2>&1 || echo "lintian could not be installed: not run"
fi
if command -v lintian >/dev/null; then
    lintian --fail-on error,warning --display-info "$deb" >lintian.log 2>&1 && ok ||
        fail "lintian: $(grep -c '^[EW]:' lintian.log) errors and warnings: $(grep '^[EW]:' lintian.log)"
    echo "lintian: $(grep -c '^E:' lintian.log) errors, $(grep -c '^W:' lintian.log) warnings, $(grep -c '^I:' lintian.log) notes"
    grep '^I:' lintian.log || true
fi

# ---------------------------------------------------------------- the unpacked tree
root=$tmp/root
dpkg-deb -x "$deb" "$root"
unit=$root/lib/systemd/system/relapsewatchd.service
if command -v systemd-analyze >/dev/null; then
    # verify needs ExecStart and the man page on this machine: point both into the unpacked tree.
    sed "s|^ExecStart=/usr/bin/|ExecStart=$root/usr/bin/|" "$unit" >relapsewatchd.service
    if MANPATH="$root/usr/share/man" systemd-analyze verify ./relapsewatchd.service >verify.log 2>&1; then
        ok
    else
        fail "systemd-analyze verify"
        cat verify.log >&2
    fi
fi
for key in 'User=relapsewatch' 'ProtectSystem=strict' 'ReadWritePaths=/var/lib/relapsewatch' \
    'NoNewPrivileges=yes' 'PrivateTmp=yes' 'ProtectHome=yes' 'CapabilityBoundingSet=' \
    'RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX' 'SystemCallFilter=@system-service' \
    'Restart=on-failure' 'ExecStart=/usr/bin/relapsewatchd --config /etc/relapsewatch/relapsewatchd.conf'; do
    check "unit: $key" grep -qx "$key" "$unit"
done
daemon=$root/usr/bin/relapsewatchd
"$daemon" --help >help.txt
check "installed default database" grep -q 'default: /var/lib/relapsewatch/relapsewatch.db' help.txt
check "installed default data folder" grep -q 'default: /var/lib/relapsewatch/data' help.txt
check "installed web root" grep -q 'default: /usr/share/relapsewatch/web' help.txt
check "config names the state folder" grep -qx 'db = /var/lib/relapsewatch/relapsewatch.db' \
    "$root/etc/relapsewatch/relapsewatchd.conf"
check "man page renders" sh -c "zcat '$root/usr/share/man/man8/relapsewatchd.8.gz' | groff -man -Tutf8 -ww -z 2>&1 | (! grep .)"
check "CLI runs" "$root/usr/bin/relapsewatch" --version

# A short serve of the unpacked daemon, its paths given (the installed ones need root).
mkdir state
"$daemon" --config "$root/etc/relapsewatch/relapsewatchd.conf" --db state/rw.db \
    --data-dir state/data --web-root "$root/usr/share/relapsewatch/web" --listen 127.0.0.1:0 \
    --port-file state/port >state/out 2>state/log &
pid=$!
i=0
while [ ! -s state/port ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
url="http://127.0.0.1:$(cat state/port)"
token=$(sed -n 's/^admin token: //p' state/out)
check "health" test "$(curl -s -o /dev/null -w '%{http_code}' "$url/api/v1/health")" = 200
check "metrics" test "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $token" "$url/api/v1/metrics")" = 200
check "pages" test "$(curl -s -o /dev/null -w '%{http_code}' "$url/")" = 200
check "chart library" test "$(curl -s -o /dev/null -w '%{http_code}' "$url/vendor/chart.min.js")" = 200
kill -TERM "$pid"
wait "$pid" && ok || fail "clean stop on SIGTERM"
pid=""

# ---------------------------------------------------------------- installed for real (--install)
# dpkg installs it on this machine (root, and only when no relapsewatch package or user is there
# already): the user and the private state folder exist, the daemon runs as that user from the
# installed configuration and paths (started by hand with setpriv, which execs it: this machine
# runs no systemd, so the unit is only enabled), and purge leaves neither state nor user behind.
if [ "$install" = 1 ]; then
    if [ "$(id -u)" != 0 ] || dpkg -s relapsewatch >/dev/null 2>&1 || getent passwd relapsewatch >/dev/null; then
        echo "--install: needs root and no relapsewatch package or user on the machine: skipped"
    else
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "./$deb" >install.log 2>&1 && ok ||
            { fail "apt-get install ./$deb"; tail -5 install.log >&2; }
        check "service user created" sh -c 'getent passwd relapsewatch >/dev/null'
        check "state folder 0700, the user's" test "$(stat -c '%a %U' /var/lib/relapsewatch)" = "700 relapsewatch"
        check "config readable by the service only" test "$(stat -c '%a %U %G' /etc/relapsewatch/relapsewatchd.conf)" = "640 root relapsewatch"
        port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
        setpriv --reuid=relapsewatch --regid=relapsewatch --init-groups /usr/bin/relapsewatchd --config /etc/relapsewatch/relapsewatchd.conf \
            --listen "127.0.0.1:$port" >served.out 2>served.log &
        pid=$!
        i=0
        while ! curl -sf "http://127.0.0.1:$port/api/v1/version" >/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
        check "installed daemon serves the pages" test "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/")" = 200
        check "... and the API, ready" test "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/api/v1/health")" = 200
        check "database in /var/lib/relapsewatch, the service user's" \
            test "$(stat -c %U /var/lib/relapsewatch/relapsewatch.db 2>/dev/null)" = relapsewatch
        kill -TERM "$pid"
        wait "$pid" && ok || fail "installed daemon's clean stop"
        pid=""
        dpkg --purge relapsewatch >purge.log 2>&1 && ok || fail "dpkg --purge"
        check "purge removes the state" test ! -e /var/lib/relapsewatch
        check "purge removes the user" sh -c '! getent passwd relapsewatch'
        check "purge removes the config" test ! -e /etc/relapsewatch/relapsewatchd.conf
    fi
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
