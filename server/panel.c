/* The active panel of normals (see panel.h). */
#include "server/panel.h"

#include <inttypes.h>
#include <stdio.h>

#include "server/datadir.h"
#include "server/db.h"

srv_status srv_panel_active_layout(sqlite3 *conn, char *build, int32_t *bin_size)
{
    sqlite3_stmt *st = srv_db_prepare(conn, "SELECT build, bin_size FROM pons WHERE active = 1");
    srv_status rc = SRV_INTERNAL;
    if (!st)
        return rc;
    int s = sqlite3_step(st);
    if (s == SQLITE_ROW) {
        snprintf(build, 8, "%s", (const char *)sqlite3_column_text(st, 0));
        *bin_size = sqlite3_column_int(st, 1);
        rc = SRV_OK;
    } else if (s == SQLITE_DONE)
        rc = SRV_NOT_FOUND;
    sqlite3_finalize(st);
    return rc;
}

int srv_panel_active(sqlite3 *conn, const char *data_dir, int64_t *pon_id, rw_pon **pon, char *err,
                     size_t errlen)
{
    char full[4096];
    int rc = -1;
    *pon_id = 0;
    if (pon)
        *pon = NULL;
    sqlite3_stmt *st = srv_db_prepare(conn, "SELECT id, path FROM pons WHERE active = 1");
    int s = st ? sqlite3_step(st) : SQLITE_ERROR;
    if (s == SQLITE_DONE) {
        rc = 0;
        goto out;
    }
    if (s != SQLITE_ROW) {
        snprintf(err, errlen, "database error reading the active panel of normals");
        goto out;
    }
    *pon_id = sqlite3_column_int64(st, 0);
    if (pon) {
        rw_error e = {0};
        if (srv_datadir_path(data_dir, (const char *)sqlite3_column_text(st, 1), full,
                             sizeof full) ||
            rw_pon_read(full, pon, &e)) {
            snprintf(err, errlen, "cannot read the active panel of normals (id %" PRId64 "): %s",
                     *pon_id, e.msg);
            goto out;
        }
    }
    rc = 0;
out:
    sqlite3_finalize(st);
    return rc;
}

srv_status srv_panel_count_opts(rw_count_opts *co, const rw_pon *pon, double *w, char *err,
                                size_t errlen)
{
    rw_error e = {0};
    rw_count_opts_init(co);
    co->bin_size = pon->median->bin_size;
    co->include_y = pon->median->nchrom == RW_NCHROM;
    if (rw_count_frag_follow(co, pon->filters, pon->frag_hist, w, &e) != RW_OK) {
        snprintf(err, errlen, "the active panel's fragment mode: %s", e.msg);
        return SRV_CLIENT;
    }
    return SRV_OK;
}
