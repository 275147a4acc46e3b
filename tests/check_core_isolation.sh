#!/bin/sh
# The core library must know nothing of HTTP, SQL or JSON: no undefined MHD_/sqlite3_/json_ symbol.
lib="$RW_BUILDDIR/core/.libs/libcore.a"
[ -f "$lib" ] || { echo "missing $lib"; echo "0 passed, 1 failed"; exit 1; }
bad=$(nm -u "$lib" 2>/dev/null | grep -E ' (MHD_|sqlite3_|json_)' || true)
if [ -n "$bad" ]; then
    echo "core uses server libraries:"; echo "$bad"; echo "0 passed, 1 failed"; exit 1
fi
echo "1 passed, 0 failed"
