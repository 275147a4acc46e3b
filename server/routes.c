/* Every route table of the API, in lookup order (each srv_X_routes lives in api_X.c; fhir, hl7
 * and webhooks in api_fhir.c, api_hl7.c, api_webhooks.c). */
#include "server/router.h"

const srv_route *const srv_all_routes[] = {
    srv_health_routes,   srv_tokens_routes,      srv_patients_routes, srv_treatments_routes,
    srv_events_routes,   srv_samples_routes,     srv_uploads_routes,  srv_jobs_routes,
    srv_pons_routes,     srv_profile_routes,     srv_trend_routes,    srv_alerts_routes,
    srv_cohort_routes,   srv_metrics_routes,     srv_session_routes,  srv_users_routes,
    srv_admin_routes,    srv_corrections_routes, srv_fhir_routes,     srv_hl7_routes,
    srv_webhooks_routes, srv_settings_routes,    srv_import_routes,   NULL,
};
