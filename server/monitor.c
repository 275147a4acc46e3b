/* Monitoring: placeholder until the monitoring engineer lands the real implementation. */
#include "server/monitor.h"

int srv_monitor_recompute(sqlite3 *conn, int64_t patient_id)
{
    (void)conn;
    (void)patient_id;
    return 0;
}
