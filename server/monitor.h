/* Monitoring: re-reads one patient's stored results, treatments, clinical events and primary
 * status, runs the core's longitudinal engine (core/trend.h) and persists the patient's state and
 * alert history (schema/004_monitoring.sql). Called inside the caller's open transaction, after
 * every new result, treatment or event change, and after a PoN change.
 * JSON rule: functions ending in _new return a new reference (json_decref it). */
#ifndef SRV_MONITOR_H
#define SRV_MONITOR_H

#include <jansson.h>
#include <sqlite3.h>
#include <stdint.h>

#include "core/trend.h"
#include "server/rows.h"

/* Recomputes patient_id's state and alerts on conn (inside the caller's transaction).
 * Alerts that the engine still raises keep their id and acknowledgement; new ones are inserted;
 * ones it no longer raises are marked retracted (history kept). 0 on success, -1 on a database
 * error (logged; the caller rolls back). */
int srv_monitor_recompute(sqlite3 *conn, int64_t patient_id);

/* The engine's reading of each draw with a result, as an object keyed by sample id (decimal)
 * of json/trend.h points: skipped and no_call_reason for a no-call, z_personal and the personal
 * reference; retracted draws (schema/008) are marked retracted and skipped with their
 * retraction_reason, retracted_at and retracted_by, including those without a result yet.
 * For the trend answer (read only; inside the caller's read transaction). NULL on a
 * database, engine or allocation error (logged). */
json_t *srv_monitor_points_new(sqlite3 *conn, int64_t patient_id);

/* The engine configuration the daemon monitors with: the one place its thresholds are chosen
 * (the trend answer's `thresholds` and patient_state.trend_config come from it). */
void srv_monitor_config(rw_trend_config *cfg);

/* Columns of an alert row, selected from `alerts a JOIN patients p` by the API: keep in step
 * with srv_monitor_alert_json_new(). */
#define SRV_MONITOR_ALERT_COLUMNS                                                                  \
    "a.id, a.patient_id, p.external_id, a.kind, a.rule, a.fired_on, a.sample_id, a.evidence, "     \
    "a.closed_by, a.closed_on, a.created_at, a.retracted_at, a.acknowledged_at, "                  \
    "a.acknowledged_by, a.ack_comment"
/* The current row of st (selected with SRV_MONITOR_ALERT_COLUMNS first) as the API's alert
 * object: {id, patient_id, external_id (when with_patient), kind, rule, fired_on, sample_id,
 * evidence, closed_by, closed_on, created_at, retracted_at, acknowledged_at, acknowledged_by,
 * comment}. NULL on allocation failure. */
json_t *srv_monitor_alert_json_new(sqlite3_stmt *st, int with_patient);
/* The same object appended to t as JSON text, byte for byte what json_dumps(JSON_COMPACT) gives
 * for it, with the stored evidence copied rather than parsed and dumped again (a page of 50
 * alerts cost 32 M instructions that way). */
void srv_monitor_alert_text(srv_text *t, sqlite3_stmt *st, int with_patient);
/* Steps st (prepared and bound by the caller, selecting SRV_MONITOR_ALERT_COLUMNS first) to its
 * end and returns a new array of its alert objects; NULL on an SQL or allocation error. st
 * stays the caller's to finalize. */
json_t *srv_monitor_alerts_new(sqlite3_stmt *st, int with_patient);

#endif
