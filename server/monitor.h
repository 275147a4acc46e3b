/* Monitoring: re-reads one patient's stored results, treatments, clinical events and primary
 * status, runs the core's longitudinal engine (core/trend.h) and persists the patient's state and
 * alert history (schema/004_monitoring.sql). Called inside the caller's open transaction, after
 * every new result, treatment or event change, and after a PoN change. */
#ifndef SRV_MONITOR_H
#define SRV_MONITOR_H

#include <sqlite3.h>
#include <stdint.h>

/* Recomputes patient_id's state and alerts on conn (inside the caller's transaction).
 * Alerts that the engine still raises keep their id and acknowledgement; new ones are inserted;
 * ones it no longer raises are marked retracted (history kept). 0 on success, -1 on a database
 * error (logged; the caller rolls back). */
int srv_monitor_recompute(sqlite3 *conn, int64_t patient_id);

#endif
