#!/bin/sh
# `make install` as a service: the hardened systemd unit (systemd-analyze verify), the system
# user's sysusers file, the configuration under $(sysconfdir) with the state paths (never
# overwritten by a second install), the man pages (generated from --help, clean for groff -ww),
# the licences; `make uninstall` leaves no file behind. The Debian package: tools/test-deb.sh.
. "$RW_SRCDIR/tests/lib.sh"

dest="$t_tmp/root"
mk() { sed -n "s/^$1 = //p" "$RW_BUILDDIR/Makefile"; }
prefix=$(mk prefix)
check "make install" make -s -C "$RW_BUILDDIR" install DESTDIR="$dest" >"$t_tmp/install.log" 2>&1
# Under `make check` MAKEFLAGS asks sub-makes to print their directories: clear it, keep one line.
sysconf=$(MAKEFLAGS= MAKELEVEL= make -s -C "$RW_BUILDDIR" --no-print-directory -f - print <<'MK' 2>/dev/null |
include Makefile
print: ; @echo "paths: $(sysconfdir) $(rw_statedir) $(systemdsystemunitdir) $(mandir) $(docdir)"
MK
    sed -n 's/^paths: //p')
set -- $sysconf
sysconfdir=$1 statedir=$2 unitdir=$3 mandir=$4 docdir=$5
check_eq "paths read from the Makefile" "$#" 5
unit="$dest$unitdir/relapsewatchd.service"
conf="$dest$sysconfdir/relapsewatch/relapsewatchd.conf"
check "unit installed" test -f "$unit"
check "sysusers file" grep -q '^u relapsewatch ' "$dest$prefix/lib/sysusers.d/relapsewatch.conf"
check "config installed" test -f "$conf"
check_eq "unit runs the installed daemon with the config" "$(sed -n 's/^ExecStart=//p' "$unit")" \
    "$prefix/bin/relapsewatchd --config $sysconfdir/relapsewatch/relapsewatchd.conf"
for key in User=relapsewatch ProtectSystem=strict "ReadWritePaths=$statedir" NoNewPrivileges=yes \
    PrivateTmp=yes ProtectHome=yes CapabilityBoundingSet= \
    'RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX' SystemCallFilter=@system-service \
    Restart=on-failure "StandardOutput=append:$statedir/first-admin-token"; do
    check "unit: $key" grep -qx "$key" "$unit"
done
check_eq "config: database in the state folder" "$(sed -n 's/^db = //p' "$conf")" \
    "$statedir/relapsewatch.db"
check_eq "config: data folder" "$(sed -n 's/^data-dir = //p' "$conf")" "$statedir/data"
check_eq "state folder private" "$(stat -c %a "$dest$statedir")" 700
# The installed daemon starts with the installed config (paths overridden: DESTDIR is not /).
RW_DAEMON="$dest$prefix/bin/relapsewatchd" rw_start_daemon "$t_tmp/d" --config "$conf"
check_eq "served with the installed config" "$(rw_req GET /api/v1/health)" 200
check "stopped" rw_stop_daemon
if command -v systemd-analyze >/dev/null; then
    # verify wants ExecStart and the man page on this machine: point both into DESTDIR.
    sed "s|^ExecStart=$prefix/bin/|ExecStart=$dest$prefix/bin/|" "$unit" >"$t_tmp/relapsewatchd.service"
    if MANPATH="$dest$mandir" systemd-analyze verify "$t_tmp/relapsewatchd.service" >"$t_tmp/verify" 2>&1
    then ok; else fail "systemd-analyze verify: $(cat "$t_tmp/verify")"; fi
fi
for page in man1/relapsewatch.1 man8/relapsewatchd.8; do
    check "$page installed" test -s "$dest$mandir/$page"
    check_eq "$page renders without warnings" "$(groff -man -Tutf8 -ww -z "$dest$mandir/$page" 2>&1)" ""
done
check "man page holds the daemon's options" grep -q 'disk\\-reserve' "$dest$mandir/man8/relapsewatchd.8"
check "man page holds every command" sh -c 'for c in count pon call ddpcr segment plot trend simulate settings; do
    grep -q "^.SS relapsewatch $c\$" "$1" || exit 1; done' _ "$dest$mandir/man1/relapsewatch.1"
check "licence installed" grep -q 'GNU GENERAL PUBLIC LICENSE' "$dest$docdir/LICENSE"
check "deployment guide installed" test -s "$dest$docdir/deploy.md"

# An edited configuration survives a second install; uninstall removes everything else.
echo "workers = 3" >>"$conf"
check "second install" make -s -C "$RW_BUILDDIR" install DESTDIR="$dest" >>"$t_tmp/install.log" 2>&1
check "edited config kept" grep -qx 'workers = 3' "$conf"
check "make uninstall" make -s -C "$RW_BUILDDIR" uninstall DESTDIR="$dest" >>"$t_tmp/install.log" 2>&1
check_eq "only the edited config left" "$(find "$dest" -type f | sed "s|^$dest||")" \
    "$sysconfdir/relapsewatch/relapsewatchd.conf"
done_tests
