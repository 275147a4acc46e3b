/* Stored bin counts of a sample (see counts.h). */
#include "server/counts.h"

#include <inttypes.h>
#include <stdio.h>

#include "server/blob.h"
#include "server/datadir.h"
#include "server/db.h"

srv_status srv_counts_stored(sqlite3 *conn, int64_t sample_id, rw_bins **out)
{
    *out = NULL;
    sqlite3_stmt *st = srv_db_prepare(conn, "SELECT build, bin_size, counts, "
                                            "json_extract(settings, '$.filters') FROM results "
                                            "WHERE sample_id = ? AND counts IS NOT NULL");
    if (!st)
        return SRV_INTERNAL;
    sqlite3_bind_int64(st, 1, sample_id);
    srv_status rc = SRV_NOT_FOUND;
    int s = sqlite3_step(st);
    if (s == SQLITE_ROW) {
        const void *blob = sqlite3_column_blob(st, 2);
        size_t nbytes = (size_t)sqlite3_column_bytes(st, 2);
        *out = srv_blob_layout_new((const char *)sqlite3_column_text(st, 0),
                                   sqlite3_column_int(st, 1), nbytes);
        if (*out) {
            srv_blob_f32_decode(blob, (*out)->n, (*out)->count);
            const unsigned char *filters = sqlite3_column_text(st, 3); /* NULL: not recorded */
            snprintf((*out)->filters, sizeof(*out)->filters, "%s",
                     filters ? (const char *)filters : "");
        }
        rc = *out ? SRV_OK : SRV_CLIENT;
    } else if (s != SQLITE_DONE)
        rc = SRV_INTERNAL;
    sqlite3_finalize(st);
    return rc;
}

srv_status srv_counts_of_sample(sqlite3 *conn, const char *data_dir, int64_t sample_id,
                                rw_bins **out, char *err, size_t errlen)
{
    char full[4096];
    rw_error e = {0};
    srv_status rc = srv_counts_stored(conn, sample_id, out);
    if (rc != SRV_NOT_FOUND) {
        if (rc != SRV_OK)
            snprintf(err, errlen, "cannot read the stored counts of sample %" PRId64, sample_id);
        return rc;
    }
    sqlite3_stmt *st = srv_db_prepare(
        conn, "SELECT CASE WHEN kind = 'bins' THEN path ELSE counts_path END FROM sample_inputs "
              "WHERE sample_id = ? AND kind IN ('bins', 'reads')");
    if (!st) {
        snprintf(err, errlen, "database error");
        return SRV_INTERNAL;
    }
    sqlite3_bind_int64(st, 1, sample_id);
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) {
        rw_status s = RW_ERR_INPUT;
        if (srv_datadir_path(data_dir, (const char *)sqlite3_column_text(st, 0), full,
                             sizeof full) == 0)
            s = rw_bins_read(full, out, &e);
        rc = srv_status_of_core(s);
        if (rc != SRV_OK)
            snprintf(err, errlen, "cannot read the bins of sample %" PRId64 ": %s", sample_id,
                     e.msg);
    }
    sqlite3_finalize(st);
    return rc;
}
