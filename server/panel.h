/* The active panel of normals as jobs and upload checks see it, and the counting options every
 * job uses: the defaults of core/count.h with the panel's layout, so a sample and a panel built
 * here are always counted alike. */
#ifndef SRV_PANEL_H
#define SRV_PANEL_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#include "core/count.h"
#include "core/pon.h"
#include "server/status.h"

/* The active panel: *pon_id (0 when none) and, when pon is non-NULL, the panel loaded from its
 * file (new; free with rw_pon_free()). Returns 0 (also when there is none: *pon_id = 0), -1 on a
 * database or file error (message in err). */
int srv_panel_active(sqlite3 *conn, const char *data_dir, int64_t *pon_id, rw_pon **pon, char *err,
                     size_t errlen);
/* The build and bin size of the active panel without loading it: SRV_OK, SRV_NOT_FOUND when no
 * panel is active, SRV_INTERNAL on a database error. build receives "hg38"/"hg19" (size >= 8). */
srv_status srv_panel_active_layout(sqlite3 *conn, char *build, int32_t *bin_size);
/* The counting options of a sample analysed against pon: the defaults of core/count.h with the
 * panel's layout and fragment mode (all fragments, its window, or weighted: the weights are
 * rebuilt from the panel's length histogram into w, RW_FRAG_HIST_MAX + 1 values owned by the
 * caller, which co then points to), so a sample is counted as the panel's normals were. SRV_OK,
 * or SRV_CLIENT with the reason in err when the panel's mode cannot be followed. */
srv_status srv_panel_count_opts(rw_count_opts *co, const rw_pon *pon, double *w, char *err,
                                size_t errlen);

#endif
